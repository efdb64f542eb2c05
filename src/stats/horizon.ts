/**
 * Time horizons per agent, METR's method: a weighted logistic regression of success on log2(human minutes)
 * with an L2 penalty on the slope (C = 10 by default), the p-horizon 2^((logit(p) - b) / a), and 95% CIs
 * from a seeded hierarchical bootstrap (families, tasks, runs) with weights recomputed on every resample.
 *
 * Degenerate agents are results, not errors: no success -> horizons 0 (METR's convention); success on every run
 * -> unbounded (Infinity); one task length only -> undefined (NaN); all weights zero -> undefined. Resamples are
 * treated the same way (METR instead drops degenerate resamples; counting them keeps the CI honest for agents
 * near 0 % or 100 %). No file reading and no printing here.
 */
import { buildHierarchy, resampleHierarchy } from './hierarchical-bootstrap.js';
import { fitLogistic, horizonMinutes } from './logistic-regression.js';
import { quantiles } from './quantile.js';
import { createRandom } from './random.js';
import type { RunRecord } from './records.js';
import { buildRunTable, runsByAgent, type RunTable } from './run-table.js';
import { computeRunWeights, normaliseWeights, type WeightingScheme } from './weighting.js';

export interface HorizonOptions {
  weighting: WeightingScheme;
  /** C in 0.5 a^2 + C * sum w * logloss. */
  inverseRegularization: number;
  /** Bootstrap resamples; 0 skips the CIs (they come back NaN). */
  bootstrapCount: number;
  seed: number;
  /** Called after every resample, for progress on stderr. */
  onProgress?: (done: number, total: number) => void;
}

export const defaultHorizonOptions: HorizonOptions = { weighting: 'invsqrt', inverseRegularization: 10, bootstrapCount: 1000, seed: 0 };

export type HorizonStatus = 'ok' | 'no-success' | 'all-success' | 'single-length' | 'zero-weight';

export interface AgentHorizon {
  agent: string;
  runs: number;
  tasks: number;
  status: HorizonStatus;
  /** Why a horizon is 0, unbounded or undefined; absent when status is ok. */
  note?: string;
  /** Where the point estimate's weights came from: METR's columns in the file, or computed here. */
  weightSource: 'file' | 'computed';
  /** Weighted mean success. */
  successRate: number;
  slope: number;
  intercept: number;
  p50Minutes: number;
  p50Ci95: [number, number];
  p80Minutes: number;
  p80Ci95: [number, number];
  /** Resamples in which this agent had no success or only successes (their horizons count as 0 or unbounded). */
  degenerateResamples: number;
}

interface PointFit {
  status: HorizonStatus;
  slope: number;
  intercept: number;
  p50: number;
  p80: number;
  successRate: number;
}

/** Fits one agent's runs; degenerate inputs get their conventional horizons instead of a fit. */
function fitAgent(x: ArrayLike<number>, y: ArrayLike<number>, weights: ArrayLike<number>, inverseRegularization: number): PointFit {
  let totalWeight = 0;
  let weightedSuccess = 0;
  let anySuccess = false;
  let anyFailure = false;
  let firstX = Number.NaN;
  let distinctLengths = false;
  for (let i = 0; i < x.length; i++) {
    if (weights[i] <= 0) continue;
    totalWeight += weights[i];
    weightedSuccess += weights[i] * y[i];
    if (y[i] > 0) anySuccess = true;
    if (y[i] < 1) anyFailure = true;
    if (Number.isNaN(firstX)) firstX = x[i];
    else if (x[i] !== firstX) distinctLengths = true;
  }
  const successRate = totalWeight > 0 ? weightedSuccess / totalWeight : Number.NaN;
  const undefinedFit = { slope: Number.NaN, intercept: Number.NaN, p50: Number.NaN, p80: Number.NaN, successRate };
  if (totalWeight === 0) return { status: 'zero-weight', ...undefinedFit };
  if (!anySuccess) return { status: 'no-success', slope: Number.NEGATIVE_INFINITY, intercept: 0, p50: 0, p80: 0, successRate };
  if (!anyFailure) return { status: 'all-success', slope: Number.NaN, intercept: Number.POSITIVE_INFINITY, p50: Infinity, p80: Infinity, successRate };
  if (!distinctLengths) return { status: 'single-length', ...undefinedFit };
  const fit = fitLogistic(x, y, weights, { inverseRegularization });
  return { status: 'ok', slope: fit.slope, intercept: fit.intercept, p50: horizonMinutes(fit, 0.5), p80: horizonMinutes(fit, 0.8), successRate };
}

