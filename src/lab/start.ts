/**
 * The lab's composition root: from CLI options to a running research loop. Opens the journal, loads and
 * prepares the task, picks the sandbox and the researcher, creates (or resumes) the run, calibrates the baseline
 * (cached per task version, workspace, machine and sandbox), and runs generations one after another.
 */
import { cpus, hostname, totalmem } from 'node:os';
import { writeCheckpoint } from '../journal/checkpoint.js';
import type { Journal, RunRow } from '../journal/journal.js';
import { createResearcher } from '../researcher/registry.js';
import type { Executor } from '../executor/types.js';
import { type ExperimentId, type RunId, newRunId } from '../task/ids.js';
import { type Task, loadTask } from '../task/loader.js';
import { isScored } from '../task/outcome.js';
import { hashFolder } from '../task/prepare.js';
import type { LabObserver } from './events.js';
import type { RunOptions } from './options.js';
import { unchangedExperiment } from './lineage.js';
import { ResearchLoop, optionsOf } from './research.js';
import type { RunSummary } from './summary.js';

export interface LabEnvironment {
  journal: Journal;
  executor: Executor;
  stateDir: string;
  observe: LabObserver;
  signal: AbortSignal;
}

/** Same task files, same machine, same sandbox: the baseline's time is comparable and need not be measured again. */
export function calibrationKey(task: Task, sandboxKind: string, repeats: number): string {
  const machine = `${hostname()}|${cpus()[0]?.model ?? 'cpu'}|${cpus().length}|${Math.round(totalmem() / 2 ** 30)}G`;
  const files = hashFolder(task.workspaceDir, task.file.workspace.ignore).slice(0, 16);
  const harness = hashFolder(task.harnessDir).slice(0, 16);
  return `baseline:${task.file.name}@${task.file.version}:${files}:${harness}:${JSON.stringify(task.file.harness.params)}:${sandboxKind}:${machine}:x${repeats}`;
}

interface CachedCalibration {
  outcomes: unknown[];
  measuredAt: string;
  runId: string;
}

function createRun(environment: LabEnvironment, task: Task, sandboxKind: string, options: RunOptions, generation: number, parentRunId: RunId | null): RunRow {
  const { journal } = environment;
  return journal.transaction(() => {
    const run = journal.createRun({
      id: newRunId(),
      task: task.file.name,
      taskDir: task.dir,
      researcher: options.researcher,
      options: options as unknown as Record<string, unknown>,
      status: 'running',
      generation,
      parentRunId,
      stopReason: null,
      summary: null,
    });
    const description = generation === 0 ? 'baseline' : `baseline: generation ${generation - 1}'s best`;
    const baseline = journal.createExperiment(unchangedExperiment(run.id, (options.baseExperimentId as ExperimentId | null) ?? null, 'baseline', description));
    if (generation === 0) reuseCalibration(journal, run, baseline.id, calibrationKey(task, sandboxKind, options.gate.repeats), options.gate.repeats);
    return run;
  });
}

/** Records a cached calibration as the baseline's finished runs, marked as cached, so the run needn't pay again. */
function reuseCalibration(journal: Journal, run: RunRow, baselineId: ExperimentId, key: string, repeats: number): void {
  const cached = journal.getCache(key) as CachedCalibration | undefined;
  if (!cached || cached.outcomes.length < repeats) return;
  const finishedAt = new Date().toISOString();
  cached.outcomes.slice(0, repeats).forEach((outcome, index) => {
    const metadata = { cached: { key, measuredAt: cached.measuredAt, runId: cached.runId } };
    const update = { state: 'finished' as const, outcome: outcome as never, finishedAt, metadata };
    if (index === 0) {
      journal.updateExperiment(baselineId, update);
      return;
    }
    const repeat = journal.createExperiment(unchangedExperiment(run.id, baselineId, 'repeat', 'repeat of #1 (cached calibration)'));
    journal.updateExperiment(repeat.id, update);
  });
}

/** Stores a fresh generation-0 calibration for the next run. */
function storeCalibration(journal: Journal, task: Task, sandboxKind: string, run: RunRow): void {
  if (run.generation !== 0) return;
  const options = optionsOf(run);
  const key = calibrationKey(task, sandboxKind, options.gate.repeats);
  const experiments = journal.listExperiments(run.id);
  const root = experiments.find((experiment) => experiment.role === 'baseline');
  if (!root) return;
  // Fresh runs of the baseline only: not the cached ones, not the ones a fresh check found stale.
  const outcomes = experiments
    .filter((experiment) => (experiment.id === root.id || experiment.parentId === root.id) && experiment.role !== 'candidate')
    .filter((experiment) => experiment.state === 'finished' && !experiment.metadata.cached && !experiment.metadata.stale)
    .map((experiment) => experiment.outcome)
    .filter((outcome) => outcome && isScored(outcome));
  const stale = experiments.some((experiment) => experiment.metadata.stale);
  if (outcomes.length >= options.gate.repeats && (!journal.getCache(key) || stale)) {
    journal.setCache(key, { outcomes: outcomes.slice(0, options.gate.repeats), measuredAt: new Date().toISOString(), runId: run.id });
  }
}

