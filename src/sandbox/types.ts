/**
 * The Sandbox contract: run one untrusted command, isolated and limited, and report what happened as a value.
 *
 * This file is the interface only (types, the request schema, the named protections and the typed errors).
 * Implementations: `bubblewrap.ts` (namespaces + cgroups) and `unsandboxed.ts` (limits only, no isolation);
 * `create-sandbox.ts` picks one. Everything the command does is reported in `SandboxResult`; `run` throws only for
 * bugs and infrastructure faults (`SandboxError`), never because the command misbehaved.
 */
import { z } from 'zod';

export const SandboxLimits = z.object({
  /** Wall-clock limit, measured by the parent; the whole process tree is killed when it passes. */
  wallSeconds: z.number().positive(),
  /** Memory of the whole tree (memory cgroup, or the summed RSS polled when no cgroup is available). */
  memoryBytes: z.number().int().positive(),
  /** Tasks (processes and threads: a pids cgroup counts both) alive at once. */
  processes: z.number().int().positive(),
  /** Largest single file the command may write (RLIMIT_FSIZE). */
  fileSizeBytes: z.number().int().positive(),
  /** Total allocated size of the workdir (polled); the sandbox's private /tmp lies inside it and counts. */
  diskBytes: z.number().int().positive(),
  /**
   * Entries (inodes: files, folders, links) the workdir and /tmp may hold together, polled; a tree deeper than
   * disk-usage.ts's MAX_WORKDIR_DEPTH is over it too. Absent: not limited.
   */
  files: z.number().int().positive().optional(),
  /** CPU time of the whole tree (cgroup accounting, polled); absent: not limited. */
  cpuSeconds: z.number().positive().optional(),
  /** Captured bytes per stream (head and tail are kept); a stream past 64x this is a flood and is killed. */
  outputBytes: z.number().int().positive(),
});
export type SandboxLimits = z.infer<typeof SandboxLimits>;

export const SandboxRequest = z.object({
  /** argv; the command runs with cwd = workdir. */
  command: z.array(z.string()).min(1),
  /** Absolute host path of the scratch copy: the only writable host path, visible at the same path inside. */
  workdir: z.string().startsWith('/'),
  /** Absolute host paths visible read-only at the same path (the node binary's dir, node_modules, ...). */
  readOnlyPaths: z.array(z.string().startsWith('/')),
  /**
   * Device nodes (absolute paths under /dev, or a folder of them) visible at the same path with device access, for
   * a task that declares them (a GPU's nodes). Absent: only the sandbox's minimal /dev (null, zero, random, ...).
   */
  devices: z.array(z.string().startsWith('/dev/')).optional(),
  /** The complete environment of the command; nothing is inherited from the calling process. */
  env: z.record(z.string().regex(/^[^=\0]+$/, 'no "=" or NUL in a variable name'), z.string().regex(/^[^\0]*$/, 'no NUL in a value')),
  limits: SandboxLimits,
});
export type SandboxRequest = z.infer<typeof SandboxRequest>;

/**
 * How the run ended. `exited`/`signaled`: the command ended on its own. The others name the limit that ended it
 * (the parent killed the tree, or the kernel's OOM killer did for `memory`), or the caller's abort.
 */
export type Termination = 'exited' | 'signaled' | 'timeout' | 'memory' | 'processes' | 'disk' | 'files' | 'cpu' | 'output' | 'aborted' | 'stopped';

/**
 * Watches a run's output as it comes, line by line (stdout and stderr), stamped by the parent's clock, and may stop
 * it: a reason string kills the tree (termination `stopped`, `stopReason` in the result), null lets it go on. The
 * lines are the command's (untrusted): a watcher may only ever stop a run on them, never vouch for one.
 */
export type LineWatcher = (line: string, stream: 'stdout' | 'stderr', elapsedMs: number) => string | null;

