/**
 * Signed checkpoints of the audit log against an attacker who can run any SQL on the journal file and edit the
 * files beside it, but cannot read the key (kept outside the state dir): a log rewritten with every hash recomputed,
 * a log truncated below a checkpoint, forged or edited checkpoints, checkpoints deleted from one copy, and every
 * checkpoint deleted from the state dir (the copy beside the key catches that).
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { entryHash, type AuditAction } from '../../src/journal/audit-chain.js';
import { KEY_FILE, keyDir, loadOrCreateAuditKey } from '../../src/journal/audit-key.js';
import { SIDECAR_FILE, keySidePath, sidecarPath, verifyCheckpoints, writeAuditCheckpoint } from '../../src/journal/audit-checkpoint.js';
import { checkpointBytes } from '../../src/journal/audit-checkpoint-record.js';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import type { RunId } from '../../src/task/ids.js';
import { removeTemporaryJournals, sampleJournal } from './fixtures/sample-journal.js';

const keys = mkdtempSync(join(tmpdir(), 'successor-keys-'));
afterAll(() => {
  removeTemporaryJournals();
  rmSync(keys, { recursive: true, force: true });
});

/** Each test gets its own key dir, outside its journal's state dir. */
let keyCounter = 0;
const environment = (): NodeJS.ProcessEnv => ({ SUCCESSOR_KEY_DIR: join(keys, `key-${keyCounter++}`) });

/** A sample journal (9 entries) with a checkpoint at entry 9, one more entry, and a checkpoint at entry 10. */
function checkpointed(): { journal: Journal; path: string; env: NodeJS.ProcessEnv } {
  const env = environment();
  const { journal, path } = sampleJournal();
  writeAuditCheckpoint(journal, env);
  journal.setCache('later', { n: 1 });
  writeAuditCheckpoint(journal, env);
  journal.close();
  return { journal: openJournal(path), path, env };
}

/** Raw SQL on the closed file, then reopen: the attacker's view. */
function attack(path: string, journal: Journal, work: (db: Database.Database) => void): Journal {
  journal.close();
  const db = new Database(path);
  work(db);
  db.close();
  return openJournal(path);
}

/** Recomputes every hash from entry `from` on, so the chain is whole again after an edit. */
function rehash(db: Database.Database, from: number): void {
  const rows = db.prepare('SELECT * FROM audit WHERE seq >= ? ORDER BY seq').all(from) as Array<Record<string, string | number | null>>;
  let prev = (db.prepare('SELECT hash FROM audit WHERE seq = ?').get(from - 1) as { hash: string }).hash;
  for (const row of rows) {
    const entry = { seq: Number(row.seq), at: String(row.at), action: row.action as AuditAction, entityId: String(row.entity_id),
      runId: row.run_id as RunId | null, payload: JSON.parse(String(row.payload)) as Record<string, unknown> };
    const hash = entryHash(prev, entry);
    db.prepare('UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?').run(prev, hash, entry.seq);
    prev = hash;
  }
}

