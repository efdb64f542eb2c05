/**
 * Signed checkpoints of the audit log. The hash chain alone proves entries consistent with each other, not that the
 * whole log was not rewritten (recompute every hash) or cut short; a checkpoint signs the head {seq, hash} with a
 * key kept outside the state dir, so either is caught against any checkpoint saved earlier. Each checkpoint is
 * stored twice: in the journal and in `audit-checkpoints.jsonl` beside it, so deleting one copy is caught too.
 * Not the key's location and creation (audit-key.ts), and not the chain itself (audit-chain.ts).
 */
import { sign, verify } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GENESIS_HASH } from './audit-chain.js';
import { keyDir, loadOrCreateAuditKey, readAuditKey, KEY_FILE } from './audit-key.js';
import { SignedCheckpoint, checkpointBytes } from './checkpoint-record.js';
import type { Journal } from './journal.js';
import { now } from './rows.js';

export const SIDECAR_FILE = 'audit-checkpoints.jsonl';

/** The state dir is the journal's folder: the key must stay out of it, the sidecar sits in it. */
const stateDirOf = (journal: Journal): string => dirname(journal.path);
export const sidecarPath = (journal: Journal): string => join(stateDirOf(journal), SIDECAR_FILE);

/** Signs the journal's current head and stores the checkpoint in the sidecar file, then in the journal. */
export function writeCheckpoint(journal: Journal, environment: NodeJS.ProcessEnv = process.env): SignedCheckpoint {
  const key = loadOrCreateAuditKey(stateDirOf(journal), environment);
  const head = journal.auditHead();
  const body = { seq: head.seq, hash: head.hash, at: now() };
  const checkpoint: SignedCheckpoint = { ...body, keyId: key.keyId, signature: sign(null, checkpointBytes(body), key.privateKey).toString('base64') };
  // Sidecar first: a crash in between leaves a copy the journal lacks, which verify reports rather than hides.
  appendFileSync(sidecarPath(journal), `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
  journal.saveCheckpoint(checkpoint);
  return checkpoint;
}

export interface CheckpointReport {
  /** Distinct checkpoints found (journal and sidecar together). */
  checkpoints: number;
  /** The highest seq a valid checkpoint pins, if any. */
  lastSeq?: number;
  firstBad?: { seq: number; reason: string };
}

interface Found { raw: unknown; inJournal: boolean; inSidecar: boolean }

/** Checks every saved checkpoint against the key and the log; returns the problem with the lowest seq. */
export function verifyCheckpoints(journal: Journal, environment: NodeJS.ProcessEnv = process.env): CheckpointReport {
  const found = new Map<string, Found>();
  const problems: Array<{ seq: number; reason: string }> = [];
  const note = (raw: unknown, where: 'inJournal' | 'inSidecar'): void => {
    const id = JSON.stringify([field(raw, 'seq'), field(raw, 'hash'), field(raw, 'at'), field(raw, 'signature')]);
    const entry = found.get(id) ?? { raw, inJournal: false, inSidecar: false };
    entry[where] = true;
    found.set(id, entry);
  };
  for (const row of journal.listCheckpoints()) note(row, 'inJournal');
  const sidecar = sidecarPath(journal);
  if (existsSync(sidecar)) {
    readFileSync(sidecar, 'utf8').split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      try {
        note(JSON.parse(line), 'inSidecar');
      } catch {
        problems.push({ seq: 0, reason: `${SIDECAR_FILE} line ${index + 1} is not JSON (edited)` });
      }
    });
  }
  if (found.size === 0) return { checkpoints: 0, ...firstOf(problems) };

  const key = readAuditKey(stateDirOf(journal), environment);
  const head = journal.auditHead();
  let lastSeq: number | undefined;
  for (const { raw, inJournal, inSidecar } of found.values()) {
    const parsed = SignedCheckpoint.safeParse(raw);
    const seq = Number(field(raw, 'seq')) || 0;
    if (!parsed.success) {
      problems.push({ seq, reason: `a checkpoint is malformed (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})` });
      continue;
    }
    const checkpoint = parsed.data;
    const named = `the checkpoint of entry ${checkpoint.seq} (${checkpoint.at})`;
    if (!inJournal) problems.push({ seq: checkpoint.seq, reason: `${named} is in ${SIDECAR_FILE} but missing from the journal (deleted)` });
    if (!inSidecar) problems.push({ seq: checkpoint.seq, reason: `${named} is in the journal but missing from ${SIDECAR_FILE} (deleted)` });
    if (key === undefined) {
      problems.push({ seq: checkpoint.seq, reason: `${named} cannot be checked: no audit key at ${join(keyDir(environment), KEY_FILE)}` });
      continue;
    }
    if (checkpoint.keyId !== key.keyId) {
      problems.push({ seq: checkpoint.seq, reason: `${named} names key ${checkpoint.keyId}, not this lab's key ${key.keyId} (forged)` });
      continue;
    }
    const signature = Buffer.from(checkpoint.signature, 'base64');
    if (!verify(null, checkpointBytes(checkpoint), key.publicKey, signature)) {
      problems.push({ seq: checkpoint.seq, reason: `${named} has an invalid signature (forged or edited)` });
      continue;
    }
    if (checkpoint.seq > head.seq) {
      problems.push({ seq: head.seq + 1, reason: `the log ends at entry ${head.seq}, but ${named} signed entry ${checkpoint.seq}: the log was truncated` });
      continue;
    }
    const stored = checkpoint.seq === 0 ? GENESIS_HASH : journal.auditHashAt(checkpoint.seq);
    if (stored !== checkpoint.hash) {
      problems.push({ seq: checkpoint.seq, reason: `entry ${checkpoint.seq}'s hash differs from ${named}: the log up to here was rewritten` });
      continue;
    }
    lastSeq = Math.max(lastSeq ?? 0, checkpoint.seq);
  }
  return { checkpoints: found.size, ...(lastSeq === undefined ? {} : { lastSeq }), ...firstOf(problems) };
}

function field(raw: unknown, name: string): unknown {
  return typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)[name] : undefined;
}

function firstOf(problems: Array<{ seq: number; reason: string }>): Pick<CheckpointReport, 'firstBad'> {
  const first = [...problems].sort((left, right) => left.seq - right.seq)[0];
  return first === undefined ? {} : { firstBad: first };
}
