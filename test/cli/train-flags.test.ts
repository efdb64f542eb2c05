/**
 * `successor train`'s flags a newcomer meets first: `--print-config` (every key with its default, range and meaning,
 * read from the trainer's schema) and `--max-seconds` (kept within one step, the final validation included).
 */
import { describe, expect, it } from 'vitest';
import { TrainConfig } from '../../src/gpt/config.js';
import { loadMobyDick, splitCorpus } from '../../src/gpt/data.js';
import { StepDeadline } from '../../src/gpt/deadline.js';
import { prepareData, train } from '../../src/gpt/train.js';
import { TRAIN_CONFIG_MEANINGS, describeTrainConfig } from '../../src/cli/train-config-help.js';
import { removeTemporaryDirs, runCli, temporaryDir } from './fixtures.js';
import { afterAll } from 'vitest';

afterAll(removeTemporaryDirs);

/** The value at a dotted key of an object. */
const at = (value: unknown, key: string): unknown => key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], value);

describe('successor train --print-config', () => {
  it('lists every key of the schema once, with the schema\'s default, a range and a meaning', () => {
    const result = runCli(['train', '--print-config', '--json'], temporaryDir());
    expect(result.code, result.stderr).toBe(0);
    const keys = JSON.parse(result.stdout) as Array<{ key: string; default: string | null; range: string; meaning: string }>;
    const defaults = TrainConfig.parse({});
    // Independently of the JSON Schema walk: every leaf of a parsed default config, plus the keys unset by default.
    const leaves = (value: Record<string, unknown>, prefix = ''): string[] => Object.entries(value).flatMap(([name, child]) =>
      typeof child === 'object' && child !== null ? leaves(child as Record<string, unknown>, `${prefix}${name}.`) : [`${prefix}${name}`]);
    const unsetByDefault = ['sequenceLength', 'targetValLoss', 'maxSeconds', 'threads'].filter((key) => at(defaults, key) === undefined);
    expect(keys.map((item) => item.key).sort()).toEqual([...leaves(defaults), ...unsetByDefault].sort());
    for (const item of keys) {
      const value = at(defaults, item.key);
      expect(item.default, item.key).toBe(value === undefined ? null : String(value));
      expect(item.meaning.length, item.key).toBeGreaterThan(10);
      expect(item.range, item.key).not.toBe('');
    }
    expect(keys.find((item) => item.key === 'model.heads')).toMatchObject({ default: '4', range: 'integer >= 1, <= 64' });
    expect(keys.find((item) => item.key === 'learningRate')?.range).toBe('number > 0, <= 10');
    // No meaning for a key the schema no longer has.
    expect(Object.keys(TRAIN_CONFIG_MEANINGS).sort()).toEqual(describeTrainConfig().map((item) => item.key).sort());
  });

  it('prints the same as an aligned table, without training anything', () => {
    const home = temporaryDir();
    const result = runCli(['train', '--print-config'], home);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^key\s+default\s+range\s+meaning$/);
    expect(result.stdout).toMatch(/^maxSeconds\s+\(unset\)\s+number > 0\s+stop by this much wall time/m);
    expect(runCli(['runs'], home).stderr).toMatch(/no lab state/); // nothing was written
  });
});

describe('the step deadline', () => {
  it('always allows the first step, then one whose step and validation still fit', () => {
    const deadline = new StepDeadline(10, 4);
    expect(deadline.allowsStep(0)).toBe(true);
    deadline.recordStep(3); // warm-up: only the next step itself must fit, and it is forgotten once that one is known
    expect(deadline.allowsStep(7)).toBe(true);
    expect(deadline.allowsStep(7.01)).toBe(false);
    deadline.recordStep(1);
    // 1 s a step, a validation of 4 batches at half a step each: 2 s.
    expect(deadline.allowsStep(7)).toBe(true);
    expect(deadline.allowsStep(7.01)).toBe(false);
    deadline.recordEvaluation(0.5);
    expect(deadline.allowsStep(8.5)).toBe(true);
    expect(deadline.allowsStep(8.51)).toBe(false);
    expect(deadline.allowsStep(10)).toBe(false);
    expect(new StepDeadline(undefined, 4).allowsStep(1e9)).toBe(true);
  });

  it('ends a real training run before maxSeconds and no more than a step and a validation early', { timeout: 120_000 }, async () => {
    const splits = splitCorpus(loadMobyDick());
    const data = prepareData('byte', splits);
    const config = TrainConfig.parse({
      model: { width: 48, heads: 2, layers: 2, contextLength: 64 }, batchSize: 8, maxSteps: 100_000, evalInterval: 15, evalTokens: 4096, maxSeconds: 8, kernels: 'wasm', threads: 1,
    });
    const stepTimes: number[] = [];
    let last = performance.now();
    const summary = await train(config, data, { onStep: () => { const now = performance.now(); stepTimes.push((now - last) / 1000); last = now; } });
    const slowest = Math.max(...stepTimes.slice(1));
    expect(summary.stopReason).toBe('max-seconds');
    expect(stepTimes.length).toBeGreaterThan(3);
    expect(summary.seconds).toBeLessThanOrEqual(8 + slowest);
    // Not stopped early either: about a step and a validation short of the limit at most (generous on a loaded machine).
    expect(summary.seconds).toBeGreaterThan(8 - 2 * slowest - 2);
  });
});

describe('successor train --max-seconds through the CLI', () => {
  it('bounds the whole command, startup and the final validation included (issue 18: --max-seconds 40 ran 56 s)', { timeout: 120_000 }, () => {
    const home = temporaryDir();
    const limit = 12;
    const started = performance.now();
    const result = runCli(['train', '--max-seconds', String(limit), '--set', 'model.width=48', '--set', 'model.layers=2', '--set', 'model.heads=2',
      '--set', 'batchSize=8', '--set', 'maxSteps=100000', '--set', 'evalInterval=20', '--set', 'evalTokens=4096', '--set', 'kernels=wasm', '--set', 'threads=1', '--json'], home);
    const wallSeconds = (performance.now() - started) / 1000;
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { stopReason: string; steps: number; seconds: number };
    expect(summary.stopReason).toBe('max-seconds');
    expect(summary.steps).toBeGreaterThan(3);
    // What is left after the deadline: writing the checkpoint and the process's exit, well under 3 s.
    expect(wallSeconds).toBeLessThan(limit + 3);
  });
});
