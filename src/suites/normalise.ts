/**
 * Normalised scores, as in RE-Bench: 0 = the task's baseline, 1 = its reference solution.
 *   linear (scorer metrics):  (score - baseline) / (reference - baseline), which handles either direction.
 *   log (wall-seconds):       log(baseline / score) / log(baseline / reference), i.e. log speedup over the
 *                             reference's log speedup, so a 2x gain counts the same on any machine's clock.
 * The baseline is the run's own measurement when there is one (the lab measures it in every run, on this machine),
 * else the task's declared `baseline.score`. For wall-seconds the reference is a ratio (declared baseline over
 * declared reference, or the suite's referenceSpeedup), so a slower or faster machine does not move it.
 */
import type { TaskFile } from '../task/schema.js';

export type NormalisationScale = 'linear' | 'log';

export interface Normalisation {
  /** Null when the task declares no reference (nothing to normalise against) or the run has no score. */
  normalised: number | null;
  scale: NormalisationScale;
  baselineScore: number | null;
  baselineSource: 'measured' | 'declared' | 'none';
  /** Linear: the reference score; log: the reference's speedup over the baseline. */
  reference: number | null;
  note?: string;
}

export function normalisedLinear(score: number, baseline: number, reference: number): number {
  return (score - baseline) / (reference - baseline);
}

export function normalisedLog(score: number, baseline: number, referenceSpeedup: number): number {
  return Math.log(baseline / score) / Math.log(referenceSpeedup);
}

export function normaliseScore(task: TaskFile, score: number | null, measuredBaseline: number | null, referenceSpeedup?: number): Normalisation {
  const declaredBaseline = task.baseline?.score ?? null;
  const baselineScore = measuredBaseline ?? declaredBaseline;
  const baselineSource = measuredBaseline !== null ? 'measured' : declaredBaseline !== null ? 'declared' : 'none';
  const scale: NormalisationScale = task.metric.source === 'wall-seconds' ? 'log' : 'linear';
  const base = { scale, baselineScore, baselineSource } as const;
  if (scale === 'log') {
    const declaredReference = task.reference?.score;
    const speedup = referenceSpeedup ?? (declaredBaseline !== null && declaredReference !== undefined ? declaredBaseline / declaredReference : undefined);
    if (speedup === undefined || !(speedup > 1)) return { ...base, normalised: null, reference: null, note: 'no reference speedup (declare baseline.score and reference.score, or referenceSpeedup in the suite)' };
    if (score === null || baselineScore === null || !(score > 0) || !(baselineScore > 0)) return { ...base, normalised: null, reference: speedup, note: 'no score' };
    return { ...base, normalised: normalisedLog(score, baselineScore, speedup), reference: speedup };
  }
  const reference = task.reference?.score;
  if (reference === undefined) return { ...base, normalised: null, reference: null, note: 'the task declares no reference.score' };
  if (score === null || baselineScore === null) return { ...base, normalised: null, reference, note: 'no score' };
  if (reference === baselineScore) return { ...base, normalised: null, reference, note: 'reference equals baseline' };
  return { ...base, normalised: normalisedLinear(score, baselineScore, reference), reference };
}
