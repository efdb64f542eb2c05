/**
 * The acceptance gate and its promise: in a run, the probability of accepting any change with no real effect is at
 * most `alpha` (family-wise), under noise the seed does not explain and a slow drift of the machine.
 *
 * How it keeps it (docs/gate.md has the reasoning and the simulation that checks it, `npm run bench:gate`):
 * - Screening never counts as evidence. A candidate's first run only selects it: it becomes a claim when it beats
 *   the incumbent by more than the measured noise (`screeningSigmas` standard deviations of one run, and at least
 *   `minRelativeGain`).
 * - Confirmation runs the claim and the incumbent in pairs, close in time and in alternating order, with fresh seeds;
 *   drift cancels within each pair. The paired test (src/stats/paired.ts) looks after 2, 4, ... `maxPairs` pairs.
 * - The run's level is spent over its claims: claim k gets alpha x 6/(pi^2 k^2) (these sum to alpha), and a claim
 *   the gate accepted passes its level on to the next one (the online fallback procedure, which keeps the
 *   family-wise bound). Within a claim the level is split over its looks in proportion to the pairs seen.
 * Pure: numbers in, decisions out; the planner (planner.ts) says when to ask and the loop journals the answers.
 */
import type { GateRecord } from '../journal/metadata.js';
import { pairedGainTest } from '../stats/paired.js';
import type { GateOptions } from './options.js';

export type Direction = 'minimize' | 'maximize';

/**
 * The scale gains are measured on: log ratios when every value is positive (seconds, most scores: multiplicative
 * noise, and "1.3x" is additive there), else differences relative to the incumbent's mean size.
 */
export interface GainScale {
  /** The gain of `value` over `reference`: > 0 when `value` is better. */
  gain(value: number, reference: number): number;
  /** A value on the scale whose spread is the noise of one run. */
  transform(value: number): number;
  /** Gain factor for a gain on this scale (what the report prints: 1.3x). */
  factor(gain: number): number;
}

export function gainScale(direction: Direction, values: readonly number[]): GainScale {
  const sign = direction === 'minimize' ? -1 : 1;
  if (values.every((value) => value > 0)) {
    return { gain: (value, reference) => sign * (Math.log(value) - Math.log(reference)), transform: Math.log, factor: Math.exp };
  }
  const size = Math.max(1e-12, values.reduce((sum, value) => sum + Math.abs(value), 0) / Math.max(1, values.length));
  return { gain: (value, reference) => (sign * (value - reference)) / size, transform: (value) => value / size, factor: (gain) => 1 + gain };
}

/**
 * The noise of one run on the gain scale, as the run measured it without drift (pairs.ts measuredNoise): its
 * variance and degrees of freedom.
 */
export interface RunNoise { variance: number; degreesOfFreedom: number }

/**
 * The gain a screening run must show over the mean of `referenceCount` recent runs of the incumbent to become a
 * claim: `screeningSigmas` standard deviations of that difference, and never less than `minRelativeGain`.
 */
export function screeningThreshold(noise: RunNoise, referenceCount: number, gate: GateOptions): number {
  const floor = Math.log1p(gate.minRelativeGain);
  if (!(noise.degreesOfFreedom >= 1) || Number.isNaN(noise.variance)) return Math.max(floor, Math.log1p(0.1));
  return Math.max(floor, gate.screeningSigmas * Math.sqrt(noise.variance * (1 + 1 / Math.max(1, referenceCount))));
}

/** The level of the run's k-th claim (k from 1), given whether each earlier claim passed: the online fallback. */
export function claimLevel(alpha: number, claimIndex: number, earlierPassed: readonly boolean[]): number {
  const share = (index: number): number => (alpha * 6) / (Math.PI ** 2 * index ** 2);
  let level = share(1);
  for (let index = 2; index <= claimIndex; index++) level = share(index) + (earlierPassed[index - 2] ? level : 0);
  return level;
}

/** The pair counts at which the test looks: 2, 4, 8, ... and `maxPairs` itself. */
export function looks(maxPairs: number): number[] {
  const counts: number[] = [];
  for (let count = 2; count < maxPairs; count *= 2) counts.push(count);
  return [...counts, maxPairs];
}

/**
 * The part of a claim's level spent at the look after `pairs` pairs (zero between looks): in proportion to pairs²
 * over the looks, so early looks stop only clear cases and most of the level waits for the evidence.
 */
