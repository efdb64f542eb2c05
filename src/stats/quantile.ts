/**
 * Sample quantiles with linear interpolation between order statistics (numpy's default, "type 7"), skipping NaN
 * as numpy's nanquantile does. Infinite values are kept: they are meaningful here (an agent that succeeded on
 * every resampled task has an unbounded horizon) and sort to the ends. Not a streaming or weighted quantile.
 */

/** The q-quantile (0 <= q <= 1) of the finite-or-infinite values; NaN when nothing is left. */
export function quantile(values: ArrayLike<number>, q: number): number {
  return quantiles(values, [q])[0];
}

export function quantiles(values: ArrayLike<number>, qs: readonly number[]): number[] {
  const sorted = Array.from(values).filter((value) => !Number.isNaN(value));
  sorted.sort((a, b) => a - b);
  return qs.map((q) => {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`);
    if (sorted.length === 0) return Number.NaN;
    const position = q * (sorted.length - 1);
    const lowIndex = Math.floor(position);
    const highIndex = Math.min(lowIndex + 1, sorted.length - 1);
    const low = sorted[lowIndex];
    const high = sorted[highIndex];
    const fraction = position - lowIndex;
    // Interpolating towards an infinity would give inf - inf = NaN; the limit is the infinity itself.
    if (low === high || fraction === 0) return low;
    if (high === Infinity) return Infinity;
    if (low === -Infinity) return -Infinity;
    return low + (high - low) * fraction;
  });
}
