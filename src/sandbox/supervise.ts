/**
 * The trusted parent of one run, shared by every Sandbox implementation: it spawns the launch argv behind a tiny
 * wrapper that joins the run's cgroup and sets rlimits before exec, owns the clock, polls the limits, kills the
 * whole tree, and turns what it saw into a `SandboxResult`.
 *
 * Not here: how the command is isolated (the launch argv, built by `bubblewrap.ts` or `unsandboxed.ts`).
 * Spawn chain: node -> sh (join cgroups; `exec`) -> prlimit (RLIMIT_FSIZE, no core files; `exec`) -> launch argv.
 * Every step execs, so the spawned pid is the launch program and its process group is the run's.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { RunCgroup } from './cgroup.js';
import type { Enforcement } from './enforcement.js';
import { type DiskUsage, measureDiskUsage } from './disk-usage.js';
import { OutputCapture } from './output-capture.js';
import { killPids, residentBytes, treePids } from './process-tree.js';
import { decideTermination, type TerminationEvidence } from './termination.js';
import { LineSplitter } from './line-splitter.js';
import { readMachineCpu } from './machine-load.js';
import { type LineWatcher, SandboxError, type SandboxRequest, type SandboxResult } from './types.js';

export interface Launch {
  argv: string[];
  /** Environment of the spawned program. bubblewrap gets none (the command's travels as --setenv). */
  env: Record<string, string>;
  /** bubblewrap writes `"child-pid"` to fd 3 (--json-status-fd 3) once the sandbox is up; its absence is a setup fault. */
  reportsChildPid: boolean;
  /** Written to the program's fds 4, 5, ... in order (bubblewrap: the seccomp filter, /etc/passwd); then closed. */
  inputs: Buffer[];
  decodeExit(code: number | null, signal: NodeJS.Signals | null): { exitCode: number | null; signal: string | null };
}

/** A stream writing more than this many times its cap is a flood: the run is killed with 'output'. */
export const OUTPUT_FLOOD_FACTOR = 64;
const POLL_MS = 100;
const DISK_POLL_EVERY = 3; // ticks: the workdir walk costs more than reading cgroup counters

// $1: keep|close fd 3 for the launched program; then cgroup.procs files, '--', argv.
const WRAPPER = `keep=$1; shift
while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift
echo joined >&3
[ "$keep" = keep ] || exec 3>&-
exec "$@"`;