const notes: Record<Exclude<HorizonStatus, 'ok'>, string> = {
  'no-success': 'no successful run: horizons are 0 by convention',
  'all-success': 'succeeded on every run: the horizon lies beyond the longest task and is unbounded',
  'single-length': 'all runs share one human length: the data cannot locate a horizon',
  'zero-weight': 'every run has weight 0',
};

/** Point-estimate weights: METR's precomputed column when every run of the agent carries it, else computed. */
function pointWeights(table: RunTable, runs: number[], weighting: WeightingScheme): { weights: Float64Array; source: 'file' | 'computed' } {
  const column = weighting === 'invsqrt' ? table.invsqrtTaskWeight : weighting === 'equal' ? table.equalTaskWeight : undefined;
  if (column && runs.every((run) => !Number.isNaN(column[run]))) {
    return { weights: normaliseWeights(runs.map((run) => column[run] * table.multiplier[run])), source: 'file' };
  }
  const pick = (values: ArrayLike<number>) => runs.map((run) => values[run]);
  return { weights: computeRunWeights(weighting, pick(table.taskOf), pick(table.familyOf), pick(table.multiplier)), source: 'computed' };
}

export function computeHorizons(records: readonly RunRecord[], options: HorizonOptions = defaultHorizonOptions): AgentHorizon[] {
  const table = buildRunTable(records);
  const groups = runsByAgent(table);
  const points = groups.map((runs) => {
    const { weights, source } = pointWeights(table, runs, options.weighting);
    const fit = fitAgent(runs.map((run) => table.log2Minutes[run]), runs.map((run) => table.success[run]), weights, options.inverseRegularization);
    return { fit, source };
  });

  // Bootstrap horizons: (agents, resamples) for p50 and p80.
  const bootstrapP50 = groups.map(() => new Float64Array(options.bootstrapCount));
  const bootstrapP80 = groups.map(() => new Float64Array(options.bootstrapCount));
  const degenerate = new Int32Array(groups.length);
  const needsBootstrap = points.map(({ fit }) => fit.status === 'ok');
  if (options.bootstrapCount > 0 && needsBootstrap.some(Boolean)) {
    const hierarchy = buildHierarchy(table.taskOf, table.familyOf, table.agentOf);
    const random = createRandom(options.seed);
    for (let resampleIndex = 0; resampleIndex < options.bootstrapCount; resampleIndex++) {
      const resample = resampleHierarchy(hierarchy, random);
      const positions: number[][] = groups.map(() => []);
      for (let i = 0; i < resample.runIndex.length; i++) positions[table.agentOf[resample.runIndex[i]]].push(i);
      for (let agent = 0; agent < groups.length; agent++) {
        if (!needsBootstrap[agent]) continue;
        const picked = positions[agent];
        const runs = picked.map((position) => resample.runIndex[position]);
        const weights = computeRunWeights(
          options.weighting,
          picked.map((position) => resample.taskCopy[position]),
          picked.map((position) => resample.familyCopy[position]),
          runs.map((run) => table.multiplier[run]),
        );
        const fit = fitAgent(runs.map((run) => table.log2Minutes[run]), runs.map((run) => table.success[run]), weights, options.inverseRegularization);
        if (fit.status === 'no-success' || fit.status === 'all-success') degenerate[agent]++;
        bootstrapP50[agent][resampleIndex] = fit.p50;
        bootstrapP80[agent][resampleIndex] = fit.p80;
      }
      options.onProgress?.(resampleIndex + 1, options.bootstrapCount);
    }
  }

  return groups.map((runs, agent) => {
    const { fit, source } = points[agent];
    const interval = (samples: Float64Array, estimate: number): [number, number] => {
      if (fit.status !== 'ok') return [estimate, estimate];
      if (options.bootstrapCount === 0) return [Number.NaN, Number.NaN];
      const [low, high] = quantiles(samples, [0.025, 0.975]);
      return [low, high];
    };
    return {
      agent: table.agents[agent],
      runs: runs.length,
      tasks: new Set(runs.map((run) => table.taskOf[run])).size,
      status: fit.status,
      ...(fit.status !== 'ok' && { note: notes[fit.status] }),
      ...(fit.status === 'ok' && fit.slope > 0 && { note: 'positive slope: success rises with task length, so the horizon is where it crosses p from below' }),
      weightSource: source,
      successRate: fit.successRate,
      slope: fit.slope,
      intercept: fit.intercept,
      p50Minutes: fit.p50,
      p50Ci95: interval(bootstrapP50[agent], fit.p50),
      p80Minutes: fit.p80,
      p80Ci95: interval(bootstrapP80[agent], fit.p80),
      degenerateResamples: degenerate[agent],
    };
  });
}
