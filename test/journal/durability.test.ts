/**
 * kill -9 at any moment leaves a consistent journal: a child process writes in a loop and is SIGKILLed at a random
 * moment; the reopened journal verifies, and every write the child acknowledged is there. Three rounds share one file.
 */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { openJournal } from '../../src/journal/journal.js';
import { RunId } from '../../src/task/ids.js';
import { removeTemporaryJournals, temporaryJournalPath } from './fixtures/sample-journal.js';

afterAll(removeTemporaryJournals);

interface Killed { runId: RunId; acked: number; readerSawOk: boolean }

/** Starts the writer, waits for its first ack, opens a concurrent reader, then SIGKILLs it after a random delay. */
function writeThenKill(path: string, delayMs: number): Promise<Killed> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/run-ts.js', 'test/journal/fixtures/journal-writer.ts', path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    let runId: RunId | undefined;
    let acked = 0;
    let readerSawOk = false;
    let killTimer: NodeJS.Timeout | undefined;
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const lines = output.split('\n');
      output = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('run ')) runId = RunId.parse(line.slice(4));
        if (line.startsWith('acked ')) acked = Number(line.slice(6));
      }
      if (acked > 0 && killTimer === undefined) {
        // A reader in this process while the writer runs: WAL gives it a consistent snapshot.
        const reader = openJournal(path, { readonly: true });
        readerSawOk = reader.verifyAudit().ok;
        reader.close();
        killTimer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL' || runId === undefined) reject(new Error(`writer ended without being killed (${signal}): ${errors}`));
      else resolve({ runId, acked, readerSawOk });
    });
  });
}

describe('durability', () => {
  it('survives SIGKILL mid-write: consistent, verified, nothing acknowledged lost', { timeout: 180_000 }, async () => {
    const path = temporaryJournalPath();
    for (const delayMs of [0, 37, 150 + Math.floor(Math.random() * 200)]) {
      const killed = await writeThenKill(path, delayMs);
      expect(killed.readerSawOk).toBe(true);
      const journal = openJournal(path);
      try {
        const report = journal.verifyAudit();
        expect(report, JSON.stringify(report)).toMatchObject({ ok: true });
        const experiments = journal.listExperiments(killed.runId);
        expect(experiments.length).toBeGreaterThanOrEqual(killed.acked);
        // At most one iteration past the last ack committed (killed before it could print it); seq has no holes.
        expect(experiments.length).toBeLessThanOrEqual(killed.acked + 1);
        expect(experiments.map((experiment) => experiment.seq)).toEqual(experiments.map((_, index) => index + 1));
        // Even iterations wrote experiment, update and event in one transaction: all three or none survived.
        const eventExperiments = new Set(journal.listEvents(killed.runId).map((event) => event.experimentId));
        for (const experiment of experiments.filter((row) => row.seq % 2 === 0)) {
          expect(experiment.state).toBe('finished');
          expect(eventExperiments.has(experiment.id)).toBe(true);
        }
      } finally {
        journal.close();
      }
    }
  });
});
