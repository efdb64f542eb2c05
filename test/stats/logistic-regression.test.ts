/**
 * The logistic fit against an independent implementation (scikit-learn), against its own optimality conditions
 * (finite-difference gradient of the objective is zero), and on synthetic data with known parameters.
 */
import { describe, expect, it } from 'vitest';
import { fitLogistic, horizonMinutes, logisticObjective, sigmoid } from '../../src/stats/logistic-regression.js';
import { createRandom } from '../../src/stats/random.js';

// Golden fixture: scikit-learn 1.2.1, LogisticRegression(C, tol=1e-12, solver='lbfgs').fit(log2(minutes), y,
// sample_weight) — METR's call. lbfgs and newton-cg agree to about 2e-6 on these, so 4 decimals are checked.
const minutes = [1, 2, 2, 4, 8, 8, 15, 30, 30, 60, 120, 240, 480, 960];
const outcomes = [1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0];
const rawWeights = [1, 2, 1, 1, 3, 1, 2, 1, 1, 2, 1, 1, 2, 1];
const weightTotal = rawWeights.reduce((sum, weight) => sum + weight, 0);
const golden = [
  { C: 10, normalised: true, slope: -0.48254524309851027, intercept: 2.3724449669523913 },
  { C: 1, normalised: false, slope: -0.5071014752052126, intercept: 2.481568577577665 },
  { C: 1000, normalised: true, slope: -0.5356067225913239, intercept: 2.607926247559018 },
];

describe('fitLogistic', () => {
  const x = minutes.map(Math.log2);
  it.each(golden)('matches scikit-learn with C=$C (weights normalised: $normalised)', ({ C, normalised, slope, intercept }) => {
    const weights = rawWeights.map((weight) => (normalised ? weight / weightTotal : weight));
    const fit = fitLogistic(x, outcomes, weights, { inverseRegularization: C });
    expect(fit.converged).toBe(true);
    expect(fit.slope).toBeCloseTo(slope, 4);
    expect(fit.intercept).toBeCloseTo(intercept, 4);
  });

  it('stops where the finite-difference gradient of the objective vanishes', () => {
    const weights = rawWeights.map((weight) => weight / weightTotal);
    const fit = fitLogistic(x, outcomes, weights, { inverseRegularization: 10 });
    const objective = (slope: number, intercept: number) => logisticObjective(x, outcomes, weights, slope, intercept, 10);
    const step = 1e-5;
    const dSlope = (objective(fit.slope + step, fit.intercept) - objective(fit.slope - step, fit.intercept)) / (2 * step);
    const dIntercept = (objective(fit.slope, fit.intercept + step) - objective(fit.slope, fit.intercept - step)) / (2 * step);
    expect(Math.abs(dSlope)).toBeLessThan(1e-7);
    expect(Math.abs(dIntercept)).toBeLessThan(1e-7);
  });

  it('treats a fractional outcome as weighted 0 and 1 copies (METR splits them so)', () => {
    const soft = fitLogistic([0, 1, 2, 3], [1, 0.75, 0.25, 0], [1, 1, 1, 1], { inverseRegularization: 5 });
    const split = fitLogistic([0, 1, 1, 2, 2, 3], [1, 1, 0, 1, 0, 0], [1, 0.75, 0.25, 0.25, 0.75, 1], { inverseRegularization: 5 });
    expect(soft.slope).toBeCloseTo(split.slope, 8);
    expect(soft.intercept).toBeCloseTo(split.intercept, 8);
  });

  it('recovers the true slope, intercept and horizon from synthetic data when the penalty is weak', () => {
    const random = createRandom(2024);
    const trueSlope = -0.6;
    const trueIntercept = 3; // p50 = 2^(3/0.6) = 32 minutes
    const count = 20_000;
    const x = new Float64Array(count);
    const y = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      x[i] = random.uniform() * 11; // 1 minute to 34 hours
      y[i] = random.uniform() < sigmoid(trueSlope * x[i] + trueIntercept) ? 1 : 0;
    }
    const fit = fitLogistic(x, y, new Float64Array(count).fill(1), { inverseRegularization: 1e6 });
    // Standard errors at this size are about 0.01 (slope) and 0.06 (intercept).
    expect(Math.abs(fit.slope - trueSlope)).toBeLessThan(0.04);
    expect(Math.abs(fit.intercept - trueIntercept)).toBeLessThan(0.2);
    expect(horizonMinutes(fit, 0.5) / 32).toBeGreaterThan(0.85);
    expect(horizonMinutes(fit, 0.5) / 32).toBeLessThan(1.18);
    expect(horizonMinutes(fit, 0.8)).toBeCloseTo(2 ** ((Math.log(4) - fit.intercept) / fit.slope), 10);
  });

  it('shrinks the slope towards 0 as C falls, leaving the intercept free', () => {
    const slopes = [1e4, 10, 0.1].map((C) => fitLogistic(x, outcomes, rawWeights.map((weight) => weight / weightTotal), { inverseRegularization: C }).slope);
    expect(Math.abs(slopes[0])).toBeGreaterThan(Math.abs(slopes[1]));
    expect(Math.abs(slopes[1])).toBeGreaterThan(Math.abs(slopes[2]));
  });

  it('gives a finite, flat fit for one length and a limit for flat horizons', () => {
    const fit = fitLogistic([3, 3, 3, 3], [1, 0, 0, 0], [1, 1, 1, 1], { inverseRegularization: 10 });
    expect(Math.abs(fit.slope)).toBeLessThan(1e-6);
    expect(sigmoid(fit.intercept)).toBeCloseTo(0.25, 6);
    expect(horizonMinutes({ slope: 0, intercept: 1 }, 0.5)).toBe(Infinity);
    expect(horizonMinutes({ slope: 0, intercept: -1 }, 0.5)).toBe(0);
  });
});
