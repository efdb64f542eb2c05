/**
 * The Sandbox contract suite: what every implementation must do, run against each one this machine can run.
 * A case that needs a protection the implementation lists as missing is skipped with that reason in its name
 * (the unsandboxed fallback cannot kill a setsid grandchild without a cgroup, for example); nothing is faked.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Protection, Sandbox, SandboxLimits, SandboxRequest } from '../../src/sandbox/index.js';
import { removeTree } from '../../src/sandbox/remove-tree.js';

export const nodeDirectory = path.dirname(process.execPath);
export const smallLimits: SandboxLimits = {
  wallSeconds: 10, memoryBytes: 256 << 20, processes: 64, fileSizeBytes: 4 << 20, diskBytes: 16 << 20, outputBytes: 64 << 10,
};

/** A fresh workdir per test, and a request builder that runs argv there with `node` reachable. */
export function useWorkdir() {
  const state = { workdir: '' };
  beforeEach(async () => { state.workdir = await mkdtemp(path.join(tmpdir(), 'successor-sandbox-test-')); });
  afterEach(async () => { await removeTree(state.workdir); }); // a test may leave a tree past PATH_MAX
  const request = (command: string[], limits: Partial<SandboxLimits> = {}): SandboxRequest => ({
    command, workdir: state.workdir, readOnlyPaths: [nodeDirectory],
    env: { PATH: `${nodeDirectory}:/usr/bin:/bin`, HOME: state.workdir, SANDBOX_GIVEN: 'given-value' },
    limits: { ...smallLimits, ...limits },
  });
  return { state, request };
}

/** Host pids whose command line contains `token` (processes the sandbox should have taken down with it). */
export function hostProcessesWith(token: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(token)) found.push(Number(name));
    } catch { /* exited */ }
  }
  return found;
}

/** Per-run cgroup directories this process still has (the sandbox names them `run-<lab pid>-...`). */
export function runCgroupsOf(pid: number): string[] {
  const left: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [mountFields, fsFields] = line.split(' - ');
    if (!fsFields?.startsWith('cgroup')) continue;
    const base = path.join(mountFields.split(' ')[4], 'successor-sandbox');
    try {
      left.push(...readdirSync(base).filter((name) => name.startsWith(`run-${pid}-`)).map((name) => path.join(base, name)));
    } catch { /* no base on this hierarchy */ }
  }
  return left;
}

const uniqueToken = () => `successor-token-${process.pid}-${Math.random().toString(36).slice(2)}`;

