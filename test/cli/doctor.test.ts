/**
 * `successor doctor --json` through the real CLI: every check is there with a status, what it found and (when
 * something is missing or limited) what that costs; the facts it reports agree with the machine checked another
 * way; it creates no lab state. Under CI=true bubblewrap must isolate here, as the sandbox suites require.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupLayout } from '../../src/cli/machine-check.js';
import { findExecutable } from '../../src/sandbox/enforcement.js';
import { removeTemporaryDirs, runCli, temporaryDir } from './fixtures.js';

afterAll(removeTemporaryDirs);

interface Check { name: string; status: string; found: string; cost?: string; details?: Record<string, unknown> }

describe('successor doctor', () => {
  it('reports every piece with a status, and a cost for each one missing or limited', { timeout: 120_000 }, () => {
    const work = temporaryDir();
    const result = runCli(['doctor', '--json'], join(work, 'lab'), { cwd: work });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { ready: boolean; sandboxed: boolean; checks: Check[] };
    const byName = Object.fromEntries(report.checks.map((check) => [check.name, check]));
    expect(Object.keys(byName)).toEqual(expect.arrayContaining(['node', 'bubblewrap', 'cgroups', 'prlimit', 'cores', 'kernels', 'contention', 'redis', 'chromium', 'python', 'model keys', 'lab state']));
    for (const check of report.checks) {
      expect(['ok', 'limited', 'missing', 'info'], check.name).toContain(check.status);
      expect(check.found.length, check.name).toBeGreaterThan(0);
      if (check.status === 'missing' || check.status === 'limited') expect(check.cost, check.name).toMatch(/\w{4}/);
    }
    expect(report.ready).toBe(true);
    expect(byName.cores.details).toMatchObject({ cores: availableParallelism() });
    if (findExecutable('bwrap') === null) expect(byName.bubblewrap.status).toBe('missing');
    expect(report.sandboxed).toBe(byName.bubblewrap.status !== 'missing');
    expect(byName.redis.status === 'ok').toBe(findExecutable('redis-server') !== null);
    expect(byName.chromium.status === 'ok').toBe(existsSync('/usr/bin/chromium') || existsSync('/usr/bin/chromium-browser') || existsSync('/usr/bin/google-chrome'));
    expect(byName.contention.details).toHaveProperty('load1');
    // The kernels train picks by default: native where a C compiler builds them, else a cost that says what is lost.
    expect(byName.kernels.details).toHaveProperty('native');
    if (!byName.kernels.details!.native) expect(byName.kernels.cost).toMatch(/WebAssembly/);
    if (process.env.CI === 'true') {
      expect(report.sandboxed, byName.bubblewrap.found).toBe(true);
      expect(byName.bubblewrap.found).toMatch(/isolates here/);
    }
    expect(byName['lab state'].found).toMatch(/no journal yet/);
    expect(existsSync(join(work, 'lab'))).toBe(false);
  });

  it('prints the same for people: one line per piece, its cost under it', { timeout: 120_000 }, () => {
    const work = temporaryDir();
    // SUCCESSOR_CC='' turns the native kernels off, as a machine without a C compiler has them.
    const result = runCli(['doctor'], join(work, 'lab'), { cwd: work, environment: { SUCCESSOR_CC: '' } });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok {7}node {8}v\d+\.\d+\.\d+$/m);
    expect(result.stdout).toMatch(/^limited +kernels +no native kernels: no C compiler.*\n +costs: `successor train` and the built-in tasks' runs use the WebAssembly SIMD kernels/m);
    expect(result.stdout).toMatch(/^ready/m);
  });
});

describe('cgroup layouts', () => {
  const line = (fsType: string, mount: string, options: string) => `30 23 0:28 / ${mount} rw,relatime - ${fsType} ${fsType} ${options}`;
  it('tells v1, v2 and hybrid apart and lists their controllers', () => {
    const v2 = cgroupLayout(line('cgroup2', '/sys/fs/cgroup', 'rw'), () => ['cpu', 'memory', 'pids']);
    expect(v2).toEqual({ version: 'v2', v1: [], v2: ['cpu', 'memory', 'pids'] });
    const v1 = cgroupLayout([line('cgroup', '/sys/fs/cgroup/memory', 'rw,memory'), line('cgroup', '/sys/fs/cgroup/pids', 'rw,pids'), line('cgroup', '/sys/fs/cgroup/systemd', 'rw,name=systemd')].join('\n'), () => []);
    expect(v1).toEqual({ version: 'v1', v1: ['memory', 'pids'], v2: [] });
    const hybrid = cgroupLayout([line('cgroup', '/sys/fs/cgroup/memory', 'rw,memory'), line('cgroup2', '/sys/fs/cgroup/unified', 'rw')].join('\n'), () => []);
    expect(hybrid).toEqual({ version: 'hybrid', v1: ['memory'], v2: [] });
    expect(cgroupLayout('', () => []).version).toBe('none');
  });
});
