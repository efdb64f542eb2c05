/**
 * The journal's rows: domain types (camelCase, branded ids), their zod schemas, and how each maps onto its
 * table's columns. The same mapping serves the write path and the audit replay, so the two cannot drift.
 * Not the SQL (migrations.ts) and not the queries (journal.ts).
 */
import { z } from 'zod';
import { Change } from '../task/change.js';
import { ExperimentId, RunId } from '../task/ids.js';
import { Outcome } from '../task/outcome.js';
import { canonicalJson } from './canonical-json.js';
import { JournalCorruptError } from './errors.js';
import { ExperimentMetadata, Timestamp } from './metadata.js';

export { Timestamp };
export const now = (): string => new Date().toISOString();

const JsonObject = z.record(z.string(), z.unknown());

export const RunStatus = z.enum(['running', 'paused', 'stopped', 'completed', 'failed']);
export type RunStatus = z.infer<typeof RunStatus>;

export interface RunRow {
  id: RunId; task: string; taskDir: string; researcher: string; options: Record<string, unknown>; status: RunStatus;
  generation: number; parentRunId: RunId | null; stopReason: string | null; summary: Record<string, unknown> | null;
  createdAt: string; updatedAt: string;
}
export const RunRow: z.ZodType<RunRow> = z.object({
  id: RunId, task: z.string().min(1), taskDir: z.string(), researcher: z.string().min(1), options: JsonObject, status: RunStatus,
  generation: z.number().int().nonnegative(), parentRunId: RunId.nullable(), stopReason: z.string().nullable(),
  summary: JsonObject.nullable(), createdAt: Timestamp, updatedAt: Timestamp,
}).strict();
export const RunPatch = z.object({
  status: RunStatus, stopReason: z.string().nullable(), summary: JsonObject.nullable(), options: JsonObject,
}).partial().strict();
export type RunPatch = z.infer<typeof RunPatch>;

export const ExperimentState = z.enum(['proposed', 'awaiting-approval', 'running', 'finished']);
export type ExperimentState = z.infer<typeof ExperimentState>;
export const ExperimentRole = z.enum(['baseline', 'candidate', 'repeat', 'verify']);
export type ExperimentRole = z.infer<typeof ExperimentRole>;

export interface ExperimentRow {
  id: ExperimentId; runId: RunId; seq: number; parentId: ExperimentId | null; role: ExperimentRole;
  description: string; change: Change; diff: string; state: ExperimentState; outcome: Outcome | null; fidelity: number; accepted: boolean;
  logPath: string | null; artifactsPath: string | null; metadata: ExperimentMetadata;
  proposedAt: string; startedAt: string | null; finishedAt: string | null;
}
export const ExperimentRow: z.ZodType<ExperimentRow> = z.object({
  id: ExperimentId, runId: RunId, seq: z.number().int().positive(), parentId: ExperimentId.nullable(), role: ExperimentRole,
  description: z.string(), change: Change, diff: z.string(), state: ExperimentState, outcome: Outcome.nullable(),
  fidelity: z.number(), accepted: z.boolean(), logPath: z.string().nullable(), artifactsPath: z.string().nullable(),
  metadata: ExperimentMetadata, proposedAt: Timestamp, startedAt: Timestamp.nullable(), finishedAt: Timestamp.nullable(),
}).strict();
export const ExperimentPatch = z.object({
  state: ExperimentState, outcome: Outcome.nullable(), accepted: z.boolean(), logPath: z.string().nullable(),
  artifactsPath: z.string().nullable(), metadata: ExperimentMetadata, startedAt: Timestamp.nullable(), finishedAt: Timestamp.nullable(),
  description: z.string(),
}).partial().strict();
export type ExperimentPatch = z.infer<typeof ExperimentPatch>;

export interface EventRow { id: number; runId: RunId; experimentId: ExperimentId | null; type: string; payload: Record<string, unknown>; at: string }
export const EventRow: z.ZodType<EventRow> = z.object({
  id: z.number().int().positive(), runId: RunId, experimentId: ExperimentId.nullable(), type: z.string().min(1), payload: JsonObject, at: Timestamp,
}).strict();

export interface CacheRow { key: string; value: unknown; updatedAt: string }
export const CacheRow: z.ZodType<CacheRow> = z.object({ key: z.string().min(1), value: z.unknown(), updatedAt: Timestamp }).strict();

