/**
 * The audit log catches tampering done with raw SQL on the file, as an attacker (or a careless script) would do it:
 * edited, deleted, swapped and truncated entries, and state rows edited behind the log's back.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { entryHash, type AuditAction } from '../../src/journal/audit-chain.js';
import { GENESIS_HASH, openJournal, type Journal } from '../../src/journal/journal.js';
import type { RunId } from '../../src/task/ids.js';
import { experimentInput, removeTemporaryJournals, runInput, sampleJournal, temporaryJournalPath, type Sample } from './fixtures/sample-journal.js';

const opened: Journal[] = [];
afterEach(() => {
  for (const journal of opened.splice(0)) journal.close();
});
afterAll(removeTemporaryJournals);

/** Builds the sample, closes it, lets `tamper` edit the file with raw SQL, and reopens it. */
function tampered(tamper: (db: Database.Database, sample: Sample) => void): { journal: Journal; sample: Sample } {
  const sample = sampleJournal();
  sample.journal.close();
  const db = new Database(sample.path);
  tamper(db, sample);
  db.close();
  const journal = openJournal(sample.path);
  opened.push(journal);
  return { journal, sample };
}

const ENTRIES = 9;

describe('verifyAudit on an untouched journal', () => {
  it('is ok, counts every entry, and reports the head hash', () => {
    const { journal } = sampleJournal();
    const empty = openJournal(temporaryJournalPath());
    opened.push(journal, empty);
    const report = journal.verifyAudit();
    expect(report).toEqual({ ok: true, entries: ENTRIES, headHash: journal.auditHead().hash });
    expect(report.headHash).toMatch(/^[0-9a-f]{64}$/);
    expect(empty.verifyAudit()).toEqual({ ok: true, entries: 0, headHash: GENESIS_HASH });
  });

  it('hashes entries as documented: sha256(prev_hash + canonical JSON of the entry), independently recomputed', () => {
    const journal = openJournal(temporaryJournalPath());
    opened.push(journal);
    journal.setCache('k', { b: 1, a: 'x' });
    const at = new Database(journal.path, { readonly: true });
    const row = at.prepare('SELECT * FROM audit WHERE seq = 1').get() as { at: string; hash: string; payload: string; prev_hash: string };
    at.close();
    const bytes = `{"action":"cache.set","at":"${row.at}","entityId":"k","payload":{"key":"k","value":{"a":"x","b":1}},"runId":null,"seq":1}`;
    expect(row.payload).toBe('{"key":"k","value":{"a":"x","b":1}}');
    expect(row.prev_hash).toBe('0'.repeat(64));
    expect(row.hash).toBe(createHash('sha256').update('0'.repeat(64) + bytes).digest('hex'));
  });
});

