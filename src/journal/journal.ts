/**
 * The lab's journal: runs, experiments, events and a small cache in one SQLite file, every write recorded in the
 * hash-chained audit log inside the same transaction (so no write path can forget its entry, and kill -9 at any
 * moment leaves both or neither). One process writes (the lab); readers such as the dashboard or a second CLI may
 * open the same file at once (WAL), read-only if they like. Not the chain or the replay themselves (audit-chain.ts,
 * replay.ts), and not where the file lives (paths.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { z } from 'zod';
import { newExperimentId, newRunId, type ExperimentId, type RunId } from '../task/ids.js';
import { appendAudit, auditHead, checkChain, type AuditAction, type AuditHead, type ChainCheck } from './audit-chain.js';
import { JournalCorruptError, JournalError, isCorruptionCode } from './errors.js';
import { SignedCheckpoint } from './audit-checkpoint-record.js';
import { assertJournalFile, migrate } from './migrations.js';
import { type ModelUsage, type UsageByRun, runUsage, usageByExperiment, usageByRun } from './model-usage.js';
import { compareState, replay } from './replay.js';
import {
  CacheRow, EventRow, ExperimentPatch, ExperimentRow, RunPatch, RunRow,
  cacheTable, eventsTable, experimentsTable, fromColumns, now, runsTable, toColumns, type Table,
} from './rows.js';
import { prepared } from './sqlite.js';

export { CacheRow, EventRow, ExperimentRole, ExperimentRow, ExperimentState, RunRow, RunStatus } from './rows.js';
export { GENESIS_HASH, type AuditEntry, type AuditHead, type ChainCheck } from './audit-chain.js';
export { JournalCorruptError, JournalError, JournalForeignError, JournalUnreadableError, JournalVersionError } from './errors.js';
export { SignedCheckpoint } from './audit-checkpoint-record.js';
export { ExperimentMetadata, GateRecord } from './metadata.js';
export { type ModelUsage, type UsageByRun, NO_USAGE, addUsage, describeUsage, formatDollars } from './model-usage.js';

export interface AuditReport { ok: boolean; entries: number; headHash: string; firstBad?: { seq: number; reason: string } }

export interface Journal {
  readonly path: string;
  /** Runs `work` in one immediate transaction; nested calls join the outer one (as savepoints, so each call stays atomic). */
  transaction<T>(work: () => T): T;
  createRun(input: Omit<RunRow, 'createdAt' | 'updatedAt' | 'id'> & { id?: RunId }): RunRow;
  updateRun(id: RunId, patch: Partial<Pick<RunRow, 'status' | 'stopReason' | 'summary' | 'options'>>): RunRow;
  getRun(id: RunId): RunRow | undefined;
  /** Newest first. */
  listRuns(): RunRow[];
  /** `seq` is assigned here: 1, 2, ... per run. `startedAt`/`finishedAt` are stamped when created running/finished. */
  createExperiment(input: Omit<ExperimentRow, 'seq' | 'proposedAt' | 'startedAt' | 'finishedAt' | 'id'> & { id?: ExperimentId }): ExperimentRow;
  /** A move to `running` (`finished`) stamps `startedAt` (`finishedAt`) unless the patch sets it or it is already set. */
  updateExperiment(id: ExperimentId, patch: Partial<Pick<ExperimentRow,
    'state' | 'outcome' | 'accepted' | 'logPath' | 'artifactsPath' | 'metadata' | 'startedAt' | 'finishedAt' | 'description'>>): ExperimentRow;
  getExperiment(id: ExperimentId): ExperimentRow | undefined;
  /** By seq. */
  listExperiments(runId: RunId): ExperimentRow[];
  appendEvent(runId: RunId, type: string, payload: Record<string, unknown>, experimentId?: ExperimentId): EventRow;
  /** Events with id > afterId, oldest first (ids grow across runs; use the last one seen to poll). */
  listEvents(runId: RunId, afterId?: number): EventRow[];
  /** Events by id, oldest first (an experiment's transcript: the model calls its metadata lists); unknown ids are skipped. */
  getEvents(ids: readonly number[]): EventRow[];
  /** What model calls cost (model-usage.ts): a run's total, and each experiment's share by its transcript. */
  modelUsage(runId: RunId): { total: ModelUsage; byExperiment: Map<string, ModelUsage> };
  /** Every run's model calls at once (runs without calls are absent); only the calls after event `afterEventId` when given. */
  modelUsageByRun(afterEventId?: number): UsageByRun;
  getCache(key: string): unknown | undefined;
  setCache(key: string, value: unknown): void;
  /** Checks the whole chain, then replays the log against the tables (one run's rows when runId is given). */
  verifyAudit(options?: { runId?: RunId }): AuditReport;
  /** The last entry's seq and hash (seq 0 and the genesis hash when empty): what a signed checkpoint pins. */
  auditHead(): AuditHead;
  /** The stored hash of entry `seq` (undefined when there is none), for checking a checkpoint against the log. */
  auditHashAt(seq: number): string | undefined;
  /** The whole log checked as a chain: its entries up to the first bad one (audit-export.ts copies them). */
  auditChain(): ChainCheck;
  /** The seq of the last audit entry that belongs to a run (0 when it has none). */
  lastAuditSeqOf(runId: RunId): number;
  /** Stores a signed checkpoint (checkpoint.ts signs it; the journal only keeps it). */
  saveCheckpoint(checkpoint: SignedCheckpoint): void;
  /** Oldest first. */
  listCheckpoints(): SignedCheckpoint[];
  close(): void;
}