export function sandboxContract(sandbox: Sandbox, variant = ''): void {
  const needs = (protection: Protection) => ({
    skip: !sandbox.protections.includes(protection),
    label: sandbox.protections.includes(protection) ? '' : ` (skipped: no ${protection} here)`,
  });

  describe(`Sandbox contract: ${sandbox.kind}${variant}`, () => {
    const { state, request } = useWorkdir();

    it('runs node with the given read-only paths and returns its exit and output', async () => {
      const result = await sandbox.run(request(['node', '-e', 'console.log("out", 6 * 7); console.error("err"); require("fs").writeFileSync("made.txt", "x")']));
      expect(result).toMatchObject({ exitCode: 0, signal: null, termination: 'exited', stdout: 'out 42\n', stderr: 'err\n', outputTruncated: false });
      expect(result.wallMs).toBeGreaterThan(0);
      expect(readFileSync(path.join(state.workdir, 'made.txt'), 'utf8')).toBe('x');
    });

    it('reports a nonzero exit and a death by signal', async () => {
      expect(await sandbox.run(request(['sh', '-c', 'exit 3']))).toMatchObject({ exitCode: 3, signal: null, termination: 'exited' });
      expect(await sandbox.run(request(['sh', '-c', 'kill -SEGV $$']))).toMatchObject({ exitCode: null, signal: 'SIGSEGV', termination: 'signaled' });
    });

    it('gives the command exactly the environment it was given, no lab secret', async () => {
      process.env.SUCCESSOR_TEST_SECRET = 'lab-secret-value';
      try {
        const result = await sandbox.run(request(['node', '-e', 'console.log(JSON.stringify(process.env))']));
        const environment = JSON.parse(result.stdout) as Record<string, string>;
        expect(environment.SANDBOX_GIVEN).toBe('given-value');
        expect(result.stdout).not.toContain('lab-secret-value');
      } finally {
        delete process.env.SUCCESSOR_TEST_SECRET;
      }
    });

    it('lets a line watcher see every line, stamped by its clock, and stop the run with a reason', async () => {
      const seen: Array<[string, string, number]> = [];
      const script = 'for i in 1 2 3 4 5 6 7 8; do echo "step $i"; echo "note $i" >&2; sleep 0.2; done';
      const result = await sandbox.run(request(['sh', '-c', script]), undefined, (line, stream, elapsedMs) => {
        seen.push([line, stream, elapsedMs]);
        return line === 'step 3' ? 'enough at step 3' : null;
      });
      expect(result).toMatchObject({ termination: 'stopped', stopReason: 'enough at step 3' });
      expect(result.stdout).not.toContain('step 8'); // stopped, not run to its end
      expect(seen.filter(([, stream]) => stream === 'stdout').map(([line]) => line)).toEqual(['step 1', 'step 2', 'step 3']);
      expect(seen.some(([line, stream]) => line === 'note 1' && stream === 'stderr')).toBe(true);
      const times = seen.filter(([, stream]) => stream === 'stdout').map(([, , elapsedMs]) => elapsedMs);
      expect(times[2] - times[0]).toBeGreaterThanOrEqual(300);
      // Its output is still captured whole, as without a watcher.
      expect(result.stdout).toContain('step 3\n');
    });

    it('reports what the whole machine spent while the run ran, its own work included', async () => {
      const result = await sandbox.run(request(['node', '-e', 'const end = Date.now() + 400; while (Date.now() < end);']));
      expect(result.machineBusySeconds).not.toBeNull();
      expect(result.machineBusySeconds!).toBeGreaterThanOrEqual((result.cpuSeconds ?? 0.3) * 0.8);
      expect(result.machineStealSeconds).not.toBeNull();
    });

    it('kills a hang at the wall-clock limit', async () => {
      const result = await sandbox.run(request(['sleep', '60'], { wallSeconds: 1 }));
      expect(result.termination).toBe('timeout');
      expect(result.wallMs).toBeGreaterThanOrEqual(1000);
      expect(result.wallMs).toBeLessThan(5000);
    });

    const treeKill = needs('whole-tree-kill');
    it.skipIf(treeKill.skip)(`kills a detached double-forked grandchild, on timeout and on normal exit${treeKill.label}`, async () => {
      for (const [main, termination] of [['sleep 60', 'timeout'], ['sleep 0.5', 'exited']] as const) {
        const token = uniqueToken();
        // The middle shell backgrounds the grandchild in a new session and exits: init adopts it.
        const script = `setsid sh -c 'sh -c "while :; do sleep 0.1; done" ${token} & exit 0' & ${main}`;
        const result = await sandbox.run(request(['sh', '-c', script], { wallSeconds: 1.5 }));
        expect(result.termination).toBe(termination);
        expect(hostProcessesWith(token)).toEqual([]);
      }
    });

    it('kills a memory bomb as memory', async () => {
      const result = await sandbox.run(request(['node', '-e', 'const kept = []; for (;;) kept.push(Buffer.alloc(16 << 20, 1))'], { memoryBytes: 128 << 20 }));
      expect(result.termination).toBe('memory');
      expect(result.exitCode).not.toBe(0);
    });

    const processLimit = needs('process-limit');
    it.skipIf(processLimit.skip)(`stops a fork bomb as processes, and the host still forks${processLimit.label}`, async () => {
      const token = uniqueToken();
      const result = await sandbox.run(request(['sh', '-c', `bomb() { bomb | bomb & }; bomb; sleep 30 # ${token}`], { wallSeconds: 8 }));
      expect(result.termination).toBe('processes');
      expect(hostProcessesWith(token)).toEqual([]);
      expect(await sandbox.run(request(['true']))).toMatchObject({ termination: 'exited', exitCode: 0 });
    });

    it('kills a disk fill as disk', async () => {
      const script = 'i=0; while [ $i -lt 200 ]; do head -c 1000000 /dev/zero > fill$i; i=$((i+1)); sleep 0.02; done';
      const result = await sandbox.run(request(['sh', '-c', script], { diskBytes: 8 << 20, fileSizeBytes: 2 << 20 }));
      expect(result.termination).toBe('disk');
      expect(readdirSync(state.workdir).length).toBeLessThan(200);
    });

    const fileSize = needs('file-size-limit');
    it.skipIf(fileSize.skip)(`stops a single huge file at the file-size limit, as disk${fileSize.label}`, async () => {
      const result = await sandbox.run(request(['sh', '-c', 'head -c 100000000 /dev/zero > big'], { fileSizeBytes: 1 << 20 }));
      expect(result.termination).toBe('disk');
      expect(statSync(path.join(state.workdir, 'big')).size).toBe(1 << 20);
    });

    it('keeps the head and tail of a long output, bounded, and kills a flood as output', async () => {
      const chatty = 'console.log("first"); for (let i = 0; i < 3000; i++) console.log("x".repeat(99)); console.log("final_loss: 1.5")';
      const long = await sandbox.run(request(['node', '-e', chatty]));
      expect(long).toMatchObject({ termination: 'exited', exitCode: 0, outputTruncated: true });
      expect(long.stdout.startsWith('first\n')).toBe(true);
      expect(long.stdout.endsWith('final_loss: 1.5\n')).toBe(true);
      expect(long.stdout.length).toBeLessThan(smallLimits.outputBytes + 200);

      const flood = await sandbox.run(request(['yes', 'flood']));
      expect(flood).toMatchObject({ termination: 'output', outputTruncated: true });
      expect(flood.stdout.length).toBeLessThan(smallLimits.outputBytes + 200);
    });

    it('runs two commands at once, each with its own output and limits', async () => {
      const [first, second] = await Promise.all([
        sandbox.run(request(['sh', '-c', 'sleep 0.3; echo first'])),
        sandbox.run(request(['sh', '-c', 'echo second; exit 4'])),
      ]);
      expect(first).toMatchObject({ stdout: 'first\n', exitCode: 0, termination: 'exited' });
      expect(second).toMatchObject({ stdout: 'second\n', exitCode: 4, termination: 'exited' });
    });

    it('stops the run within two seconds of an abort', async () => {
      const controller = new AbortController();
      const started = performance.now();
      setTimeout(() => controller.abort(), 300);
      const result = await sandbox.run(request(['sleep', '60']), controller.signal);
      expect(result.termination).toBe('aborted');
      expect(performance.now() - started).toBeLessThan(2300);
    });

    it('kills an inode flood (empty files) as files, in the workdir and in its temporary folder', async () => {
      const flood = (folder: string) => `const fs = require('fs'); const dir = ${folder}; fs.mkdirSync(dir); for (let i = 0; ; i++) fs.writeFileSync(dir + '/' + i, '')`;
      const workdir = await sandbox.run(request(['node', '-e', flood("'flood'")], { files: 300, wallSeconds: 20 }));
      expect(workdir.termination).toBe('files');
      const temporary = await sandbox.run(request(['node', '-e', flood("require('os').tmpdir() + '/flood'")], { files: 300, wallSeconds: 20 }));
      expect(temporary.termination).toBe('files');
      expect(readdirSync(state.workdir).filter((name) => name.startsWith('.successor-tmp'))).toEqual([]); // removed after the run
    });

    it('kills a tree deeper than the walkers go as files, even without a file limit, and stays whole itself', async () => {
      const deep = "const fs = require('fs'); for (let i = 0; i < 3000; i++) { fs.mkdirSync('d'); process.chdir('d'); } setInterval(() => {}, 1000)";
      const result = await sandbox.run(request(['node', '-e', deep], { wallSeconds: 20 }));
      expect(result.termination).toBe('files');
    });

    it(`kills a CPU spinner at its CPU limit${needs('cpu-limit').label}`, { skip: needs('cpu-limit').skip }, async () => {
      const result = await sandbox.run(request(['node', '-e', 'for (;;) {}'], { cpuSeconds: 1, wallSeconds: 20 }));
      expect(result.termination).toBe('cpu');
      expect(result.cpuSeconds).toBeGreaterThanOrEqual(1);
      expect(result.wallMs).toBeLessThan(10_000);
    });

    it('rejects a request naming a path that does not exist (the caller\'s bug, thrown)', async () => {
      await expect(sandbox.run({ ...request(['true']), readOnlyPaths: ['/no/such/path'] })).rejects.toThrow(/does not exist/);
    });

    it('has removed the cgroup of every run above', () => {
      expect(runCgroupsOf(process.pid)).toEqual([]);
    });
  });
}
