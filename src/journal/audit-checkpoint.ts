/**
 * Signed checkpoints of the audit log. The hash chain alone proves entries consistent with each other, not that the
 * whole log was not rewritten (recompute every hash) or cut short; a checkpoint signs the head {seq, hash} with a
 * key kept outside the state dir, so either is caught against any checkpoint saved earlier. Each checkpoint is
 * stored three times: in the journal, in `audit-checkpoints.jsonl` beside it, and in a log next to the key (outside
 * the state dir), so deleting a copy is caught, and so is deleting every checkpoint in the state dir (which would
 * otherwise leave a rewritten log with nothing to be checked against).
 * Not the key's location and creation (audit-key.ts), and not the chain itself (audit-chain.ts).
 */
import { type KeyObject, createHash, sign, verify } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GENESIS_HASH } from './audit-chain.js';
import { keyDir, keyIdOf, loadOrCreateAuditKey, readAuditKey, KEY_FILE } from './audit-key.js';
import { AuditKeyError } from './errors.js';
import { SignedCheckpoint, checkpointBytes } from './audit-checkpoint-record.js';
import type { Journal } from './journal.js';
import { now } from './rows.js';

export const SIDECAR_FILE = 'audit-checkpoints.jsonl';

/** The state dir is the journal's folder: the key must stay out of it, the sidecar sits in it. */
const stateDirOf = (journal: Journal): string => dirname(journal.path);
export const sidecarPath = (journal: Journal): string => join(stateDirOf(journal), SIDECAR_FILE);

/** The copy beside the key: one file per state dir (a key may serve several labs), named by the dir's real path. */
export function keySidePath(journal: Journal, environment: NodeJS.ProcessEnv = process.env): string {
  const directory = stateDirOf(journal);
  const real = existsSync(directory) ? realpathSync(directory) : directory;
  return join(keyDir(environment), 'checkpoints', `${createHash('sha256').update(real).digest('hex').slice(0, 16)}.jsonl`);
}

/** Signs the journal's current head and stores the checkpoint in the sidecar file, then in the journal. */
export function writeAuditCheckpoint(journal: Journal, environment: NodeJS.ProcessEnv = process.env): SignedCheckpoint {
  const key = loadOrCreateAuditKey(stateDirOf(journal), environment);
  const head = journal.auditHead();
  const body = { seq: head.seq, hash: head.hash, at: now() };
  const checkpoint: SignedCheckpoint = { ...body, keyId: key.keyId, signature: sign(null, checkpointBytes(body), key.privateKey).toString('base64') };
  // Copies first: a crash in between leaves a copy the journal lacks, which verify reports rather than hides.
  appendFileSync(sidecarPath(journal), `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
  try {
    const keySide = keySidePath(journal, environment);
    mkdirSync(dirname(keySide), { recursive: true, mode: 0o700 });
    appendFileSync(keySide, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
  } catch {
    // A read-only key dir still signs; verify then has two copies to compare, as before this third one existed.
  }
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

/** Checkpoints of a JSON-lines copy; a line that does not parse is a problem named after `label`. */
function readCopy(path: string, label: string, note: (raw: unknown) => void, problems: Array<{ seq: number; reason: string }>): void {
  if (!existsSync(path)) return;
  readFileSync(path, 'utf8').split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      note(JSON.parse(line));
    } catch {
      problems.push({ seq: 0, reason: `${label} line ${index + 1} is not JSON (edited)` });
    }
  });
}

/** Where verification takes its key from: the lab's own (the key dir) unless a public key is given. */
export interface VerifyWith {
  /**
   * Verify against this public key instead of the lab's private key: the way anyone without the key checks a log
   * (`audit verify --public-key`, an exported folder). The copy beside the key dir is then not read either.
   */
  publicKey?: KeyObject;
}

/** An Ed25519 public key and its id (sha256 of its DER, first 16 hex digits, as the lab's key is named). */
export function describePublicKey(publicKey: KeyObject): { publicKey: KeyObject; keyId: string } {
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new AuditKeyError(`the public key is a ${publicKey.asymmetricKeyType} key, not Ed25519`);
  return { publicKey, keyId: keyIdOf(publicKey) };
}

/** Checks every saved checkpoint against the key and the log; returns the problem with the lowest seq. */
export function verifyCheckpoints(journal: Journal, environment: NodeJS.ProcessEnv = process.env, using: VerifyWith = {}): CheckpointReport {
  const found = new Map<string, Found>();
  const problems: Array<{ seq: number; reason: string }> = [];
  const note = (raw: unknown, where: 'inJournal' | 'inSidecar' | null): void => {
    const id = JSON.stringify([field(raw, 'seq'), field(raw, 'hash'), field(raw, 'at'), field(raw, 'signature')]);
    const entry = found.get(id) ?? { raw, inJournal: false, inSidecar: false };
    if (where) entry[where] = true;
    found.set(id, entry);
  };
  for (const row of journal.listCheckpoints()) note(row, 'inJournal');
  readCopy(sidecarPath(journal), SIDECAR_FILE, (raw) => note(raw, 'inSidecar'), problems);
  // The copy beside the key only adds: a checkpoint found there alone was deleted from both copies in the state dir.
  if (!using.publicKey) readCopy(keySidePath(journal, environment), 'the checkpoint log beside the key', (raw) => note(raw, null), problems);
  if (found.size === 0) return { checkpoints: 0, ...firstOf(problems) };

  const key = using.publicKey ? describePublicKey(using.publicKey) : readAuditKey(stateDirOf(journal), environment);
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
    if (!inJournal && !inSidecar) problems.push({ seq: checkpoint.seq, reason: `${named} is in the copy beside the key but missing from the journal and ${SIDECAR_FILE} (deleted)` });
    else if (!inJournal) problems.push({ seq: checkpoint.seq, reason: `${named} is in ${SIDECAR_FILE} but missing from the journal (deleted)` });
    else if (!inSidecar) problems.push({ seq: checkpoint.seq, reason: `${named} is in the journal but missing from ${SIDECAR_FILE} (deleted)` });
    if (key === undefined) {
      problems.push({ seq: checkpoint.seq, reason: `${named} cannot be checked: no audit key at ${join(keyDir(environment), KEY_FILE)} (give --public-key KEY to check with the lab's public key)` });
      continue;
    }
    if (checkpoint.keyId !== key.keyId) {
      problems.push({ seq: checkpoint.seq, reason: `${named} names key ${checkpoint.keyId}, not ${using.publicKey ? 'the given public key' : "this lab's key"} ${key.keyId} (forged)` });
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