// ---- rows <-> columns -------------------------------------------------------------------------------------------

export type SqlValue = string | number | null;
/** plain: stored as is; json: canonical JSON text (null stays NULL); boolean: 0/1. */
type ColumnKind = 'plain' | 'json' | 'boolean';
export interface Table<Row> {
  name: 'runs' | 'experiments' | 'events' | 'cache';
  key: string;
  columns: ReadonlyArray<readonly [column: string, field: keyof Row & string, kind: ColumnKind]>;
  schema: z.ZodType<Row>;
}

export const runsTable: Table<RunRow> = {
  name: 'runs', key: 'id', schema: RunRow,
  columns: [['id', 'id', 'plain'], ['task', 'task', 'plain'], ['task_dir', 'taskDir', 'plain'], ['researcher', 'researcher', 'plain'],
    ['options', 'options', 'json'], ['status', 'status', 'plain'], ['generation', 'generation', 'plain'],
    ['parent_run_id', 'parentRunId', 'plain'], ['stop_reason', 'stopReason', 'plain'], ['summary', 'summary', 'json'],
    ['created_at', 'createdAt', 'plain'], ['updated_at', 'updatedAt', 'plain']],
};
export const experimentsTable: Table<ExperimentRow> = {
  name: 'experiments', key: 'id', schema: ExperimentRow,
  columns: [['id', 'id', 'plain'], ['run_id', 'runId', 'plain'], ['seq', 'seq', 'plain'], ['parent_id', 'parentId', 'plain'],
    ['role', 'role', 'plain'], ['description', 'description', 'plain'], ['change', 'change', 'json'], ['diff', 'diff', 'plain'],
    ['state', 'state', 'plain'], ['outcome', 'outcome', 'json'], ['fidelity', 'fidelity', 'plain'], ['accepted', 'accepted', 'boolean'],
    ['log_path', 'logPath', 'plain'], ['artifacts_path', 'artifactsPath', 'plain'], ['metadata', 'metadata', 'json'],
    ['proposed_at', 'proposedAt', 'plain'], ['started_at', 'startedAt', 'plain'], ['finished_at', 'finishedAt', 'plain']],
};
export const eventsTable: Table<EventRow> = {
  name: 'events', key: 'id', schema: EventRow,
  columns: [['id', 'id', 'plain'], ['run_id', 'runId', 'plain'], ['experiment_id', 'experimentId', 'plain'], ['type', 'type', 'plain'],
    ['payload', 'payload', 'json'], ['at', 'at', 'plain']],
};
export const cacheTable: Table<CacheRow> = {
  name: 'cache', key: 'key', schema: CacheRow,
  columns: [['key', 'key', 'plain'], ['value', 'value', 'json'], ['updated_at', 'updatedAt', 'plain']],
};

export function toColumns<Row>(table: Table<Row>, row: Row): Record<string, SqlValue> {
  const columns: Record<string, SqlValue> = {};
  for (const [column, field, kind] of table.columns) {
    const value = row[field] as unknown;
    if (kind === 'json') columns[column] = value === null ? null : canonicalJson(value);
    else if (kind === 'boolean') columns[column] = value ? 1 : 0;
    else columns[column] = value as SqlValue;
  }
  return columns;
}

/** Parses one raw row read from the DB (the boundary) into its domain row. */
export function fromColumns<Row>(table: Table<Row>, raw: unknown): Row {
  const record = z.record(z.string(), z.unknown()).parse(raw);
  const fields: Record<string, unknown> = {};
  for (const [column, field, kind] of table.columns) {
    const value = record[column];
    if (kind === 'json') fields[field] = value === null ? null : parseJsonColumn(`${table.name}.${column}`, value);
    else if (kind === 'boolean') fields[field] = value === 1 ? true : value === 0 ? false : value;
    else fields[field] = value;
  }
  const parsed = table.schema.safeParse(fields);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new JournalCorruptError(`${table.name} row ${String(record[table.key])}: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}

function parseJsonColumn(where: string, value: unknown): unknown {
  if (typeof value !== 'string') throw new JournalCorruptError(`${where} holds a ${typeof value}, not JSON text`);
  try {
    return JSON.parse(value);
  } catch {
    throw new JournalCorruptError(`${where} holds text that is not JSON`);
  }
}
