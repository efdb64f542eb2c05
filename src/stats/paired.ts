/**
 * The paired test behind the lab's gate: a claim and the incumbent run in pairs, close in time, each pair giving
 * one gain g = log(incumbent / claim) for seconds (log(claim / incumbent) for a score to maximise), so a slow drift
 * of the machine cancels within each pair. H0: no gain beyond a margin (E[g] <= margin); H1: a real gain.
 *
 * Under H0 the claim's runs come from the incumbent's distribution, so var(g) = 2 var(one run). The variance of one
 * run is given by the caller, pooled from what a run measures without drift: the spread of gains within every set
 * of pairs and of the back-to-back calibration runs (see src/lab/gate.ts), with its degrees of freedom.
 * Is not: the policy (how many pairs, what level at which look, how the level is spent over a run's claims).
 */
import { studentTCdf } from './special-functions.js';

export interface PairedGainInput {
  /** One gain per complete pair, on the gain scale (log ratios, or relative differences for values that are not all positive). */
  gains: readonly number[];
  /** The smallest gain worth accepting, on the same scale: the test asks whether the mean gain exceeds it. */
  margin: number;
  /** Variance of one run on the gain scale, and its degrees of freedom. */
  runVariance: number;
  degreesOfFreedom: number;
}

export interface PairedGainResult {
  meanGain: number;
  standardError: number;
  statistic: number;
  degreesOfFreedom: number;
  /** One-sided p-value of H1: mean gain > margin. */
  pValue: number;
}

const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;

/** Sum of squared deviations from the mean. */
export function sumOfSquares(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const center = mean(values);
  return values.reduce((sum, value) => sum + (value - center) ** 2, 0);
}

export function pairedGainTest(input: PairedGainInput): PairedGainResult {
  const { gains, degreesOfFreedom } = input;
  if (gains.length === 0) throw new RangeError('the paired test needs at least one complete pair');
  if (!(degreesOfFreedom >= 1)) throw new RangeError('the paired test needs a noise estimate with at least one degree of freedom');
  const meanGain = mean(gains);
  const standardError = Math.sqrt((2 * input.runVariance) / gains.length);
  const excess = meanGain - input.margin;
  // No noise at all: the gain is certain (t = ±∞), or absent (t = 0, p = 1/2).
  const statistic = standardError === 0 ? (excess === 0 ? 0 : Math.sign(excess) * Infinity) : excess / standardError;
  return { meanGain, standardError, statistic, degreesOfFreedom, pValue: studentTCdf(-statistic, degreesOfFreedom) };
}
