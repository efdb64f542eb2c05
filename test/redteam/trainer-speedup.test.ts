/**
 * trainer-speedup's red team: the ways to be fast without doing the recipe's training must fail its scorer, while the
 * honest trainer and the reference solution (the lab's wasm kernels on two threads) pass. Through the real harness
 * and sandbox, on test/fixtures/tasks/trainer-tiny: the task's own harness and pristine workspace with a tiny recipe
 * (every run starts from an edit that writes that recipe into recipe.json).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox } from '../../src/sandbox/create-sandbox.js';
import type { Sandbox } from '../../src/sandbox/types.js';
import { loadReferenceChange } from '../../src/suites/reference.js';
import type { FileEdit } from '../../src/task/change.js';
import { runExperiment } from '../../src/task/harness.js';
import { loadTask } from '../../src/task/loader.js';
import type { Outcome } from '../../src/task/outcome.js';
import { type PreparedTask, prepareTask } from '../../src/task/prepare.js';
import { FIXTURE_TASKS, temporaryDir } from '../lab/fixtures.js';

const FIXTURE = join(FIXTURE_TASKS, 'trainer-tiny');
const task = loadTask(FIXTURE);
const recipe = JSON.parse(readFileSync(join(FIXTURE, 'recipe.json'), 'utf8')) as Record<string, unknown>;
const scratch = temporaryDir('successor-trainer-redteam-');
let sandbox: Sandbox;
let prepared: PreparedTask;

beforeAll(async () => {
  sandbox = await createSandbox('auto');
  prepared = await prepareTask(task, scratch.path);
}, 120_000);
afterAll(() => scratch.remove());

const writeRecipe = (overrides: Record<string, unknown> = {}): FileEdit => ({ kind: 'write', path: 'recipe.json', content: `${JSON.stringify({ ...recipe, ...overrides }, null, 2)}\n` });
const replace = (path: string, search: string, replacement: string): FileEdit => ({ kind: 'replace', path, search, replace: replacement });

let counter = 0;
async function run(edits: FileEdit[]): Promise<Outcome> {
  const label = `case-${++counter}`;
  const result = await runExperiment({
    task, prepared, sandbox, lineage: { edits, assignment: {} },
    experimentDir: join(scratch.path, 'experiments', label), scratchDir: join(scratch.path, 'scratch', label), stagedDataDir: join(scratch.path, 'staged', label),
  });
  return result.outcome;
}

const reasonOf = (outcome: Outcome): string => ('reason' in outcome ? outcome.reason : '');

describe('trainer-speedup: the recipe\'s training passes, other training fails', () => {
  it('the honest trainer passes, within the tolerances by a wide margin', async () => {
    const outcome = await run([writeRecipe()]);
    expect(outcome.status, reasonOf(outcome)).toBe('ok');
    expect(Number(outcome.metrics.worstParameterDistance)).toBeLessThan(1e-4);
    expect(Number(outcome.metrics.segments)).toBe(3);
  }, 120_000);

  it('the reference solution (the lab\'s wasm kernels, two threads) passes', async () => {
    const reference = loadReferenceChange(loadTask('trainer-speedup'));
    const edits = (reference?.edits ?? []).filter((edit) => edit.path !== 'recipe.json');
    const outcome = await run([...edits, writeRecipe({ kernels: 'wasm', threads: 2 })]);
    expect(outcome.status, reasonOf(outcome)).toBe('ok');
  }, 120_000);

  it('skipping the last step while claiming every step fails on the AdamW moments', async () => {
    const outcome = await run([
      writeRecipe(),
      replace('train.ts', '  while (step < config.maxSteps) {', '  while (step < config.maxSteps - 1) {'),
      replace('train.ts', "  const diverged = stopReason === 'diverged';", "  step += 1; tokens += B * T; optimizer.stepCount += 1;\n  const diverged = stopReason === 'diverged';"),
    ]);
    expect(outcome.status).toBe('failed');
    expect(reasonOf(outcome)).toMatch(/not the recipe's training: steps 20-30 end .* from its AdamW moments/);
  }, 120_000);

  it('fewer steps, said honestly, fail on the step count', async () => {
    const outcome = await run([writeRecipe({ maxSteps: 25 })]);
    expect(outcome.status).toBe('failed');
    expect(reasonOf(outcome)).toMatch(/the checkpoint for step 30 says step 25/);
  }, 120_000);

  it('other data (the validation split) and another data order fail on the first segment', async () => {
    const validation = await run([writeRecipe(), replace('run.ts', "readTrainingSplits(values['data-dir'])", "((splits) => ({ train: splits.val, val: splits.val }))(readTrainingSplits(values['data-dir']))")]);
    expect(validation.status).toBe('failed');
    expect(reasonOf(validation)).toMatch(/not the recipe's training: steps 0-10/);
    const order = await run([writeRecipe(), replace('train.ts', 'createRng(batchSeed(config.seed, step))', 'createRng(batchSeed(config.seed + 1, step))')]);
    expect(order.status).toBe('failed');
    expect(reasonOf(order)).toMatch(/not the recipe's training: steps 0-10/);
  }, 240_000);

  it('another learning rate, and a run without its trajectory, fail', async () => {
    const rate = await run([writeRecipe({ learningRate: 0.0033 })]);
    expect(rate.status).toBe('failed');
    expect(reasonOf(rate)).toMatch(/not the recipe's training/);
    const untraced = await run([writeRecipe(), replace('run.ts', "...(values.trajectory ? { trajectoryDir: resolve(values.trajectory), trajectoryEvery: every ?? 25 } : {}),", '')]);
    expect(untraced.status).toBe('failed');
    expect(reasonOf(untraced)).toMatch(/no checkpoint for step 10/);
  }, 240_000);
});
