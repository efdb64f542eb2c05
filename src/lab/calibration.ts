/**
 * The baseline's calibration cache: a run measures its baseline `repeats` times; the next run on the same task
 * files, machine and sandbox starts from those samples instead of paying again. A cached sample is only trusted
 * while a fresh run agrees with it (the planner's calibration check, planner.ts).
 * Is not: the check itself, nor the journal's cache table (journal.ts).
 */
import { cpus, hostname, totalmem } from 'node:os';
import { z } from 'zod';
import type { Journal, RunRow } from '../journal/journal.js';
import type { ExperimentId } from '../task/ids.js';
import type { Task } from '../task/loader.js';
import { Outcome, isScored } from '../task/outcome.js';
import { hashFolder } from '../task/prepare.js';
import { unchangedExperiment } from './lineage.js';
import { optionsOf } from './options.js';

/** Same task files, same machine, same sandbox: the baseline's time is comparable and need not be measured again. */
export function calibrationKey(task: Task, sandboxKind: string, repeats: number): string {
  const machine = `${hostname()}|${cpus()[0]?.model ?? 'cpu'}|${cpus().length}|${Math.round(totalmem() / 2 ** 30)}G`;
  const files = hashFolder(task.workspaceDir, task.file.workspace.ignore).slice(0, 16);
  const harness = hashFolder(task.harnessDir).slice(0, 16);
  return `baseline:${task.file.name}@${task.file.version}:${files}:${harness}:${JSON.stringify(task.file.harness.params)}:${sandboxKind}:${machine}:x${repeats}`;
}

const CachedCalibration = z.object({ outcomes: z.array(Outcome), measuredAt: z.string(), runId: z.string() });

/** Records a cached calibration as the baseline's finished runs, marked as cached, so the run needn't pay again. */
export function reuseCalibration(journal: Journal, run: RunRow, baselineId: ExperimentId, key: string, repeats: number): void {
  const cached = CachedCalibration.safeParse(journal.getCache(key));
  if (!cached.success || cached.data.outcomes.length < repeats) return;
  const { outcomes, measuredAt, runId } = cached.data;
  const finishedAt = new Date().toISOString();
  outcomes.slice(0, repeats).forEach((outcome, index) => {
    const update = { state: 'finished' as const, outcome, finishedAt, metadata: { cached: { key, measuredAt, runId } } };
    if (index === 0) {
      journal.updateExperiment(baselineId, update);
      return;
    }
    const repeat = journal.createExperiment(unchangedExperiment(run.id, baselineId, 'repeat', 'repeat of #1 (cached calibration)'));
    journal.updateExperiment(repeat.id, update);
  });
}

/** Stores a fresh generation-0 calibration for the next run. */
export function storeCalibration(journal: Journal, task: Task, sandboxKind: string, run: RunRow): void {
  if (run.generation !== 0) return;
  const { repeats } = optionsOf(run).gate;
  const key = calibrationKey(task, sandboxKind, repeats);
  const experiments = journal.listExperiments(run.id);
  const root = experiments.find((experiment) => experiment.role === 'baseline');
  if (!root) return;
  // Fresh runs of the baseline only: not the cached ones, not the ones a fresh check found stale.
  const outcomes = experiments
    .filter((experiment) => (experiment.id === root.id || experiment.parentId === root.id) && experiment.role !== 'candidate')
    .filter((experiment) => experiment.state === 'finished' && !experiment.metadata.cached && !experiment.metadata.stale)
    .flatMap((experiment) => (experiment.outcome && isScored(experiment.outcome) ? [experiment.outcome] : []));
  const stale = experiments.some((experiment) => experiment.metadata.stale);
  if (outcomes.length >= repeats && (!journal.getCache(key) || stale)) {
    journal.setCache(key, { outcomes: outcomes.slice(0, repeats), measuredAt: new Date().toISOString(), runId: run.id });
  }
}
