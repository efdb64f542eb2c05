/**
 * A run's progress, read from its own output: a task may declare (run.progress in task.json) a pattern whose
 * `value` group is a number the run prints as it goes (lm-speedrun: its validation loss). Each match is stamped with
 * the harness's clock, not the run's. Those lines are the run's claims, untrusted: they may only ever *stop* a
 * candidate early (it is behind the incumbent's curve, so it would only hit its cap later), never accept one, and
 * they are shown on the terminal marked as the run's claim.
 * Is not: the decision which runs may be stopped (the lab: screening runs only, never the runs the gate counts).
 */
import { z } from 'zod';
import type { LineWatcher } from '../sandbox/types.js';

export const ProgressSpec = z.object({
  /** A regular expression with a named group `value` (a number), matched against each line of stdout and stderr. */
  pattern: z.string().min(1).refine((source) => {
    try {
      return /\(\?<value>/.test(source) && new RegExp(source) instanceof RegExp;
    } catch {
      return false;
    }
  }, 'must be a valid regular expression with a named group (?<value>...)'),
  /** Whether a lower value is ahead (a loss) or a higher one (an accuracy). */
  direction: z.enum(['minimize', 'maximize']),
}).strict();
export type ProgressSpec = z.infer<typeof ProgressSpec>;

/** A curve: (seconds since the run started, value), in time order. */
export const ProgressCurve = z.array(z.tuple([z.number().nonnegative(), z.number()]));
export type ProgressCurve = z.infer<typeof ProgressCurve>;

/**
 * Stop a candidate whose progress is behind the incumbent's: at `elapsed` seconds (from `afterSeconds` on), when
 * its latest value is worse, by more than `tolerance` (relative), than the incumbent's value at elapsed / `factor`,
 * it is progressing at less than 1/factor of the incumbent's pace and would only reach the cap (factor x the
 * incumbent's time) later.
 */
export const EarlyStop = z.object({
  reference: ProgressCurve.min(2),
  factor: z.number().min(1),
  afterSeconds: z.number().nonnegative(),
  tolerance: z.number().nonnegative(),
}).strict();
export type EarlyStop = z.infer<typeof EarlyStop>;

/** The reference curve's value at `seconds` (the last point at or before it), or null before its first point. */
export function valueAt(curve: ProgressCurve, seconds: number): number | null {
  let value: number | null = null;
  for (const [time, point] of curve) {
    if (time > seconds) break;
    value = point;
  }
  return value;
}

/** A reason to stop, or null. */
export function behindReference(rule: EarlyStop, direction: ProgressSpec['direction'], elapsedSeconds: number, value: number): string | null {
  if (elapsedSeconds < rule.afterSeconds) return null;
  const reference = valueAt(rule.reference, elapsedSeconds / rule.factor);
  if (reference === null || !Number.isFinite(value)) return null;
  const worse = direction === 'minimize' ? value > reference * (1 + rule.tolerance) : value < reference * (1 - rule.tolerance);
  if (!worse) return null;
  return `behind the incumbent: ${value.toPrecision(4)} at ${elapsedSeconds.toFixed(1)} s, where the incumbent had ${reference.toPrecision(4)} at ${(elapsedSeconds / rule.factor).toFixed(1)} s`;
}

/** At most this many points of a run's curve are kept (evenly thinned, the last always kept). */
export const MAX_CURVE_POINTS = 64;

export function thinCurve(curve: ProgressCurve): ProgressCurve {
  if (curve.length <= MAX_CURVE_POINTS) return curve;
  const step = (curve.length - 1) / (MAX_CURVE_POINTS - 1);
  return Array.from({ length: MAX_CURVE_POINTS }, (_, index) => curve[Math.round(index * step)]);
}

export interface ProgressWatch {
  watch: LineWatcher;
  /** What the run reported so far, stamped by the harness's clock. */
  curve(): ProgressCurve;
}

/** Reads progress lines as they come; reports each to `onProgress`, and stops the run when `earlyStop` says so. */
export function watchProgress(spec: ProgressSpec, earlyStop: EarlyStop | undefined, onProgress?: (line: string, elapsedSeconds: number) => void): ProgressWatch {
  const pattern = new RegExp(spec.pattern);
  const curve: ProgressCurve = [];
  return {
    curve: () => thinCurve(curve),
    watch: (line, _stream, elapsedMs) => {
      const match = pattern.exec(line);
      const value = match?.groups?.value === undefined ? Number.NaN : Number(match.groups.value);
      if (!Number.isFinite(value)) return null;
      const elapsedSeconds = elapsedMs / 1000;
      if (curve.length < 100_000) curve.push([elapsedSeconds, value]);
      onProgress?.(line.slice(0, 300), elapsedSeconds);
      return earlyStop ? behindReference(earlyStop, spec.direction, elapsedSeconds, value) : null;
    },
  };
}
