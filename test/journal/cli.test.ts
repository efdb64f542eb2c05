/** `successor audit verify`: the real CLI, run as a user would, against journals in temporary SUCCESSOR_HOMEs. */
import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTemporaryJournals, sampleJournal, temporaryJournalPath } from './fixtures/sample-journal.js';

afterAll(removeTemporaryJournals);

async function successor(home: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/successor.js', ...args], {
      env: { ...process.env, SUCCESSOR_HOME: home, NO_COLOR: '1' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('successor audit verify', () => {
  it('exit 0 with one ok line (text and --json), for the whole journal and for one run', { timeout: 180_000 }, async () => {
    const { journal, path, runId } = sampleJournal();
    const head = journal.auditHead().hash;
    journal.close();
    const home = dirname(path);
    const [text, run] = await Promise.all([successor(home, 'audit', 'verify'), successor(home, 'audit', 'verify', runId, '--json')]);
    expect(text).toMatchObject({ code: 0, stdout: `audit ok: 9 entries, head ${head}\n` });
    expect(run.code).toBe(0);
    // The run's own entries: all but the cache entry, which belongs to no run.
    expect(JSON.parse(run.stdout)).toEqual({ path, runId, ok: true, entries: 8, headHash: head, checkpoints: 0 });
  });

  it('exit 1 naming the first bad entry; exit 2 without a journal (as for every command); exit 2 for a malformed or unknown run', { timeout: 180_000 }, async () => {
    const { journal, path } = sampleJournal();
    journal.close();
    const db = new Database(path);
    db.prepare('DELETE FROM audit WHERE seq = 3').run();
    db.close();
    const home = dirname(path);
    const [tampered, missing, malformed, unknown] = await Promise.all([
      successor(home, 'audit', 'verify'),
      successor(dirname(temporaryJournalPath()), 'audit', 'verify'),
      successor(home, 'audit', 'verify', 'not-a-run'), successor(home, 'audit', 'verify', 'run_0000000000'),
    ]);
    expect(tampered).toMatchObject({ code: 1, stdout: 'audit FAILED: entry 3: entry missing (found seq 4 next)\n' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no lab state at/);
    expect(malformed.code).toBe(2);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/no run run_0000000000/) });
  });
});