/**
 * Opens the journal at `path`, creating its directory and file and migrating it when writable. `readonly` needs an
 * existing, migrated file and never writes (while a writer has the file open in WAL mode, SQLite shares its -wal and
 * -shm files). A file that is not a journal (another program's database, a damaged one, a newer lab's) is refused
 * before anything is written to it, with one of the journal's errors (errors.ts).
 */
export function openJournal(path: string, options: { readonly?: boolean } = {}): Journal {
  const readonly = options.readonly ?? false;
  if (!readonly) mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path, { readonly, fileMustExist: readonly });
  } catch (error) {
    throw unreadable(path, error);
  }
  try {
    db.pragma('busy_timeout = 5000'); // first, so the pragmas below wait for a writer instead of failing
    assertJournalFile(db); // before anything writes: WAL mode and migrations would change another program's file
    if (!readonly) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL'); // WAL + FULL: a commit is on disk when it returns, not just safe from corruption
    db.pragma('foreign_keys = ON');
    migrate(db, { readonly });
  } catch (error) {
    db.close();
    throw unreadable(path, error);
  }
  return new SqliteJournal(path, db, readonly);
}

/** SQLite's "not a database" and "malformed" become the journal's own error, naming the file; others pass as they are. */
function unreadable(path: string, error: unknown): unknown {
  if (!isCorruptionCode((error as { code?: unknown })?.code)) return error;
  return new JournalCorruptError(`${path} is not a successor journal: ${(error as Error).message} (not an SQLite file, or a damaged one)`);
}

type JsonObject = Record<string, unknown>;

class SqliteJournal implements Journal {
  constructor(readonly path: string, private readonly db: Database.Database, private readonly readonly: boolean) {}

  transaction<T>(work: () => T): T {
    const wrapped = this.db.transaction(work);
    return this.readonly ? wrapped.deferred() : wrapped.immediate();
  }

  createRun(input: Omit<RunRow, 'createdAt' | 'updatedAt' | 'id'> & { id?: RunId }): RunRow {
    return this.write(() => {
      const at = now();
      const row = parseInput(RunRow, { ...withoutUndefined(input), id: input.id ?? newRunId(), createdAt: at, updatedAt: at }, 'run');
      this.insert(runsTable, row);
      this.audit(at, 'run.create', row.id, row.id, { ...row });
      return this.mustGetRun(row.id);
    });
  }

  updateRun(id: RunId, patch: Partial<Pick<RunRow, 'status' | 'stopReason' | 'summary' | 'options'>>): RunRow {
    return this.write(() => {
      const run = this.mustGetRun(id);
      const change = parseInput(RunPatch, withoutUndefined(patch), 'run patch');
      const at = now();
      this.replace(runsTable, { ...run, ...change, updatedAt: at });
      this.audit(at, 'run.update', id, id, change);
      return this.mustGetRun(id);
    });
  }

  getRun(id: RunId): RunRow | undefined {
    const raw = prepared(this.db, 'SELECT * FROM runs WHERE id = ?').get(id);
    return raw === undefined ? undefined : fromColumns(runsTable, raw);
  }

  listRuns(): RunRow[] {
    return prepared(this.db, 'SELECT * FROM runs ORDER BY created_at DESC, rowid DESC').all().map((raw) => fromColumns(runsTable, raw));
  }

