/**
 * The journal's schema as numbered migrations kept in code. `PRAGMA user_version` records how many have run;
 * each runs in its own immediate transaction, so a crash mid-migration leaves the previous version intact.
 * Append new migrations; never edit one that has shipped (old databases have already run it).
 */
import type Database from 'better-sqlite3';

export const migrations: readonly string[] = [
  // 1: runs, experiments, events, the cache, and the hash-chained audit log.
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    task_dir TEXT NOT NULL,
    researcher TEXT NOT NULL,
    options TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'paused', 'stopped', 'completed', 'failed')),
    generation INTEGER NOT NULL,
    parent_run_id TEXT REFERENCES runs (id),
    stop_reason TEXT,
    summary TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  ) STRICT;
  CREATE TABLE experiments (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs (id),
    seq INTEGER NOT NULL,
    parent_id TEXT REFERENCES experiments (id),
    role TEXT NOT NULL CHECK (role IN ('baseline', 'candidate', 'repeat', 'verify')),
    description TEXT NOT NULL,
    change TEXT NOT NULL,
    diff TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('proposed', 'awaiting-approval', 'running', 'finished')),
    outcome TEXT,
    fidelity REAL NOT NULL,
    accepted INTEGER NOT NULL CHECK (accepted IN (0, 1)),
    log_path TEXT,
    artifacts_path TEXT,
    metadata TEXT NOT NULL,
    proposed_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    UNIQUE (run_id, seq)
  ) STRICT;
  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: an id is never reused, even after the last row goes
    run_id TEXT NOT NULL REFERENCES runs (id),
    experiment_id TEXT REFERENCES experiments (id),
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX events_by_run ON events (run_id, id);
  CREATE TABLE cache (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
  ) STRICT;
  CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    run_id TEXT,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audit_by_run ON audit (run_id, seq);
  `,
  // 2: signed checkpoints of the audit head (checkpoint.ts). Not audited themselves: each row is proven by its
  // Ed25519 signature, and a copy lives outside the database, so deleting rows here is caught too.
  `
  CREATE TABLE audit_checkpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
  ) STRICT;
  `,
];

export class JournalVersionError extends Error {
  override name = 'JournalVersionError';
}

export const schemaVersion = (db: Database.Database): number => db.pragma('user_version', { simple: true }) as number;

/** Brings the schema up to date; a read-only connection may only check that it already is. */
export function migrate(db: Database.Database, options: { readonly: boolean }): void {
  const found = schemaVersion(db);
  if (found > migrations.length) {
    throw new JournalVersionError(`${db.name} has schema version ${found}; this successor knows only up to ${migrations.length}`);
  }
  if (found === migrations.length) return;
  if (options.readonly) {
    throw new JournalVersionError(`${db.name} has schema version ${found}, needs ${migrations.length}; open it once read-write to migrate`);
  }
  for (let index = found; index < migrations.length; index += 1) {
    db.transaction(() => {
      // Re-read inside the lock: another process may have migrated since we looked.
      if (schemaVersion(db) !== index) return;
      db.exec(migrations[index]);
      db.pragma(`user_version = ${index + 1}`);
    }).immediate();
  }
}
