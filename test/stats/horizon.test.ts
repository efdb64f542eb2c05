/**
 * Time horizons end to end on synthetic data with known parameters: recovery of slope, intercept and horizons,
 * bootstrap coverage over repeated draws (deterministic: fixed seeds), and the degenerate agents.
 */
import { describe, expect, it } from 'vitest';
import { computeHorizons, type HorizonOptions } from '../../src/stats/horizon.js';
import type { RunRecord } from '../../src/stats/records.js';
import { syntheticRuns, trueHorizon, type SyntheticAgent } from './synthetic-runs.js';

const weak: HorizonOptions = { weighting: 'equal', inverseRegularization: 1e6, bootstrapCount: 0, seed: 0 };

function run(agent: string, taskId: string, humanMinutes: number, success: number, extra: Partial<RunRecord> = {}): RunRecord {
  return { line: 0, agent, taskId, taskFamily: taskId.split('/')[0], humanMinutes, success, ...extra };
}

describe('computeHorizons: recovery', () => {
  it('recovers each agent\'s true slope, intercept, p50 and p80', () => {
    const agents: SyntheticAgent[] = [
      { agent: 'weak', slope: -0.7, intercept: 1.4 }, // p50 = 4 min
      { agent: 'strong', slope: -0.5, intercept: 3.5 }, // p50 = 128 min
    ];
    const records = syntheticRuns(agents, { families: 200, tasksPerFamily: 5, runsPerTask: 8, seed: 11 });
    const results = computeHorizons(records, weak);
    for (const agent of agents) {
      const result = results.find((horizon) => horizon.agent === agent.agent)!;
      expect(result.status).toBe('ok');
      expect(result.runs).toBe(8000);
      expect(result.tasks).toBe(1000);
      expect(Math.abs(result.slope - agent.slope)).toBeLessThan(0.05);
      expect(Math.abs(result.intercept - agent.intercept)).toBeLessThan(0.2);
      expect(Math.abs(Math.log2(result.p50Minutes / trueHorizon(agent, 0.5)))).toBeLessThan(0.3);
      expect(Math.abs(Math.log2(result.p80Minutes / trueHorizon(agent, 0.8)))).toBeLessThan(0.4);
    }
  });

  it('is reproducible from the seed, and the seed matters', () => {
    const records = syntheticRuns([{ agent: 'a', slope: -0.5, intercept: 2.5 }], { families: 10, tasksPerFamily: 3, runsPerTask: 2, seed: 3 });
    const options = { ...weak, bootstrapCount: 50, seed: 7 };
    const first = computeHorizons(records, options)[0];
    expect(computeHorizons(records, options)[0]).toEqual(first);
    expect(computeHorizons(records, { ...options, seed: 8 })[0].p50Ci95).not.toEqual(first.p50Ci95);
    expect(first.p50Ci95[0]).toBeLessThanOrEqual(first.p50Minutes);
    expect(first.p50Ci95[1]).toBeGreaterThanOrEqual(first.p50Minutes);
  });
});

describe('computeHorizons: bootstrap coverage', () => {
  // Many small synthetic draws, few resamples each, fixed seeds. The truth is the population 50% horizon, which
  // random offsets symmetric on the logit scale leave at 2^(-intercept / slope).
  const agent: SyntheticAgent = { agent: 'a', slope: -0.5, intercept: 2.5 }; // p50 = 32 min
  const coverage = (draws: number, design: Omit<Parameters<typeof syntheticRuns>[1], 'seed'>, options: HorizonOptions) => {
    let covered = 0;
    for (let draw = 0; draw < draws; draw++) {
      const [result] = computeHorizons(syntheticRuns([agent], { ...design, seed: 1000 + draw }), { ...options, seed: draw });
      if (result.p50Ci95[0] <= 32 && 32 <= result.p50Ci95[1]) covered++;
    }
    return covered / draws;
  };

  it('covers the true p50 near the nominal 95% when families differ in difficulty', () => {
    const rate = coverage(200, { families: 30, tasksPerFamily: 2, runsPerTask: 1, familyNoise: 1.5, taskNoise: 0.3 }, { ...weak, bootstrapCount: 60 });
    expect(rate).toBeGreaterThanOrEqual(0.85);
    expect(rate).toBeLessThanOrEqual(0.99);
  });

  it('covers the true p50 near the nominal 95% for independent tasks, at METR\'s C = 10', () => {
    const rate = coverage(200, { families: 40, tasksPerFamily: 1, runsPerTask: 1 }, { ...weak, inverseRegularization: 10, bootstrapCount: 60 });
    expect(rate).toBeGreaterThanOrEqual(0.85);
    expect(rate).toBeLessThanOrEqual(0.99);
  });
});

