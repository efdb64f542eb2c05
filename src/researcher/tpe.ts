/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011; the multivariate variant of Falkner et al. 2018 and
 * Optuna): split the evaluated points into good (best `gamma` quantile of scores) and bad (the rest, every
 * failure, and — the constant liar — every pending point), fit a Parzen density to each, draw candidates from the
 * good density l(x) and keep the one with the largest l(x) / g(x).
 *
 * The densities are products over knobs in unit space (log knobs on a log axis): a truncated Gaussian per numeric
 * knob (Scott-like bandwidth 0.1 n^(-1/(d+4)): half of Optuna's multivariate default, because our budgets are
 * small and candidates are moves around the incumbent — on the synthetic speedrun objective of
 * test/researcher/search.test.ts it found better points and failed less at 20, 30 and 60 experiments), smoothed
 * counts per categorical knob, plus one broad prior component so that nothing has zero density. Multivariate kernels keep interactions
 * ("this width only works with few heads") that independent per-knob densities would lose.
 *
 * Is not: aware of budgets or the incumbent — search.ts decides when to use it and what to compare against.
 */
import type { Random } from '../stats/random.js';
import { normalCdf } from '../stats/special-functions.js';
import type { Space } from '../task/space.js';
import type { Observation } from './observations.js';
import { encodePoint } from './space-geometry.js';

/** A mixture over encoded points (see space-geometry `encodePoint`): one kernel per point plus the prior. */
interface ParzenEstimator {
  centers: number[][];
  /** Per knob: the kernel width of numeric knobs, or the smoothing weight of categorical ones. */
  widths: number[];
  /** Per knob: the number of choices of a categorical knob, 0 for numeric ones. */
  choiceCounts: number[];
  /** Per center, per numeric knob: log of the kernel's normaliser (width, truncation to [0, 1]); computed once. */
  logNormalizers: number[][];
}

const PRIOR_CENTER = 0.5;
const PRIOR_WIDTH = 1;
const LOG_SQRT_TWO_PI = 0.5 * Math.log(2 * Math.PI);

function fitEstimator(space: Space, names: readonly string[], centers: number[][]): ParzenEstimator {
  const count = centers.length + 1; // the prior is one more component
  const scott = 0.1 * count ** (-1 / (names.length + 4));
  const widths = names.map((name) => {
    const knob = space[name];
    if (knob.type === 'categorical') return 1 / count;
    // An integer knob's kernel must reach its neighbouring values.
    const steps = knob.type === 'int'
      ? (knob.scale === 'log' ? Math.log(knob.max / knob.min) / Math.log(1 + 1 / Math.max(1, knob.min)) : knob.max - knob.min)
      : Infinity;
    return Math.max(scott, 0.02, 0.5 / Math.max(1, steps));
  });
  const choiceCounts = names.map((name) => { const knob = space[name]; return knob.type === 'categorical' ? knob.choices.length : 0; });
  const logNormalizers = centers.map((center) => center.map((value, index) => choiceCounts[index] > 0 ? 0 : logNormalizer(value, widths[index])));
  return { centers, widths, choiceCounts, logNormalizers };
}

/** log of the normaliser of a Gaussian truncated to [0, 1]: sqrt(2π) width × its mass inside. */
function logNormalizer(center: number, width: number): number {
  const mass = normalCdf((1 - center) / width) - normalCdf(-center / width);
  return LOG_SQRT_TWO_PI + Math.log(width) + Math.log(Math.max(mass, 1e-300));
}

const PRIOR_LOG_NORMALIZER = logNormalizer(PRIOR_CENTER, PRIOR_WIDTH);

/** log of one component's density at x; `component` -1 is the prior. */
function logKernel(estimator: ParzenEstimator, component: number, x: readonly number[]): number {
  const center = component < 0 ? null : estimator.centers[component];
  let sum = 0;
  for (let index = 0; index < x.length; index++) {
    const choices = estimator.choiceCounts[index];
    if (choices > 0) {
      if (center === null) { sum -= Math.log(choices); continue; }
      const smoothing = estimator.widths[index];
      sum += Math.log(((x[index] === center[index] ? 1 : 0) + smoothing) / (1 + choices * smoothing));
    } else {
      const z = center === null ? (x[index] - PRIOR_CENTER) / PRIOR_WIDTH : (x[index] - center[index]) / estimator.widths[index];
      sum += -0.5 * z * z - (center === null ? PRIOR_LOG_NORMALIZER : estimator.logNormalizers[component][index]);
    }
  }
  return sum;
}

function logDensity(estimator: ParzenEstimator, x: readonly number[]): number {
  const terms = [logKernel(estimator, -1, x), ...estimator.centers.map((_, component) => logKernel(estimator, component, x))];
  const largest = Math.max(...terms);
  const total = terms.reduce((sum, term) => sum + Math.exp(term - largest), 0);
  return largest + Math.log(total / terms.length);
}

function sampleTruncatedNormal(random: Random, center: number, width: number): number {
  for (let attempt = 0; attempt < 32; attempt++) {
    const value = center + width * random.normal();
    if (value >= 0 && value <= 1) return value;
  }
  return Math.min(1, Math.max(0, center));
}

function sample(estimator: ParzenEstimator, random: Random): number[] {
  const component = random.integer(estimator.centers.length + 1);
  const center = component === estimator.centers.length ? null : estimator.centers[component];
  return estimator.choiceCounts.map((choices, index) => {
    if (choices > 0) {
      // Keep the center's choice with probability (1 + w) / (1 + k w), else uniform.
      if (center !== null && center[index] >= 0 && random.uniform() < 1 / (1 + choices * estimator.widths[index])) return center[index];
      return random.integer(choices);
    }
    return center === null ? random.uniform() : sampleTruncatedNormal(random, center[index], estimator.widths[index]);
  });
}

export interface TpeModel {
  /** Draws an encoded point from the good density l(x). */
  sampleGood(random: Random): number[];
  /** log l(x) - log g(x) of an encoded point: larger is more promising. */
  acquisition(point: readonly number[]): number;
}

/** Fits l and g to the observations; `gamma` is the share of scored points called good. */
export function fitTpe(space: Space, names: readonly string[], observations: readonly Observation[], gamma: number): TpeModel {
  const scored = observations.filter((observation) => observation.kind === 'scored').sort((left, right) => left.loss - right.loss);
  const goodCount = Math.min(25, Math.max(1, Math.ceil(gamma * scored.length)));
  const good = scored.slice(0, goodCount);
  const bad = [...scored.slice(goodCount), ...observations.filter((observation) => observation.kind !== 'scored')];
  const encode = (observation: Observation): number[] => encodePoint(space, names, observation.assignment);
  const goodEstimator = fitEstimator(space, names, good.map(encode));
  const badEstimator = fitEstimator(space, names, bad.map(encode));
  return {
    sampleGood: (random) => sample(goodEstimator, random),
    acquisition: (point) => logDensity(goodEstimator, point) - logDensity(badEstimator, point),
  };
}
