/**
 * The gate's statistics against an independent reference: every expected number below was computed with
 * SciPy 1.17 (scipy.special.betainc / gammaln, scipy.stats.t.cdf / norm.cdf / ttest_ind / mannwhitneyu),
 * plus behavioural checks of compareSamples: calibration of its false-positive rate, power, the gain margin.
 */
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/stats/random.js';
import { bootstrapRatioOfMeans, compareSamples, mannWhitneyU, welchTTest } from '../../src/stats/significance.js';
import { logGamma, normalCdf, regularizedIncompleteBeta, studentTCdf } from '../../src/stats/special-functions.js';

describe('special functions (SciPy reference values)', () => {
  it('logGamma', () => {
    const cases: [number, number][] = [[0.5, 0.5723649429247], [1, 0], [3, 0.6931471805599453], [10.5, 13.940625219403763],
      [100, 359.1342053695754], [171.3, 708.1149470389971]];
    for (const [x, expected] of cases) expect(logGamma(x)).toBeCloseTo(expected, 11);
  });

  it('regularised incomplete beta', () => {
    const cases: [number, number, number, number][] = [
      [2, 3, 0.5, 0.6875], [0.5, 0.5, 0.1, 0.20483276469913345], [10, 20, 0.3, 0.3640040810719437],
      [50, 0.5, 0.99, 0.3173043978741973], [1.5, 7.25, 0.05, 0.1430329572163933], [200, 300, 0.41, 0.677628164772179],
    ];
    for (const [a, b, x, expected] of cases) expect(regularizedIncompleteBeta(x, a, b)).toBeCloseTo(expected, 11);
    expect(regularizedIncompleteBeta(0, 2, 3)).toBe(0);
    expect(regularizedIncompleteBeta(1, 2, 3)).toBe(1);
    expect(() => regularizedIncompleteBeta(1.5, 2, 3)).toThrow(RangeError);
  });

  it('Student t CDF, integer and fractional degrees of freedom', () => {
    const cases: [number, number, number][] = [
      [2.228138851986, 10, 0.975], [1.812461122811, 10, 0.95], [12.7062047362, 1, 0.975], [-0.5, 3.7, 0.3226678166599659],
      [3.0, 2.5, 0.9637119522254841], [-4.2, 45.3, 6.173252521123092e-05], [0, 5, 0.5], [1.0, 1000, 0.8412237909576638],
    ];
    for (const [t, degreesOfFreedom, expected] of cases) expect(studentTCdf(t, degreesOfFreedom)).toBeCloseTo(expected, 10);
    expect(studentTCdf(-4.2, 45.3) / 6.173252521123092e-05).toBeCloseTo(1, 8); // relative accuracy in the tail
  });

  it('normal CDF (1e-7 relative approximation)', () => {
    const cases: [number, number][] = [[-3, 0.0013498980316300933], [-1.5, 0.06680720126885807], [0, 0.5],
      [0.3, 0.6179114221889526], [2.5, 0.9937903346742238], [5, 0.9999997133484281]];
    for (const [z, expected] of cases) expect(Math.abs(normalCdf(z) - expected) / expected).toBeLessThan(2e-7);
  });
});

const baseline = [10.2, 10.8, 9.9, 10.5, 10.1];
const candidate = [9.1, 9.6, 9.3, 9.8];

describe('tests (SciPy reference values)', () => {
  it("Welch's t-test, one- and two-sided", () => {
    const onLogs = welchTTest(candidate.map(Math.log), baseline.map(Math.log), 'less');
    expect(onLogs.statistic).toBeCloseTo(-3.8334663402537332, 10);
    expect(onLogs.degreesOfFreedom).toBeCloseTo(6.677424303959725, 10);
    expect(onLogs.pValue).toBeCloseTo(0.0035163388735019374, 12);
    const raw = welchTTest(candidate, baseline, 'two-sided');
    expect(raw.pValue).toBeCloseTo(0.006628705822666684, 12);
    expect(raw.degreesOfFreedom).toBeCloseTo(6.888522427440632, 10);
    expect(() => welchTTest([1], [1, 2], 'less')).toThrow(RangeError);
  });

  it('Mann-Whitney U, exact without ties', () => {
    expect(mannWhitneyU(candidate, baseline, 'less')).toMatchObject({ statistic: 0, method: 'exact' });
    expect(mannWhitneyU(candidate, baseline, 'less').pValue).toBeCloseTo(0.007936507936507936, 12);
    const x = [3.1, 2.2, 5.4, 1.9, 4.4, 6.6, 2.8];
    const y = [4.0, 7.1, 5.9, 8.2, 6.3, 9.9, 3.5, 7.7, 5.0];
    expect(mannWhitneyU(x, y, 'greater').statistic).toBe(10);
    expect(mannWhitneyU(x, y, 'greater').pValue).toBeCloseTo(0.9917832167832168, 12);
    expect(mannWhitneyU(x, y, 'two-sided').pValue).toBeCloseTo(0.022902097902097907, 12);
  });

  it('Mann-Whitney U, normal approximation with ties', () => {
    const a = [1, 2, 2, 3, 4, 4, 4, 5];
    const b = [3, 4, 5, 5, 6, 6, 7];
    const less = mannWhitneyU(a, b, 'less');
    expect(less).toMatchObject({ statistic: 8, method: 'normal' });
    expect(less.pValue).toBeCloseTo(0.010960327932384759, 7);
    expect(mannWhitneyU(a, b, 'greater').pValue).toBeCloseTo(0.9920076574374018, 7);
    expect(mannWhitneyU(a, b, 'two-sided').pValue).toBeCloseTo(0.021920655864769517, 7);
  });
});

