/**
 * Shareable proof of a run: its slice of the journal written to a folder that anyone can verify with the lab's
 * public key alone. The audit log is one hash chain across all runs, so the slice is the log's prefix from the first
 * entry up to the first signed checkpoint at or after the run's last entry (other runs' entries in that stretch come
 * along: without them no hash could be recomputed), the tables as that prefix replays them, the checkpoints that
 * pin it, and the public key. The folder is itself a lab home (`successor.db` + `audit-checkpoints.jsonl`), so
 * `SUCCESSOR_HOME=DIR successor show RUN` reads it too.
 * Is not: the chain, the replay or the checkpoint checks themselves (audit-chain.ts, replay.ts, audit-checkpoint.ts),
 * which verification reuses unchanged.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { BadInputError, FailureError, describeZodError } from '../task/errors.js';
import { RunId } from '../task/ids.js';
import { canonicalJson } from './canonical-json.js';
import { SIDECAR_FILE, describePublicKey, verifyCheckpoints } from './audit-checkpoint.js';
import { SignedCheckpoint } from './audit-checkpoint-record.js';
import { readAuditKey } from './audit-key.js';
import { AuditKeyError } from './errors.js';
import { type AuditReport, type Journal, openJournal } from './journal.js';
import { replay } from './replay.js';
import { Timestamp, cacheTable, eventsTable, experimentsTable, now, runsTable, toColumns, type Table } from './rows.js';

export const EXPORT_FORMAT = 'successor.audit-export.v1';
export const MANIFEST_FILE = 'manifest.json';
export const PUBLIC_KEY_FILE = 'public-key.pem';
export const EXPORT_JOURNAL_FILE = 'successor.db';

export const ExportManifest = z.object({
  format: z.literal(EXPORT_FORMAT),
  runId: RunId,
  exportedAt: Timestamp,
  /** The last entry exported; a signed checkpoint in the export pins it. */
  headSeq: z.number().int().positive(),
  headHash: z.string(),
  /** The key that signed the checkpoints (sha256 of its public key's DER, first 16 hex digits). */
  keyId: z.string(),
  /** Entries of the run itself; the others are the entries before and between them that the chain needs. */
  runEntries: z.number().int().nonnegative(),
  /** How to check it, for whoever receives the folder. */
  verify: z.string(),
}).strict();
export type ExportManifest = z.infer<typeof ExportManifest>;

/** The journal cannot be exported as it stands (it does not verify, or no checkpoint covers the run): exit 1. */
export class AuditExportError extends FailureError {
  override name = 'AuditExportError';
}

export interface ExportResult { directory: string; manifest: ExportManifest; checkpoints: number; entries: number }

