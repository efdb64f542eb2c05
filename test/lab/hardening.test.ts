/**
 * The lab's side of issue 14, mechanism by mechanism, on a real journal: artifact retention (what it keeps, what it
 * prunes, what it journals), harness seeds (fresh, cryptographic, reused on resume), and proposal checks (a
 * malformed or chained change is the candidate's `failed` outcome, never an exception).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openJournal, type ExperimentRow, type Journal } from '../../src/journal/journal.js';
import { checkProposal } from '../../src/lab/proposal-check.js';
import { prunable, pruneArtifacts } from '../../src/lab/retention.js';
import { HARNESS_SEED_LIMIT, harnessSeedOf } from '../../src/lab/seeds.js';
import type { FileEdit } from '../../src/task/change.js';
import { loadTask } from '../../src/task/loader.js';
import { defaultAssignment } from '../../src/task/space.js';
import { experimentInput, removeTemporaryJournals, runInput, temporaryJournalPath } from '../journal/fixtures/sample-journal.js';
import { FIXTURE_TASKS, temporaryDir } from './fixtures.js';

const scratch = temporaryDir('successor-hardening-');
afterAll(() => {
  scratch.remove();
  removeTemporaryJournals();
});

/** A run with a baseline and `candidates` finished candidates, each with an artifacts folder on disk. */
function runWithArtifacts(candidates: number): { journal: Journal; runId: ExperimentRow['runId']; rows: ExperimentRow[] } {
  const journal = openJournal(temporaryJournalPath());
  const run = journal.createRun(runInput());
  const rows: ExperimentRow[] = [];
  for (let index = 0; index <= candidates; index += 1) {
    const artifactsPath = join(scratch.path, run.id, `experiment-${index}`, 'artifacts');
    mkdirSync(artifactsPath, { recursive: true });
    writeFileSync(join(artifactsPath, 'model.bin'), 'weights');
    const row = journal.createExperiment(experimentInput(run.id, { role: index === 0 ? 'baseline' : 'candidate', parentId: index === 0 ? null : rows[0].id }));
    rows.push(journal.updateExperiment(row.id, { state: 'finished', outcome: { status: 'ok', score: 10, metrics: {} }, artifactsPath }));
  }
  return { journal, runId: run.id, rows };
}

describe('artifact retention', () => {
  it('keeps the incumbent\'s, the accepted, the awaited and the last N; prunes the rest, removes them and journals it', async () => {
    const { journal, runId, rows } = runWithArtifacts(9);
    const [baseline, , second, third, fourth] = rows;
    journal.updateExperiment(second.id, { accepted: true, metadata: { decidedAt: '2026-01-01T00:00:00.000Z' } }); // the incumbent
    journal.updateExperiment(third.id, { metadata: { claim: true } }); // repeats under way
    journal.updateExperiment(fourth.id, { metadata: { decidedAt: '2026-01-01T00:00:01.000Z', approval: 'pending' } }); // nominee
    const expectedPruned = [baseline, rows[1], rows[5], rows[6]].map((row) => row.id); // rows 7-9 are the last three
    expect(prunable(journal.listExperiments(runId), 3).map((row) => row.id)).toEqual(expectedPruned);

    const pruned = await pruneArtifacts(journal, runId, 3);
    expect(pruned.map((row) => row.id)).toEqual(expectedPruned);
    for (const row of journal.listExperiments(runId)) {
      const gone = expectedPruned.includes(row.id);
      expect(existsSync(row.artifactsPath!), row.id).toBe(!gone);
      expect(Boolean(row.metadata.artifactsPruned), row.id).toBe(gone);
      expect(row.artifactsPath).not.toBeNull(); // where they were stays on record
    }
    const events = journal.listEvents(runId).filter((event) => event.type === 'artifacts.pruned');
    expect(events.map((event) => event.payload)).toEqual([{ experiments: expectedPruned, keepLast: 3 }]);
    expect(await pruneArtifacts(journal, runId, 3)).toEqual([]); // nothing twice
    expect(journal.verifyAudit().ok).toBe(true);
    journal.close();
  });
});

