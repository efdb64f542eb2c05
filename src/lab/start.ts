/**
 * Starting research: creates (or resumes) a run, seeds its baseline from a cached calibration, runs the loop, and
 * runs further generations, each starting from the last one's best. The researcher, executor and journal are handed
 * in by the caller's composition root (src/cli/compose.ts); this file builds none of them.
 */
import { writeAuditCheckpoint } from '../journal/audit-checkpoint.js';
import type { Journal, RunRow } from '../journal/journal.js';
import type { Researcher } from '../researcher/types.js';
import type { Executor } from '../executor/types.js';
import { type RunId, newRunId } from '../task/ids.js';
import { type Task, loadTask } from '../task/loader.js';
import { calibrationKey, reuseCalibration, storeCalibration } from './calibration.js';
import type { LabObserver } from './events.js';
import { unchangedExperiment } from './lineage.js';
import { ResearchLoop } from './loop.js';
import { TASK_EVENT, taskKey } from './prior.js';
import { type RunOptions, optionsOf, parseRunOptions } from './options.js';
import { cpuSecondsSpent } from './planner.js';
import { storedSummaryOf, type RunSummary } from './summary.js';

export interface LabEnvironment {
  journal: Journal;
  executor: Executor;
  /** Proposes every candidate of the run and of its further generations. */
  researcher: Researcher;
  stateDir: string;
  observe: LabObserver;
  signal: AbortSignal;
}

function createRun(environment: LabEnvironment, task: Task, sandboxKind: string, options: RunOptions, generation: number, parentRunId: RunId | null): RunRow {
  const { journal } = environment;
  return journal.transaction(() => {
    const run = journal.createRun({
      id: newRunId(),
      task: task.file.name,
      taskDir: task.dir,
      researcher: options.researcher,
      options,
      status: 'running',
      generation,
      parentRunId,
      stopReason: null,
      summary: null,
    });
    const description = generation === 0 ? 'baseline' : `baseline: generation ${generation - 1}'s best`;
    const baseline = journal.createExperiment(unchangedExperiment(run.id, options.baseExperimentId, 'baseline', description));
    journal.appendEvent(run.id, TASK_EVENT, { key: taskKey(task), version: task.file.version });
    if (generation === 0) reuseCalibration(journal, run, baseline.id, calibrationKey(task, sandboxKind, options.gate.repeats), options.gate.repeats);
    return run;
  });
}

export type ResearchRequest =
  | { options: RunOptions; generations: number; resume?: undefined }
  /** Continue a stopped or killed run; `overrides` are the options the user gave again (budgets extend the run). */
  | { resume: RunId; overrides: ResumeOverrides; generations: number };

export interface ResearchResult {
  runs: RunSummary[];
}

/** Starts (or resumes) a research run and its further generations; returns each generation's summary. */
export async function research(environment: LabEnvironment, request: ResearchRequest, onStart?: (run: RunRow) => void): Promise<ResearchResult> {
  const { journal, signal, executor, researcher } = environment;
  const sandboxKind = (await executor.describe()).sandbox;
  let run: RunRow;
  let options: RunOptions;
  let task: Task;
  if (request.resume !== undefined) {
    const existing = journal.getRun(request.resume);
    if (!existing) throw new Error(`no run ${request.resume}`);
    options = parseRunOptions({ ...optionsOf(existing), ...extendedBudgets(journal, existing, request.overrides) });
    run = journal.updateRun(existing.id, { options });
    task = loadTask(run.taskDir);
  } else {
    options = request.options;
    task = loadTask(options.task);
    run = createRun(environment, task, sandboxKind, options, 0, null);
  }
  const summaries: RunSummary[] = [];
  let generation = run.generation;
  const lastGeneration = run.generation + request.generations - 1;
  for (;;) {
    onStart?.(run);
    const loop = new ResearchLoop({ journal, task, executor, researcher, stateDir: environment.stateDir, observe: checkpointing(environment) }, run);
    const summary = await loop.execute(signal);
    checkpoint(environment);
    storeCalibration(journal, task, sandboxKind, journal.getRun(run.id) ?? run);
    // The lineage: each generation's best against generation 0's baseline, recorded with the run.
    const generation0 = summaries[0] ?? summary;
    if (generation0.baselineScore && summary.bestScore) {
      const overGeneration0 = task.file.metric.direction === 'minimize' ? generation0.baselineScore / summary.bestScore : summary.bestScore / generation0.baselineScore;
      summary.gainOverGeneration0 = overGeneration0;
      const latest = journal.getRun(run.id) ?? run;
      journal.updateRun(run.id, { summary: { ...storedSummaryOf(latest), gainOverGeneration0: overGeneration0, generation0RunId: generation0.runId } });
    }
    summaries.push(summary);
    if (signal.aborted || generation >= lastGeneration || summary.bestExperimentId === summary.baselineExperimentId) break;
    generation += 1;
    const next: RunOptions = { ...options, baseExperimentId: summary.bestExperimentId as RunOptions['baseExperimentId'] };
    run = createRun(environment, task, sandboxKind, next, generation, run.id);
  }
  return { runs: summaries };
}

/** Experiments between two signed audit checkpoints during a run (one more is written when each run ends). */
const CHECKPOINT_EVERY_EXPERIMENTS = 10;

/** Signs the audit log's head (audit-checkpoint.ts). A failure (say, an unwritable key dir) is a note, never the run's end. */
function checkpoint(environment: LabEnvironment): void {
  try {
    writeAuditCheckpoint(environment.journal);
  } catch (error) {
    environment.observe({ type: 'note', message: `audit checkpoint not written: ${(error as Error).message}` });
  }
}

/** The environment's observer, plus a checkpoint after every CHECKPOINT_EVERY_EXPERIMENTS finished experiments. */
function checkpointing(environment: LabEnvironment): LabObserver {
  let finished = 0;
  return (event) => {
    environment.observe(event);
    if (event.type === 'experiment.finished' && ++finished % CHECKPOINT_EVERY_EXPERIMENTS === 0) checkpoint(environment);
  };
}

/**
 * What a resume may change, as given again by the user. Budgets extend the run from where it stands: `budgetSeconds`
 * 600 grants ten more minutes, `maxExperiments` 5 five more candidates, `maxCpuSeconds` more CPU time.
 */
export interface ResumeOverrides {
  budgetSeconds?: number;
  maxExperiments?: number;
  maxCpuSeconds?: number;
  parallel?: number;
  researcherSettings?: Record<string, unknown>;
}

function extendedBudgets(journal: Journal, run: RunRow, given: ResumeOverrides): Partial<RunOptions> {
  const overrides: Partial<RunOptions> = {};
  const experiments = journal.listExperiments(run.id);
  if (given.budgetSeconds) overrides.budgetSeconds = (storedSummaryOf(run).elapsedSeconds ?? 0) + given.budgetSeconds;
  if (given.maxExperiments) overrides.maxExperiments = experiments.filter((experiment) => experiment.role === 'candidate').length + given.maxExperiments;
  if (given.maxCpuSeconds) {
    overrides.maxCpuSeconds = cpuSecondsSpent(experiments) + given.maxCpuSeconds;
  }
  if (given.parallel) overrides.parallel = given.parallel;
  if (given.researcherSettings) overrides.researcherSettings = given.researcherSettings;
  return overrides;
}
