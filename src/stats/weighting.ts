/**
 * Run weights for one agent's horizon fit, METR's way: every task counts the same however many runs it has
 * (`equal`), or, to stop large families of near-identical tasks dominating, each task counts 1/sqrt(tasks in its
 * family) (`invsqrt`), or every run counts the same (`none`). An optional per-run multiplier (the record's
 * `weight`) scales a run on top of the scheme; a run with multiplier 0 is treated as absent, so it neither
 * counts towards its task's run count nor keeps an otherwise empty task in its family's count.
 * Weights are normalised to sum to 1 within the agent, which is what makes METR's C = 10 meaningful.
 * This file knows nothing of files or bootstrap: callers pass task and family keys (resampled copies get their
 * own keys, so a task drawn twice counts as two tasks).
 */

export const weightingSchemes = ['invsqrt', 'equal', 'none'] as const;
export type WeightingScheme = (typeof weightingSchemes)[number];

/**
 * Weights for the runs of one agent: (N,) non-negative, summing to 1, or all zero when every multiplier is 0.
 * `taskKeys[i]` and `familyKeys[i]` identify run i's task and family (any integers).
 */
export function computeRunWeights(
  scheme: WeightingScheme,
  taskKeys: ArrayLike<number>, // (N,)
  familyKeys: ArrayLike<number>, // (N,)
  multipliers?: ArrayLike<number>, // (N,) defaults to 1
): Float64Array {
  const count = taskKeys.length;
  const multiplierOf = (index: number): number => (multipliers ? multipliers[index] : 1);
  const runsInTask = new Map<number, number>();
  const familyOfTask = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    if (multiplierOf(i) <= 0) continue;
    runsInTask.set(taskKeys[i], (runsInTask.get(taskKeys[i]) ?? 0) + 1);
    familyOfTask.set(taskKeys[i], familyKeys[i]);
  }
  const tasksInFamily = new Map<number, number>();
  for (const family of familyOfTask.values()) tasksInFamily.set(family, (tasksInFamily.get(family) ?? 0) + 1);

  const weights = new Float64Array(count); // (N,)
  let total = 0;
  for (let i = 0; i < count; i++) {
    const multiplier = multiplierOf(i);
    if (multiplier <= 0) continue;
    let weight = 1;
    if (scheme !== 'none') weight = 1 / runsInTask.get(taskKeys[i])!;
    if (scheme === 'invsqrt') weight /= Math.sqrt(tasksInFamily.get(familyKeys[i])!);
    weights[i] = weight * multiplier;
    total += weights[i];
  }
  if (total > 0) for (let i = 0; i < count; i++) weights[i] /= total;
  return weights;
}

/** Rescales given weights (for example METR's precomputed columns) to sum to 1; all zero stays all zero. */
export function normaliseWeights(weights: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i];
  const normalised = new Float64Array(weights.length);
  if (total > 0) for (let i = 0; i < weights.length; i++) normalised[i] = weights[i] / total;
  return normalised;
}
