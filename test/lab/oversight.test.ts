/**
 * Oversight as a user meets it, through the CLI in separate processes on the sleepy task: approval policies
 * (`each`: a candidate waits to run; a >10x step waits to become the incumbent), `successor approve | reject | stop`
 * from another terminal, `show RUN` listing what waits, and budgets that stop a run cleanly and extend on resume.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ExperimentRow, openJournal } from '../../src/journal/journal.js';
import type { RunId } from '../../src/task/ids.js';
import { copyTask, runCli, startCli, temporaryDir } from './fixtures.js';

const scratch = temporaryDir('successor-oversight-');
afterAll(() => scratch.remove());

function replayFile(name: string, knobs: Array<Record<string, unknown>>): string {
  const path = join(scratch.path, `${name}.json`);
  writeFileSync(path, JSON.stringify(knobs.map((set) => ({ change: { knobs: set, edits: [] }, description: JSON.stringify(set) }))));
  return path;
}

/** The research CLI in the background, with its stderr collected and its exit awaited. */
function background(args: string[], home: string) {
  const child = startCli(args, home);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

/** Polls the journal until `test` finds something (or fails after `seconds`). */
async function waitFor<T>(home: string, what: string, test: (experiments: ExperimentRow[], runId: RunId) => T | undefined, seconds = 120): Promise<{ value: T; runId: RunId }> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      const journal = openJournal(join(home, 'successor.db'), { readonly: true });
      try {
        const run = journal.listRuns()[0];
        const value = run ? test(journal.listExperiments(run.id), run.id) : undefined;
        if (value !== undefined) return { value, runId: run.id };
      } finally {
        journal.close();
      }
    } catch (error) {
      if (!/no such table|SQLITE_BUSY|unable to open|does not exist|schema version/i.test(String(error))) throw error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function readRun(home: string, runId: RunId) {
  const journal = openJournal(join(home, 'successor.db'), { readonly: true });
  try {
    return { run: journal.getRun(runId)!, experiments: journal.listExperiments(runId), events: journal.listEvents(runId) };
  } finally {
    journal.close();
  }
}

describe('approval policy each: every candidate waits for a human', () => {
  it('a rejected candidate ends rejected with its reason journaled; an approved one runs', { timeout: 300_000 }, async () => {
    const home = join(scratch.path, 'home-each');
    const task = copyTask('sleepy', join(scratch.path, 'each'));
    const replay = replayFile('each', [{ delayMs: 1000 }, { delayMs: 1200 }]);
    const lab = background(['research', '--task', task, '--researcher', `replay:${replay}`, '--max-experiments', '2', '--approval', 'each'], home);

    const first = await waitFor(home, 'the first candidate to wait', (experiments) => experiments.find((experiment) => experiment.role === 'candidate' && experiment.state === 'awaiting-approval'));
    const shown = runCli(['show', first.runId], home);
    expect(shown.stdout).toContain(`pending approval: ${first.value.id} (#${first.value.seq}, to run)`);
    const rejected = runCli(['reject', first.value.id, '--why', 'not on this machine'], home);
    expect(rejected.code, rejected.stderr).toBe(0);

    const second = await waitFor(home, 'the second candidate to wait', (experiments) =>
      experiments.find((experiment) => experiment.role === 'candidate' && experiment.state === 'awaiting-approval' && experiment.id !== first.value.id));
    expect(runCli(['approve', second.value.id], home).code).toBe(0);
    expect(await lab.exited, lab.stderr()).toBe(0);

    const { run, experiments, events } = readRun(home, first.runId);
    expect(run.status).toBe('completed');
    const byId = new Map(experiments.map((experiment) => [experiment.id, experiment]));
    expect(byId.get(first.value.id)?.outcome).toMatchObject({ status: 'rejected', reason: 'not on this machine' });
    expect(byId.get(second.value.id)?.outcome?.status, lab.stderr()).toBe('ok');
    expect(events.filter((event) => event.type === 'approval').map((event) => event.payload)).toEqual([
      { decision: 'rejected', by: 'human', why: 'not on this machine' },
      { decision: 'approved', by: 'human' },
    ]);
    expect(runCli(['audit', 'verify'], home).code).toBe(0);
  });
});

describe('approval policy promote: a new incumbent waits for a human', () => {
  it('the gate nominates, the run waits at its end, and the approved candidate becomes its best', { timeout: 300_000 }, async () => {
    const home = join(scratch.path, 'home-promote');
    const task = copyTask('sleepy', join(scratch.path, 'promote'));
    const replay = replayFile('promote', [{ delayMs: 500 }]);
    const lab = background(['research', '--task', task, '--researcher', `replay:${replay}`, '--max-experiments', '1', '--approval', 'promote'], home);

    const nominated = await waitFor(home, 'a nominated incumbent', (experiments) => experiments.find((experiment) => experiment.metadata.approval === 'pending'));
    expect(nominated.value).toMatchObject({ accepted: false, outcome: { status: 'ok' } });
    expect(runCli(['show', nominated.runId], home).stdout).toContain(`${nominated.value.id} (#${nominated.value.seq}, to become the incumbent)`);
    // The budget is spent, but the run waits for the decision rather than end without it.
    await waitFor(home, 'the run to wait', () => (/awaiting approval to become the incumbent/.test(lab.stderr()) ? true : undefined));
    expect(readRun(home, nominated.runId).run.status).toBe('running');

    expect(runCli(['approve', nominated.value.id], home).code).toBe(0);
    expect(await lab.exited, lab.stderr()).toBe(0);
    const { run } = readRun(home, nominated.runId);
    expect(run).toMatchObject({ status: 'completed', stopReason: 'experiment budget spent (1)', summary: { bestExperimentId: nominated.value.id } });
  });
});

describe('a gain of more than 10x in one step', () => {
  it('is suspect, gets its repeats, and is not the incumbent until a human approves it, even after its run ended', { timeout: 300_000 }, () => {
    const home = join(scratch.path, 'home-tenfold');
    const task = copyTask('sleepy', join(scratch.path, 'tenfold'));
    // A 6 s baseline against a candidate that barely sleeps: about 20x.
    const taskFile = JSON.parse(readFileSync(join(task, 'task.json'), 'utf8'));
    taskFile.space.delayMs = { ...taskFile.space.delayMs, max: 6000, default: 6000 };
    writeFileSync(join(task, 'task.json'), JSON.stringify(taskFile));
    const replay = replayFile('tenfold', [{ delayMs: 50 }]);
    const research = runCli(['research', '--task', task, '--researcher', `replay:${replay}`, '--max-experiments', '1', '--json'], home, { timeoutMs: 200_000 });
    expect(research.code, research.stderr).toBe(0);
    const summary = JSON.parse(research.stdout);
    expect(summary.bestExperimentId).toBe(summary.baselineExperimentId);

    const runId = summary.runId as RunId;
    const nominated = readRun(home, runId).experiments.find((experiment) => experiment.metadata.approval === 'pending')!;
    expect(nominated.outcome).toMatchObject({ status: 'suspect', reason: expect.stringMatching(/gain bound: \d+\.\dx over the incumbent in one step/) });
    expect(nominated.accepted).toBe(false);
    const repeats = readRun(home, runId).experiments.filter((experiment) => experiment.parentId === nominated.id && experiment.role === 'repeat');
    expect(repeats.map((experiment) => experiment.outcome?.status)).toEqual(['ok', 'ok']);
    expect(runCli(['show', runId], home).stdout).toContain(`${nominated.id} (#${nominated.seq}, to become the incumbent)`);

    expect(runCli(['approve', nominated.id], home).code).toBe(0);
    const { run, experiments } = readRun(home, runId);
    expect(experiments.find((experiment) => experiment.id === nominated.id)?.accepted).toBe(true);
    expect(run.summary).toMatchObject({ bestExperimentId: nominated.id });
    expect(Number(run.summary?.gain)).toBeGreaterThan(10);
  });
});

describe('successor stop from another terminal', () => {
  it('stops the run within seconds, kills its sandboxed process, and leaves it resumable', { timeout: 300_000 }, async () => {
    const home = join(scratch.path, 'home-stop');
    const task = copyTask('sleepy', join(scratch.path, 'stop'));
    const replay = replayFile('stop', [{ delayMs: 3000 }, { delayMs: 1400 }]);
    const lab = background(['research', '--task', task, '--researcher', `replay:${replay}`, '--max-experiments', '2'], home);

    const running = await waitFor(home, 'a candidate to run', (experiments) => experiments.find((experiment) => experiment.role === 'candidate' && experiment.state === 'running'));
    const stopped = runCli(['stop', running.runId, '--why', 'going home'], home);
    expect(stopped.code, stopped.stderr).toBe(0);
    const askedAt = Date.now();
    expect(await lab.exited).toBe(1); // a stopped run is not a finished one
    expect(lab.stderr()).toContain(`stopped: going home; resume with \`successor research --resume ${running.runId}\``);
    expect(Date.now() - askedAt).toBeLessThan(15_000);
    const processes = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(processes).not.toContain(join(home, 'scratch'));

    const { run, experiments } = readRun(home, running.runId);
    expect(run.status).toBe('stopped');
    expect(run.stopReason).toBe('stopped: going home');
    expect(experiments.find((experiment) => experiment.id === running.value.id)?.state).toBe('proposed');

    const resumed = runCli(['research', '--resume', running.runId], home, { timeoutMs: 200_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = readRun(home, running.runId);
    expect(after.run.status).toBe('completed');
    expect(after.experiments.filter((experiment) => experiment.role === 'candidate').map((experiment) => experiment.description)).toEqual(['{"delayMs":3000}', '{"delayMs":1400}']);
  });
});

describe('budgets', () => {
  it('an experiment budget stops the run cleanly with its reason, and a resume extends it from where it stands', { timeout: 300_000 }, () => {
    const home = join(scratch.path, 'home-budget');
    const task = copyTask('sleepy', join(scratch.path, 'budget'));
    const replay = replayFile('budget', [{ delayMs: 1400 }, { delayMs: 1300 }, { delayMs: 1450 }]);
    const first = runCli(['research', '--task', task, '--researcher', `replay:${replay}`, '--max-experiments', '1', '--json'], home, { timeoutMs: 200_000 });
    expect(first.code, first.stderr).toBe(0);
    const runId = JSON.parse(first.stdout).runId as RunId;
    expect(readRun(home, runId).run.stopReason).toBe('experiment budget spent (1)');

    const more = runCli(['research', '--resume', runId, '--max-experiments', '1', '--json'], home, { timeoutMs: 200_000 });
    expect(more.code, more.stderr).toBe(0);
    const { run, experiments } = readRun(home, runId);
    expect(run.stopReason).toBe('experiment budget spent (2)');
    expect(experiments.filter((experiment) => experiment.role === 'candidate')).toHaveLength(2);
  });
});