  createExperiment(input: Omit<ExperimentRow, 'seq' | 'proposedAt' | 'startedAt' | 'finishedAt' | 'id'> & { id?: ExperimentId }): ExperimentRow {
    return this.write(() => {
      const at = now();
      const last = prepared(this.db, 'SELECT MAX(seq) AS seq FROM experiments WHERE run_id = ?').get(input.runId) as { seq: number | null };
      const row = parseInput(ExperimentRow, {
        ...withoutUndefined(input), id: input.id ?? newExperimentId(), seq: (last.seq ?? 0) + 1, proposedAt: at,
        startedAt: input.state === 'running' ? at : null, finishedAt: input.state === 'finished' ? at : null,
      }, 'experiment');
      this.insert(experimentsTable, row);
      this.audit(at, 'experiment.create', row.id, row.runId, { ...row });
      return this.mustGetExperiment(row.id);
    });
  }

  updateExperiment(id: ExperimentId, patch: Parameters<Journal['updateExperiment']>[1]): ExperimentRow {
    return this.write(() => {
      const experiment = this.mustGetExperiment(id);
      const change: ExperimentPatch = parseInput(ExperimentPatch, withoutUndefined(patch), 'experiment patch');
      const at = now();
      // The stamps go into the audited patch too, so the replay sees exactly what was written.
      if (change.state === 'running' && !('startedAt' in change) && experiment.startedAt === null) change.startedAt = at;
      if (change.state === 'finished' && !('finishedAt' in change) && experiment.finishedAt === null) change.finishedAt = at;
      this.replace(experimentsTable, { ...experiment, ...change });
      this.audit(at, 'experiment.update', id, experiment.runId, change);
      return this.mustGetExperiment(id);
    });
  }

  getExperiment(id: ExperimentId): ExperimentRow | undefined {
    const raw = prepared(this.db, 'SELECT * FROM experiments WHERE id = ?').get(id);
    return raw === undefined ? undefined : fromColumns(experimentsTable, raw);
  }

  listExperiments(runId: RunId): ExperimentRow[] {
    return prepared(this.db, 'SELECT * FROM experiments WHERE run_id = ? ORDER BY seq').all(runId).map((raw) => fromColumns(experimentsTable, raw));
  }

  appendEvent(runId: RunId, type: string, payload: JsonObject, experimentId?: ExperimentId): EventRow {
    return this.write(() => {
      const at = now();
      const draft = parseInput(EventRow, { id: 1, runId, experimentId: experimentId ?? null, type, payload, at }, 'event');
      const { id: _placeholder, ...columns } = toColumns(eventsTable, draft);
      const inserted = prepared(this.db, 'INSERT INTO events (run_id, experiment_id, type, payload, at) VALUES (@run_id, @experiment_id, @type, @payload, @at)')
        .run(columns);
      const row: EventRow = { ...draft, id: Number(inserted.lastInsertRowid) };
      this.audit(at, 'event.append', String(row.id), runId, { ...row });
      return row;
    });
  }

  listEvents(runId: RunId, afterId = 0): EventRow[] {
    return prepared(this.db, 'SELECT * FROM events WHERE run_id = ? AND id > ? ORDER BY id').all(runId, afterId).map((raw) => fromColumns(eventsTable, raw));
  }

  getEvents(ids: readonly number[]): EventRow[] {
    const wanted = [...new Set(ids)].filter((id) => Number.isSafeInteger(id));
    if (wanted.length === 0) return [];
    // json_each takes the id list as one parameter: one statement for any number of ids.
    return prepared(this.db, 'SELECT * FROM events WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id').all(JSON.stringify(wanted))
      .map((raw) => fromColumns(eventsTable, raw));
  }

  modelUsage(runId: RunId): { total: ModelUsage; byExperiment: Map<string, ModelUsage> } {
    return this.db.transaction(() => ({ total: runUsage(this.db, runId), byExperiment: usageByExperiment(this.db, runId) })).deferred();
  }

  modelUsageByRun(afterEventId = 0): UsageByRun {
    return usageByRun(this.db, afterEventId);
  }

  getCache(key: string): unknown | undefined {
    const raw = prepared(this.db, 'SELECT * FROM cache WHERE key = ?').get(key);
    return raw === undefined ? undefined : fromColumns(cacheTable, raw).value;
  }

  setCache(key: string, value: unknown): void {
    if (value === undefined) throw new JournalError(`cache value for '${key}' is undefined; JSON cannot hold it`);
    this.write(() => {
      const at = now();
      const row = parseInput(CacheRow, { key, value, updatedAt: at }, 'cache entry');
      prepared(this.db, `INSERT INTO cache (key, value, updated_at) VALUES (@key, @value, @updated_at)
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`)
        .run(toColumns(cacheTable, row));
      this.audit(at, 'cache.set', key, null, { key, value });
    });
  }

