/**
 * The Executor contract: where an experiment runs. The loop hands over a self-contained job and gets the
 * harness's result back; the local pool runs it on this machine, the queue executor on any worker.
 * A job carries everything needed to rebuild the workspace (task folder + lineage), never live objects.
 */
import type { ExperimentResult } from '../task/harness.js';
import type { EarlyStop } from '../task/progress.js';
import type { Lineage } from '../task/workspace.js';

export interface ExperimentJob {
  runId: string;
  experimentId: string;
  /** The task folder on the coordinator; executors on other machines resolve it by name/version. */
  taskDir: string;
  taskName: string;
  taskVersion: string;
  lineage: Lineage;
  /** Wall-clock cap for this run (the harness kills it there). */
  capSeconds: number;
  /** Written to the task's seed key: the harness owns the seed. */
  seed: number;
  /** Stop the run early when its progress falls behind the incumbent's (screening runs of tasks with run.progress). */
  earlyStop?: EarlyStop;
}

/** A progress line of a running experiment (the run's claim) and the harness's elapsed seconds. */
export type ProgressListener = (line: string, elapsedSeconds: number) => void;

export interface Executor {
  readonly kind: string;
  /** Human-readable facts about where experiments run (sandbox kind, missing protections, workers). */
  describe(): Promise<{ sandbox: string; missing: string[]; notes: string[] }>;
  /** Runs one job. Resolves with the outcome (failures are outcomes); rejects only for infrastructure faults. */
  run(job: ExperimentJob, signal: AbortSignal, onProgress?: ProgressListener): Promise<ExperimentResult>;
  close(): Promise<void>;
}
