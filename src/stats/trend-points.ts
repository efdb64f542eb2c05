/**
 * Trend input: one point per model, its release date and its horizon. Read from a JSON array, a JSON object
 * with a `points` array (room for a description and sources, as in examples/trend-public-record.json), JSONL
 * or CSV. Field names: agent | model | name; releaseDate | release_date | date (YYYY-MM-DD);
 * horizonMinutes | horizon_minutes | p50Minutes | p50_minutes. Optional: source. No statistics here.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { RecordsError, rowsFromText } from './records.js';

export interface TrendPoint {
  agent: string;
  /** YYYY-MM-DD, read as UTC midnight. */
  releaseDate: string;
  horizonMinutes: number;
  source?: string;
}

const aliases = {
  agent: ['agent', 'model', 'name'],
  releaseDate: ['releaseDate', 'release_date', 'date'],
  horizonMinutes: ['horizonMinutes', 'horizon_minutes', 'p50Minutes', 'p50_minutes'],
  source: ['source'],
} as const;

const TrendPointSchema = z.object({
  agent: z.string({ error: 'missing agent (or model/name)' }).min(1, 'agent is empty'),
  releaseDate: z
    .string({ error: 'missing releaseDate (YYYY-MM-DD)' })
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'releaseDate must be YYYY-MM-DD')
    .refine((text) => !Number.isNaN(Date.parse(`${text}T00:00:00Z`)) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text), 'releaseDate is not a calendar date'),
  horizonMinutes: z.preprocess(
    (value) => (typeof value === 'string' && value.trim() !== '' ? Number(value) : value),
    z.number({ error: (issue) => (issue.input === undefined ? 'missing horizonMinutes' : `horizonMinutes must be a number, got ${JSON.stringify(issue.input)}`) })
      .positive('horizonMinutes must be positive (the trend is fitted on its logarithm)'),
  ),
  source: z.string().optional(),
});

export function trendPointsFromRows(rows: { line: number; row: unknown }[], source: string): TrendPoint[] {
  return rows.map(({ line, row }) => {
    if (typeof row !== 'object' || row === null) throw new RecordsError(`${source}:${line}: expected an object`);
    const picked: Record<string, unknown> = {};
    for (const [field, names] of Object.entries(aliases)) {
      const name = names.find((candidate) => (row as Record<string, unknown>)[candidate] !== undefined);
      if (name !== undefined) picked[field] = (row as Record<string, unknown>)[name];
    }
    const parsed = TrendPointSchema.safeParse(picked);
    if (!parsed.success) throw new RecordsError(`${source}:${line}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
    return parsed.data;
  });
}

export function readTrendPoints(path: string): TrendPoint[] {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RecordsError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let rows: { line: number; row: unknown }[];
  if (content.trimStart().startsWith('{') && /\.json$/i.test(path)) {
    let document: unknown;
    try {
      document = JSON.parse(content);
    } catch (error) {
      throw new RecordsError(`${path}: invalid JSON: ${(error as Error).message}`);
    }
    const points = (document as { points?: unknown }).points;
    if (!Array.isArray(points)) throw new RecordsError(`${path}: expected a "points" array`);
    rows = points.map((row, index) => ({ line: index + 1, row }));
  } else {
    rows = rowsFromText(content, path);
  }
  const points = trendPointsFromRows(rows, path);
  if (points.length === 0) throw new RecordsError(`${path}: no trend points`);
  return points;
}
