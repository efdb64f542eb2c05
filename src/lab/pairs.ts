/**
 * Paired runs, read from the journal's rows: a claim's confirmation pairs (the claim against the incumbent) and an
 * incumbent's verification pairs (it against the one it replaced). Each run of a pair is an ordinary re-run of its
 * side's configuration, tagged with `metadata.pair`. Pure: what is complete, what failed, what to run next.
 * Is not: the test (gate.ts) nor the decision to start pairs (planner.ts).
 */
import type { ExperimentMetadata, ExperimentRow } from '../journal/journal.js';
import { sumOfSquares } from '../stats/paired.js';
import type { ExperimentId } from '../task/ids.js';
import { isScored } from '../task/outcome.js';
import type { GainScale, RunNoise } from './gate.js';

export type PairPurpose = NonNullable<ExperimentMetadata['pair']>['purpose'];
export type PairSide = NonNullable<ExperimentMetadata['pair']>['side'];

/** A run that counts: finished, scored, and not measured on a busy machine or from a stale cache. */
export const isCounted = (experiment: ExperimentRow): boolean =>
  experiment.state === 'finished' && experiment.outcome !== null && isScored(experiment.outcome) && !experiment.metadata.contended && !experiment.metadata.stale;

/** Finished without a score (crashed, timed out, missed the target, held as suspect is scored): a real failure, not a busy machine. */
export const isFailed = (experiment: ExperimentRow): boolean =>
  experiment.state === 'finished' && experiment.outcome !== null && !isScored(experiment.outcome) && !experiment.metadata.contended;

export interface PairProgress {
  /** Complete pairs, by index: the first counted run of each side. */
  complete: Array<{ index: number; reference: ExperimentRow; subject: ExperimentRow }>;
  /** Runs of the subject that failed, and of the reference. */
  subjectFailures: ExperimentRow[];
  referenceFailures: ExperimentRow[];
  /** The pair being filled (none while every started pair is complete), the side to run next (null: wait). */
  next: { index: number; side: PairSide | null };
}

/**
 * Where the pairs for `forId` stand. Pairs fill one at a time; within pair i the first side is the reference when i
 * is even and the subject when odd (so an order effect cancels too). With room for two runs at once (`parallel`),
 * both sides of a pair run together.
 */
export function pairProgress(
  experiments: readonly ExperimentRow[], forId: ExperimentId, purpose: PairPurpose, inflight: ReadonlySet<ExperimentId>, parallel: number,
): PairProgress {
  const runs = experiments.filter((experiment) => experiment.metadata.pair?.forId === forId && experiment.metadata.pair.purpose === purpose);
  const bySide = (index: number, side: PairSide) => runs.filter((run) => run.metadata.pair?.index === index && run.metadata.pair.side === side);
  const pending = (run: ExperimentRow) => run.state !== 'finished' || inflight.has(run.id);
  const complete: PairProgress['complete'] = [];
  const voided = new Set<number>();
  const subjectFailures = runs.filter((run) => run.metadata.pair?.side === 'subject' && isFailed(run));
  const referenceFailures = runs.filter((run) => run.metadata.pair?.side === 'reference' && isFailed(run));
  // A pair whose reference failed is void: its subject run (if any) has nothing close in time to be compared with.
  for (const failure of referenceFailures) voided.add(failure.metadata.pair?.index ?? -1);
  const indices = [...new Set(runs.map((run) => run.metadata.pair?.index ?? 0))].sort((left, right) => left - right);
  for (const index of indices) {
    if (voided.has(index)) continue;
    const reference = bySide(index, 'reference').find(isCounted);
    const subject = bySide(index, 'subject').find(isCounted);
    if (reference && subject) complete.push({ index, reference, subject });
  }
  const open = indices.find((index) => !voided.has(index) && !complete.some((pair) => pair.index === index));
  const index = open ?? (indices.length ? Math.max(...indices) + 1 : 0);
  const order: PairSide[] = index % 2 === 0 ? ['reference', 'subject'] : ['subject', 'reference'];
  const state = (side: PairSide) => {
    const sideRuns = bySide(index, side);
    if (sideRuns.some(isCounted)) return 'done';
    if (sideRuns.some(pending)) return 'pending';
    return 'missing';
  };
  const [first, second] = order;
  let side: PairSide | null = null;
  if (state(first) === 'missing') side = first;
  else if (state(second) === 'missing' && (state(first) === 'done' || parallel >= 2)) side = second;
  return { complete, subjectFailures, referenceFailures, next: { index, side } };
}

const scoreOf = (experiment: ExperimentRow): number => (experiment.outcome && isScored(experiment.outcome) ? experiment.outcome.score : Number.NaN);

/**
 * The noise of one run, measured the way drift cannot inflate it: within every set of pairs (each pair's gain about
 * its set's mean; var(gain) = 2 var(run)) and within the baseline's back-to-back calibration runs. Pooled, with the
 * degrees of freedom of both.
 */
export function measuredNoise(experiments: readonly ExperimentRow[], scale: GainScale, calibration: readonly number[]): RunNoise {
  const groups = new Map<string, number[]>();
  for (const experiment of experiments) {
    const pair = experiment.metadata.pair;
    if (!pair || pair.side !== 'subject' || !isCounted(experiment)) continue;
    const reference = experiments.find((other) => other.metadata.pair?.forId === pair.forId && other.metadata.pair.purpose === pair.purpose
      && other.metadata.pair.index === pair.index && other.metadata.pair.side === 'reference' && isCounted(other));
    if (!reference) continue;
    const key = `${pair.forId}:${pair.purpose}`;
    groups.set(key, [...(groups.get(key) ?? []), scale.gain(scoreOf(experiment), scoreOf(reference))]);
  }
  let squares = sumOfSquares(calibration.map(scale.transform));
  let degreesOfFreedom = Math.max(0, calibration.length - 1);
  for (const gains of groups.values()) {
    squares += sumOfSquares(gains) / 2;
    degreesOfFreedom += gains.length - 1;
  }
  return { variance: degreesOfFreedom > 0 ? squares / degreesOfFreedom : Number.NaN, degreesOfFreedom };
}