export function lookLevel(claimLevelValue: number, pairs: number, maxPairs: number): number {
  const all = looks(maxPairs);
  if (!all.includes(pairs)) return 0;
  const total = all.reduce((sum, look) => sum + look * look, 0);
  return (claimLevelValue * pairs * pairs) / total;
}

export interface ConfirmationInput {
  direction: Direction;
  gate: GateOptions;
  /** This claim's level (claimLevel). */
  level: number;
  /** Complete pairs, in order: the incumbent's and the claim's score in each. */
  pairs: ReadonlyArray<{ incumbent: number; claim: number }>;
  scale: GainScale;
  noise: RunNoise;
  /** The candidate's workspace is the incumbent's: whatever its samples say, nothing changed. */
  sameConfiguration: boolean;
  incumbentId: string;
  /** The gain the claim's screening had to show: pairs that show clearly less than this stop the claim early. */
  screeningThreshold: number;
}

/** Futility: a claim stops when even the upper 90% bound of its paired gain falls short of what its screening showed. */
const FUTILITY_QUANTILE = 1.2816;

export interface ConfirmationDecision {
  verdict: 'accept' | 'reject' | 'continue';
  detail: string;
  record: Omit<GateRecord, 'accepted' | 'detail'>;
}

export function decideConfirmation(input: ConfirmationInput): ConfirmationDecision {
  const { gate, pairs } = input;
  const base = { incumbentId: input.incumbentId, level: input.level, pairs: pairs.length };
  if (input.sameConfiguration) return { verdict: 'reject', detail: 'the candidate runs the same configuration as the incumbent', record: base };
  if (pairs.length < 2) return { verdict: 'continue', detail: `${pairs.length} of at least 2 pairs`, record: base };
  const { scale } = input;
  const gains = pairs.map((pair) => scale.gain(pair.claim, pair.incumbent));
  const test = pairedGainTest({ gains, margin: Math.log1p(gate.minRelativeGain), runVariance: input.noise.variance, degreesOfFreedom: input.noise.degreesOfFreedom });
  const atThisLook = lookLevel(input.level, pairs.length, gate.maxPairs);
  const ratio = scale.factor(test.meanGain);
  const spread = [scale.factor(test.meanGain - 1.96 * test.standardError), scale.factor(test.meanGain + 1.96 * test.standardError)] as [number, number];
  const record = {
    ...base, test: 'paired t on log gains', pValue: test.pValue, lookLevel: atThisLook, ratio, ratioCi95: spread,
    incumbentSamples: pairs.map((pair) => pair.incumbent), candidateSamples: pairs.map((pair) => pair.claim),
  };
  const numbers = `gain ${ratio.toFixed(3)}x [${spread.map((value) => value.toFixed(3)).join(', ')}] over ${pairs.length} pairs, p=${test.pValue.toPrecision(3)}`;
  if (atThisLook > 0 && test.pValue < atThisLook) return { verdict: 'accept', detail: `${numbers} < ${atThisLook.toPrecision(3)} (this claim's level ${input.level.toPrecision(3)} of the run's ${gate.alpha})`, record };
  if (pairs.length >= 3 && test.meanGain <= 0) return { verdict: 'reject', detail: `${numbers}: no gain in the paired runs`, record };
  if (test.meanGain + FUTILITY_QUANTILE * test.standardError < input.screeningThreshold) {
    return { verdict: 'reject', detail: `${numbers}: less than the ${scale.factor(input.screeningThreshold).toFixed(3)}x its screening run claimed`, record };
  }
  if (pairs.length >= gate.maxPairs) return { verdict: 'reject', detail: `${numbers} >= ${atThisLook.toPrecision(3)} after the last look: not shown`, record };
  return { verdict: 'continue', detail: numbers, record };
}

/**
 * The smallest gain factor a first claim is confirmed with 80% probability, for a run noise of `runVariance` (gain
 * scale): its last look's level, normal approximation, all `maxPairs` pairs. What a report says a run could detect.
 */
export function smallestConfirmableGain(runVariance: number, gate: GateOptions): number {
  const level = lookLevel(claimLevel(gate.alpha, 1, []), gate.maxPairs, gate.maxPairs);
  const standardError = Math.sqrt((2 * runVariance) / gate.maxPairs);
  return Math.exp(Math.log1p(gate.minRelativeGain) + (normalQuantile(1 - level) + normalQuantile(0.8)) * standardError);
}

/** The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9). */
function normalQuantile(probability: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (probability < low) {
    const q = Math.sqrt(-2 * Math.log(probability));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (probability > 1 - low) return -normalQuantile(1 - probability);
  const q = probability - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
