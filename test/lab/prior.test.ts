/**
 * A lab that learns across runs: a second run on the same task version starts from what the first one found (its
 * best configuration is the first candidate, measured again and gated here); `--fresh` starts from nothing; a task
 * whose files changed is a new task. And the search researcher's model starts from the prior's observations.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openJournal } from '../../src/journal/journal.js';
import { createBuiltinResearcher } from '../../src/researcher/builtin.js';
import { RunId } from '../../src/task/ids.js';
import { makeContext, randomHistory, summary, speedrunSpace } from '../researcher/fixtures.js';
import { copyTask, runCli, temporaryDir } from './fixtures.js';

const scratch = temporaryDir('successor-prior-');
afterAll(() => scratch.remove());

describe('runs on the same task version', () => {
  const home = join(scratch.path, 'home');
  const task = copyTask('sleepy', scratch.path);
  const replay = join(scratch.path, 'replay.json');
  writeFileSync(replay, JSON.stringify([{ change: { knobs: { delayMs: 200 }, edits: [] }, description: 'shorter delay' }]));
  const research = (...flags: string[]) => {
    const result = runCli(['research', '--task', task, '--sandbox', 'off', '--json', ...flags], home, { timeoutMs: 280_000 });
    expect(result.code, result.stderr).toBe(0);
    return { summary: JSON.parse(result.stdout), stderr: result.stderr };
  };

  it('the second run tries the first one\'s best configuration first; --fresh does not', { timeout: 600_000 }, () => {
    const first = research('--researcher', `replay:${replay}`, '--max-experiments', '1');
    expect(first.summary.accepted).toBe(1);
    const second = research('--researcher', 'search', '--max-experiments', '1');
    expect(second.stderr).toMatch(/starting from 1 earlier run\(s\) of this task version: 1 observations; trying first its best configuration/);
    const journal = openJournal(join(home, 'successor.db'), { readonly: true });
    try {
      const seeded = journal.listExperiments(RunId.parse(second.summary.runId)).find((experiment) => experiment.role === 'candidate');
      expect(seeded?.metadata.seededFrom).toBe(first.summary.runId);
      expect(seeded?.change.knobs).toEqual({ delayMs: 200 });
      expect(seeded?.description).toMatch(/^best known configuration/);
    } finally {
      journal.close();
    }
    // Measured again here, and gated like any other candidate.
    expect(second.summary.accepted).toBe(1);
    const fresh = research('--researcher', 'search', '--max-experiments', '1', '--fresh');
    expect(fresh.stderr).not.toMatch(/starting from/);
  });
});

describe('the search researcher with a prior', () => {
  it('skips its start-up moves and proposes near the best prior point', async () => {
    const prior = randomHistory(40, 11, 0).map((experiment, index) => (index === 7
      ? { ...experiment, assignment: { ...experiment.assignment, learningRate: 0.01, batchSize: 64 }, outcome: { status: 'ok' as const, score: 1, metrics: {} } }
      : experiment));
    const history = [summary(0, { assignment: prior[0].assignment, outcome: { status: 'ok', score: 100, metrics: {} } })];
    const withPrior = await createBuiltinResearcher('search', { seed: 3 }).propose({ ...makeContext(history, { space: speedrunSpace }), prior });
    const without = await createBuiltinResearcher('search', { seed: 3 }).propose(makeContext(history, { space: speedrunSpace }));
    expect(withPrior).not.toEqual(without);
    expect(withPrior?.change.knobs).toBeDefined();
  });
});