export interface SandboxResult {
  exitCode: number | null;
  signal: string | null;
  termination: Termination;
  /** The trusted clock: measured by the parent from spawn to the death of the whole tree. */
  wallMs: number;
  /** CPU time of the whole tree (cpuacct cgroup); null when no cgroup could measure it. */
  cpuSeconds: number | null;
  /** Peak memory of the tree (cgroup high-water mark, or the largest polled RSS sum). */
  peakMemoryBytes: number | null;
  stdout: string;
  stderr: string;
  outputTruncated: boolean;
  /** Why the line watcher stopped the run (termination `stopped`). */
  stopReason?: string;
  /** CPU-seconds the whole machine spent while the run ran (its own included), and what the hypervisor stole; null where unknown. */
  machineBusySeconds: number | null;
  machineStealSeconds: number | null;
}

/** What a sandbox can enforce. The lab prints `PROTECTION_DESCRIPTIONS[p]` for each missing one, loudly. */
export const PROTECTION_DESCRIPTIONS = {
  'clean-environment': 'the command sees only the environment it was given (no lab secrets inherited)',
  'wall-clock-limit': 'wall-clock limit measured by the parent; the process group is killed at the limit',
  'whole-tree-kill': 'detached and double-forked descendants die with the run (pid namespace or cgroup)',
  'memory-cgroup': 'memory limit enforced by the kernel (memory cgroup OOM kill)',
  'memory-polling': 'memory limit enforced by polling the summed RSS of the process tree (can overshoot briefly)',
  'process-limit': 'process and thread count limited (pids cgroup): fork bombs are stopped',
  'file-size-limit': 'single-file size limited by RLIMIT_FSIZE',
  'disk-polling': 'workdir size polled and the run killed when it passes the disk limit (can overshoot briefly)',
  'file-count-limit': 'entries (inodes) in the workdir and /tmp polled against a limit; a tree too deep to walk is over it',
  'cpu-limit': 'CPU time of the whole tree limited (cgroup accounting, polled)',
  'output-cap': 'stdout and stderr captured up to a cap; floods are killed',
  'network-isolation': 'no network: a private network namespace with only its own loopback',
  'filesystem-isolation': 'read-only system, only the workdir writable, the rest of the host (/root, lab state) hidden',
  'no-capabilities': 'all capabilities dropped, in a user namespace; /proc/sys read-only',
  'pid-isolation': 'own pid namespace: host processes (and their /proc/*/environ) are invisible',
  'private-tmp': 'private /tmp, a folder inside the workdir: its bytes and entries count against the disk and file limits',
  'unprivileged-user': 'runs as an unprivileged host uid (never root): root-only host files stay unreadable, and nothing it writes is root\'s',
  'syscall-filter': 'seccomp denies io_uring, userfaultfd, perf_event_open, bpf, keyctl, ptrace, mount and namespace calls',
} as const;
export type Protection = keyof typeof PROTECTION_DESCRIPTIONS;
export const ALL_PROTECTIONS = Object.keys(PROTECTION_DESCRIPTIONS) as Protection[];

export interface Sandbox {
  readonly kind: 'bubblewrap' | 'unsandboxed';
  /** What is enforced on this machine. */
  readonly protections: readonly Protection[];
  /** What is NOT enforced on this machine (every protection not in `protections`). */
  readonly missing: readonly Protection[];
  /** Why a stronger sandbox was not used ('auto' fell back, cgroups unavailable, ...); empty when nothing is amiss. */
  readonly notes: readonly string[];
  run(request: SandboxRequest, signal?: AbortSignal, watch?: LineWatcher): Promise<SandboxResult>;
}

export type SandboxMode = 'auto' | 'required' | 'off';

/** Infrastructure fault: the sandbox itself could not be set up (not the command's fault). */
export class SandboxError extends Error {
  override name = 'SandboxError';
}

/** `createSandbox('required')` on a machine where bubblewrap cannot isolate. Not retryable on this machine. */
export class SandboxUnavailableError extends SandboxError {
  override name = 'SandboxUnavailableError';
}
