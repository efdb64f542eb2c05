/**
 * The trusted harness against a hostile workspace: every misbehaviour ends as the right outcome value, nothing
 * throws, the host is unharmed, and the harness's own files cannot be changed or read from inside the sandbox.
 */
import { existsSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/executor/local.js';
import type { FileEdit } from '../../src/task/change.js';
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

/** A run of the hostile task whose work.mjs is replaced by `script` (an ES module; argv: inputs, artifacts). */
async function runScript(executor: LocalExecutor, script: string, edits: FileEdit[] = []): Promise<ExperimentResult> {
  writeFileSync(join(taskDir, 'workspace/config.json'), JSON.stringify({ mode: 'good', target: '' }));
  return executor.run(
    {
      runId: 'test', experimentId: `exp-script-${counter++}`, taskDir, taskName: 'hostile', taskVersion: '1',
      lineage: { assignment: { mode: 'good' }, edits: [{ kind: 'write', path: 'work.mjs', content: script }, ...edits] }, capSeconds: 6, seed: 1,
    },
    new AbortController().signal,
  );
}
const PREAMBLE = `import * as fs from 'node:fs'; import { join } from 'node:path'; import { execFileSync } from 'node:child_process';
const [inputs, artifacts] = process.argv.slice(2); fs.mkdirSync(artifacts, { recursive: true });
const answer = fs.readFileSync(join(inputs, 'answer.txt'), 'utf8');`;

describe.skipIf(!bwrapAvailable)('harness: what leaves the sandbox, malformed changes, the scorer\'s own limits', () => {
  let executor: LocalExecutor;
  beforeAll(async () => {
    executor = await LocalExecutor.create('required', join(home.path, 'state-hardening'));
  });

  it('admits the artifacts with modes normalised and the lab as owner, and counts the scorer\'s CPU time', async () => {
    const result = await runScript(executor, `${PREAMBLE}
fs.writeFileSync(join(artifacts, 'answer.txt'), answer); fs.chmodSync(join(artifacts, 'answer.txt'), 0o4777);
fs.mkdirSync(join(artifacts, 'open')); fs.chmodSync(join(artifacts, 'open'), 0o1777);
console.log('uid ' + process.getuid());`);
    expect(result.outcome.status).toBe('ok');
    const answer = lstatSync(join(result.artifactsDir!, 'answer.txt'));
    expect(answer.mode & 0o7777).toBe(0o755);
    expect(lstatSync(join(result.artifactsDir!, 'open')).mode & 0o7777).toBe(0o755);
    expect([answer.uid, answer.gid]).toEqual([process.getuid!(), process.getgid!()]);
    if (process.getuid!() === 0) expect(readFileSync(join(result.logDir, 'stdout.log'), 'utf8')).not.toMatch(/^uid 0$/m);
    const { cpuSeconds, runCpuSeconds, scorerCpuSeconds } = result.outcome.metrics as Record<string, number>;
    expect(scorerCpuSeconds).toBeGreaterThan(0);
    expect(cpuSeconds).toBeCloseTo(runCpuSeconds + scorerCpuSeconds, 6);
  });

  it('a FIFO among the artifacts is invalid at once, and is not kept', async () => {
    const started = Date.now();
    const result = await runScript(executor, `${PREAMBLE}
execFileSync('mkfifo', [join(artifacts, 'answer.txt')]);`);
    expect(result.outcome).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/^the artifacts were refused: answer.txt is a FIFO/) });
    expect(result.artifactsDir).toBeNull();
    expect(existsSync(join(home.path, 'state-hardening', 'experiments', `exp-script-${counter - 1}`, 'artifacts'))).toBe(false);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('a change that writes null into the config is failed, not thrown', async () => {
    const nullConfig = await runScript(executor, 'export {};\n', [{ kind: 'write', path: 'config.json', content: 'null' }]);
    expect(nullConfig.outcome).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^change did not apply: .*must hold a JSON object, not null/) });
  });

  it('a scorer that spins is stopped at its own CPU limit, and its time is counted', async () => {
    const copy = copyTask('hostile', join(home.path, 'spinning'));
    const taskFile = JSON.parse(readFileSync(join(copy, 'task.json'), 'utf8'));
    taskFile.harness.limits = { wallSeconds: 30, cpuSeconds: 1 };
    writeFileSync(join(copy, 'task.json'), JSON.stringify(taskFile));
    writeFileSync(join(copy, 'harness/score.ts'), 'for (;;) {}\n');
    const started = Date.now();
    const result = await executor.run({
      runId: 'test', experimentId: `exp-spin-${counter++}`, taskDir: copy, taskName: 'hostile', taskVersion: '1',
      lineage: { assignment: { mode: 'good' }, edits: [] }, capSeconds: 6, seed: 1,
    }, new AbortController().signal);
    expect(result.outcome).toMatchObject({ status: 'failed', reason: 'the scorer was stopped at its cpu limit' });
    expect(Number(result.outcome.metrics.scorerCpuSeconds)).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeLessThan(25_000);
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
