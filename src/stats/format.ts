/**
 * Human-readable durations and intervals for the CLI's text output and the HTML report. JSON output never goes
 * through here: it carries plain minutes.
 */

/** 0.6 -> "36 s", 4 -> "4.0 min", 360 -> "6.0 h"; Infinity -> "unbounded"; NaN -> "undefined". */
export function formatMinutes(minutes: number): string {
  if (Number.isNaN(minutes)) return 'undefined';
  if (minutes === Number.POSITIVE_INFINITY) return 'unbounded';
  if (minutes === 0) return '0';
  if (minutes < 1) return `${Number((minutes * 60).toPrecision(2))} s`;
  if (minutes < 120) return `${minutes.toFixed(minutes < 10 ? 2 : 1)} min`;
  return `${(minutes / 60).toFixed(minutes < 6000 ? 1 : 0)} h`;
}

export function formatInterval([low, high]: readonly [number, number]): string {
  if (Number.isNaN(low) && Number.isNaN(high)) return 'no CI';
  return `[${formatMinutes(low)}, ${formatMinutes(high)}]`;
}

/** JSON has no Infinity or NaN: both become null (the `status`/`note` fields say which was meant). */
export function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
