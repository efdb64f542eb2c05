/**
 * Replays the audit log into the runs, experiments, events and cache rows it implies, and compares them with the
 * tables. This is what catches a state row edited with raw SQL (the chain itself is intact then) and a log whose
 * tail was cut while the state it described remains. Not the chain check (audit-chain.ts).
 */
import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { RunId } from '../task/ids.js';
import type { AuditEntry, BadEntry } from './audit-chain.js';
import {
  CacheRow, EventRow, ExperimentPatch, ExperimentRow, RunPatch, RunRow,
  cacheTable, eventsTable, experimentsTable, runsTable, toColumns, type Table,
} from './rows.js';

/** Rows keyed by their table key, and for each, the seq of the last entry that wrote it (to name in a report). */
interface Replayed<Row> { rows: Map<string, Row>; lastSeq: Map<string, number> }
export interface ReplayedState {
  runs: Replayed<RunRow>; experiments: Replayed<ExperimentRow>; events: Replayed<EventRow>; cache: Replayed<CacheRow>;
}

const CacheSet = z.object({ key: z.string().min(1), value: z.unknown() }).strict();

export function replay(entries: readonly AuditEntry[]): { state: ReplayedState; firstBad?: BadEntry } {
  const empty = <Row>(): Replayed<Row> => ({ rows: new Map(), lastSeq: new Map() });
  const state: ReplayedState = { runs: empty(), experiments: empty(), events: empty(), cache: empty() };
  for (const entry of entries) {
    const reason = apply(state, entry);
    if (reason !== undefined) return { state, firstBad: { seq: entry.seq, reason } };
  }
  return { state };
}

/** Applies one entry; returns why it cannot be applied, or undefined. */
function apply(state: ReplayedState, entry: AuditEntry): string | undefined {
  const { action, entityId, runId, payload, at, seq } = entry;
  const put = <Row>(replayed: Replayed<Row>, key: string, row: Row): undefined => {
    replayed.rows.set(key, row);
    replayed.lastSeq.set(key, seq);
    return undefined;
  };
  switch (action) {
    case 'run.create': {
      const row = RunRow.safeParse(payload);
      if (!row.success) return `payload is not a run: ${row.error.issues[0]?.message}`;
      if (row.data.id !== entityId || row.data.id !== runId) return 'entity id does not match the payload';
      if (state.runs.rows.has(entityId)) return `run ${entityId} created twice`;
      return put(state.runs, entityId, row.data);
    }
    case 'run.update': {
      const patch = RunPatch.safeParse(payload);
      const run = state.runs.rows.get(entityId);
      if (!patch.success) return `payload is not a run patch: ${patch.error.issues[0]?.message}`;
      if (run === undefined || runId !== entityId) return `updates unknown run ${entityId}`;
      return put(state.runs, entityId, { ...run, ...patch.data, updatedAt: at });
    }
    case 'experiment.create': {
      const row = ExperimentRow.safeParse(payload);
      if (!row.success) return `payload is not an experiment: ${row.error.issues[0]?.message}`;
      if (row.data.id !== entityId || row.data.runId !== runId) return 'entity or run id does not match the payload';
      if (!state.runs.rows.has(row.data.runId)) return `experiment of unknown run ${row.data.runId}`;
      if (state.experiments.rows.has(entityId)) return `experiment ${entityId} created twice`;
      return put(state.experiments, entityId, row.data);
    }
    case 'experiment.update': {
      const patch = ExperimentPatch.safeParse(payload);
      const experiment = state.experiments.rows.get(entityId);
      if (!patch.success) return `payload is not an experiment patch: ${patch.error.issues[0]?.message}`;
      if (experiment === undefined || experiment.runId !== runId) return `updates unknown experiment ${entityId}`;
      return put(state.experiments, entityId, { ...experiment, ...patch.data });
    }
    case 'event.append': {
      const row = EventRow.safeParse(payload);
      if (!row.success) return `payload is not an event: ${row.error.issues[0]?.message}`;
      if (String(row.data.id) !== entityId || row.data.runId !== runId) return 'entity or run id does not match the payload';
      if (state.events.rows.has(entityId)) return `event ${entityId} appended twice`;
      return put(state.events, entityId, row.data);
    }
    case 'cache.set': {
      const set = CacheSet.safeParse(payload);
      if (!set.success || set.data.key !== entityId || runId !== null) return 'payload is not a cache entry for its entity id';
      return put(state.cache, entityId, { key: set.data.key, value: set.data.value, updatedAt: at });
    }
  }
}

/**
 * Compares the replayed rows with the tables (only one run's rows when `runId` is given) and returns the problem
 * with the lowest seq. A row the log never wrote is blamed on the entry after the head: either it was inserted
 * behind the log's back or the entries that wrote it were cut off.
 */
export function compareState(db: Database.Database, state: ReplayedState, headSeq: number, runId?: RunId): BadEntry | undefined {
  const problems: BadEntry[] = [];
  const byRun = runId === undefined ? '' : ' WHERE run_id = ?';
  const compare = <Row>(table: Table<Row>, replayed: Replayed<Row>, where: string, belongs: (row: Row) => boolean): void => {
    const stored = db.prepare(`SELECT * FROM ${table.name}${where}`).all(...(runId === undefined ? [] : [runId])) as Record<string, unknown>[];
    const seen = new Set<string>();
    for (const raw of stored) {
      const key = String(raw[table.key]);
      seen.add(key);
      const expected = replayed.rows.get(key);
      if (expected === undefined) {
        problems.push({ seq: headSeq + 1, reason: `${table.name} row ${key} is not in the log (written outside the log, or the log's tail is missing)` });
        continue;
      }
      const columns = toColumns(table, expected);
      const differing = Object.keys(columns).find((column) => columns[column] !== raw[column]);
      if (differing !== undefined) {
        problems.push({
          seq: replayed.lastSeq.get(key) ?? headSeq + 1,
          reason: `${table.name} row ${key}: column ${differing} differs from the log (edited outside the log, or the log's tail is missing)`,
        });
      }
    }
    for (const [key, row] of replayed.rows) {
      if (!seen.has(key) && belongs(row)) {
        problems.push({ seq: replayed.lastSeq.get(key) ?? 0, reason: `${table.name} row ${key} is missing (deleted outside the log)` });
      }
    }
  };
  const inRun = (rowRunId: RunId): boolean => runId === undefined || rowRunId === runId;
  compare(runsTable, state.runs, runId === undefined ? '' : ' WHERE id = ?', (row) => inRun(row.id));
  compare(experimentsTable, state.experiments, byRun, (row) => inRun(row.runId));
  compare(eventsTable, state.events, byRun, (row) => inRun(row.runId));
  if (runId === undefined) compare(cacheTable, state.cache, '', () => true);
  return problems.sort((left, right) => left.seq - right.seq)[0];
}
