/**
 * Every built-in bench task, through the real harness and sandbox ('auto'): the unmodified workspace scores its
 * declared baseline (normalised ~0) and the reference solution in reference/ reaches normalised >= 1.
 * lm-speedrun is left out: one run trains a GPT for minutes on this CPU (the lead calibrates it separately).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseScore } from '../../src/suites/normalise.js';
import { lineageOfChange, loadReferenceChange } from '../../src/suites/reference.js';
import { loadSuite } from '../../src/suites/suite.js';
import { createSandbox } from '../../src/sandbox/create-sandbox.js';
import type { Sandbox } from '../../src/sandbox/types.js';
import { emptyChange } from '../../src/task/change.js';
import { runExperiment } from '../../src/task/harness.js';
import { type Task, loadTask } from '../../src/task/loader.js';
import { isScored } from '../../src/task/outcome.js';
import { prepareTask } from '../../src/task/prepare.js';

const SLOW = new Set(['lm-speedrun']);
const tasks = loadSuite('builtin').tasks.filter((entry) => !SLOW.has(entry.task)).map((entry) => loadTask(entry.ref));

let stateDir: string;
let sandbox: Sandbox;
beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'bench-tasks-'));
  sandbox = await createSandbox('auto');
});
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

async function scoreOf(task: Task, label: string, change = emptyChange()): Promise<number> {
  const prepared = await prepareTask(task, stateDir);
  const result = await runExperiment({
    task, prepared, sandbox, lineage: lineageOfChange(task, change),
    experimentDir: join(stateDir, 'experiments', `${task.file.name}-${label}`), scratchDir: join(stateDir, 'scratch', `${task.file.name}-${label}`),
    stagedDataDir: join(stateDir, 'staged', `${task.file.name}-${label}`),
  });
  if (!isScored(result.outcome)) throw new Error(`${task.file.name} ${label}: ${result.outcome.status}: ${result.outcome.reason}`);
  return result.outcome.score;
}

describe('built-in bench tasks: baseline ~0, reference >= 1 through the real harness', () => {
  it('covers at least 7 fast tasks, each with a reference solution', () => {
    expect(tasks.length).toBeGreaterThanOrEqual(7);
    for (const task of tasks) expect(loadReferenceChange(task), task.file.name).not.toBeNull();
  });

  it.each(tasks.map((task) => [task.file.name, task] as const))('%s', async (_name, task) => {
    // A timed task is scored by its best of three runs each: one run under the suite's parallel load can lose most
    // of a real gain to a moment of contention.
    const runs = task.file.metric.source === 'wall-seconds' ? 3 : 1;
    const best = async (label: string, change = emptyChange()) => {
      const scores: number[] = [];
      for (let index = 0; index < runs; index++) scores.push(await scoreOf(task, `${label}-${index}`, change));
      return task.file.metric.direction === 'minimize' ? Math.min(...scores) : Math.max(...scores);
    };
    const baseline = await best('baseline');
    const reference = await best('reference', loadReferenceChange(task) ?? emptyChange());
    const fromReference = normaliseScore(task.file, reference, baseline);
    expect(fromReference.normalised, `reference ${reference} against measured baseline ${baseline}`).toBeGreaterThanOrEqual(1);
    if (task.file.metric.source === 'scorer') {
      // Deterministic scorers: the unmodified workspace lands on its declared baseline.
      const fromDeclared = normaliseScore(task.file, baseline, null);
      expect(Math.abs(fromDeclared.normalised ?? Number.NaN), `baseline ${baseline} vs declared ${task.file.baseline?.score}`).toBeLessThan(0.02);
    }
  }, 120_000);
});