describe('verifyAudit catches', () => {
  it('an edited payload', () => {
    const { journal } = tampered((db) => db.prepare("UPDATE audit SET payload = replace(payload, 'baseline', 'improved') WHERE seq = 2").run());
    expect(journal.verifyAudit()).toMatchObject({ ok: false, firstBad: { seq: 2, reason: expect.stringMatching(/hash mismatch/) } });
  });

  it('an edited entry whose own hash was recomputed (the next link breaks)', () => {
    const { journal } = tampered((db) => {
      db.prepare("UPDATE audit SET payload = replace(payload, '120.5', '12.5') WHERE seq = 4").run();
      const row = db.prepare('SELECT * FROM audit WHERE seq = 4').get() as Record<string, string | number | null>;
      const entry = { seq: 4, at: String(row.at), action: row.action as AuditAction, entityId: String(row.entity_id),
        runId: row.run_id as RunId, payload: JSON.parse(String(row.payload)) as Record<string, unknown> };
      db.prepare('UPDATE audit SET hash = ? WHERE seq = 4').run(entryHash(String(row.prev_hash), entry));
    });
    expect(journal.verifyAudit()).toMatchObject({ ok: false, entries: 4, firstBad: { seq: 5, reason: expect.stringMatching(/broken link/) } });
  });

  it('a payload rewritten to equivalent but non-canonical JSON', () => {
    const { journal } = tampered((db) => db.prepare("UPDATE audit SET payload = ' ' || payload WHERE seq = 3").run());
    expect(journal.verifyAudit()).toMatchObject({ ok: false, firstBad: { seq: 3, reason: expect.stringMatching(/canonical/) } });
  });

  it('a state row edited with raw SQL (the chain itself intact)', () => {
    const { journal, sample } = tampered((db, { candidate }) => {
      db.prepare('UPDATE experiments SET outcome = ? WHERE id = ?').run('{"metrics":{},"score":99,"status":"ok"}', candidate.id);
    });
    const report = journal.verifyAudit();
    // The candidate was last written by entry 7 (its experiment.update).
    expect(report).toMatchObject({ ok: false, entries: ENTRIES, firstBad: { seq: 7 } });
    expect(report.firstBad?.reason).toContain(`experiments row ${sample.candidate.id}: column outcome`);
  });

  it('a state row inserted or deleted behind the log', () => {
    const inserted = tampered((db, { runId }) => {
      db.prepare("INSERT INTO events (run_id, type, payload, at) VALUES (?, 'forged', '{}', '2026-01-01T00:00:00.000Z')").run(runId);
    });
    expect(inserted.journal.verifyAudit()).toMatchObject({ ok: false, firstBad: { seq: ENTRIES + 1, reason: expect.stringMatching(/not in the log/) } });
    const deleted = tampered((db) => db.prepare("DELETE FROM cache").run());
    expect(deleted.journal.verifyAudit()).toMatchObject({ ok: false, firstBad: { seq: 9, reason: expect.stringMatching(/missing/) } });
  });

  it('a deleted entry', () => {
    const { journal } = tampered((db) => db.prepare('DELETE FROM audit WHERE seq = 5').run());
    expect(journal.verifyAudit()).toMatchObject({ ok: false, entries: 4, firstBad: { seq: 5, reason: expect.stringMatching(/missing/) } });
  });

  it('swapped entries, whether their contents or their seq numbers are swapped', () => {
    const columns = 'at, action, entity_id, run_id, payload, prev_hash, hash';
    const swapContents = tampered((db) => {
      const [five, six] = [5, 6].map((seq) => db.prepare(`SELECT ${columns} FROM audit WHERE seq = ?`).get(seq) as Record<string, unknown>);
      const write = db.prepare('UPDATE audit SET at = @at, action = @action, entity_id = @entity_id, run_id = @run_id, payload = @payload, prev_hash = @prev_hash, hash = @hash WHERE seq = @seq');
      write.run({ ...six, seq: 5 });
      write.run({ ...five, seq: 6 });
    });
    expect(swapContents.journal.verifyAudit()).toMatchObject({ ok: false, firstBad: { seq: 5 } });
    const swapSeqs = tampered((db) => {
      db.prepare('UPDATE audit SET seq = 1000 WHERE seq = 5').run();
      db.prepare('UPDATE audit SET seq = 5 WHERE seq = 6').run();
      db.prepare('UPDATE audit SET seq = 6 WHERE seq = 1000').run();
    });
    expect(swapSeqs.journal.verifyAudit()).toMatchObject({ ok: false, firstBad: { seq: 5 } });
  });

  it('a truncated tail while the state it described remains', () => {
    const lastTwo = tampered((db) => db.prepare('DELETE FROM audit WHERE seq > 7').run());
    // Chain intact up to 7; the budget event and the cache entry have no entry behind them.
    expect(lastTwo.journal.verifyAudit()).toMatchObject({ ok: false, entries: 7, firstBad: { seq: 8, reason: expect.stringMatching(/not in the log/) } });
    // Cutting only an update: the row exists in the log but holds a value the log never wrote.
    const lastUpdate = tampered((db) => db.prepare('DELETE FROM audit WHERE seq >= 7').run());
    expect(lastUpdate.journal.verifyAudit()).toMatchObject({ ok: false, firstBad: { seq: 6, reason: expect.stringMatching(/column state differs/) } });
  });
});

describe('verifyAudit for one run', () => {
  it('counts that run\'s entries, compares only its rows, but checks the chain end to end', () => {
    const sample = sampleJournal();
    const other = sample.journal.createRun(runInput({ researcher: 'replay' }));
    const otherExperiment = sample.journal.createExperiment(experimentInput(other.id));
    sample.journal.close();
    const db = new Database(sample.path);
    db.prepare("UPDATE experiments SET description = 'forged' WHERE id = ?").run(otherExperiment.id);
    db.close();
    const journal = openJournal(sample.path);
    opened.push(journal);
    expect(journal.verifyAudit({ runId: sample.runId })).toMatchObject({ ok: true, entries: ENTRIES - 1 });
    expect(journal.verifyAudit({ runId: other.id })).toMatchObject({ ok: false, entries: 2, firstBad: { seq: ENTRIES + 2 } });

    const chain = new Database(sample.path);
    chain.prepare("UPDATE audit SET at = '2020-01-01T00:00:00.000Z' WHERE seq = ?").run(ENTRIES + 1);
    chain.close();
    expect(journal.verifyAudit({ runId: sample.runId })).toMatchObject({ ok: false, firstBad: { seq: ENTRIES + 1 } });
  });
});
