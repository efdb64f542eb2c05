/**
 * The horizon trend: least squares of ln(horizon minutes) on release date, the doubling time ln 2 / slope, and
 * the date at which the line reaches a target horizon (by default a working month, 167 h). CIs come from a
 * seeded bootstrap over the points (models drawn with replacement). That CI reflects the scatter of the points
 * only; it does not propagate each horizon's own uncertainty. No file reading and no printing here.
 */
import { fitLine } from './least-squares.js';
import { quantiles } from './quantile.js';
import { createRandom } from './random.js';
import type { TrendPoint } from './trend-points.js';

export const millisecondsPerDay = 86_400_000;
export const daysPerMonth = 365.25 / 12;
/** A working month: 40 h a week, 52 weeks, 12 months (METR's "one month of work" uses about this). */
export const workingMonthHours = 167;

export interface TrendOptions {
  targetMinutes: number;
  bootstrapCount: number;
  seed: number;
}

export const defaultTrendOptions: TrendOptions = { targetMinutes: workingMonthHours * 60, bootstrapCount: 1000, seed: 0 };

export interface TrendResult {
  points: number;
  /** ln(minutes) per day. */
  slopePerDay: number;
  /** ln(minutes) at day 0 (1970-01-01). */
  interceptLnMinutes: number;
  rSquared: number;
  /** Infinity when the fitted horizons do not grow. */
  doublingDays: number;
  doublingDaysCi95: [number, number];
  doublingMonths: number;
  doublingMonthsCi95: [number, number];
  targetMinutes: number;
  /** Days since 1970-01-01 at which the line reaches the target; Infinity when it never does. */
  forecastDay: number;
  forecastDayCi95: [number, number];
  /** Bootstrap resamples with fewer than two distinct dates (no line): left out of the CIs. */
  skippedResamples: number;
}

export function dayOf(isoDate: string): number {
  return Date.parse(`${isoDate}T00:00:00Z`) / millisecondsPerDay;
}

/** YYYY-MM-DD for a day number; null for infinite or undefined days. */
export function dateOfDay(day: number): string | null {
  if (!Number.isFinite(day) || Math.abs(day) > 1e8) return null;
  return new Date(Math.round(day) * millisecondsPerDay).toISOString().slice(0, 10);
}

/** Doubling time for a slope in ln units per day: only growth doubles. */
function doublingDaysOf(slope: number): number {
  return slope > 0 ? Math.LN2 / slope : Number.POSITIVE_INFINITY;
}

function forecastDayOf(slope: number, intercept: number, targetMinutes: number): number {
  return slope > 0 ? (Math.log(targetMinutes) - intercept) / slope : Number.POSITIVE_INFINITY;
}

export function fitTrend(points: readonly TrendPoint[], options: TrendOptions = defaultTrendOptions): TrendResult {
  const days = points.map((point) => dayOf(point.releaseDate));
  const lnMinutes = points.map((point) => Math.log(point.horizonMinutes));
  const line = fitLine(days, lnMinutes);
  if (Number.isNaN(line.slope)) throw new RangeError('a trend needs at least two points with different release dates');

  const slopes: number[] = [];
  const forecasts: number[] = [];
  let skippedResamples = 0;
  const random = createRandom(options.seed);
  for (let resample = 0; resample < options.bootstrapCount; resample++) {
    const sampleDays: number[] = [];
    const sampleLn: number[] = [];
    for (let draw = 0; draw < points.length; draw++) {
      const index = random.integer(points.length);
      sampleDays.push(days[index]);
      sampleLn.push(lnMinutes[index]);
    }
    const fit = fitLine(sampleDays, sampleLn);
    if (Number.isNaN(fit.slope)) {
      skippedResamples++;
      continue;
    }
    slopes.push(fit.slope);
    forecasts.push(forecastDayOf(fit.slope, fit.intercept, options.targetMinutes));
  }

  // Doubling time falls as the slope rises, so its CI is the slopes' CI mapped and swapped.
  const [slopeLow, slopeHigh] = slopes.length ? quantiles(slopes, [0.025, 0.975]) : [Number.NaN, Number.NaN];
  const doublingDaysCi95: [number, number] = slopes.length ? [doublingDaysOf(slopeHigh), doublingDaysOf(slopeLow)] : [Number.NaN, Number.NaN];
  const [forecastLow, forecastHigh] = forecasts.length ? quantiles(forecasts, [0.025, 0.975]) : [Number.NaN, Number.NaN];
  const doublingDays = doublingDaysOf(line.slope);
  return {
    points: points.length,
    slopePerDay: line.slope,
    interceptLnMinutes: line.intercept,
    rSquared: line.rSquared,
    doublingDays,
    doublingDaysCi95,
    doublingMonths: doublingDays / daysPerMonth,
    doublingMonthsCi95: [doublingDaysCi95[0] / daysPerMonth, doublingDaysCi95[1] / daysPerMonth],
    targetMinutes: options.targetMinutes,
    forecastDay: forecastDayOf(line.slope, line.intercept, options.targetMinutes),
    forecastDayCi95: [forecastLow, forecastHigh],
    skippedResamples,
  };
}
