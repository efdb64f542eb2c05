/**
 * Journals for the dashboard's tests and its 10k benchmark: a run filled through the journal's own API (so every
 * row is audited as the lab would write it), with a baseline, candidates on a random tree, repeats, failures and
 * accepted ones. Not a simulation of the loop's decisions: only the shapes the dashboard must draw.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type ExperimentRow, type Journal, type RunRow } from '../../src/journal/journal.js';
import type { ExperimentId } from '../../src/task/ids.js';
import type { Outcome } from '../../src/task/outcome.js';

const temporaryDirectories: string[] = [];

export function temporaryStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'successor-ui-'));
  temporaryDirectories.push(dir);
  return dir;
}

export function removeTemporaryStateDirs(): void {
  for (const dir of temporaryDirectories.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function createRun(journal: Journal, overrides: Partial<Parameters<Journal['createRun']>[0]> = {}): RunRow {
  return journal.createRun({
    task: 'sleepy', taskDir: 'test/fixtures/tasks/sleepy', researcher: 'search',
    options: { budgetSeconds: 600, maxExperiments: 20, approval: 'auto' }, status: 'running', generation: 1, parentRunId: null,
    stopReason: null, summary: null, ...overrides,
  });
}

const SAMPLE_DIFF = `--- a/config.json
+++ b/config.json
@@ -1,4 +1,4 @@
 {
-  "delayMs": 1500,
+  "delayMs": 900,
   "mode": "good"
 }
`;

export function addExperiment(journal: Journal, run: RunRow, input: Partial<Parameters<Journal['createExperiment']>[0]> = {}): ExperimentRow {
  return journal.createExperiment({
    runId: run.id, parentId: null, role: 'candidate', description: 'delayMs=900', change: { knobs: { delayMs: 900 }, edits: [] },
    diff: SAMPLE_DIFF, state: 'finished', outcome: { status: 'ok', score: 1, metrics: { cpuSeconds: 0.2 } }, fidelity: 1,
    accepted: false, logPath: null, artifactsPath: null, metadata: {}, ...input,
  });
}

/** A deterministic generator, so the filled journal is the same on every machine. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** One run with `count` experiments (a baseline first), written in one transaction. */
export function fillRun(journal: Journal, count: number, seed = 1): RunRow {
  const random = mulberry32(seed);
  return journal.transaction(() => {
    const run = createRun(journal, { status: 'completed', options: { budgetSeconds: 36000, maxExperiments: count, approval: 'auto' } });
    const baseline = addExperiment(journal, run, { role: 'baseline', description: 'baseline', change: { knobs: {}, edits: [] }, diff: '',
      outcome: { status: 'ok', score: 2, metrics: {} } });
    const nodes: ExperimentId[] = [baseline.id];
    let best = 2;
    for (let index = 1; index < count; index++) {
      const parentId = nodes[Math.floor(random() * nodes.length)];
      const roll = random();
      const score = best * (0.97 + random() * 0.1);
      const outcome: Outcome = roll < 0.1 ? { status: 'failed', reason: 'exit code 1', metrics: {} } : { status: 'ok', score, metrics: { cpuSeconds: score } };
      const role = roll > 0.85 ? 'repeat' : 'candidate';
      // Few wins, as in a real run: most candidates that look better do not pass the gate.
      const accepted = role === 'candidate' && outcome.status === 'ok' && score < best * 0.985 && random() < 0.1;
      if (accepted) best = score;
      const row = addExperiment(journal, run, {
        parentId, description: `delayMs=${Math.round(50 + random() * 2950)}`, outcome, accepted, role,
        metadata: accepted ? { decidedAt: new Date(Date.now() + index).toISOString() } : {},
      });
      if (row.role === 'candidate') nodes.push(row.id);
    }
    journal.updateRun(run.id, { summary: { elapsedSeconds: 1234, bestScore: best } });
    return run;
  });
}

export function openTemporaryJournal(): { journal: Journal; stateDir: string; path: string } {
  const stateDir = temporaryStateDir();
  const path = join(stateDir, 'successor.db');
  return { journal: openJournal(path), stateDir, path };
}
