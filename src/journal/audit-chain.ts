/**
 * The audit log as a hash chain. Entry n stores hash_n = sha256(hash_{n-1} + canonical JSON of
 * {action, at, entityId, payload, runId, seq}), with hash_0 = 64 zeros. Editing, deleting or reordering any entry
 * breaks every hash after it; a signed checkpoint of (seq, hash) (issue "Oversight") then pins the whole prefix,
 * which also catches a truncated tail. This file appends entries and checks the chain; it does not know what the
 * actions mean (replay.ts does).
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { RunId } from '../task/ids.js';
import { canonicalJson } from './canonical-json.js';
import { Timestamp } from './rows.js';
import { prepared } from './sqlite.js';

export const GENESIS_HASH = '0'.repeat(64);

/** The actions the journal writes. A new kind of entry (e.g. a checkpoint) adds a name here and a case in replay.ts. */
export const AuditAction = z.enum(['run.create', 'run.update', 'experiment.create', 'experiment.update', 'event.append', 'cache.set']);
export type AuditAction = z.infer<typeof AuditAction>;

export interface AuditEntry {
  seq: number; at: string; action: AuditAction; entityId: string; runId: RunId | null;
  payload: Record<string, unknown>; prevHash: string; hash: string;
}

/** What is hashed: everything but the hashes themselves, as canonical JSON. */
export function entryBytes(entry: Omit<AuditEntry, 'prevHash' | 'hash'>): string {
  const { seq, at, action, entityId, runId, payload } = entry;
  return canonicalJson({ action, at, entityId, payload, runId, seq });
}

export const entryHash = (prevHash: string, entry: Omit<AuditEntry, 'prevHash' | 'hash'>): string =>
  createHash('sha256').update(prevHash).update(entryBytes(entry)).digest('hex');

export interface AuditHead { seq: number; hash: string }

export function auditHead(db: Database.Database): AuditHead {
  const row = prepared(db, 'SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get();
  return row === undefined ? { seq: 0, hash: GENESIS_HASH } : z.object({ seq: z.number().int(), hash: z.string() }).parse(row);
}

/** Appends one entry. Callers run it inside the same transaction as the state change it records. */
export function appendAudit(
  db: Database.Database,
  entry: { at: string; action: AuditAction; entityId: string; runId: RunId | null; payload: Record<string, unknown> },
): AuditEntry {
  if (!db.inTransaction) throw new Error('appendAudit outside a transaction: the entry and its state change must commit together');
  const head = auditHead(db);
  const body = { seq: head.seq + 1, ...entry };
  const full: AuditEntry = { ...body, prevHash: head.hash, hash: entryHash(head.hash, body) };
  prepared(db, `INSERT INTO audit (seq, at, action, entity_id, run_id, payload, prev_hash, hash)
              VALUES (@seq, @at, @action, @entityId, @runId, @payload, @prevHash, @hash)`)
    .run({ ...full, payload: canonicalJson(full.payload) });
  return full;
}

// ---- verification -----------------------------------------------------------------------------------------------

/** A stored audit row, parsed leniently: verification must report a damaged row, not throw on it. */
const StoredEntry = z.object({
  seq: z.number().int(), at: z.string(), action: z.string(), entity_id: z.string(), run_id: z.string().nullable(),
  payload: z.string(), prev_hash: z.string(), hash: z.string(),
});

export interface BadEntry { seq: number; reason: string }
export interface ChainCheck { entries: AuditEntry[]; head: AuditHead; firstBad?: BadEntry }

/** Walks the whole log in seq order and stops at the first entry that does not belong to an unbroken chain. */
export function checkChain(db: Database.Database): ChainCheck {
  const entries: AuditEntry[] = [];
  let head: AuditHead = { seq: 0, hash: GENESIS_HASH };
  const fail = (seq: number, reason: string): ChainCheck => ({ entries, head, firstBad: { seq, reason } });
  for (const raw of db.prepare('SELECT * FROM audit ORDER BY seq').iterate()) {
    const expectedSeq = head.seq + 1;
    const stored = StoredEntry.safeParse(raw);
    if (!stored.success) return fail(expectedSeq, 'malformed row (a column has the wrong type)');
    const row = stored.data;
    if (row.seq !== expectedSeq) {
      return fail(expectedSeq, row.seq > expectedSeq ? `entry missing (found seq ${row.seq} next)` : `unexpected seq ${row.seq}`);
    }
    const action = AuditAction.safeParse(row.action);
    if (!action.success) return fail(row.seq, `unknown action '${row.action}'`);
    if (!Timestamp.safeParse(row.at).success) return fail(row.seq, `bad timestamp '${row.at}'`);
    const runId = row.run_id === null ? null : RunId.safeParse(row.run_id);
    if (runId !== null && !runId.success) return fail(row.seq, `bad run id '${row.run_id}'`);
    const payload = parsePayload(row.payload);
    if (payload === undefined) return fail(row.seq, 'payload is not a JSON object');
    if (canonicalJson(payload) !== row.payload) return fail(row.seq, 'payload is not in canonical form (edited)');
    if (row.prev_hash !== head.hash) return fail(row.seq, `broken link: prev_hash does not match the hash of entry ${head.seq}`);
    const entry: AuditEntry = {
      seq: row.seq, at: row.at, action: action.data, entityId: row.entity_id, runId: runId === null ? null : runId.data,
      payload, prevHash: row.prev_hash, hash: row.hash,
    };
    if (entryHash(entry.prevHash, entry) !== row.hash) return fail(row.seq, 'hash mismatch: the entry was edited');
    entries.push(entry);
    head = { seq: entry.seq, hash: entry.hash };
  }
  return { entries, head };
}

function parsePayload(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