type KillReason = NonNullable<TerminationEvidence['killedFor']>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function superviseRun(launch: Launch, request: SandboxRequest, enforcement: Enforcement, abortSignal?: AbortSignal, watch?: LineWatcher): Promise<SandboxResult> {
  const { limits } = request;
  if (abortSignal?.aborted) {
    return {
      exitCode: null, signal: null, termination: 'aborted', wallMs: 0, cpuSeconds: null, peakMemoryBytes: null, stdout: '', stderr: '', outputTruncated: false,
      machineBusySeconds: null, machineStealSeconds: null,
    };
  }
  const cgroup: RunCgroup | null = enforcement.cgroups ? await enforcement.cgroups.create(limits) : null;
  try {
    return await runWith(cgroup);
  } finally {
    await cgroup?.remove();
  }

  /** Too many entries, or a tree too deep to walk (whatever the entry limit: no walker should go there). */
  function overFileLimit(usage: DiskUsage): boolean {
    return usage.tooDeep || (limits.files !== undefined && usage.entries > limits.files);
  }

  async function runWith(cgroup: RunCgroup | null): Promise<SandboxResult> {
    const rlimits = enforcement.prlimitPath ? [enforcement.prlimitPath, `--fsize=${limits.fileSizeBytes}`, '--core=0', '--'] : [];
    const wrapperArgs = [launch.reportsChildPid ? 'keep' : 'close', ...(cgroup?.procsFiles ?? []), '--', ...rlimits, ...launch.argv];
    const startedAtMs = Date.now();
    const started = performance.now();
    const machineBefore = readMachineCpu();
    const child = spawn('/bin/sh', ['-c', WRAPPER, 'successor-sandbox', ...wrapperArgs], {
      cwd: request.workdir, env: launch.env, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe', ...launch.inputs.map(() => 'pipe' as const)],
    });
    launch.inputs.forEach((bytes, index) => {
      const input = child.stdio[4 + index] as Writable;
      input.on('error', () => undefined); // EPIPE when setup failed: reported through the missing child-pid
      input.end(bytes);
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', (error) => reject(new SandboxError(`could not start the sandbox: ${error.message}`)));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    if (child.pid === undefined) await exited; // spawn failed: rejects with the reason
    // Never undefined past this point; a stray -1 would make `process.kill(-rootPid)` signal init.
    const rootPid = child.pid!;

    let killedFor: KillReason | null = null;
    let stopReason: string | undefined;
    let finished = false;
    let peakPolledBytes = 0;
    const killTree = async () => {
      try { process.kill(-rootPid, 'SIGKILL'); } catch { /* group already gone */ }
      if (cgroup) await cgroup.killAll();
      else killPids(treePids(rootPid, rootPid));
    };
    const kill = (reason: KillReason) => {
      if (finished) return; // a poll that was in flight when the run ended
      killedFor ??= reason;
      killTree().catch(() => undefined);
    };

    const stdout = new OutputCapture(limits.outputBytes);
    const stderr = new OutputCapture(limits.outputBytes);
    const closed = Promise.all([drain(child.stdout!, stdout, 'stdout'), drain(child.stderr!, stderr, 'stderr')]);
    function drain(stream: Readable, capture: OutputCapture, name: 'stdout' | 'stderr') {
      const lines = watch ? new LineSplitter((line) => {
        if (killedFor) return;
        const reason = watch(line, name, performance.now() - started);
        if (reason !== null) {
          stopReason ??= reason;
          kill('stopped');
        }
      }) : null;
      stream.on('data', (chunk: Buffer) => {
        capture.push(chunk);
        if (capture.totalBytes > OUTPUT_FLOOD_FACTOR * limits.outputBytes) kill('output');
        else lines?.push(chunk);
      });
      return new Promise<void>((resolve) => stream.once('close', () => resolve()));
    }
    // fd 3: the wrapper's "joined" line, then (bubblewrap) its JSON status. Bounded like everything we read.
    let statusText = '';
    const statusStream = child.stdio[3] as Readable;
    statusStream.on('data', (chunk: Buffer) => { if (statusText.length < 65_536) statusText += chunk.toString('utf8'); });
    const statusClosed = new Promise<void>((resolve) => statusStream.once('close', () => resolve()));

    const onAbort = () => kill('aborted');
    abortSignal?.addEventListener('abort', onAbort, { once: true });
    const wallTimer = setTimeout(() => kill('timeout'), limits.wallSeconds * 1000);
    let tick = 0;
    let polling = false;
    const poller = setInterval(() => {
      if (polling || killedFor) return;
      polling = true;
      pollOnce().catch(() => undefined).finally(() => { polling = false; });
    }, POLL_MS);
    async function pollOnce() {
      const stats = cgroup ? await cgroup.stats() : null;
      if (stats && stats.pidsLimitHits > 0) kill('processes');
      if (limits.cpuSeconds !== undefined && (stats?.cpuSeconds ?? 0) > limits.cpuSeconds) kill('cpu');
      if (!enforcement.cgroups?.memory) {
        const pids = cgroup ? await cgroup.pids() : treePids(rootPid, rootPid);
        const resident = residentBytes(pids);
        peakPolledBytes = Math.max(peakPolledBytes, resident);
        if (resident > limits.memoryBytes) kill('memory');
      }
      if (++tick % DISK_POLL_EVERY === 0) {
        const usage = await measureDiskUsage(request.workdir, startedAtMs, limits.files);
        if (usage.allocatedBytes > limits.diskBytes) kill('disk');
        if (overFileLimit(usage)) kill('files');
      }
    }

    let exit: { code: number | null; signal: NodeJS.Signals | null };
    try {
      exit = await exited;
    } finally {
      finished = true;
      clearTimeout(wallTimer);
      clearInterval(poller);
      abortSignal?.removeEventListener('abort', onAbort);
      // The run is over when its launch program is: whatever it left behind (daemons) dies now.
      await killTree();
      if (!cgroup) await waitForTreeDeath(rootPid);
    }
    const wallMs = performance.now() - started;
    const machineAfter = readMachineCpu();
    // Writers are dead; a pipe still open after this would be a bug, not a reason to hang.
    await Promise.race([Promise.all([closed, statusClosed]), sleep(2000)]);
    child.stdout!.destroy();
    child.stderr!.destroy();
    statusStream.destroy();

    if (!killedFor && !statusText.includes('joined\n')) {
      throw new SandboxError(`the sandbox wrapper failed before exec (cgroup join?): ${stderr.text().slice(0, 2000)}`);
    }
    if (!killedFor && launch.reportsChildPid && !statusText.includes('"child-pid"')) {
      throw new SandboxError(`bubblewrap could not set up the sandbox: ${stderr.text().slice(0, 2000)}`);
    }
    const stats = cgroup ? await cgroup.stats() : null;
    const usage = await measureDiskUsage(request.workdir, startedAtMs, limits.files);
    const { exitCode, signal } = launch.decodeExit(exit.code, exit.signal);
    const termination = decideTermination({
      killedFor, exitCode, signal,
      oomKills: stats?.oomKills ?? 0,
      pidsLimitHits: stats?.pidsLimitHits ?? 0,
      diskOverLimit: usage.allocatedBytes > limits.diskBytes,
      filesOverLimit: overFileLimit(usage),
      cpuOverLimit: limits.cpuSeconds !== undefined && (stats?.cpuSeconds ?? 0) > limits.cpuSeconds,
      fileSizeLimitReached: enforcement.prlimitPath !== null && usage.largestChangedFileBytes >= limits.fileSizeBytes,
    });
    return {
      exitCode, signal, termination, wallMs,
      cpuSeconds: stats?.cpuSeconds ?? null,
      peakMemoryBytes: enforcement.cgroups?.memory ? (stats?.peakMemoryBytes ?? null) : peakPolledBytes || null,
      stdout: stdout.text(), stderr: stderr.text(),
      outputTruncated: stdout.truncated || stderr.truncated,
      ...(stopReason !== undefined && termination === 'stopped' ? { stopReason } : {}),
      machineBusySeconds: machineBefore && machineAfter ? machineAfter.busySeconds - machineBefore.busySeconds : null,
      machineStealSeconds: machineBefore && machineAfter ? machineAfter.stealSeconds - machineBefore.stealSeconds : null,
    };
  }
}

/** Without a cgroup, the tree is dead when /proc shows no descendant and no member of its process group. */
async function waitForTreeDeath(rootPid: number): Promise<void> {
  for (let round = 0; round < 200; round++) {
    const pids = treePids(rootPid, rootPid);
    if (pids.length === 0) return;
    killPids(pids);
    await sleep(10);
  }
}