describe('writing checkpoints', () => {
  it('signs the head, stores it in the journal and the sidecar, and an untouched log verifies', () => {
    const { journal, path, env } = checkpointed();
    expect(journal.listCheckpoints().map((checkpoint) => checkpoint.seq)).toEqual([9, 10]);
    expect(readFileSync(join(dirname(path), SIDECAR_FILE), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(verifyCheckpoints(journal, env)).toEqual({ checkpoints: 2, lastSeq: 10 });
    journal.close();
  });

  it('keeps the key outside the state dir: mode 0600, refused inside it, default under ~/.config', () => {
    const { journal, path, env } = checkpointed();
    const keyPath = join(env.SUCCESSOR_KEY_DIR!, KEY_FILE);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(keyPath.startsWith(dirname(path))).toBe(false);
    expect(keyDir({})).toBe(join(homedir(), '.config', 'successor'));
    const inside = { SUCCESSOR_KEY_DIR: join(dirname(path), 'keys') };
    expect(() => writeAuditCheckpoint(journal, inside)).toThrow(/inside the state dir/);
    expect(() => writeAuditCheckpoint(journal, { SUCCESSOR_KEY_DIR: dirname(path) })).toThrow(/inside the state dir/);
    // The same key is read back, never replaced.
    expect(loadOrCreateAuditKey(dirname(path), env).keyId).toBe(journal.listCheckpoints()[0].keyId);
    journal.close();
  });
});

describe('checkpoints catch', () => {
  it('a rewrite of the whole log with every hash recomputed (the chain and replay alone pass it)', () => {
    const { journal, path, env } = checkpointed();
    const rewritten = attack(path, journal, (db) => {
      // Claim the baseline scored 12.5 instead of 120.5, in the log and in the table, then rebuild the chain.
      db.prepare("UPDATE audit SET payload = replace(payload, '120.5', '12.5') WHERE seq = 4").run();
      db.prepare("UPDATE experiments SET outcome = replace(outcome, '120.5', '12.5') WHERE role = 'baseline'").run();
      rehash(db, 4);
    });
    expect(rewritten.verifyAudit().ok).toBe(true);
    expect(verifyCheckpoints(rewritten, env)).toMatchObject({
      checkpoints: 2, firstBad: { seq: 9, reason: expect.stringMatching(/entry 9's hash differs .* rewritten/) },
    });
    rewritten.close();
  });

  it('a log truncated below a checkpoint, its state rows removed to match', () => {
    const { journal, path, env } = checkpointed();
    const truncated = attack(path, journal, (db) => {
      db.prepare('DELETE FROM audit WHERE seq >= 8').run();
      db.prepare("DELETE FROM events WHERE type = 'budget'").run();
      db.prepare('DELETE FROM cache').run();
    });
    expect(truncated.verifyAudit().ok).toBe(true);
    expect(verifyCheckpoints(truncated, env).firstBad).toEqual({
      seq: 8, reason: expect.stringMatching(/the log ends at entry 7, but the checkpoint of entry 9 .* truncated/),
    });
    truncated.close();
  });

  it('a checkpoint re-signed with another key, an edited one, and a bad signature', () => {
    const { journal, path, env } = checkpointed();
    const forgedKey = generateKeyPairSync('ed25519').privateKey;
    const [first, second] = journal.listCheckpoints();
    const resigned = { ...second, signature: sign(null, checkpointBytes(second), forgedKey).toString('base64') };
    const edited = { ...first, seq: 8 };
    const garbled = { ...second, signature: Buffer.alloc(64, 7).toString('base64') };
    const forged = attack(path, journal, (db) => {
      db.prepare('DELETE FROM audit_checkpoints').run();
      const insert = db.prepare('INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) VALUES (@seq, @hash, @at, @keyId, @signature)');
      for (const checkpoint of [resigned, edited, garbled]) insert.run(checkpoint);
    });
    writeFileSync(sidecarPath(forged), [resigned, edited, garbled].map((checkpoint) => `${JSON.stringify(checkpoint)}\n`).join(''));
    const report = verifyCheckpoints(forged, env);
    expect(report.checkpoints).toBe(5); // the three forgeries, and the two genuine ones still beside the key
    expect(report.firstBad).toEqual({ seq: 8, reason: expect.stringMatching(/invalid signature/) });
    // The re-signed one alone: the signature is valid for the forger's key, but not for this lab's.
    forged.close();
    const alone = attack(path, openJournal(path), (db) => db.prepare('DELETE FROM audit_checkpoints WHERE seq = 8').run());
    writeFileSync(sidecarPath(alone), `${JSON.stringify(resigned)}\n`);
    writeFileSync(keySidePath(alone, env), '');
    expect(verifyCheckpoints(alone, env).firstBad?.reason).toMatch(/invalid signature/);
    alone.close();
  });

  it('checkpoints deleted from the journal, or from the sidecar file', () => {
    const { journal, path, env } = checkpointed();
    const deleted = attack(path, journal, (db) => db.prepare('DELETE FROM audit_checkpoints WHERE seq = 10').run());
    expect(verifyCheckpoints(deleted, env).firstBad?.reason).toMatch(/entry 10 .* missing from the journal/);
    writeFileSync(sidecarPath(deleted), '');
    expect(verifyCheckpoints(deleted, env).firstBad?.reason).toMatch(/entry 9 .* missing from audit-checkpoints.jsonl/);
    deleted.close();
  });

  it('a rewritten log with every checkpoint deleted from the state dir: the copy beside the key still has them', () => {
    const { journal, path, env } = checkpointed();
    const keySide = readFileSync(keySidePath(journal, env), 'utf8');
    expect(keySide.trim().split('\n')).toHaveLength(2);
    const wiped = attack(path, journal, (db) => {
      db.prepare("UPDATE audit SET payload = replace(payload, '120.5', '12.5') WHERE seq = 4").run();
      db.prepare("UPDATE experiments SET outcome = replace(outcome, '120.5', '12.5') WHERE role = 'baseline'").run();
      rehash(db, 4);
      db.prepare('DELETE FROM audit_checkpoints').run();
    });
    rmSync(sidecarPath(wiped));
    expect(wiped.verifyAudit().ok).toBe(true);
    expect(verifyCheckpoints(wiped, env).firstBad).toEqual({
      seq: 9, reason: expect.stringMatching(/entry 9 .* beside the key but missing from the journal and audit-checkpoints.jsonl \(deleted\)/),
    });
    // The copy beside the key is no more writable by the attacker than the key: without it, this would pass.
    writeFileSync(keySidePath(wiped, env), '');
    expect(verifyCheckpoints(wiped, env)).toEqual({ checkpoints: 0 });
    wiped.close();
  });

  it('checkpoints whose key is gone cannot vouch for the log', () => {
    const { journal, env } = checkpointed();
    rmSync(env.SUCCESSOR_KEY_DIR!, { recursive: true });
    expect(verifyCheckpoints(journal, env).firstBad?.reason).toMatch(/no audit key/);
    journal.close();
  });
});

describe('successor audit checkpoint / verify', () => {
  const successor = async (home: string, env: NodeJS.ProcessEnv, ...args: string[]) => {
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['bin/successor.js', ...args], { env: { ...process.env, ...env, SUCCESSOR_HOME: home, NO_COLOR: '1' } });
      return { code: 0, stdout };
    } catch (error) {
      return { code: (error as { code: number }).code, stdout: (error as { stdout: string }).stdout };
    }
  };

  it('writes a checkpoint on demand, verifies with it, and names the first bad entry after a rewrite', { timeout: 180_000 }, async () => {
    const env = environment();
    const { journal, path } = sampleJournal();
    journal.close();
    const home = dirname(path);
    const written = await successor(home, env, 'audit', 'checkpoint', '--json');
    expect(written.code).toBe(0);
    expect(JSON.parse(written.stdout)).toMatchObject({ seq: 9, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await successor(home, env, 'audit', 'verify')).stdout).toMatch(/^audit ok: 9 entries, head [0-9a-f]{64}, 1 signed checkpoint\n$/);
    attack(path, openJournal(path), (db) => {
      db.prepare("UPDATE audit SET payload = replace(payload, '700', '70') WHERE seq = 8").run();
      db.prepare("UPDATE events SET payload = replace(payload, '700', '70') WHERE type = 'budget'").run();
      rehash(db, 8);
    }).close();
    const verified = await successor(home, env, 'audit', 'verify');
    expect(verified).toEqual({ code: 1, stdout: expect.stringMatching(/^audit FAILED: entry 9: entry 9's hash differs .* rewritten\n$/) });
  });
});
