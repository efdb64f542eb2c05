/**
 * The acceptance gate's statistics: is a candidate really better than the baseline, beyond the measured noise?
 *
 * `compareSamples` is the entry point the lab's gate calls with repeated measurements of both sides. It runs a
 * one-sided Welch t-test on the log of the values, because run times (and most of our scores) are positive and
 * right-skewed: on the log scale their noise is closer to normal and multiplicative effects ("1.3x faster") become
 * additive, so the test asks exactly the question the report answers (is the speedup > 1?). Welch's version is used
 * because the candidate's spread may differ from the baseline's (a faster config is often also less noisy).
 * Mann-Whitney U is reported beside it as a distribution-free cross-check, and a seeded percentile bootstrap gives
 * a 95% interval for the ratio of means (the speedup).
 *
 * Is not: the gate's policy (how many repeats, when to stop) — the lab owns that; this file only computes.
 */
import { quantiles } from './quantile.js';
import { createRandom } from './random.js';
import { normalCdf, studentTCdf } from './special-functions.js';

export type Alternative = 'less' | 'greater' | 'two-sided';

export interface TestResult { statistic: number; pValue: number }
export interface WelchResult extends TestResult { degreesOfFreedom: number; meanDifference: number }
export interface MannWhitneyResult extends TestResult { method: 'exact' | 'normal' }

const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
const sampleVariance = (values: readonly number[]): number => {
  const center = mean(values);
  return values.reduce((sum, value) => sum + (value - center) ** 2, 0) / (values.length - 1);
};

const tailProbability = (cdfAtStatistic: number, survivalAtStatistic: number, alternative: Alternative): number =>
  alternative === 'less' ? cdfAtStatistic
    : alternative === 'greater' ? survivalAtStatistic
      : Math.min(1, 2 * Math.min(cdfAtStatistic, survivalAtStatistic));

/**
 * Welch's t-test of mean(a) - mean(b) against 0. `alternative: 'less'` asks whether a's mean is smaller.
 * Needs at least two values on each side (a variance needs two).
 */
export function welchTTest(a: readonly number[], b: readonly number[], alternative: Alternative): WelchResult {
  if (a.length < 2 || b.length < 2) throw new RangeError(`Welch's t-test needs >= 2 values per sample, got ${a.length} and ${b.length}`);
  const meanDifference = mean(a) - mean(b);
  const varianceOfMeanA = sampleVariance(a) / a.length;
  const varianceOfMeanB = sampleVariance(b) / b.length;
  const standardError = Math.sqrt(varianceOfMeanA + varianceOfMeanB);
  // No noise on either side: the difference is certain (t = ±∞), or there is none (t = 0).
  const statistic = standardError === 0 ? (meanDifference === 0 ? 0 : Math.sign(meanDifference) * Infinity)
    : meanDifference / standardError;
  if (standardError === 0) {
    const degreesOfFreedom = a.length + b.length - 2;
    const pValue = tailProbability(studentTCdf(statistic, degreesOfFreedom), studentTCdf(-statistic, degreesOfFreedom), alternative);
    return { statistic, pValue, degreesOfFreedom, meanDifference };
  }
  // Welch-Satterthwaite degrees of freedom.
  const degreesOfFreedom = (varianceOfMeanA + varianceOfMeanB) ** 2 /
    (varianceOfMeanA ** 2 / (a.length - 1) + varianceOfMeanB ** 2 / (b.length - 1));
  const cdf = studentTCdf(statistic, degreesOfFreedom);
  const survival = studentTCdf(-statistic, degreesOfFreedom);
  return { statistic, pValue: tailProbability(cdf, survival, alternative), degreesOfFreedom, meanDifference };
}

/**
 * Mann-Whitney U test. The statistic is U for `a`: the number of pairs (a_i, b_j) with a_i > b_j, ties counting
 * one half. `alternative: 'less'` asks whether a tends to be smaller than b. Exact null distribution when there are
 * no ties and the samples are small (n_a * n_b <= 2500); otherwise the normal approximation with tie correction
 * and continuity correction (the same choices as SciPy's `mannwhitneyu(method='auto')` for the asymptotic case).
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[], alternative: Alternative): MannWhitneyResult {
  if (a.length === 0 || b.length === 0) throw new RangeError('Mann-Whitney U needs non-empty samples');
  let statistic = 0;
  for (const valueA of a) for (const valueB of b) statistic += valueA > valueB ? 1 : valueA === valueB ? 0.5 : 0;
  const pooled = [...a, ...b].sort((left, right) => left - right);
  const tieGroupSizes: number[] = [];
  for (let start = 0; start < pooled.length;) {
    let end = start;
    while (end + 1 < pooled.length && pooled[end + 1] === pooled[start]) end++;
    tieGroupSizes.push(end - start + 1);
    start = end + 1;
  }
  const hasTies = tieGroupSizes.some((size) => size > 1);
  if (!hasTies && a.length * b.length <= 2500) {
    const probabilities = exactUDistribution(a.length, b.length);
    let cdf = 0;
    for (let u = 0; u <= statistic; u++) cdf += probabilities[u];
    let survival = 0;
    for (let u = statistic; u < probabilities.length; u++) survival += probabilities[u];
    return { statistic, pValue: Math.min(1, tailProbability(cdf, survival, alternative)), method: 'exact' };
  }
  const total = a.length + b.length;
  const expected = (a.length * b.length) / 2;
  const tieTerm = tieGroupSizes.reduce((sum, size) => sum + size ** 3 - size, 0) / (total * (total - 1));
  const standardDeviation = Math.sqrt(((a.length * b.length) / 12) * (total + 1 - tieTerm));
  if (standardDeviation === 0) return { statistic, pValue: 1, method: 'normal' };
  const cdf = normalCdf((statistic - expected + 0.5) / standardDeviation);
  const survival = 1 - normalCdf((statistic - expected - 0.5) / standardDeviation);
  return { statistic, pValue: Math.min(1, tailProbability(cdf, survival, alternative)), method: 'normal' };
}

/**
 * P(U = u) under the null for sample sizes (m, n), u = 0..m*n, by the recursion on the largest pooled value:
 * it belongs to the first sample (adding n to U) with probability m / (m + n). Probabilities, not counts,
 * so nothing overflows.
 */