describe('harness seeds', () => {
  const row = (metadata: Record<string, unknown>) => ({ metadata }) as unknown as ExperimentRow;

  it('draws a fresh seed in range for an experiment without one, never the same twice in a thousand', () => {
    const seeds = Array.from({ length: 1000 }, () => harnessSeedOf(row({})));
    expect(new Set(seeds).size).toBe(1000);
    for (const seed of seeds) expect(Number.isInteger(seed) && seed >= 1 && seed < HARNESS_SEED_LIMIT).toBe(true);
  });

  it('reuses the seed recorded for an experiment that a killed run left behind', () => {
    expect(harnessSeedOf(row({ seed: 123_456_789, capSeconds: 9 }))).toBe(123_456_789);
    expect(harnessSeedOf(row({ seed: 0 }))).toBe(0);
    expect(harnessSeedOf(row({ seed: 'seven' }))).not.toBe('seven');
  });
});

describe('proposal checks', () => {
  const task = loadTask(join(FIXTURE_TASKS, 'speedrun-tiny'));
  const root = { edits: [] as FileEdit[], assignment: defaultAssignment(task.file.space) };
  const check = (edits: FileEdit[], parent = root) => checkProposal(task, parent, { knobs: {}, edits }, join(scratch.path, 'proposals'));

  it('turns every malformed change into a failed outcome with the reason', () => {
    const cases: Array<[FileEdit[], RegExp]> = [
      [[{ kind: 'write', path: 'config.json', content: 'null' }], /must hold a JSON object, not null/],
      [[{ kind: 'write', path: 'run.ts/evil.ts', content: 'x' }], /writing 'run.ts\/evil.ts' failed: a folder on its path is a file/],
      [[{ kind: 'replace', path: 'run.ts', search: 'no such text anywhere', replace: 'x' }], /the search text was not found/],
      [[{ kind: 'write', path: '../escape.ts', content: 'x' }], /outside the workspace/],
      [[], /the change is empty/],
    ];
    for (const [edits, reason] of cases) {
      const checked = check(edits);
      expect(checked.diff).toBe('');
      expect(checked.outcome?.status).toBe('failed');
      expect(checked.outcome && 'reason' in checked.outcome ? checked.outcome.reason : '').toMatch(new RegExp(`^change did not apply: .*${reason.source}`));
    }
  });

  it('refuses the link of a chain that takes the lineage past its cap, and passes the ones before it', () => {
    const link = (index: number): FileEdit => ({ kind: 'write', path: `data-${index}.json`, content: String(index).repeat(200 * 1024) });
    expect(check([link(1)]).outcome).toBeNull();
    const afterTwo = { ...root, edits: [link(1), link(2)] };
    expect(check([link(2)], { ...root, edits: [link(1)] }).outcome).toBeNull();
    const third = check([link(3)], afterTwo);
    const reason = third.outcome && 'reason' in third.outcome ? third.outcome.reason : '';
    expect(reason).toMatch(/^change did not apply: the lineage adds \d+ bytes to the task's workspace; at most 524288/);
    // The three links, plus the knob values rewritten into config.json.
    expect(Number(/adds (\d+) bytes/.exec(reason)?.[1]) - 3 * 200 * 1024).toBeGreaterThanOrEqual(0);
    expect(Number(/adds (\d+) bytes/.exec(reason)?.[1]) - 3 * 200 * 1024).toBeLessThan(4096);
  });

  it('gives a well-formed change its diff and no outcome', () => {
    const checked = check([{ kind: 'write', path: 'notes.ts', content: 'export const note = 1;\n' }]);
    expect(checked.outcome).toBeNull();
    expect(checked.diff).toMatch(/\+export const note = 1;/);
  });
});
