/**
 * The horizon trend: exact recovery on noiseless exponential growth, CI coverage on noisy synthetic trends,
 * degenerate inputs, and the shipped public-record example.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fitLine } from '../../src/stats/least-squares.js';
import { createRandom } from '../../src/stats/random.js';
import { dateOfDay, dayOf, fitTrend } from '../../src/stats/trend.js';
import { readTrendPoints, type TrendPoint } from '../../src/stats/trend-points.js';

const start = dayOf('2022-01-01');
const pointsFor = (doublingDays: number, noise = 0, seed = 1, count = 8): TrendPoint[] => {
  const random = createRandom(seed);
  return Array.from({ length: count }, (_, index) => {
    const day = start + index * 150;
    return { agent: `m${index}`, releaseDate: dateOfDay(day)!, horizonMinutes: 2 * 2 ** ((day - start) / doublingDays) * Math.exp(noise * random.normal()) };
  });
};

describe('fitLine', () => {
  it('fits a line exactly and reports no slope for one x', () => {
    const line = fitLine([20000, 20001, 20002], [1, 3, 5]);
    expect(line.slope).toBeCloseTo(2, 10);
    expect(line.intercept).toBeCloseTo(1 - 2 * 20000, 6);
    expect(line.rSquared).toBeCloseTo(1, 12);
    expect(fitLine([3, 3], [1, 2]).slope).toBeNaN();
  });
});

describe('fitTrend', () => {
  it('recovers the doubling time and the forecast date of noiseless growth', () => {
    const trend = fitTrend(pointsFor(200), { targetMinutes: 2 * 2 ** 10, bootstrapCount: 100, seed: 1 });
    expect(trend.doublingDays).toBeCloseTo(200, 6);
    expect(trend.doublingMonths).toBeCloseTo(200 / (365.25 / 12), 6);
    expect(trend.forecastDay).toBeCloseTo(start + 2000, 4); // ten doublings after the start
    expect(trend.doublingDaysCi95[0]).toBeCloseTo(200, 6);
    expect(trend.doublingDaysCi95[1]).toBeCloseTo(200, 6);
  });

  it('covers the true doubling time near the nominal rate on noisy trends', () => {
    let covered = 0;
    const draws = 200;
    for (let draw = 0; draw < draws; draw++) {
      const trend = fitTrend(pointsFor(180, 0.5, 100 + draw, 15), { targetMinutes: 10_000, bootstrapCount: 200, seed: draw });
      if (trend.doublingDaysCi95[0] <= 180 && 180 <= trend.doublingDaysCi95[1]) covered++;
    }
    expect(covered / draws).toBeGreaterThanOrEqual(0.85);
    expect(covered / draws).toBeLessThanOrEqual(0.99);
  });

  it('reports shrinking horizons as never doubling, and refuses a single date', () => {
    const shrinking = [{ agent: 'a', releaseDate: '2023-01-01', horizonMinutes: 10 }, { agent: 'b', releaseDate: '2024-01-01', horizonMinutes: 5 }];
    const trend = fitTrend(shrinking, { targetMinutes: 100, bootstrapCount: 10, seed: 0 });
    expect(trend.doublingDays).toBe(Infinity);
    expect(trend.forecastDay).toBe(Infinity);
    expect(dateOfDay(trend.forecastDay)).toBeNull();
    expect(() => fitTrend([shrinking[0], { ...shrinking[1], releaseDate: '2023-01-01' }], { targetMinutes: 100, bootstrapCount: 0, seed: 0 })).toThrow(/two points/);
  });

  it('fits the shipped public record to a doubling time of a few months', () => {
    const points = readTrendPoints(fileURLToPath(new URL('../../examples/trend-public-record.json', import.meta.url)));
    expect(points.map((point) => point.agent)).toContain('Claude Opus 4.6');
    const trend = fitTrend(points, { targetMinutes: 167 * 60, bootstrapCount: 200, seed: 0 });
    // METR (Time Horizon 1.1) publishes 196 days since 2019 and 131 days since 2023; five points give about 4.7 months.
    expect(trend.doublingMonths).toBeGreaterThan(3);
    expect(trend.doublingMonths).toBeLessThan(7);
    expect(trend.forecastDay).toBeGreaterThan(dayOf('2026-02-05'));
  });
});
