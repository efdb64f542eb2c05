/**
 * Numbers as people read them: three significant figures (59.696625657000006 -> 59.7), counts and whole numbers
 * as they are (842496, 4096), never an exponent for a number a person would write out (12345.6 -> 12346). Every
 * message a person reads on the terminal goes through here, from the harness's outcome reasons to the CLI's lines.
 * Is not: machine output (--json, --format tsv keep the exact values).
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  if (Math.abs(value) >= 1000) return String(Math.round(value));
  // Number() drops the trailing zeros toPrecision keeps (2.40 -> 2.4); tiny values keep their exponent (1.23e-7).
  return String(Number(value.toPrecision(3)));
}

/** Seconds for people: `59.7s`. */
export const formatSeconds = (seconds: number): string => `${formatNumber(seconds)}s`;

/** A ratio (a gain, a speedup) for people: always three significant figures, so 1 reads `1.00` like 5.33 and 12.3. */
export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 1000 ? String(Math.round(value)) : value.toPrecision(3);
}
