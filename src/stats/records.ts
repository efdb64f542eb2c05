/**
 * Run records for time-horizon fits: parsed from JSONL (one object a line, METR's public format as it is) or CSV
 * with a header, checked with zod, and turned into one `RunRecord` per run. Every error names the line.
 *
 * Accepted fields (first name wins; METR's names listed first):
 *   task id      task_id | taskId | task              family   task_family | taskFamily | family
 *   agent        alias | agent                        minutes  human_minutes | humanMinutes
 *   success      score_binarized | success (0/1, true/false or a fraction in [0, 1]),
 *                or score + threshold (row field `threshold`, else the caller's threshold): success = score >= threshold
 *   optional     weight (per-run multiplier >= 0), invsqrt_task_weight, equal_task_weight (METR's precomputed weights)
 * This file does no statistics and no weighting.
 */
import { readFileSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';

export interface RunRecord {
  /** 1-based line in the source file, for error messages. */
  line: number;
  taskId: string;
  taskFamily: string;
  agent: string;
  humanMinutes: number;
  /** In [0, 1]: 0/1 for a binary outcome. */
  success: number;
  weight?: number;
  invsqrtTaskWeight?: number;
  equalTaskWeight?: number;
}

/** A problem with the input file; the message starts with `FILE:LINE:` where a line is known. */
export class RecordsError extends Error {
  override name = 'RecordsError';
}

export interface ReadRecordsOptions {
  /** Used for rows that carry a `score` but neither a success field nor their own `threshold`. */
  threshold?: number;
}

const fieldNames = {
  taskId: ['task_id', 'taskId', 'task'],
  taskFamily: ['task_family', 'taskFamily', 'family'],
  agent: ['alias', 'agent'],
  humanMinutes: ['human_minutes', 'humanMinutes'],
  success: ['score_binarized', 'success'],
  score: ['score'],
  threshold: ['threshold'],
  weight: ['weight'],
  invsqrtTaskWeight: ['invsqrt_task_weight'],
  equalTaskWeight: ['equal_task_weight'],
} as const;

/** Numeric strings (CSV cells) become numbers; empty cells and nulls become absent. Anything else is left for zod to reject. */
function coerceNumber(value: unknown): unknown {
  if (value === null || value === '') return undefined;
  if (typeof value === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(value)) return Number(value);
  return value;
}

function coerceSuccess(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true' ? 1 : 0;
  return coerceNumber(value);
}

const describe = (input: unknown): string => (input === undefined ? 'nothing' : JSON.stringify(input));
const text = (field: string) =>
  z.preprocess(
    (value) => (typeof value === 'number' ? String(value) : value === null || value === '' ? undefined : value),
    z.string({ error: (issue) => (issue.input === undefined ? `missing ${field}` : `${field} must be text, got ${describe(issue.input)}`) }),
  );
const number = (field: string, coerce = coerceNumber) =>
  z.preprocess(coerce, z.number({ error: (issue) => (issue.input === undefined ? `missing ${field}` : `${field} must be a number, got ${describe(issue.input)}`) }));
const optionalNumber = (field: string) =>
  z.preprocess(coerceNumber, z.number({ error: (issue) => `${field} must be a number, got ${describe(issue.input)}` }).optional());

const RawRecord = z
  .object({
    taskId: text('task_id'),
    taskFamily: text('task_family'),
    agent: text('alias (or agent)'),
    humanMinutes: number('human_minutes').refine((value) => value > 0, { error: 'human_minutes must be positive (it is log-transformed)' }),
    success: z.preprocess(coerceSuccess, z.number({ error: (issue) => `score_binarized must be 0, 1, true, false or a fraction, got ${describe(issue.input)}` }).optional()),
    score: optionalNumber('score'),
    threshold: optionalNumber('threshold'),
    weight: optionalNumber('weight').refine((value) => value === undefined || value >= 0, { error: 'weight must be non-negative' }),
    invsqrtTaskWeight: optionalNumber('invsqrt_task_weight').refine((value) => value === undefined || value >= 0, { error: 'invsqrt_task_weight must be non-negative' }),
    equalTaskWeight: optionalNumber('equal_task_weight').refine((value) => value === undefined || value >= 0, { error: 'equal_task_weight must be non-negative' }),
  })
  .refine((row) => row.success === undefined || (row.success >= 0 && row.success <= 1), { error: 'score_binarized must be in [0, 1]' });

/** Picks the first present alias of every field from one raw row. */
function pickFields(row: Record<string, unknown>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const [field, names] of Object.entries(fieldNames)) {
    const name = names.find((candidate) => row[candidate] !== undefined && row[candidate] !== null && row[candidate] !== '');
    picked[field] = name === undefined ? undefined : row[name];
  }
  return picked;
}

