/** Progress lines and the early-stop rule: the reference curve's value at a time, what counts as behind, thinning. */
import { describe, expect, it } from 'vitest';
import { type EarlyStop, MAX_CURVE_POINTS, ProgressSpec, behindReference, thinCurve, valueAt, watchProgress } from '../../src/task/progress.js';

const incumbent: EarlyStop = { reference: [[1, 3.0], [2, 2.6], [3, 2.4], [4, 2.3]], factor: 1.3, afterSeconds: 1.5, tolerance: 0.02 };

describe('the early-stop rule', () => {
  it('reads the reference at a time: the last point at or before it', () => {
    expect(valueAt(incumbent.reference, 0.5)).toBeNull();
    expect(valueAt(incumbent.reference, 2.9)).toBe(2.6);
    expect(valueAt(incumbent.reference, 9)).toBe(2.3);
  });

  it('stops a run behind the incumbent at 1/factor of its pace, and never before afterSeconds', () => {
    // At 3.9 s the incumbent (at 3.9 / 1.3 = 3 s) had 2.4: 2.6 is behind by more than 2%.
    expect(behindReference(incumbent, 'minimize', 3.9, 2.6)).toMatch(/behind the incumbent: 2.600 at 3.9 s, where the incumbent had 2.400 at 3.0 s/);
    expect(behindReference(incumbent, 'minimize', 3.9, 2.43)).toBeNull(); // within the tolerance
    expect(behindReference(incumbent, 'minimize', 1.4, 9)).toBeNull(); // too early to judge
    expect(behindReference(incumbent, 'maximize', 3.9, 2.0)).toMatch(/behind/);
    expect(behindReference(incumbent, 'minimize', 3.9, Number.NaN)).toBeNull();
  });

  it('thins a long curve to at most MAX_CURVE_POINTS, keeping the first and last', () => {
    const long = Array.from({ length: 1000 }, (_, index) => [index, 1000 - index] as [number, number]);
    const thin = thinCurve(long);
    expect(thin).toHaveLength(MAX_CURVE_POINTS);
    expect(thin[0]).toEqual([0, 1000]);
    expect(thin.at(-1)).toEqual([999, 1]);
  });
});

describe('watchProgress', () => {
  it('records matching lines with the harness clock, reports them, and stops when behind', () => {
    const seen: string[] = [];
    const spec = ProgressSpec.parse({ pattern: ' val (?<value>[0-9.]+) ', direction: 'minimize' });
    const watch = watchProgress(spec, incumbent, (line) => seen.push(line));
    expect(watch.watch('step 1 loss 3.2 val 3.1000 100 tok/s', 'stderr', 1000)).toBeNull();
    expect(watch.watch('no progress here', 'stdout', 1200)).toBeNull();
    expect(watch.watch('step 9 loss 2.7 val undefined 100 tok/s', 'stderr', 1300)).toBeNull();
    expect(watch.watch('step 2 loss 2.7 val 2.6500 100 tok/s', 'stderr', 3900)).toMatch(/behind the incumbent/);
    expect(watch.curve()).toEqual([[1, 3.1], [3.9, 2.65]]);
    expect(seen).toHaveLength(2);
  });

  it('refuses a pattern without a value group, or that does not compile', () => {
    expect(ProgressSpec.safeParse({ pattern: 'val ([0-9.]+)', direction: 'minimize' }).success).toBe(false);
    expect(ProgressSpec.safeParse({ pattern: '(?<value>[0-9', direction: 'minimize' }).success).toBe(false);
  });
});
