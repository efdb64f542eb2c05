/**
 * The history as an optimiser sees it: one observation per distinct point of the space, with repeats of the same
 * point merged (median score), outcomes sorted into scored / failed / pending, and the score oriented so that
 * lower is always better.
 *
 * Every unscored outcome counts as a failure: a `timeout` means "slower than the incumbent", `failed` means a
 * crash or a missed target, `oom` and `invalid` a config that does not work, `rejected` one a person refused.
 * For an optimiser all of them say "not here". Is not: aware of file edits — the search researcher works on
 * knobs only, so experiments that differ only by edits collapse onto their knob point.
 */
import { isScored } from '../task/outcome.js';
import type { Assignment, Space } from '../task/space.js';
import { assignmentKey, completeAssignment } from './space-geometry.js';
import type { ExperimentSummary } from './types.js';

export type ObservationKind = 'scored' | 'failed' | 'pending';

export interface Observation {
  key: string;
  /** Complete: every knob of the space. */
  assignment: Assignment;
  kind: ObservationKind;
  /** Oriented score (lower is better), the median over scored runs of this point; NaN unless scored. */
  loss: number;
  /** How many experiments ran (or are running) this point. */
  count: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** Observations in order of first appearance. */
export function collectObservations(space: Space, history: readonly ExperimentSummary[], direction: 'minimize' | 'maximize'): Observation[] {
  const groups = new Map<string, { assignment: Assignment; losses: number[]; pending: number; failed: number }>();
  for (const experiment of history) {
    const key = assignmentKey(space, experiment.assignment);
    let group = groups.get(key);
    if (!group) {
      group = { assignment: completeAssignment(space, experiment.assignment), losses: [], pending: 0, failed: 0 };
      groups.set(key, group);
    }
    const outcome = experiment.outcome;
    if (outcome === null) group.pending++;
    else if (isScored(outcome) && Number.isFinite(outcome.score)) group.losses.push(direction === 'minimize' ? outcome.score : -outcome.score);
    else group.failed++;
  }
  return [...groups].map(([key, group]) => ({
    key,
    assignment: group.assignment,
    // A point that fails more often than it scores is a failure (flaky: sometimes misses the target).
    kind: group.losses.length && group.losses.length >= group.failed ? 'scored' : group.pending && !group.failed ? 'pending' : 'failed',
    loss: group.losses.length ? median(group.losses) : Number.NaN,
    count: group.losses.length + group.pending + group.failed,
  }));
}
