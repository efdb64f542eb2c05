/**
 * The trusted harness against a hostile workspace: every misbehaviour ends as the right outcome value, nothing
 * throws, the host is unharmed, and the harness's own files cannot be changed or read from inside the sandbox.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/executor/local.js';
import type { ExperimentResult } from '../../src/task/harness.js';
import { loadTask } from '../../src/task/loader.js';
import { prepareTask } from '../../src/task/prepare.js';
import { copyTask, temporaryDir } from '../lab/fixtures.js';

const bwrapAvailable = existsSync('/usr/bin/bwrap');
if (process.env.CI === 'true' && !bwrapAvailable) throw new Error('bubblewrap is required under CI=true (apt-get install -y bubblewrap)');

const home = temporaryDir('successor-harness-');
let taskDir: string;
let counter = 0;

async function runMode(executor: LocalExecutor, mode: string, target = ''): Promise<ExperimentResult> {
  const configPath = join(taskDir, 'workspace/config.json');
  writeFileSync(configPath, JSON.stringify({ mode, target }));
  return executor.run(
    {
      runId: 'test', experimentId: `exp-${mode}-${counter++}`, taskDir, taskName: 'hostile', taskVersion: '1',
      lineage: { assignment: { mode }, edits: [] }, capSeconds: 6, seed: 1,
    },
    new AbortController().signal,
  );
}

beforeAll(() => {
  taskDir = copyTask('hostile', home.path);
});
afterAll(() => home.remove());

describe.skipIf(!bwrapAvailable)('harness outcomes in the bubblewrap sandbox', () => {
  let executor: LocalExecutor;
  beforeAll(async () => {
    executor = await LocalExecutor.create('required', join(home.path, 'state'));
  });

  it('scores a good run by the harness clock', async () => {
    const { outcome } = await runMode(executor, 'good');
    expect(outcome.status).toBe('ok');
    if (outcome.status === 'ok') expect(outcome.score).toBeGreaterThan(0);
  });

  it('a crash is failed, with the error in the reason', async () => {
    const { outcome } = await runMode(executor, 'crash');
    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed') expect(outcome.reason).toMatch(/deliberate crash/);
  });

  it('a hang is a timeout at the wall-clock limit', async () => {
    const { outcome, wallSeconds } = await runMode(executor, 'hang');
    expect(outcome.status).toBe('timeout');
    expect(wallSeconds).toBeLessThan(12);
  });

  it('a memory bomb is oom', async () => {
    const { outcome } = await runMode(executor, 'memory');
    expect(outcome.status).toBe('oom');
  });

  it('a fork bomb fails on the process limit and leaves no process behind', async () => {
    const { outcome } = await runMode(executor, 'fork');
    expect(['failed', 'timeout']).toContain(outcome.status);
    expect(outcome.status === 'failed' ? outcome.reason : '').toMatch(/too many processes|exited|crashed/);
  });

  it('a disk fill fails on the disk limit', async () => {
    const { outcome } = await runMode(executor, 'disk');
    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed') expect(outcome.reason).toMatch(/disk|file|exited|crashed/);
  });

  it('an output flood is cut off and fails', async () => {
    const { outcome } = await runMode(executor, 'flood');
    expect(outcome.status).toBe('failed');
  });

  it('cannot edit a harness file: it is not even visible', async () => {
    const scorer = join(taskDir, 'harness/score.ts');
    const before = readFileSync(scorer, 'utf8');
    const { outcome } = await runMode(executor, 'tamper', scorer);
    expect(outcome.status).toBe('failed');
    expect(readFileSync(scorer, 'utf8')).toBe(before);
  });

  it('cannot read the hidden test split', async () => {
    const prepared = await prepareTask(loadTask(taskDir), join(home.path, 'state'));
    const { outcome } = await runMode(executor, 'read-hidden', join(prepared.hiddenDir, 'secret-test-split.txt'));
    expect(outcome.status).toBe('failed');
  });

  it('a detached grandchild dies with the run', async () => {
    const marker = join(home.path, 'escaped.txt');
    const { outcome } = await runMode(executor, 'detach', marker);
    expect(outcome.status).toBe('ok');
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect(existsSync(marker)).toBe(false);
  });
});

describe('harness integrity without a sandbox', () => {
  it('a run that edits a harness file is invalid', async () => {
    const executor = await LocalExecutor.create('off', join(home.path, 'state-off'));
    const scorer = join(taskDir, 'harness/score.ts');
    const before = readFileSync(scorer, 'utf8');
    try {
      const { outcome } = await runMode(executor, 'tamper', scorer);
      expect(outcome.status).toBe('invalid');
      if (outcome.status === 'invalid') expect(outcome.reason).toMatch(/harness files changed.*score\.ts/);
    } finally {
      writeFileSync(scorer, before);
    }
  });
});
