/** Quantiles against hand-computed values of numpy's default (linear, "type 7") definition. */
import { describe, expect, it } from 'vitest';
import { quantile, quantiles } from '../../src/stats/quantile.js';

describe('quantile', () => {
  it('interpolates linearly between order statistics', () => {
    // numpy.quantile([1, 2, 3, 4], [0, 0.25, 0.5, 0.9, 1]) = [1, 1.75, 2.5, 3.7, 4]
    const result = quantiles([4, 1, 3, 2], [0, 0.25, 0.5, 0.9, 1]);
    [1, 1.75, 2.5, 3.7, 4].forEach((value, index) => expect(result[index]).toBeCloseTo(value, 12));
    // 2.5% and 97.5% of 0..99: positions 2.475 and 96.525
    expect(quantile(Array.from({ length: 100 }, (_, i) => i), 0.025)).toBeCloseTo(2.475, 12);
    expect(quantile(Array.from({ length: 100 }, (_, i) => i), 0.975)).toBeCloseTo(96.525, 12);
  });

  it('skips NaN, keeps infinities and returns NaN for nothing', () => {
    expect(quantile([Number.NaN, 1, 3], 0.5)).toBe(2);
    expect(quantile([1, 2, Infinity], 0.9)).toBe(Infinity);
    expect(quantile([Infinity, Infinity], 0.5)).toBe(Infinity);
    expect(quantile([0, 0, 5], 0)).toBe(0);
    expect(quantile([], 0.5)).toBeNaN();
    expect(() => quantile([1], 1.5)).toThrow(RangeError);
  });
});
