/**
 * A suite result as text: one line per (task, researcher, seed) with raw and normalised scores and success, then
 * each researcher's mean normalised score, success rate and METR-style time horizon over the suite (every row with
 * a human time is one run record: task, family, human minutes, success). Is not: running or journaling.
 */
import { type AgentHorizon, computeHorizons, defaultHorizonOptions } from '../stats/horizon.js';
import type { RunRecord } from '../stats/records.js';
import type { BenchResult, BenchRow } from './run-suite.js';

export interface ResearcherSummary {
  researcher: string;
  runs: number;
  meanNormalised: number | null;
  successRate: number;
  horizon: AgentHorizon | null;
}

export function benchRecords(result: BenchResult): RunRecord[] {
  return result.rows
    .filter((row) => row.humanMinutes !== null && row.error === undefined)
    .map((row, index) => ({ line: index + 1, taskId: row.task, taskFamily: row.family, agent: row.researcher, humanMinutes: row.humanMinutes as number, success: row.success ? 1 : 0 }));
}

export function summariseResearchers(result: BenchResult, bootstrapCount = 200): ResearcherSummary[] {
  const records = benchRecords(result);
  const horizons = records.length > 0 ? computeHorizons(records, { ...defaultHorizonOptions, bootstrapCount }) : [];
  return result.researchers.map((researcher) => {
    const rows = result.rows.filter((row) => row.researcher === researcher);
    const scored = rows.map((row) => row.normalisation?.normalised).filter((value): value is number => typeof value === 'number');
    return {
      researcher,
      runs: rows.length,
      meanNormalised: scored.length ? scored.reduce((a, b) => a + b, 0) / scored.length : null,
      successRate: rows.length ? rows.filter((row) => row.success).length / rows.length : 0,
      horizon: horizons.find((horizon) => horizon.agent === researcher) ?? null,
    };
  });
}

const number = (value: number | null | undefined, digits = 3): string => (value === null || value === undefined || Number.isNaN(value) ? '-' : Number.isFinite(value) ? value.toPrecision(digits) : value > 0 ? 'inf' : '-inf');
const pad = (cells: string[], widths: number[]): string => cells.map((cell, index) => cell.padEnd(widths[index])).join('  ').trimEnd();

function rowCells(row: BenchRow): string[] {
  const normalisation = row.normalisation;
  return [
    row.task, row.researcher, String(row.seed), row.humanMinutes === null ? '-' : String(row.humanMinutes),
    number(normalisation?.baselineScore), normalisation?.baselineSource === 'declared' ? 'declared' : normalisation ? 'measured' : '-',
    number(row.rawScore), normalisation?.scale ?? '-', number(normalisation?.normalised), row.error ? 'error' : row.success ? 'yes' : 'no',
    row.error ?? normalisation?.note ?? '',
  ];
}

export function formatHorizon(horizon: AgentHorizon | null): string {
  if (!horizon) return '-';
  if (horizon.status !== 'ok') return `${number(horizon.p50Minutes)} min (${horizon.note})`;
  const [low, high] = horizon.p50Ci95;
  return `${number(horizon.p50Minutes)} min (95% CI ${number(low)}-${number(high)})`;
}

export function formatBenchReport(result: BenchResult, summaries: ResearcherSummary[]): string {
  const header = ['task', 'researcher', 'seed', 'human min', 'baseline', 'from', 'best', 'scale', 'normalised', 'success', 'note'];
  const body = result.rows.map(rowCells);
  const widths = header.map((cell, index) => Math.max(cell.length, ...body.map((row) => row[index].length)));
  const lines = [
    `suite ${result.suite}: ${result.rows.length} runs, success = normalised >= ${result.successThreshold}, budget ${result.budgetSeconds}s per run${result.maxExperiments ? `, ${result.maxExperiments} experiments` : ''}`,
    pad(header, widths),
    ...body.map((row) => pad(row, widths)),
    '',
    'researcher  runs  mean normalised  success rate  50% time horizon',
    ...summaries.map((summary) => `${summary.researcher.padEnd(10)}  ${String(summary.runs).padEnd(4)}  ${number(summary.meanNormalised).padEnd(15)}  ${(summary.successRate * 100).toFixed(0).padStart(3)}%          ${formatHorizon(summary.horizon)}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** JSON (and the journal) cannot hold Infinity or NaN: they become null; a horizon's `status` says which it was. */
export function jsonSafe<Value>(value: Value): Value {
  return JSON.parse(JSON.stringify(value, (_key, item: unknown) => (typeof item === 'number' && !Number.isFinite(item) ? null : item))) as Value;
}
