/**
 * Decides how a run ended from what the parent saw: the limit it killed for (if any), the cgroup counters, the
 * exit status and the final disk measurement. A pure function, so the order of precedence is tested on its own.
 */
import { constants } from 'node:os';
import type { Termination } from './types.js';

const signalNumbers: Record<string, number> = constants.signals;

export interface TerminationEvidence {
  /** The limit (or abort) the parent killed the tree for; the first one wins. */
  killedFor: Exclude<Termination, 'exited' | 'signaled'> | null;
  exitCode: number | null;
  signal: string | null;
  /** OOM kills the memory cgroup counted. */
  oomKills: number;
  /** Forks refused by the pids cgroup. */
  pidsLimitHits: number;
  /** Workdir size at the end passed the disk limit (the command finished between two polls). */
  diskOverLimit: boolean;
  /** Entries (or depth) in the workdir at the end passed the file limit. */
  filesOverLimit?: boolean;
  /** CPU time at the end passed the CPU limit. */
  cpuOverLimit?: boolean;
  /** A file written during the run reached RLIMIT_FSIZE (the writer may have caught EFBIG and exited nonzero). */
  fileSizeLimitReached: boolean;
}

/**
 * A run that hit a limit reports the limit, even when the command exited 0 afterwards: a write, an allocation or
 * a fork failed inside it, so its artifacts cannot be trusted to be whole (a shell that ignores its child's
 * SIGXFSZ still left a truncated file). Limits the parent killed for come first, in the order they were hit.
 */
export function decideTermination(evidence: TerminationEvidence): Termination {
  if (evidence.killedFor) return evidence.killedFor;
  if (evidence.signal === 'SIGXFSZ' || evidence.diskOverLimit || evidence.fileSizeLimitReached) return 'disk';
  if (evidence.filesOverLimit) return 'files';
  if (evidence.cpuOverLimit) return 'cpu';
  if (evidence.oomKills > 0) return 'memory';
  if (evidence.pidsLimitHits > 0) return 'processes';
  return evidence.signal ? 'signaled' : 'exited';
}

/** bubblewrap reports a command killed by signal N as exit status 128 + N, like a shell. */
export function decodeShellStatus(code: number | null, signal: NodeJS.Signals | null): { exitCode: number | null; signal: string | null } {
  if (signal) return { exitCode: null, signal };
  if (code !== null && code > 128 && code <= 128 + 64) {
    const name = Object.entries(signalNumbers).find(([, number]) => number === code - 128)?.[0];
    if (name) return { exitCode: null, signal: name };
  }
  return { exitCode: code, signal: null };
}
