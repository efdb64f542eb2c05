/**
 * The research loop end to end, as a user runs it: the CLI on a tiny task with a replayed researcher, the gate,
 * the summary and report, the calibration cache, and a kill -9 in the middle of a run followed by a resume.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openJournal } from '../../src/journal/journal.js';
import { RunId } from '../../src/task/ids.js';
import { copyTask, runCli, startCli, temporaryDir } from './fixtures.js';

const scratch = temporaryDir('successor-research-');
afterAll(() => scratch.remove());

function replayFile(name: string, proposals: Array<{ knobs?: Record<string, unknown>; description: string }>): string {
  const path = join(scratch.path, `${name}.json`);
  writeFileSync(path, JSON.stringify(proposals.map((proposal) => ({ change: { knobs: proposal.knobs ?? {}, edits: [] }, description: proposal.description }))));
  return path;
}

describe('successor research', () => {
  const home = join(scratch.path, 'home-gate');
  const task = copyTask('sleepy', join(scratch.path, 'gate'));
  const replay = replayFile('gate', [
    { knobs: { delayMs: 200 }, description: 'shorter delay' },
    { knobs: { mode: 'crash' }, description: 'crash mode' },
    { knobs: { delayMs: 2500 }, description: 'longer delay' },
  ]);

  it('accepts a real gain through the gate and reports it', { timeout: 300_000 }, () => {
    const result = runCli(['research', '--task', task, '--researcher', `replay:${replay}`, '--max-experiments', '3', '--json'], home);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.runId).toMatch(/^run_/);
    // Three calibration runs, plus the baseline's side of the confirmation pairs.
    expect(summary.baselineSamples.length).toBeGreaterThanOrEqual(5);
    expect(summary.bestDescription).toBe('shorter delay');
    expect(summary.bestSamples.length).toBeGreaterThanOrEqual(3);
    expect(summary.speedup).toBeGreaterThan(1.5);
    expect(summary.speedupCi95[0]).toBeGreaterThan(1.2);
    expect(summary.baselineSeconds).toBeGreaterThan(summary.bestSeconds);
    expect(summary.accepted).toBe(1);
    expect(summary.outcomes.failed).toBe(1);
    expect(summary.bestChange).toMatch(/-\s+"delayMs": 1500,\n\+\s+"delayMs": 200,/);
    expect(existsSync(summary.report)).toBe(true);
    expect(result.stderr).toMatch(/gate: ACCEPTED — gain \d\.\d+x \[[\d., ]+\] over \d pairs, p=/);

    const journal = openJournal(join(home, 'successor.db'), { readonly: true });
    try {
      expect(journal.verifyAudit().ok).toBe(true);
      const experiments = journal.listExperiments(RunId.parse(summary.runId));
      const crash = experiments.find((experiment) => experiment.description === 'crash mode');
      expect(crash?.outcome?.status).toBe('failed');
      expect(crash?.diff).toMatch(/"mode": "crash"/);
    } finally {
      journal.close();
    }
  });

  it('reuses the cached baseline calibration on the next run', { timeout: 300_000 }, () => {
    const result = runCli(['research', '--task', task, '--researcher', `replay:${replay}`, '--max-experiments', '1', '--json'], home);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    const journal = openJournal(join(home, 'successor.db'), { readonly: true });
    try {
      const baseline = journal.listExperiments(RunId.parse(summary.runId)).filter((experiment) => experiment.role !== 'candidate').slice(0, 3);
      expect(baseline.every((experiment) => experiment.metadata.cached)).toBe(true);
    } finally {
      journal.close();
    }
  });

  it('checks a cached calibration with a fresh run and measures again when it is stale', { timeout: 300_000 }, () => {
    // Pretend the cached baseline was measured on a much slower machine: 10 s a run instead of ~2 s.
    const writer = openJournal(join(home, 'successor.db'));
    const key = findCalibrationKey(writer);
    expect(key).not.toBeNull();
    const cached = writer.getCache(key!) as { outcomes: Array<{ score: number; metrics: Record<string, unknown> }> };
    writer.setCache(key!, { ...cached, outcomes: cached.outcomes.map((outcome) => ({ ...outcome, score: 10 })) });
    writer.close();
    const result = runCli(['research', '--task', task, '--researcher', `replay:${replay}`, '--max-experiments', '1', '--json'], home);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/cached calibration is stale/);
    const summary = JSON.parse(result.stdout);
    // The cached samples (10 s) are stale: only fresh runs count (three calibration runs, and any pairs).
    expect(summary.baselineSamples.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...summary.baselineSamples)).toBeLessThan(8);
  });

  it('refuses to start without a budget, and an unknown researcher, with exit code 2', { timeout: 120_000 }, () => {
    expect(runCli(['research', '--task', task], home).code).toBe(2);
    const unknown = runCli(['research', '--task', task, '--researcher', 'oracle', '--max-experiments', '1'], home);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown researcher/);
  });
});

function findCalibrationKey(journal: ReturnType<typeof openJournal>): string | null {
  for (const run of journal.listRuns()) {
    for (const experiment of journal.listExperiments(run.id)) {
      const cached = experiment.metadata.cached as { key?: string } | undefined;
      if (cached?.key) return cached.key;
    }
  }
  return null;
}

describe('kill -9 and resume', () => {
  it('continues with no experiment lost or counted twice', { timeout: 400_000 }, async () => {
    const home = join(scratch.path, 'home-kill');
    const task = copyTask('sleepy', join(scratch.path, 'kill'));
    const replay = replayFile('kill', [1400, 1300, 1600, 1450].map((delayMs) => ({ knobs: { delayMs }, description: `delay ${delayMs}` })));
    const child = startCli(['research', '--task', task, '--researcher', `replay:${replay}`, '--max-experiments', '4'], home);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Wait until the first candidate is running, then kill the whole process group without warning.
    const deadline = Date.now() + 240_000;
    while (!/#4 candidate .* \.\.\./.test(stderr)) {
      if (Date.now() > deadline) throw new Error(`the run never reached a candidate:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));

    const journal = openJournal(join(home, 'successor.db'), { readonly: true });
    const run = journal.listRuns()[0];
    const before = journal.listExperiments(run.id);
    journal.close();
    expect(before.some((experiment) => experiment.state === 'running')).toBe(true);

    const resumed = runCli(['research', '--resume', run.id, '--json'], home);
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = openJournal(join(home, 'successor.db'), { readonly: true });
    try {
      const experiments = after.listExperiments(run.id);
      expect(experiments.every((experiment) => experiment.state === 'finished')).toBe(true);
      expect(experiments.filter((experiment) => experiment.role === 'candidate').map((experiment) => experiment.description)).toEqual(['delay 1400', 'delay 1300', 'delay 1600', 'delay 1450']);
      expect(new Set(experiments.map((experiment) => experiment.seq)).size).toBe(experiments.length);
      expect(after.getRun(run.id)?.status).toBe('completed');
      expect(after.verifyAudit().ok).toBe(true);
    } finally {
      after.close();
    }
  });
});
