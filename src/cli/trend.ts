/**
 * `successor trend FILE`: the doubling time of horizons against release dates (least squares on ln horizon),
 * with a bootstrap CI, and the date the line reaches a target horizon (default: a working month, 167 h).
 * The statistics live in src/stats/trend.ts; this file parses flags, reads the points and prints.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { finiteOrNull } from '../stats/format.js';
import { renderTrendPlot } from '../stats/plot-trend.js';
import { RecordsError } from '../stats/records.js';
import { dateOfDay, fitTrend, workingMonthHours, type TrendResult } from '../stats/trend.js';
import { readTrendPoints, type TrendPoint } from '../stats/trend-points.js';
import { action, parseNumber, printResult, UsageError } from './common.js';

interface TrendFlags {
  targetHours: string;
  bootstrap: string;
  seed: string;
  plot?: string;
  json?: boolean;
}

/** The printed result: days and months, forecast dates as YYYY-MM-DD, null where unbounded or undefined. */
export function trendToJson(trend: TrendResult, options: { bootstrap: number; seed: number }): Record<string, unknown> {
  return {
    points: trend.points,
    doublingDays: finiteOrNull(trend.doublingDays),
    doublingDaysCi95: trend.doublingDaysCi95.map(finiteOrNull),
    doublingMonths: finiteOrNull(trend.doublingMonths),
    doublingMonthsCi95: trend.doublingMonthsCi95.map(finiteOrNull),
    rSquared: finiteOrNull(trend.rSquared),
    targetHours: trend.targetMinutes / 60,
    forecastDate: dateOfDay(trend.forecastDay),
    forecastDateCi95: trend.forecastDayCi95.map(dateOfDay),
    bootstrap: options.bootstrap,
    seed: options.seed,
    ...(trend.skippedResamples > 0 && { skippedResamples: trend.skippedResamples }),
    ...(!(trend.slopePerDay > 0) && { note: 'the fitted horizons do not grow: no doubling time and no forecast' }),
  };
}

function printText(result: Record<string, unknown>): void {
  const number = (value: unknown) => (typeof value === 'number' ? value.toFixed(1) : 'unbounded');
  const pair = (value: unknown) => (value as unknown[]).map(number).join(', ');
  const dates = (value: unknown) => (value as (string | null)[]).map((date) => date ?? 'never').join(', ');
  const lines = [
    `points: ${result.points}  r^2: ${typeof result.rSquared === 'number' ? result.rSquared.toFixed(3) : 'undefined'}`,
    `doublingDays: ${number(result.doublingDays)}  95% CI [${pair(result.doublingDaysCi95)}]`,
    `doublingMonths: ${number(result.doublingMonths)}  95% CI [${pair(result.doublingMonthsCi95)}]`,
    `forecast (${result.targetHours} h): ${result.forecastDate ?? 'never'}  95% CI [${dates(result.forecastDateCi95)}]`,
    `bootstrap: ${result.bootstrap}  seed: ${result.seed}${result.skippedResamples ? `  skipped resamples: ${result.skippedResamples}` : ''}`,
    ...(result.note ? [`note: ${result.note}`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function register(program: Command): void {
  program
    .command('trend')
    .description('Doubling time of time horizons against release dates, with a bootstrap CI and a forecast')
    .argument('<file>', 'points: JSON (array, or object with "points"), JSONL or CSV of agent, releaseDate, horizonMinutes')
    .option('--target-hours <n>', 'forecast when the horizon reaches this many hours', String(workingMonthHours))
    .option('--bootstrap <n>', 'bootstrap resamples over the points', '1000')
    .option('--seed <s>', 'bootstrap seed', '0')
    .option('--plot <file.svg>', 'write the trend plot as SVG')
    .option('--json', 'print one JSON object')
    .action(action(async (file: string, flags: TrendFlags) => {
      const targetHours = parseNumber('target-hours', flags.targetHours, { min: Number.MIN_VALUE });
      const bootstrap = parseNumber('bootstrap', flags.bootstrap, { min: 0, max: 10_000_000, integer: true });
      const seed = parseNumber('seed', flags.seed, { min: 0, max: 2 ** 53 - 1, integer: true });
      let points: TrendPoint[];
      let trend: TrendResult;
      try {
        points = readTrendPoints(file);
        trend = fitTrend(points, { targetMinutes: targetHours * 60, bootstrapCount: bootstrap, seed });
      } catch (error) {
        if (error instanceof RecordsError || error instanceof RangeError) throw new UsageError(error.message);
        throw error;
      }
      if (flags.plot) writeFileSync(flags.plot, await renderTrendPlot(points, trend));
      const result = trendToJson(trend, { bootstrap, seed });
      if (flags.json) printResult(result, true);
      else printText(result);
    }));
}
