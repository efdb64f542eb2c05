/**
 * Derived views of a run's experiments: each experiment's full knob assignment and edit lineage (following
 * parent links, across generations too), the incumbent, and the samples of score that belong to an experiment
 * (its own run plus its repeats and re-verifications). Reads only; the planner and the summary build on these.
 */
import type { ExperimentRow, Journal } from '../journal/journal.js';
import type { Change } from '../task/change.js';
import type { ExperimentId, RunId } from '../task/ids.js';
import { emptyChange } from '../task/change.js';
import type { Task } from '../task/loader.js';
import { isScored } from '../task/outcome.js';
import { type Assignment, defaultAssignment } from '../task/space.js';
import type { Lineage } from '../task/workspace.js';

/** Follows parent links to the root: root first, the experiment itself last. */
export function ancestry(journal: Journal, experiment: ExperimentRow): ExperimentRow[] {
  const chain: ExperimentRow[] = [];
  let current: ExperimentRow | undefined = experiment;
  const seen = new Set<string>();
  while (current) {
    if (seen.has(current.id)) throw new Error(`experiment lineage has a cycle at ${current.id}`);
    seen.add(current.id);
    chain.push(current);
    current = current.parentId ? journal.getExperiment(current.parentId) : undefined;
  }
  return chain.reverse();
}

export function lineageOf(journal: Journal, task: Task, experiment: ExperimentRow): Lineage {
  let assignment: Assignment = defaultAssignment(task.file.space);
  const edits: Change['edits'] = [];
  for (const step of ancestry(journal, experiment)) {
    assignment = { ...assignment, ...step.change.knobs };
    edits.push(...step.change.edits);
  }
  return { assignment, edits };
}

/**
 * The experiment whose configuration a repeat or verification re-runs (repeats have empty changes). Generic so the
 * dashboard's compact lines follow the same rule as full rows.
 */
export function subjectOf<Id extends string>(experiment: { id: Id; parentId: Id | null; role: string }): Id | null {
  return experiment.role === 'repeat' || experiment.role === 'verify' ? experiment.parentId : experiment.id;
}

/**
 * The current best: the last candidate the gate accepted (by decision time), or the run's baseline; undefined only
 * for a run without a baseline. Generic for the same reason as subjectOf.
 */
export function latestIncumbent<T extends { role: string; accepted: boolean }>(experiments: readonly T[], decidedAt: (experiment: T) => unknown): T | undefined {
  const accepted = experiments
    .filter((experiment) => experiment.accepted && experiment.role === 'candidate')
    .sort((a, b) => String(decidedAt(a)).localeCompare(String(decidedAt(b))));
  return accepted.at(-1) ?? experiments.find((experiment) => experiment.role === 'baseline');
}

/** The current best of a run's experiments: the last candidate the gate accepted, or the run's baseline. */
export function incumbentOf(experiments: readonly ExperimentRow[]): ExperimentRow {
  const incumbent = latestIncumbent(experiments, (experiment) => experiment.metadata.decidedAt);
  if (!incumbent) throw new Error('a run without a baseline experiment');
  return incumbent;
}

/**
 * Scores of `subject`'s own run and of every finished repeat/verify of it, in order. Samples marked stale (a cached
 * calibration that a fresh run contradicted) or contended (measured while the machine was busy) are left out.
 */
export function samplesOf(experiments: readonly ExperimentRow[], subject: ExperimentId): number[] {
  const samples: number[] = [];
  for (const experiment of experiments) {
    if (experiment.state !== 'finished' || !experiment.outcome || !isScored(experiment.outcome) || experiment.metadata.stale || experiment.metadata.contended) continue;
    if (subjectOf(experiment) === subject) samples.push(experiment.outcome.score);
  }
  return samples;
}

/** Runs of `subject` (own + repeats/verifies) that finished, whatever their outcome (stale ones left out). */
export function attemptsOf(experiments: readonly ExperimentRow[], subject: ExperimentId): ExperimentRow[] {
  return experiments.filter((experiment) => experiment.state === 'finished' && subjectOf(experiment) === subject && !experiment.metadata.stale);
}

/** The journal input for an experiment that re-runs (or is) a configuration without a change of its own. */
export function unchangedExperiment(runId: RunId, parentId: ExperimentId | null, role: ExperimentRow['role'], description: string) {
  return {
    runId, parentId, role, description, change: emptyChange(), diff: '', state: 'proposed' as const, outcome: null,
    fidelity: 1, accepted: false, logPath: null, artifactsPath: null, metadata: {},
  };
}

export const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