/** Turns raw rows (already split from JSONL or CSV) into records; `source` names the file in errors. */
export function recordsFromRows(rows: { line: number; row: unknown }[], source: string, options: ReadRecordsOptions = {}): RunRecord[] {
  const records: RunRecord[] = [];
  for (const { line, row } of rows) {
    const where = `${source}:${line}`;
    if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new RecordsError(`${where}: expected an object, got ${describe(row)}`);
    const parsed = RawRecord.safeParse(pickFields(row as Record<string, unknown>));
    if (!parsed.success) throw new RecordsError(`${where}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
    const value = parsed.data;
    let success = value.success;
    if (success === undefined) {
      const threshold = value.threshold ?? options.threshold;
      if (value.score === undefined) throw new RecordsError(`${where}: missing success: give score_binarized (or success), or a score and a threshold`);
      if (threshold === undefined) throw new RecordsError(`${where}: score ${value.score} has no threshold: add a threshold field or pass --threshold`);
      success = value.score >= threshold ? 1 : 0;
    }
    records.push({
      line,
      taskId: value.taskId,
      taskFamily: value.taskFamily,
      agent: value.agent,
      humanMinutes: value.humanMinutes,
      success,
      ...(value.weight !== undefined && { weight: value.weight }),
      ...(value.invsqrtTaskWeight !== undefined && { invsqrtTaskWeight: value.invsqrtTaskWeight }),
      ...(value.equalTaskWeight !== undefined && { equalTaskWeight: value.equalTaskWeight }),
    });
  }
  return records;
}

/** Splits file text into raw rows: CSV when the name ends in .csv, otherwise JSONL (or one JSON array). */
export function rowsFromText(content: string, source: string): { line: number; row: unknown }[] {
  if (/\.csv$/i.test(source)) {
    try {
      const parsed = parseCsv(content, { columns: true, skip_empty_lines: true, trim: true, info: true }) as unknown as { info: { lines: number }; record: unknown }[];
      return parsed.map(({ info, record }) => ({ line: info.lines, row: record }));
    } catch (error) {
      throw new RecordsError(`${source}: invalid CSV: ${(error as Error).message}`);
    }
  }
  if (content.trimStart().startsWith('[')) {
    let array: unknown;
    try {
      array = JSON.parse(content);
    } catch (error) {
      throw new RecordsError(`${source}: invalid JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(array)) throw new RecordsError(`${source}: expected a JSON array of runs`);
    return array.map((row, index) => ({ line: index + 1, row })); // "line" is the array position here
  }
  const rows: { line: number; row: unknown }[] = [];
  const lines = content.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const lineText = lines[index].trim();
    if (lineText === '') continue;
    try {
      rows.push({ line: index + 1, row: JSON.parse(lineText) });
    } catch (error) {
      throw new RecordsError(`${source}:${index + 1}: not valid JSON: ${(error as Error).message}`);
    }
  }
  return rows;
}

/** Reads and validates a run-record file. Throws RecordsError for unreadable, empty or invalid files. */
export function readRunRecords(path: string, options: ReadRecordsOptions = {}): RunRecord[] {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RecordsError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const records = recordsFromRows(rowsFromText(content, path), path, options);
  if (records.length === 0) throw new RecordsError(`${path}: no run records`);
  return records;
}