  verifyAudit(options: { runId?: RunId } = {}): AuditReport {
    // One read transaction: a consistent snapshot even while the lab keeps writing.
    return this.db.transaction((): AuditReport => {
      const chain = checkChain(this.db);
      const scope = options.runId;
      const entries = scope === undefined ? chain.entries.length : chain.entries.filter((entry) => entry.runId === scope).length;
      const report = { entries, headHash: chain.head.hash };
      if (chain.firstBad !== undefined) return { ok: false, ...report, firstBad: chain.firstBad };
      const replayed = replay(chain.entries);
      const firstBad = replayed.firstBad ?? compareState(this.db, replayed.state, chain.head.seq, scope);
      return firstBad === undefined ? { ok: true, ...report } : { ok: false, ...report, firstBad };
    }).deferred();
  }

  auditHead(): AuditHead {
    return auditHead(this.db);
  }

  auditHashAt(seq: number): string | undefined {
    const row = prepared(this.db, 'SELECT hash FROM audit WHERE seq = ?').get(seq) as { hash: unknown } | undefined;
    return typeof row?.hash === 'string' ? row.hash : undefined;
  }

  auditChain(): ChainCheck {
    return this.db.transaction(() => checkChain(this.db)).deferred();
  }

  lastAuditSeqOf(runId: RunId): number {
    const row = prepared(this.db, 'SELECT MAX(seq) AS seq FROM audit WHERE run_id = ?').get(runId) as { seq: number | null };
    return row.seq ?? 0;
  }

  saveCheckpoint(checkpoint: SignedCheckpoint): void {
    const row = parseInput(SignedCheckpoint, checkpoint, 'checkpoint');
    this.write(() => prepared(this.db, 'INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) VALUES (@seq, @hash, @at, @keyId, @signature)').run(row));
  }

  listCheckpoints(): SignedCheckpoint[] {
    // Parsed leniently by the verifier: a damaged row must become a failed check, not an exception here.
    return prepared(this.db, 'SELECT seq, hash, at, key_id AS keyId, signature FROM audit_checkpoints ORDER BY id').all() as SignedCheckpoint[];
  }

  /**
   * A writer leaves the file in rollback mode when it is the last one out, so the next read-only command opens a
   * single file and creates nothing beside it (a read-only open of a WAL file makes -wal and -shm files it cannot
   * remove). While anyone else has the file open the switch is refused at once (busy) and the file stays in WAL.
   */
  close(): void {
    if (!this.readonly && this.db.open) {
      try {
        this.db.pragma('busy_timeout = 0');
        this.db.pragma('journal_mode = DELETE');
      } catch {
        // Busy: another connection is open; the next writer's close tries again.
      }
    }
    this.db.close();
  }

  // ---- helpers --------------------------------------------------------------------------------------------------

  private write<T>(work: () => T): T {
    if (this.readonly) throw new JournalError(`${this.path} is open read-only`);
    return this.transaction(work);
  }

  private audit(at: string, action: AuditAction, entityId: string, runId: RunId | null, payload: JsonObject): void {
    appendAudit(this.db, { at, action, entityId, runId, payload });
  }

  private insert<Row>(table: Table<Row>, row: Row): void {
    const names = table.columns.map(([column]) => column);
    prepared(this.db, `INSERT INTO ${table.name} (${names.join(', ')}) VALUES (${names.map((name) => `@${name}`).join(', ')})`)
      .run(toColumns(table, row));
  }

  /** Rewrites every column of an existing row: the same mapping the replay uses, so the two agree by construction. */
  private replace<Row>(table: Table<Row>, row: Row): void {
    const assignments = table.columns.filter(([column]) => column !== table.key).map(([column]) => `${column} = @${column}`);
    prepared(this.db, `UPDATE ${table.name} SET ${assignments.join(', ')} WHERE ${table.key} = @${table.key}`).run(toColumns(table, row));
  }

  private mustGetRun(id: RunId): RunRow {
    const run = this.getRun(id);
    if (run === undefined) throw new JournalError(`no run ${id}`);
    return run;
  }

  private mustGetExperiment(id: ExperimentId): ExperimentRow {
    const experiment = this.getExperiment(id);
    if (experiment === undefined) throw new JournalError(`no experiment ${id}`);
    return experiment;
  }
}

function parseInput<Row>(schema: z.ZodType<Row>, value: unknown, what: string): Row {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new JournalError(`invalid ${what}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
}

/** Drops keys whose value is undefined, so `{ outcome: undefined }` means "leave it", as the types suggest. */
function withoutUndefined<Value extends object>(value: Value): Value {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Value;
}
