/**
 * What the journal already knows about a task: a new run on the same task version starts from it. Earlier runs'
 * observations (each score relative to its own run's baseline, then put in this run's units) are the search's prior,
 * and the best configuration any earlier run reached is tried first. On by default; `--fresh` turns it off.
 * Runs are matched by a key of the task's name, version and files (workspace and harness), journaled when a run is
 * created (a `run.task` event), so a task that changed is a new task.
 * Is not: a judge of those gains (every one is measured again here, through the gate) nor a model of the machine.
 */
import { createHash } from 'node:crypto';
import type { ExperimentRow, Journal, RunRow } from '../journal/journal.js';
import type { ExperimentSummary } from '../researcher/types.js';
import type { RunId } from '../task/ids.js';
import type { Task } from '../task/loader.js';
import { isScored } from '../task/outcome.js';
import { hashFolder } from '../task/prepare.js';
import type { Lineage } from '../task/workspace.js';
import { incumbentOf, lineageOf, mean, samplesOf } from './lineage.js';

export const TASK_EVENT = 'run.task';

/** Same name, version, workspace and harness: observations carry over. */
export function taskKey(task: Task): string {
  return createHash('sha256')
    .update(`${task.file.name}@${task.file.version}\0${hashFolder(task.workspaceDir, task.file.workspace.ignore)}\0${hashFolder(task.harnessDir)}`)
    .digest('hex').slice(0, 24);
}

export interface PriorKnowledge {
  /** Earlier runs' experiments, their scores put in this run's units (relative to each run's baseline). */
  history: ExperimentSummary[];
  /** The best configuration an earlier run reached, with its gain over that run's baseline. */
  best: { runId: RunId; lineage: Lineage; gain: number; description: string } | null;
  runs: number;
}

/**
 * Earlier runs on the same task key (this run excluded), their knowledge in this run's units. Scores are put on one
 * scale through each run's generation 0: its baseline is the task's own workspace, measured on that run's machine.
 */
export function priorKnowledge(journal: Journal, task: Task, key: string, thisRun: RunRow): PriorKnowledge {
  const direction = task.file.metric.direction;
  const unit = defaultBaselineScore(journal, thisRun);
  const earlier = journal.listRuns().filter((run) => run.id !== thisRun.id && run.task === task.file.name && keyOf(journal, run) === key);
  const history: ExperimentSummary[] = [];
  let best: PriorKnowledge['best'] = null;
  if (unit === null) return { history, best, runs: 0 };
  for (const run of earlier) {
    const reference = defaultBaselineScore(journal, run);
    const experiments = journal.listExperiments(run.id);
    const root = experiments.find((experiment) => experiment.role === 'baseline');
    if (reference === null || !root) continue;
    const baselineScore = unit;
    for (const experiment of experiments) {
      if (experiment.role !== 'candidate' || experiment.state !== 'finished' || !experiment.outcome) continue;
      history.push(rescaled(journal, task, experiment, reference, baselineScore));
    }
    const incumbent = incumbentOf(experiments);
    const incumbentSamples = samplesOf(experiments, incumbent.id);
    if (incumbent.role !== 'candidate' || incumbentSamples.length === 0) continue;
    const gain = direction === 'minimize' ? reference / mean(incumbentSamples) : mean(incumbentSamples) / reference;
    if (gain > 1 && (!best || gain > best.gain)) best = { runId: run.id, lineage: lineageOf(journal, task, incumbent), gain, description: incumbent.description };
  }
  return { history, best, runs: earlier.length };
}

/** The mean score of the task's own workspace in the generation 0 of `run`'s chain, or null before it is measured. */
function defaultBaselineScore(journal: Journal, run: RunRow): number | null {
  let first = run;
  for (let parent = run.parentRunId; parent; ) {
    const row = journal.getRun(parent);
    if (!row) return null;
    first = row;
    parent = row.parentRunId;
  }
  const experiments = journal.listExperiments(first.id);
  const root = experiments.find((experiment) => experiment.role === 'baseline');
  const samples = root ? samplesOf(experiments, root.id) : [];
  return samples.length ? mean(samples) : null;
}

function keyOf(journal: Journal, run: RunRow): string | null {
  const event = journal.listEvents(run.id).find((entry) => entry.type === TASK_EVENT);
  return typeof event?.payload.key === 'string' ? event.payload.key : null;
}

/** An earlier experiment as this run's researcher sees it: its knob values, its score in this run's units. */
function rescaled(journal: Journal, task: Task, experiment: ExperimentRow, reference: number, baselineScore: number): ExperimentSummary {
  const outcome = experiment.outcome && isScored(experiment.outcome)
    ? { ...experiment.outcome, score: (experiment.outcome.score / reference) * baselineScore }
    : experiment.outcome;
  return {
    id: experiment.id, parentId: experiment.parentId, role: experiment.role, description: experiment.description, change: experiment.change,
    assignment: lineageOf(journal, task, experiment).assignment, outcome, accepted: false,
  };
}