export interface ResearchRequest {
  options: RunOptions;
  generations: number;
  resume?: RunId;
  resumeGiven?: ResumeGiven;
}

export interface ResearchResult {
  runs: RunSummary[];
}

/** Starts (or resumes) a research run and its further generations; returns each generation's summary. */
export async function research(environment: LabEnvironment, request: ResearchRequest, onStart?: (run: RunRow) => void): Promise<ResearchResult> {
  const { journal, signal } = environment;
  let run: RunRow;
  let options: RunOptions;
  if (request.resume) {
    const existing = journal.getRun(request.resume);
    if (!existing) throw new Error(`no run ${request.resume}`);
    run = existing;
    options = { ...optionsOf(run), ...pickOverrides(journal, run, request.options, request.resumeGiven ?? {}) };
    run = journal.updateRun(run.id, { options: options as unknown as Record<string, unknown> });
  } else {
    options = request.options;
    run = undefined as unknown as RunRow;
  }
  const task = loadTask(request.resume ? run.taskDir : options.task);
  const { executor } = environment;
  const sandboxKind = (await executor.describe()).sandbox;
  const researcher = createResearcher(options.researcher, { seed: options.seed });
  const summaries: RunSummary[] = [];
  let generation = request.resume ? run.generation : 0;
  const lastGeneration = (request.resume ? run.generation : 0) + request.generations - 1;
  if (!request.resume) run = createRun(environment, task, sandboxKind, options, 0, null);
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
      const latest = journal.getRun(run.id);
      journal.updateRun(run.id, { summary: { ...(latest?.summary ?? {}), gainOverGeneration0: overGeneration0, generation0RunId: generation0.runId } });
    }
    summaries.push(summary);
    if (signal.aborted || generation >= lastGeneration || summary.bestExperimentId === summary.baselineExperimentId) break;
    generation += 1;
    const next: RunOptions = { ...options, baseExperimentId: summary.bestExperimentId };
    run = createRun(environment, task, sandboxKind, next, generation, run.id);
  }
  return { runs: summaries };
}

/** Experiments between two signed audit checkpoints during a run (one more is written when each run ends). */
const CHECKPOINT_EVERY_EXPERIMENTS = 10;

/** Signs the audit log's head (checkpoint.ts). A failure (say, an unwritable key dir) is a note, never the run's end. */
function checkpoint(environment: LabEnvironment): void {
  try {
    writeCheckpoint(environment.journal);
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
 * Options a resume may change. Budgets given on resume extend the run from where it stands: `--budget 10m`
 * grants ten more minutes, `--max-experiments 5` five more candidates.
 */
function pickOverrides(journal: Journal, run: RunRow, options: Partial<RunOptions>, given: ResumeGiven): Partial<RunOptions> {
  const overrides: Partial<RunOptions> = {};
  const elapsed = Number((run.summary as { elapsedSeconds?: number } | null)?.elapsedSeconds ?? 0);
  if (given.budget && options.budgetSeconds) overrides.budgetSeconds = elapsed + options.budgetSeconds;
  if (given.maxExperiments && options.maxExperiments) {
    const candidates = journal.listExperiments(run.id).filter((experiment) => experiment.role === 'candidate').length;
    overrides.maxExperiments = candidates + options.maxExperiments;
  }
  if (given.maxCpu && options.maxCpuSeconds) {
    const used = journal.listExperiments(run.id).reduce((sum, experiment) => sum + Number(experiment.outcome?.metrics.cpuSeconds ?? 0), 0);
    overrides.maxCpuSeconds = used + options.maxCpuSeconds;
  }
  if (given.parallel && options.parallel) overrides.parallel = options.parallel;
  if (given.researcherSettings && options.researcherSettings) overrides.researcherSettings = options.researcherSettings;
  return overrides;
}

/** Which flags the user actually gave on resume (defaults must not override the stored run's options). */
export interface ResumeGiven {
  budget?: boolean;
  maxExperiments?: boolean;
  maxCpu?: boolean;
  parallel?: boolean;
  researcherSettings?: boolean;
}
