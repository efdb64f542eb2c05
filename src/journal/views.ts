/**
 * Read-only projections of the journal for views that must stay fast on big runs (the dashboard): one compact line
 * per experiment (no diff, no change, no full metadata) and "which experiments changed since audit entry N". The
 * Journal interface parses whole rows with zod, which takes over a second for a run of 10,000 experiments; these
 * queries read only the columns a list or a chart needs, and the audit log (indexed by run) says what changed, so a
 * live run costs only its changes. They live beside the schema they read; rows are still parsed at this boundary.
 * Not a second write path: the connection is read-only.
 */
import Database from 'better-sqlite3';
import { z } from 'zod';
import { ExperimentRole, ExperimentState } from './journal.js';
import { ExperimentId, type RunId } from '../task/ids.js';

/** One experiment as lists and charts show it. */
export const ExperimentLine = z.object({
  id: ExperimentId,
  seq: z.number().int(),
  parentId: ExperimentId.nullable(),
  role: ExperimentRole,
  description: z.string(),
  state: ExperimentState,
  /** The outcome's status once finished, else null. */
  status: z.string().nullable(),
  score: z.number().nullable(),
  accepted: z.boolean(),
  /** `pending` while a promotion waits for a human; `approved`/`rejected` after. */
  approval: z.string().nullable(),
  decidedAt: z.string().nullable(),
  /** A cached calibration sample that a fresh run contradicted: not a sample of anything any more. */
  stale: z.boolean(),
});
export type ExperimentLine = z.infer<typeof ExperimentLine>;

const RawLine = z.object({
  id: z.string(), seq: z.number(), parent_id: z.string().nullable(), role: z.string(), description: z.string(), state: z.string(),
  status: z.string().nullable(), score: z.number().nullable(), accepted: z.number(), approval: z.string().nullable(), decided_at: z.string().nullable(), stale: z.number().nullable(),
});

const RawEvent = z.object({ id: z.number(), experiment_id: z.string().nullable(), type: z.string(), payload: z.string(), at: z.string() });
export interface RecentEvent { id: number; experimentId: string | null; type: string; payload: Record<string, unknown>; at: string }

const LINE_COLUMNS = `id, seq, parent_id, role, substr(description, 1, 240) AS description, state,
  CASE WHEN state = 'finished' THEN json_extract(outcome, '$.status') END AS status,
  CASE WHEN state = 'finished' THEN json_extract(outcome, '$.score') END AS score,
  accepted, json_extract(metadata, '$.approval') AS approval, json_extract(metadata, '$.decidedAt') AS decided_at,
  json_extract(metadata, '$.stale') AS stale`;

function toLine(raw: unknown): ExperimentLine {
  const row = RawLine.parse(raw);
  return ExperimentLine.parse({
    id: row.id, seq: row.seq, parentId: row.parent_id, role: row.role, description: row.description, state: row.state,
    status: row.status, score: row.score, accepted: row.accepted === 1, approval: row.approval, decidedAt: row.decided_at,
    stale: Boolean(row.stale),
  });
}

export class JournalViews {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** The audit log's last entry: every write to the journal moves it, so it versions every cached view. */
  auditSeq(): number {
    const row = this.statement('SELECT MAX(seq) AS seq FROM audit').get() as { seq: number | null };
    return row.seq ?? 0;
  }

  /** Every experiment of a run, by seq, in one consistent read. */
  lines(runId: RunId): { auditSeq: number; lines: ExperimentLine[] } {
    return this.db.transaction(() => ({
      auditSeq: this.auditSeq(),
      lines: this.statement(`SELECT ${LINE_COLUMNS} FROM experiments WHERE run_id = ? ORDER BY seq`).all(runId).map(toLine),
    })).deferred();
  }

  /** The experiments of a run created or updated after audit entry `afterSeq`, and the audit seq this read saw. */
  changedSince(runId: RunId, afterSeq: number): { auditSeq: number; lines: ExperimentLine[] } {
    return this.db.transaction(() => {
      const auditSeq = this.auditSeq();
      if (auditSeq <= afterSeq) return { auditSeq, lines: [] };
      const lines = this.statement(`SELECT ${LINE_COLUMNS} FROM experiments WHERE id IN (
          SELECT entity_id FROM audit WHERE run_id = ? AND seq > ? AND action IN ('experiment.create', 'experiment.update')) ORDER BY seq`)
        .all(runId, afterSeq).map(toLine);
      return { auditSeq, lines };
    }).deferred();
  }

  /** Whether anything of this run changed after audit entry `afterSeq` (runs, experiments or events). */
  runChangedSince(runId: RunId, afterSeq: number): boolean {
    return this.statement('SELECT 1 FROM audit WHERE run_id = ? AND seq > ? LIMIT 1').get(runId, afterSeq) !== undefined;
  }

  /** The last `limit` journal events of a run, oldest first (the whole list costs a parse per event). */
  recentEvents(runId: RunId, limit: number): RecentEvent[] {
    const rows = this.statement('SELECT id, experiment_id, type, payload, at FROM events WHERE run_id = ? ORDER BY id DESC LIMIT ?').all(runId, limit);
    return rows.map((raw) => {
      const row = RawEvent.parse(raw);
      return { id: row.id, experimentId: row.experiment_id, type: row.type, payload: JSON.parse(row.payload) as Record<string, unknown>, at: row.at };
    }).reverse();
  }

  close(): void {
    this.db.close();
  }
}
