import { describe, expect, it } from 'vitest';
import { learningRateAt, type ScheduleOptions } from '../../src/gpt/schedule.js';

const base: ScheduleOptions = { learningRate: 1e-3, minLearningRateRatio: 0.1, warmupSteps: 10, schedule: 'cosine', maxSteps: 110 };

describe('learning-rate schedule', () => {
  it('warms up linearly to the full rate', () => {
    expect(learningRateAt(0, base)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(4, base)).toBeCloseTo(5e-4, 12);
    expect(learningRateAt(9, base)).toBeCloseTo(1e-3, 12);
  });

  it('cosine: full rate after warmup, half-way at the middle, the minimum at maxSteps and after', () => {
    expect(learningRateAt(10, base)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(60, base)).toBeCloseTo(1e-4 + 0.5 * 9e-4, 12);
    expect(learningRateAt(110, base)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(500, base)).toBeCloseTo(1e-4, 12);
  });

  it('linear decays in equal steps; constant stays put', () => {
    const linear = { ...base, schedule: 'linear' as const };
    expect(learningRateAt(35, linear)).toBeCloseTo(1e-3 - 0.25 * 9e-4, 12);
    expect(learningRateAt(85, linear)).toBeCloseTo(1e-3 - 0.75 * 9e-4, 12);
    const constant = { ...base, schedule: 'constant' as const };
    expect(learningRateAt(100, constant)).toBe(1e-3);
    expect(learningRateAt(5, constant)).toBeCloseTo(6e-4, 12);
  });

  it('is monotone non-increasing after warmup and never below the minimum', () => {
    for (const schedule of ['cosine', 'linear'] as const) {
      let previous = Infinity;
      for (let step = 10; step < 200; step++) {
        const rate = learningRateAt(step, { ...base, schedule });
        expect(rate).toBeLessThanOrEqual(previous);
        expect(rate).toBeGreaterThanOrEqual(1e-4 - 1e-18);
        previous = rate;
      }
    }
  });

  it('handles no warmup and warmup longer than the horizon', () => {
    expect(learningRateAt(0, { ...base, warmupSteps: 0 })).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(50, { ...base, warmupSteps: 200, maxSteps: 100 })).toBeCloseTo(1e-3 * 51 / 200, 12);
  });
});