function exactUDistribution(m: number, n: number): number[] {
  // table[i][j] is the distribution for sizes (i, j); rows are built for increasing i.
  let previousRow: number[][] = [];
  for (let i = 0; i <= m; i++) {
    const row: number[][] = [];
    for (let j = 0; j <= n; j++) {
      const distribution = new Array<number>(i * j + 1).fill(0);
      if (i === 0 || j === 0) distribution[0] = 1;
      else {
        const fromFirst = previousRow[j];
        const fromSecond = row[j - 1];
        for (let u = 0; u < fromFirst.length; u++) distribution[u + j] += (i / (i + j)) * fromFirst[u];
        for (let u = 0; u < fromSecond.length; u++) distribution[u] += (j / (i + j)) * fromSecond[u];
      }
      row.push(distribution);
    }
    previousRow = row;
  }
  return previousRow[n];
}

/**
 * Percentile bootstrap interval for mean(numerator) / mean(denominator), resampling each sample independently.
 * For a speedup pass (baseline seconds, candidate seconds).
 */
export function bootstrapRatioOfMeans(
  numerator: readonly number[], denominator: readonly number[],
  options: { seed: number; resamples?: number; confidence?: number },
): { ratio: number; interval: [number, number] } {
  const { value, interval } = bootstrapOfMeans(numerator, denominator, (meanA, meanB) => meanA / meanB, options);
  return { ratio: value, interval };
}

/** Percentile bootstrap of a statistic of two means, each sample resampled independently. */
function bootstrapOfMeans(
  a: readonly number[], b: readonly number[], statistic: (meanA: number, meanB: number) => number,
  options: { seed: number; resamples?: number; confidence?: number },
): { value: number; interval: [number, number] } {
  if (a.length === 0 || b.length === 0) throw new RangeError('bootstrap needs non-empty samples');
  const resamples = options.resamples ?? 4000;
  const confidence = options.confidence ?? 0.95;
  const random = createRandom(options.seed);
  const resampledMean = (values: readonly number[]): number => {
    let sum = 0;
    for (let draw = 0; draw < values.length; draw++) sum += values[random.integer(values.length)];
    return sum / values.length;
  };
  const statistics = new Float64Array(resamples);
  for (let index = 0; index < resamples; index++) statistics[index] = statistic(resampledMean(a), resampledMean(b));
  const tail = (1 - confidence) / 2;
  const [low, high] = quantiles(statistics, [tail, 1 - tail]);
  return { value: statistic(mean(a), mean(b)), interval: [low, high] };
}

export interface CompareOptions {
  direction: 'minimize' | 'maximize';
  /** One-sided significance level, e.g. 0.05. */
  alpha: number;
  /** The smallest gain worth accepting, relative: 0.02 asks for a candidate at least 2% better. Default 0. */
  minRelativeGain?: number;
  /** Seed of the bootstrap interval. */
  seed: number;
  bootstrapResamples?: number;
}
export interface SampleSummary { count: number; mean: number; standardDeviation: number }
export interface Comparison {
  significant: boolean;
  /** Log values when every value is positive (the normal case: seconds); raw values otherwise. */
  test: 'welch-t on log values' | 'welch-t on raw values';
  /** One-sided p-value of H1: the candidate is better than the baseline by more than `minRelativeGain`. */
  pValue: number;
  tStatistic: number;
  degreesOfFreedom: number;
  /**
   * Gain factor, > 1 when the candidate is better: mean baseline / mean candidate when minimising (the speedup),
   * the inverse when maximising; on raw values (some value <= 0) 1 + the relative improvement of the means.
   */
  ratio: number;
  /** 95% percentile-bootstrap interval of `ratio`. */
  ratioCi95: [number, number];
  /** The ratio of geometric means: the quantity the log-scale t-test is about. NaN on raw values. */
  geometricRatio: number;
  /** Mann-Whitney U cross-check of the same one-sided hypothesis (same gain margin). */
  mannWhitneyPValue: number;
  baseline: SampleSummary;
  candidate: SampleSummary;
  alpha: number;
  minRelativeGain: number;
  /** One line saying why the comparison is or is not significant. */
  reason: string;
}