describe('computeHorizons: edge cases', () => {
  const options = { ...weak, inverseRegularization: 10, bootstrapCount: 20 };

  it('gives 0 to an agent with no success, unbounded to one that always succeeds', () => {
    const records = [1, 4, 16, 64].flatMap((minutes, index) => [run('never', `f${index}/t`, minutes, 0), run('always', `f${index}/t`, minutes, 1)]);
    const [never, always] = computeHorizons(records, options);
    expect(never).toMatchObject({ agent: 'never', status: 'no-success', p50Minutes: 0, p50Ci95: [0, 0], p80Minutes: 0 });
    expect(always).toMatchObject({ agent: 'always', status: 'all-success', p50Minutes: Infinity, p80Ci95: [Infinity, Infinity] });
    expect(always.note).toMatch(/unbounded/);
  });

  it('says a single task cannot locate a horizon', () => {
    const [result] = computeHorizons([run('a', 'f/t', 10, 1), run('a', 'f/t', 10, 0)], options);
    expect(result.status).toBe('single-length');
    expect(result.p50Minutes).toBeNaN();
    expect(result.note).toMatch(/one human length/);
  });

  it('ignores runs with weight 0 and reports an agent whose weights are all 0', () => {
    const base = [run('a', 'f1/t', 1, 1), run('a', 'f2/t', 8, 1), run('a', 'f3/t', 30, 0), run('a', 'f4/t', 120, 1), run('a', 'f5/t', 600, 0)];
    const noisy = [...base, run('a', 'f6/t', 2, 0, { weight: 0 }), run('a', 'f7/t', 900, 1, { weight: 0 })];
    const [clean] = computeHorizons(base, { ...options, bootstrapCount: 0 });
    const [withZeros] = computeHorizons(noisy, { ...options, bootstrapCount: 0 });
    expect(withZeros.p50Minutes).toBeCloseTo(clean.p50Minutes, 9);
    const [zero] = computeHorizons(base.map((record) => ({ ...record, weight: 0 })), options);
    expect(zero.status).toBe('zero-weight');
    expect(zero.p50Minutes).toBeNaN();
  });

  it('refuses a task that two lines put in different families, naming both lines', () => {
    const records = [{ ...run('a', 'f/t', 5, 1), line: 3 }, { ...run('a', 'f/t', 5, 0), taskFamily: 'g', line: 9 }];
    expect(() => computeHorizons(records, options)).toThrow(/line 9: task f\/t is in family g, but line 3 puts it in f/);
  });

  it("uses METR's precomputed weight columns when every run carries them, whatever their scale", () => {
    const records = syntheticRuns([{ agent: 'a', slope: -0.5, intercept: 2.5 }], { families: 6, tasksPerFamily: 3, runsPerTask: 2, seed: 5 });
    const [computed] = computeHorizons(records, { ...options, weighting: 'invsqrt', bootstrapCount: 0 });
    // Columns 3x larger and a perturbed one on the first run: the file's weights must win, after normalisation.
    const tripled = records.map((record, index) => ({ ...record, invsqrtTaskWeight: 3 * (index === 0 ? 5 : 1) }));
    const [fromFile] = computeHorizons(tripled, { ...options, weighting: 'invsqrt', bootstrapCount: 0 });
    expect(fromFile.weightSource).toBe('file');
    expect(computed.weightSource).toBe('computed');
    expect(fromFile.p50Minutes).not.toBeCloseTo(computed.p50Minutes, 6);
  });
});
