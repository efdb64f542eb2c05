/**
 * Contention, measured by the harness: while a run is given both cores, other work on the machine (a busy loop here)
 * shows up as the share of the run's cores it took; the lab does not count such a run (step-records.ts).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/executor/local.js';
import type { ExperimentRow } from '../../src/journal/journal.js';
import { parseRunOptions } from '../../src/lab/options.js';
import { finishedRecord } from '../../src/lab/step-records.js';
import { loadTask } from '../../src/task/loader.js';
import { defaultAssignment } from '../../src/task/space.js';
import { copyTask, temporaryDir } from '../lab/fixtures.js';

const scratch = temporaryDir('successor-contention-');
afterAll(() => scratch.remove());

it.skipIf(availableParallelism() < 2)('measures the share of a run\'s cores that other work took', { timeout: 120_000 }, async () => {
  const dir = copyTask('sleepy', scratch.path);
  const file = JSON.parse(readFileSync(join(dir, 'task.json'), 'utf8'));
  file.run.limits.threads = availableParallelism();
  writeFileSync(join(dir, 'task.json'), JSON.stringify(file));
  const task = loadTask(dir);
  const executor = await LocalExecutor.create('off', join(scratch.path, 'state'));
  const job = (id: string) => ({ runId: 'run', experimentId: id, taskDir: dir, taskName: 'sleepy', taskVersion: '1', lineage: { edits: [], assignment: { ...defaultAssignment(task.file.space), delayMs: 1500 } }, capSeconds: 20, seed: 1 });
  // A busy loop on the host, for the whole run: it takes one of the run's cores.
  const spinner = spawn(process.execPath, ['-e', 'const end = Date.now() + 8000; while (Date.now() < end);'], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const busy = await executor.run(job('exp_contended01'), new AbortController().signal);
    expect(busy.outcome.status).toBe('ok');
    expect(Number(busy.outcome.metrics.contention)).toBeGreaterThan(0.3);
    expect(busy.outcome.metrics.stealSeconds).toBeTypeOf('number');
  } finally {
    spinner.kill('SIGKILL');
  }
});

it('does not count a contended run, nor let it claim a win', () => {
  const row = (role: ExperimentRow['role'], id: string, score: number | null): ExperimentRow => ({
    id: id as ExperimentRow['id'], runId: 'run_000000000001' as ExperimentRow['runId'], seq: 1, parentId: null, role, description: role,
    change: { knobs: {}, edits: [] }, diff: '', state: score === null ? 'running' : 'finished', outcome: score === null ? null : { status: 'ok', score, metrics: {} },
    fidelity: 1, accepted: false, logPath: null, artifactsPath: null, metadata: {}, proposedAt: '2026-01-01T00:00:00.000Z', startedAt: null, finishedAt: null,
  });
  const experiments = [row('baseline', 'exp_000000000001', 10), { ...row('repeat', 'exp_000000000002', 10), parentId: 'exp_000000000001' as ExperimentRow['id'] }, { ...row('repeat', 'exp_000000000003', 10.1), parentId: 'exp_000000000001' as ExperimentRow['id'] }];
  const input = { experiments, options: parseRunOptions({ task: 't', researcher: 's', contentionLimit: 0.25 }), task: { direction: 'minimize' as const, metricSource: 'wall-seconds' as const, wallSecondsLimit: 60 } };
  const candidate = row('candidate', 'exp_000000000004', null);
  const busy = finishedRecord(input, candidate, { status: 'ok', score: 5, metrics: { contention: 0.6 } }, 16);
  expect(busy).toMatchObject({ claim: false, metadata: { contended: true } });
  const quiet = finishedRecord(input, candidate, { status: 'ok', score: 5, metrics: { contention: 0.1 } }, 16);
  expect(quiet.claim).toBe(true);
  expect(quiet.metadata.contended).toBeUndefined();
  const unlimited = finishedRecord({ ...input, options: parseRunOptions({ task: 't', researcher: 's', contentionLimit: null }) }, candidate, { status: 'ok', score: 5, metrics: { contention: 0.9 } }, 16);
  expect(unlimited.claim).toBe(true);
});