/** Writes run `runId`'s proof into `directory` (missing or empty). Needs the lab's key, to be sure what it exports verifies. */
export function exportRun(journal: Journal, runId: RunId, directory: string, environment: NodeJS.ProcessEnv = process.env): ExportResult {
  if (!journal.getRun(runId)) throw new BadInputError(`no run ${runId} in ${journal.path}`);
  if (existsSync(directory) && readdirSync(directory).length > 0) throw new BadInputError(`${directory} is not empty; export writes into an empty or missing folder`);
  const key = readAuditKey(dirname(journal.path), environment);
  if (!key) throw new AuditExportError('no audit key here: export where the lab that signed the journal keeps its key ($SUCCESSOR_KEY_DIR or ~/.config/successor)');
  const report = journal.verifyAudit();
  const signed = verifyCheckpoints(journal, environment);
  const bad = report.firstBad ?? signed.firstBad;
  if (bad) throw new AuditExportError(`the journal does not verify (entry ${bad.seq}: ${bad.reason}); nothing exported`);
  const lastOfRun = journal.lastAuditSeqOf(runId);
  const checkpoints = journal.listCheckpoints().map((raw) => SignedCheckpoint.parse(raw));
  const cover = checkpoints.filter((checkpoint) => checkpoint.seq >= lastOfRun && checkpoint.keyId === key.keyId).sort((left, right) => left.seq - right.seq)[0];
  if (!cover) {
    throw new AuditExportError(`no signed checkpoint covers run ${runId}'s last entry (${lastOfRun}): run \`successor audit checkpoint\`, then export again`);
  }
  const entries = journal.auditChain().entries.filter((entry) => entry.seq <= cover.seq);
  const state = replay(entries).state;
  const pinned = checkpoints.filter((checkpoint) => checkpoint.seq <= cover.seq && checkpoint.keyId === key.keyId);

  mkdirSync(directory, { recursive: true });
  const path = join(directory, EXPORT_JOURNAL_FILE);
  openJournal(path).close(); // creates the file with this lab's schema
  const db = new Database(path);
  try {
    db.pragma('foreign_keys = OFF'); // rows go in table by table; the replay already checked how they refer to each other
    db.transaction(() => {
      const audit = db.prepare(`INSERT INTO audit (seq, at, action, entity_id, run_id, payload, prev_hash, hash)
                                VALUES (@seq, @at, @action, @entityId, @runId, @payload, @prevHash, @hash)`);
      for (const entry of entries) audit.run({ ...entry, payload: canonicalJson(entry.payload) });
      insertRows(db, runsTable, state.runs.rows.values());
      insertRows(db, experimentsTable, state.experiments.rows.values());
      insertRows(db, eventsTable, state.events.rows.values());
      insertRows(db, cacheTable, state.cache.rows.values());
      const checkpoint = db.prepare('INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) VALUES (@seq, @hash, @at, @keyId, @signature)');
      for (const row of pinned) checkpoint.run(row);
    }).immediate();
    db.pragma('journal_mode = DELETE'); // one self-contained file, no -wal beside it
  } finally {
    db.close();
  }
  writeFileSync(join(directory, SIDECAR_FILE), pinned.map((checkpoint) => `${JSON.stringify(checkpoint)}\n`).join(''));
  writeFileSync(join(directory, PUBLIC_KEY_FILE), key.publicKey.export({ type: 'spki', format: 'pem' }));
  const manifest: ExportManifest = {
    format: EXPORT_FORMAT, runId, exportedAt: now(), headSeq: cover.seq, headHash: cover.hash, keyId: key.keyId,
    runEntries: entries.filter((entry) => entry.runId === runId).length,
    verify: `successor audit verify <this folder> --public-key <the lab's public key, obtained from the lab itself; key id ${key.keyId}>`,
  };
  writeFileSync(join(directory, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return { directory, manifest, checkpoints: pinned.length, entries: entries.length };
}

function insertRows<Row>(db: Database.Database, table: Table<Row>, rows: Iterable<Row>): void {
  const names = table.columns.map(([column]) => column);
  const statement = db.prepare(`INSERT INTO ${table.name} (${names.join(', ')}) VALUES (${names.map((name) => `@${name}`).join(', ')})`);
  for (const row of rows) statement.run(toColumns(table, row));
}

/** Reads an Ed25519 public key from a PEM file (a lab's `public-key.pem`). */
export function readPublicKey(path: string): { publicKey: KeyObject; keyId: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AuditKeyError(`cannot read the public key ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  if (/PRIVATE KEY/.test(text)) throw new AuditKeyError(`${path} holds a private key; give the public key (an exported folder's ${PUBLIC_KEY_FILE})`);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(text);
  } catch (error) {
    throw new AuditKeyError(`${path} is not a PEM public key: ${(error as Error).message}`);
  }
  return describePublicKey(publicKey);
}

export function isExportFolder(path: string): boolean {
  return existsSync(join(path, MANIFEST_FILE));
}

export interface ExportVerification extends AuditReport {
  runId: string;
  /** The run's own entries among `entries`. */
  runEntries: number;
  keyId: string;
  /** `given`: checked against a key the verifier brought; `export`: against the key shipped in the folder. */
  keySource: 'given' | 'export';
  checkpoints: number;
  /** When the checkpoint that pins the export's last entry was signed (the lab's clock). */
  signedAt: string | null;
}

/** Verifies an exported folder with a public key only: the chain, the replay against its tables, and that a signed checkpoint pins its last entry. */
export function verifyExport(directory: string, publicKeyPath?: string): ExportVerification {
  const manifest = readManifest(directory);
  const key = readPublicKey(publicKeyPath ?? join(directory, PUBLIC_KEY_FILE));
  const journal = openJournal(join(directory, EXPORT_JOURNAL_FILE), { readonly: true });
  try {
    const report = journal.verifyAudit();
    const signed = verifyCheckpoints(journal, {}, { publicKey: key.publicKey });
    const head = journal.auditHead();
    const problems = [report.firstBad, signed.firstBad].filter((problem) => problem !== undefined);
    if (signed.lastSeq !== head.seq) problems.push({ seq: head.seq, reason: `no valid checkpoint signed by key ${key.keyId} pins the export's last entry ${head.seq}` });
    if (manifest.headSeq !== head.seq || manifest.headHash !== head.hash) problems.push({ seq: head.seq, reason: `the manifest names entry ${manifest.headSeq} as the head, the journal ends at ${head.seq}` });
    if (!journal.getRun(manifest.runId)) problems.push({ seq: head.seq, reason: `the manifest's run ${manifest.runId} is not in the journal` });
    const firstBad = problems.sort((left, right) => left.seq - right.seq)[0];
    const pin = journal.listCheckpoints().find((checkpoint) => checkpoint.seq === head.seq);
    const base = {
      entries: report.entries, headHash: head.hash, runId: manifest.runId, keyId: key.keyId, keySource: publicKeyPath ? 'given' as const : 'export' as const,
      runEntries: journal.auditChain().entries.filter((entry) => entry.runId === manifest.runId).length, checkpoints: signed.checkpoints,
      signedAt: pin?.at ?? null,
    };
    return firstBad ? { ok: false, ...base, firstBad } : { ok: true, ...base };
  } finally {
    journal.close();
  }
}

function readManifest(directory: string): ExportManifest {
  const path = join(directory, MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new BadInputError(`${directory} is not an audit export: cannot read ${MANIFEST_FILE} (${(error as Error).message})`);
  }
  const parsed = ExportManifest.safeParse(raw);
  if (!parsed.success) throw new BadInputError(`${path} is not an audit export's manifest: ${describeZodError(parsed.error)}`);
  return parsed.data;
}
