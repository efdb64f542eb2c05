/**
 * Cgroup detection and housekeeping on this machine: the limits land in the kernel's files, and groups left by a
 * lab process that died are pruned. Skipped (with the reason) where no cgroup is writable, e.g. not root.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectCgroups } from '../../src/sandbox/cgroup.js';
import { runCgroupsOf } from './contract.js';

const support = await detectCgroups();

describe.skipIf(!support)(`cgroups${support ? '' : ' (skipped: no writable cgroup here)'}`, () => {
  it('creates a group with the limits written, and removes it', async () => {
    const group = await support!.create({ memoryBytes: 200 << 20, processes: 17 });
    const directories = group.procsFiles.map((file) => path.dirname(file));
    const limits = directories.flatMap((directory) => ['memory.limit_in_bytes', 'memory.max', 'pids.max']
      .map((name) => path.join(directory, name)).filter(existsSync).map((file) => readFileSync(file, 'utf8').trim()));
    if (support!.memory) expect(limits).toContain(String(200 << 20));
    if (support!.pids) expect(limits).toContain('17');
    expect(await group.pids()).toEqual([]);
    await group.remove();
    for (const directory of directories) expect(existsSync(directory)).toBe(false);
  });

  it('prunes the groups of a lab process that is gone', async () => {
    const deadPid = 2 ** 22 + 1; // above the kernel's pid_max: never alive
    const group = await support!.create({ memoryBytes: 64 << 20, processes: 8 });
    const stale = group.procsFiles.map((file) => path.join(path.dirname(path.dirname(file)), `run-${deadPid}-0-stale`));
    await group.remove();
    for (const directory of stale) mkdirSync(directory);
    expect(runCgroupsOf(deadPid).length).toBeGreaterThan(0);
    await detectCgroups();
    expect(runCgroupsOf(deadPid)).toEqual([]);
  });
});
