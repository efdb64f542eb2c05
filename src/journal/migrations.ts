/**
 * The journal's schema as numbered migrations kept in code. `PRAGMA user_version` records how many have run;
 * each runs in its own immediate transaction, so a crash mid-migration leaves the previous version intact.
 * Append new migrations; never edit one that has shipped (old databases have already run it).
 */
import type Database from 'better-sqlite3';
import { JournalForeignError, JournalVersionError } from './errors.js';

export { JournalVersionError } from './errors.js';

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

export const schemaVersion = (db: Database.Database): number => db.pragma('user_version', { simple: true }) as number;

/** The tables migration 1 creates: a file at version 1 or later without all of them is not ours. */
const JOURNAL_TABLES = ['runs', 'experiments', 'events', 'cache', 'audit'];

/**
 * Refuses a file that is not a journal of this lab, before anything is written to it: a database with tables of its
 * own at version 0 (another program's file; migrating would add our tables to it), a newer lab's journal, or one
 * that claims a version but lacks the journal's tables. An empty database (a new file) passes: it is ours to create.
 */
export function assertJournalFile(db: Database.Database): void {
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>)
    .map((row) => row.name);
  const found = schemaVersion(db);
  if (found === 0 && tables.length > 0) {
    throw new JournalForeignError(`${db.name} is an SQLite database but not a successor journal (its tables: ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', ...' : ''}); point SUCCESSOR_HOME elsewhere`);
  }
  // Before anything writes (a writer's WAL switch changes the header): a newer lab's journal is left exactly as it is.
  if (found > migrations.length) {
    throw new JournalVersionError(`${db.name} has schema version ${found}; this successor knows only up to ${migrations.length} (a newer successor wrote it)`);
  }
  const missing = found > 0 ? JOURNAL_TABLES.filter((name) => !tables.includes(name)) : [];
  if (missing.length > 0) {
    throw new JournalForeignError(`${db.name} is not a successor journal (schema version ${found}, but no ${missing.join(', ')} table); point SUCCESSOR_HOME elsewhere`);
  }
}

/** Brings the schema up to date; a read-only connection may only check that it already is. */
export function migrate(db: Database.Database, options: { readonly: boolean }): void {
  const found = schemaVersion(db);
  if (found > migrations.length) {
    throw new JournalVersionError(`${db.name} has schema version ${found}; this successor knows only up to ${migrations.length} (a newer successor wrote it)`);
  }
  if (found === migrations.length) return;
  if (options.readonly) {
    const what = found === 0 ? 'has schema version 0 (an empty database, not yet a journal)' : `has schema version ${found}, needs ${migrations.length}`;
    throw new JournalVersionError(`${db.name} ${what}; a command that writes (successor research) creates or migrates it`);
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
