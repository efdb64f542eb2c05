/** Run weights against hand computations of METR's definitions (compute_task_weights.py). */
import { describe, expect, it } from 'vitest';
import { computeRunWeights, normaliseWeights } from '../../src/stats/weighting.js';

// Family 0 has tasks 0 (3 runs) and 1 (1 run); family 1 has task 2 (2 runs).
const tasks = [0, 0, 0, 1, 2, 2];
const families = [0, 0, 0, 0, 1, 1];

describe('computeRunWeights', () => {
  it('equal: every task weighs the same, split among its runs', () => {
    const weights = computeRunWeights('equal', tasks, families);
    const expected = [1 / 9, 1 / 9, 1 / 9, 1 / 3, 1 / 6, 1 / 6];
    expected.forEach((value, index) => expect(weights[index]).toBeCloseTo(value, 12));
  });

  it('invsqrt: each task weighs 1/sqrt(tasks in its family)', () => {
    const weights = computeRunWeights('invsqrt', tasks, families);
    // Unnormalised: task 0 runs 1/(3*sqrt 2), task 1 1/sqrt 2, task 2 runs 1/2; total sqrt 2 + 1.
    const total = Math.SQRT2 + 1;
    const expected = [1 / (3 * Math.SQRT2), 1 / (3 * Math.SQRT2), 1 / (3 * Math.SQRT2), 1 / Math.SQRT2, 0.5, 0.5].map((value) => value / total);
    expected.forEach((value, index) => expect(weights[index]).toBeCloseTo(value, 12));
  });

  it('none: every run weighs the same; multipliers scale runs', () => {
    expect(Array.from(computeRunWeights('none', tasks, families))).toEqual(new Array(6).fill(1 / 6));
    const weights = computeRunWeights('none', tasks, families, [2, 1, 1, 1, 1, 2]);
    expect(weights[0]).toBeCloseTo(0.25, 12);
    expect(weights[1]).toBeCloseTo(0.125, 12);
  });

  it('treats a run with multiplier 0 as absent, down to emptying a task out of its family', () => {
    const withZero = computeRunWeights('invsqrt', tasks, families, [1, 1, 1, 0, 1, 1]);
    const without = computeRunWeights('invsqrt', [0, 0, 0, 2, 2], [0, 0, 0, 1, 1]);
    expect(withZero[3]).toBe(0);
    expect(Array.from(withZero).filter((_, index) => index !== 3).map((value) => value.toFixed(12))).toEqual(Array.from(without).map((value) => value.toFixed(12)));
  });

  it('sums to 1, or is all zero when every multiplier is 0', () => {
    for (const scheme of ['invsqrt', 'equal', 'none'] as const) {
      expect(computeRunWeights(scheme, tasks, families).reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 12);
    }
    expect(Array.from(computeRunWeights('equal', [0, 1], [0, 0], [0, 0]))).toEqual([0, 0]);
    expect(Array.from(normaliseWeights([1, 3]))).toEqual([0.25, 0.75]);
    expect(Array.from(normaliseWeights([0, 0]))).toEqual([0, 0]);
  });
});