const summarize = (values: readonly number[]): SampleSummary => ({
  count: values.length,
  mean: values.length ? mean(values) : Number.NaN,
  standardDeviation: values.length > 1 ? Math.sqrt(sampleVariance(values)) : Number.NaN,
});

/**
 * Is the candidate better than the baseline beyond noise, by at least `minRelativeGain`? Significant only when
 * the one-sided Welch p-value is below alpha AND the point estimate of the ratio clears 1 + minRelativeGain.
 * The gain margin is tested, not just checked: on the log scale the candidate is moved by log(1 + gain) towards
 * the baseline before the test, so p < alpha means "better by more than the margin" at that level.
 */
export function compareSamples(baseline: readonly number[], candidate: readonly number[], options: CompareOptions): Comparison {
  for (const value of [...baseline, ...candidate]) {
    if (!Number.isFinite(value)) throw new RangeError(`compareSamples needs finite values, got ${value}`);
  }
  const minRelativeGain = options.minRelativeGain ?? 0;
  const minimize = options.direction === 'minimize';
  const onLogScale = [...baseline, ...candidate].every((value) => value > 0);
  const test = onLogScale ? 'welch-t on log values' as const : 'welch-t on raw values' as const;
  const base = {
    test, alpha: options.alpha, minRelativeGain,
    baseline: summarize(baseline), candidate: summarize(candidate),
  };
  if (baseline.length < 2 || candidate.length < 2) {
    return {
      ...base, significant: false, pValue: 1, tStatistic: Number.NaN, degreesOfFreedom: Number.NaN,
      ratio: baseline.length && candidate.length ? gainStatistic(minimize, onLogScale)(mean(baseline), mean(candidate)) : Number.NaN,
      ratioCi95: [Number.NaN, Number.NaN], geometricRatio: Number.NaN, mannWhitneyPValue: 1,
      reason: `needs >= 2 runs on each side to measure noise (baseline ${baseline.length}, candidate ${candidate.length})`,
    };
  }
  // Move the candidate towards the baseline by the margin, then ask "is it still better?".
  const transformedBaseline = onLogScale ? baseline.map(Math.log) : [...baseline];
  const margin = onLogScale ? Math.log1p(minRelativeGain) : minRelativeGain * Math.abs(mean(baseline));
  const shiftedCandidate = candidate.map((value) => (onLogScale ? Math.log(value) : value) + (minimize ? margin : -margin));
  const alternative: Alternative = minimize ? 'less' : 'greater';
  const welch = welchTTest(shiftedCandidate, transformedBaseline, alternative);
  const mannWhitney = mannWhitneyU(shiftedCandidate, transformedBaseline, alternative);
  const [numerator, denominator] = minimize ? [baseline, candidate] : [candidate, baseline];
  const bootstrap = bootstrapOfMeans(baseline, candidate, gainStatistic(minimize, onLogScale),
    { seed: options.seed, resamples: options.bootstrapResamples });
  const geometricRatio = onLogScale
    ? Math.exp(mean(numerator.map(Math.log)) - mean(denominator.map(Math.log)))
    : Number.NaN;
  const clearsMargin = bootstrap.value >= 1 + minRelativeGain;
  const significant = welch.pValue < options.alpha && clearsMargin;
  const gainText = minRelativeGain > 0 ? ` by > ${(minRelativeGain * 100).toFixed(1)}%` : '';
  const reason = significant
    ? `better${gainText}: ratio ${bootstrap.value.toFixed(3)}, p = ${welch.pValue.toPrecision(2)} < ${options.alpha}`
    : !clearsMargin
      ? `ratio ${bootstrap.value.toFixed(3)} does not clear ${(1 + minRelativeGain).toFixed(3)}`
      : `not significant${gainText}: p = ${welch.pValue.toPrecision(2)} >= ${options.alpha}`;
  return {
    ...base, significant, pValue: welch.pValue, tStatistic: welch.statistic, degreesOfFreedom: welch.degreesOfFreedom,
    ratio: bootstrap.value, ratioCi95: bootstrap.interval, geometricRatio, mannWhitneyPValue: mannWhitney.pValue, reason,
  };
}

/**
 * The gain factor from the two means, > 1 when the candidate is better. On positive values a ratio of means;
 * with values <= 0 a ratio means nothing (signs may differ), so it is 1 + the relative improvement instead.
 */
const gainStatistic = (minimize: boolean, positive: boolean) => (baselineMean: number, candidateMean: number): number => {
  if (positive) return minimize ? baselineMean / candidateMean : candidateMean / baselineMean;
  return 1 + (minimize ? baselineMean - candidateMean : candidateMean - baselineMean) / Math.abs(baselineMean);
};
