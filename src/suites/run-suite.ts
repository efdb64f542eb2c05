/**
 * Runs a suite: every task with every researcher and seed, each as an ordinary research run (journaled like any
 * other), then normalises each run's best score. A task that cannot be loaded or crashes the lab becomes a row
 * with an error, so one broken task never loses the others' results.
 * Is not: printing (report.ts) or the CLI (src/cli/bench.ts).
 */
import type { LabEnvironment } from '../lab/start.js';
import { research } from '../lab/start.js';
import { parseRunOptions, type RunOptions } from '../lab/options.js';
import type { Researcher } from '../researcher/types.js';
import { loadTask } from '../task/loader.js';
import { type Normalisation, normaliseScore } from './normalise.js';
import type { Suite } from './suite.js';

export interface BenchOptions {
  researchers: string[];
  seeds: number;
  /** Overrides the suite's budget per (task, researcher, seed). */
  budgetSeconds?: number;
  maxExperiments?: number | null;
  /** Run only these tasks (names as the suite lists them). */
  only?: string[];
  sandboxMode: RunOptions['sandboxMode'];
  /** Overrides the runs' contention limit (null: off). */
  contentionLimit?: number | null;
  repeats?: number;
}

export interface BenchRow {
  task: string;
  family: string;
  researcher: string;
  seed: number;
  humanMinutes: number | null;
  runId: string | null;
  metric: string | null;
  direction: 'minimize' | 'maximize' | null;
  /** The run's best score (mean of its samples) in the task's unit. */
  rawScore: number | null;
  normalisation: Normalisation | null;
  success: boolean;
  stopReason: string | null;
  error?: string;
}

export interface BenchResult {
  suite: string;
  suiteDir: string;
  startedAt: string;
  finishedAt: string;
  successThreshold: number;
  budgetSeconds: number;
  maxExperiments: number | null;
  researchers: string[];
  seeds: number;
  rows: BenchRow[];
}

/** The lab for a suite: every run gets the researcher its row names, built by the caller's composition root. */
export interface SuiteEnvironment extends Omit<LabEnvironment, 'researcher'> {
  researcherFor(name: string, seed: number): Promise<Researcher>;
}

/** One run of a suite: a task, a researcher and a seed, with its run options already parsed. */
export interface SuiteRun {
  entry: Suite['tasks'][number];
  researcher: string;
  seed: number;
  options: RunOptions;
}

/**
 * Every run a suite will make, each with its options through the one schema, before anything is opened or run:
 * bad options fail the whole suite at once (RunOptionsError) and leave no state behind.
 */
export function planSuite(suite: Suite, options: BenchOptions): SuiteRun[] {
  const budgetSeconds = options.budgetSeconds ?? suite.file.budgetSeconds;
  const maxExperiments = options.maxExperiments === undefined ? suite.file.maxExperiments : options.maxExperiments;
  const entries = options.only ? suite.tasks.filter((entry) => options.only?.includes(entry.task)) : suite.tasks;
  return entries.flatMap((entry) => options.researchers.flatMap((researcher) => Array.from({ length: options.seeds }, (_, index) => ({
    entry, researcher, seed: index + 1,
    options: parseRunOptions({
      task: entry.ref, researcher, budgetSeconds, maxExperiments, seed: index + 1, sandboxMode: options.sandboxMode,
      ...(options.contentionLimit !== undefined ? { contentionLimit: options.contentionLimit } : {}),
      gate: options.repeats === undefined ? {} : { repeats: options.repeats },
    }),
  }))));
}

export async function runSuite(environment: SuiteEnvironment, suite: Suite, options: BenchOptions, progress: (line: string) => void = () => {}): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const budgetSeconds = options.budgetSeconds ?? suite.file.budgetSeconds;
  const maxExperiments = options.maxExperiments === undefined ? suite.file.maxExperiments : options.maxExperiments;
  const threshold = suite.file.successThreshold;
  const rows: BenchRow[] = [];
  for (const { entry, researcher, seed, options: runOptions } of planSuite(suite, options)) {
    if (environment.signal.aborted) break;
    const row: BenchRow = {
      task: entry.task, family: entry.family ?? entry.task, researcher, seed, humanMinutes: null, runId: null, metric: null, direction: null,
      rawScore: null, normalisation: null, success: false, stopReason: null,
    };
    try {
      const task = loadTask(entry.ref);
      Object.assign(row, { task: task.file.name, family: entry.family ?? task.file.name, humanMinutes: task.file.human?.minutes ?? null, metric: task.file.metric.name, direction: task.file.metric.direction });
      progress(`bench: ${task.file.name} x ${researcher} (seed ${seed}), budget ${budgetSeconds}s${maxExperiments ? `, ${maxExperiments} experiments` : ''}`);
      const lab = { ...environment, researcher: await environment.researcherFor(researcher, seed) };
      const result = await research(lab, { options: runOptions, generations: 1 });
      const summary = result.runs.at(-1);
      if (summary) {
        const normalisation = normaliseScore(task.file, summary.bestScore, summary.baselineScore, entry.referenceSpeedup);
        Object.assign(row, {
          runId: summary.runId, rawScore: summary.bestScore, normalisation, stopReason: summary.stopReason,
          success: normalisation.normalised !== null && normalisation.normalised >= threshold,
        });
      }
    } catch (error) {
      row.error = (error as Error).message.split('\n')[0];
      progress(`bench: ${entry.task} x ${researcher}: ${row.error}`);
    }
    rows.push(row);
  }
  return {
    suite: suite.file.name, suiteDir: suite.dir, startedAt, finishedAt: new Date().toISOString(), successThreshold: threshold,
    budgetSeconds, maxExperiments, researchers: options.researchers, seeds: options.seeds, rows,
  };
}