/** n run times with multiplicative noise: median `seconds`, log-normal spread `noise`. */
const runTimes = (random: ReturnType<typeof createRandom>, seconds: number, noise: number, count: number): number[] =>
  Array.from({ length: count }, () => seconds * Math.exp(noise * random.normal()));

describe('bootstrapRatioOfMeans', () => {
  it('is seeded and brackets the ratio', () => {
    const first = bootstrapRatioOfMeans(baseline, candidate, { seed: 7 });
    expect(bootstrapRatioOfMeans(baseline, candidate, { seed: 7 })).toEqual(first);
    expect(bootstrapRatioOfMeans(baseline, candidate, { seed: 8 }).interval).not.toEqual(first.interval);
    expect(first.interval[0]).toBeLessThan(first.ratio);
    expect(first.interval[1]).toBeGreaterThan(first.ratio);
    expect(first.ratio).toBeCloseTo(10.3 / 9.45, 12);
  });
});

describe('compareSamples', () => {
  it('finds a 1.3x speedup under 3% noise with 5 runs a side', () => {
    const random = createRandom(1);
    const result = compareSamples(runTimes(random, 100, 0.03, 5), runTimes(random, 100 / 1.3, 0.03, 5),
      { direction: 'minimize', alpha: 0.05, seed: 1 });
    expect(result.test).toBe('welch-t on log values');
    expect(result.significant).toBe(true);
    expect(result.pValue).toBeLessThan(1e-4);
    expect(result.ratio).toBeGreaterThan(1.2);
    expect(result.ratio).toBeLessThan(1.4);
    expect(result.ratioCi95[0]).toBeGreaterThan(1);
    expect(result.mannWhitneyPValue).toBeLessThan(0.05);
  });

  it('holds its false-positive rate near alpha when nothing changed', () => {
    const random = createRandom(2);
    const trials = 2000;
    let falsePositives = 0;
    for (let trial = 0; trial < trials; trial++) {
      const result = compareSamples(runTimes(random, 60, 0.1, 4), runTimes(random, 60, 0.1, 4),
        { direction: 'minimize', alpha: 0.05, seed: trial, bootstrapResamples: 50 });
      if (result.significant) falsePositives++;
    }
    // Binomial(2000, 0.05) has sd ~0.005; the ratio-of-means check may only lower the rate.
    expect(falsePositives / trials).toBeGreaterThan(0.03);
    expect(falsePositives / trials).toBeLessThan(0.065);
  });

  it('tests the gain margin, not only the sign', () => {
    const random = createRandom(3);
    const before = runTimes(random, 100, 0.01, 8);
    const after = runTimes(random, 100 / 1.05, 0.01, 8);
    expect(compareSamples(before, after, { direction: 'minimize', alpha: 0.05, seed: 3, minRelativeGain: 0.01 }).significant).toBe(true);
    const strict = compareSamples(before, after, { direction: 'minimize', alpha: 0.05, seed: 3, minRelativeGain: 0.1 });
    expect(strict.significant).toBe(false);
    expect(strict.reason).toMatch(/does not clear|not significant/);
  });

  it('mirrors for maximised metrics and never calls a worse candidate better', () => {
    const random = createRandom(4);
    const low = runTimes(random, 0.5, 0.02, 6);
    const high = runTimes(random, 0.6, 0.02, 6);
    const better = compareSamples(low, high, { direction: 'maximize', alpha: 0.05, seed: 4 });
    expect(better.significant).toBe(true);
    expect(better.ratio).toBeGreaterThan(1.1);
    const worse = compareSamples(high, low, { direction: 'maximize', alpha: 0.05, seed: 4 });
    expect(worse.significant).toBe(false);
    expect(worse.pValue).toBeGreaterThan(0.99);
  });

  it('falls back to raw values when a value is not positive', () => {
    const result = compareSamples([-1.0, -1.1, -0.9, -1.05], [-0.5, -0.45, -0.55, -0.5], { direction: 'maximize', alpha: 0.05, seed: 5 });
    expect(result.test).toBe('welch-t on raw values');
    expect(result.significant).toBe(true);
    expect(Number.isNaN(result.geometricRatio)).toBe(true);
  });

  it('refuses to decide on a single run', () => {
    const result = compareSamples([100, 101], [50], { direction: 'minimize', alpha: 0.05, seed: 6 });
    expect(result.significant).toBe(false);
    expect(result.reason).toMatch(/needs >= 2 runs/);
    expect(result.ratio).toBeCloseTo(2.01, 10);
    expect(() => compareSamples([1, Number.NaN], [1, 2], { direction: 'minimize', alpha: 0.05, seed: 6 })).toThrow(RangeError);
  });
});
