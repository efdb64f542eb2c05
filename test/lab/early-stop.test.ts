/**
 * Early stops through the real CLI loop (test/fixtures/tasks/stepper: a loss falling at the pace of a knob, printed
 * as it goes): a screening run whose progress falls behind the incumbent's curve is stopped long before its cap; with
 * --no-early-stop the same candidate runs to the cap. The runs the gate counts are never stopped on the run's lines.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openJournal } from '../../src/journal/journal.js';
import { RunId } from '../../src/task/ids.js';
import { copyTask, runCli, temporaryDir } from './fixtures.js';

const scratch = temporaryDir('successor-early-stop-');
afterAll(() => scratch.remove());

const task = copyTask('stepper', scratch.path);
const replay = join(scratch.path, 'replay.json');
writeFileSync(replay, JSON.stringify([{ change: { knobs: { speed: 0.25 }, edits: [] }, description: 'a quarter of the pace' }]));

function slowCandidate(home: string, ...flags: string[]) {
  const result = runCli(['research', '--task', task, '--researcher', `replay:${replay}`, '--max-experiments', '1', '--sandbox', 'off', '--json', ...flags], home, { timeoutMs: 200_000 });
  expect(result.code, result.stderr).toBe(0);
  const journal = openJournal(join(home, 'successor.db'), { readonly: true });
  try {
    const experiments = journal.listExperiments(RunId.parse(JSON.parse(result.stdout).runId));
    return { candidate: experiments.find((experiment) => experiment.role === 'candidate'), baseline: experiments.find((experiment) => experiment.role === 'baseline') };
  } finally {
    journal.close();
  }
}

it('stops a screening run that falls behind the incumbent\'s curve, long before its cap', { timeout: 240_000 }, () => {
  const { candidate, baseline } = slowCandidate(join(scratch.path, 'home-on'));
  expect(baseline?.metadata.progress?.length).toBeGreaterThan(10);
  expect(candidate?.outcome).toMatchObject({ status: 'timeout', reason: expect.stringMatching(/^stopped early: behind the incumbent/), metrics: { stoppedEarly: true } });
  const cap = candidate?.metadata.capSeconds ?? 0;
  expect(Number(candidate?.outcome?.metrics.wallSeconds)).toBeLessThan(cap * 0.8);
});

it('runs it to the cap with --no-early-stop', { timeout: 240_000 }, () => {
  const { candidate } = slowCandidate(join(scratch.path, 'home-off'), '--no-early-stop');
  expect(candidate?.outcome).toMatchObject({ status: 'timeout', reason: expect.stringMatching(/^slower than the incumbent: stopped at the .*s cap/) });
});
