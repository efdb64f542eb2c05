/**
 * lm-speedrun's trusted scorer on its own. The test split is text drawn fresh from this run's secret language, so a
 * model trained in the run on the run's text passes, while weights trained before it (on another key's text, or on
 * Moby Dick) miss the target by far, whatever the run prints about itself. The one physical bound rests on what the
 * harness holds: a loss below the exact likelihood of the test sample under its source (the run saw the test text)
 * is `suspect`. Also the lab's measurement of the machine's FLOP/s (src/task/machine.ts), which scorers may use: it
 * must stay above what the lab's own native kernels do, or a fast honest run would be held as impossible.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainConfig } from '../../src/gpt/config.js';
import { loadMobyDick } from '../../src/gpt/data.js';
import { evaluateCheckpoint } from '../../src/gpt/evaluate.js';
import { prepareData, train } from '../../src/gpt/train.js';
import { createNativeBackend } from '../../src/gpt/backend-native.js';
import { loadNativeLibrary } from '../../src/gpt/native/library.js';
import { FMA_PEAK_FACTOR, PEAK_FACTOR, machineFlops, measureFmaPeakFlops, measureKernelFlops, peakFlopsOf } from '../../src/task/machine.js';
import { ScorerReport } from '../../src/task/scorer-report.js';
import { runTrustedScript } from '../../src/task/trusted-script.js';
import { createLanguage, generateText } from '../../tasks/lm-speedrun/harness/language.js';
import { entropyRate, sampleNats } from '../../tasks/lm-speedrun/harness/likelihood.js';
import { ROOT, temporaryDir } from '../lab/fixtures.js';

const SCORER = join(ROOT, 'tasks/lm-speedrun/harness/score.ts');
const scratch = temporaryDir('successor-scorer-');
const KEY = 'c0ffee'.repeat(11).slice(0, 64);
const OTHER_KEY = 'beef'.repeat(16);
const EVAL_TOKENS = 4096;
const SAW_TOKENS = 256;
const language = createLanguage(KEY);
const test = generateText(language, KEY, 'test', EVAL_TOKENS + 1024);
const hidden = join(scratch.path, 'hidden');
const runs = { own: join(scratch.path, 'own'), otherKey: join(scratch.path, 'other-key'), mobyDick: join(scratch.path, 'moby-dick'), sawTest: join(scratch.path, 'saw-test') };

/** The same small model and budget for every source of training text. */
async function trainInto(directory: string, texts: { train: string; val: string }, options: Record<string, unknown> = {}): Promise<void> {
  const config = TrainConfig.parse({
    model: { width: 32, heads: 2, layers: 1, contextLength: 32 }, batchSize: 16, maxSteps: 100, warmupSteps: 5,
    learningRate: 0.01, evalInterval: 100, evalTokens: 512, threads: 1, ...options,
  });
  await train(config, prepareData('byte', texts), { checkpointDir: join(directory, 'checkpoint') });
}

const textOf = (key: string, label: string, bytes: number) => generateText(createLanguage(key), key, label, bytes).toString('latin1');

beforeAll(async () => {
  mkdirSync(hidden);
  writeFileSync(join(hidden, 'test.txt'), test);
  await trainInto(runs.own, { train: textOf(KEY, 'train', 300_000), val: textOf(KEY, 'val', 8192) });
  await trainInto(runs.otherKey, { train: textOf(OTHER_KEY, 'train', 300_000), val: textOf(OTHER_KEY, 'val', 8192) });
  const moby = loadMobyDick();
  await trainInto(runs.mobyDick, { train: moby.slice(0, 300_000), val: moby.slice(300_000, 308_192) });
  // A run that read the hidden split: it learns by heart the very bytes it is scored on (one window of 256: each
  // position's byte from its position embedding).
  const scored = test.subarray(0, SAW_TOKENS + 1).toString('latin1');
  await trainInto(runs.sawTest, { train: scored, val: scored }, { model: { width: 32, heads: 2, layers: 1, contextLength: SAW_TOKENS }, batchSize: 1, maxSteps: 40, learningRate: 0.02, weightDecay: 0, evalInterval: 40, evalTokens: SAW_TOKENS });
}, 600_000);
afterAll(() => scratch.remove());

let counter = 0;
async function score(options: { dir: string; params?: Record<string, unknown>; stdout?: string }): Promise<ScorerReport> {
  const stdout = join(scratch.path, `stdout-${counter++}.log`);
  writeFileSync(stdout, options.stdout ?? 'steps: 100\n');
  const result = await runTrustedScript(SCORER, {
    SUCCESSOR_ARTIFACTS: options.dir,
    SUCCESSOR_HIDDEN: hidden,
    SUCCESSOR_PARAMS: JSON.stringify({ targetLoss: 3, evalTokens: EVAL_TOKENS, ...options.params }),
    SUCCESSOR_WALL_SECONDS: '10',
    SUCCESSOR_STDOUT: stdout,
    SUCCESSOR_RUN_KEY: KEY,
  }, 120);
  return ScorerReport.parse(JSON.parse(result.stdout.trim().split('\n').at(-1) ?? ''));
}

describe('the lm-speedrun scorer', () => {
  it("passes a model trained in the run on the run's own text, and reports the sample's exact entropy floor", async () => {
    const report = await score({ dir: runs.own });
    expect(report.passed, report.reason).toBe(true);
    expect(report.suspect).toBeUndefined();
    const floor = Number(report.metrics?.entropyFloor);
    expect(floor).toBeCloseTo(sampleNats(language, test, EVAL_TOKENS) / EVAL_TOKENS, 10);
    // The sample's floor is near the language's entropy rate (4,096 bytes: within sampling noise).
    expect(Math.abs(floor - entropyRate(language).natsPerByte)).toBeLessThan(0.1);
    expect(Number(report.metrics?.testLoss)).toBeGreaterThan(floor);
  });

  it('fails weights trained before the run, on another key or on Moby Dick, whatever tokens the run claims', async () => {
    const own = Number((await score({ dir: runs.own })).metrics?.testLoss);
    for (const dir of [runs.otherKey, runs.mobyDick]) {
      const report = await score({ dir, stdout: 'steps: 500\ntokens: 128000\nreached_target: true\n' });
      expect(report.passed, dir).toBe(false);
      expect(report.reason).toMatch(/missed the target: test loss/);
      expect(Number(report.metrics?.testLoss), dir).toBeGreaterThan(own + 0.3);
    }
  });

  it('reads nothing the run printed: a forged summary changes no number', async () => {
    const plain = await score({ dir: runs.own, stdout: '' });
    const forged = await score({ dir: runs.own, stdout: 'tokens: 1\nseconds: 0.001\nval_loss: 0.01\n{"passed": false}\n' });
    expect(forged).toEqual(plain);
  });

  it('holds as suspect a model that beats the true source on the test sample: it saw the test text', async () => {
    const evaluation = evaluateCheckpoint(join(runs.sawTest, 'checkpoint'), test.toString('latin1'), { maxTokens: SAW_TOKENS });
    expect(evaluation.lossNats).toBeLessThan(sampleNats(language, test, SAW_TOKENS) / SAW_TOKENS - 0.1);
    const report = await score({ dir: runs.sawTest, params: { evalTokens: SAW_TOKENS } });
    expect(report).toMatchObject({ passed: true, suspect: { bound: 'entropy', reason: expect.stringMatching(/saw the test text/) } });
    // An honest model, however good, is not: the own run's loss is above the floor.
    expect((await score({ dir: runs.own, params: { floorSlackNats: 0 } })).suspect).toBeUndefined();
  });

  it('fails a run that left no checkpoint', async () => {
    expect(await score({ dir: join(scratch.path, 'nothing') })).toMatchObject({ passed: false, reason: expect.stringMatching(/left no checkpoint/) });
  });
});

describe("the machine's FLOP/s", () => {
  it('is measured with the lab kernels, kept per machine, and re-measured when the file is unreadable or from an older lab', async () => {
    const kernel = await measureKernelFlops();
    expect(kernel).toBeGreaterThan(1e8); // a plausibility check, not a benchmark
    expect(kernel).toBeLessThan(1e12);
    for (const stale of ['{ not json', JSON.stringify({ machine: 'x', kernelFlopsPerCore: 1, measuredAt: 'then' })]) {
      const home = join(scratch.path, `machine-home-${counter++}`);
      mkdirSync(home);
      writeFileSync(join(home, 'machine.json'), stale);
      const measured = await machineFlops(home);
      expect(measured.peakFlops).toBeCloseTo(peakFlopsOf(measured), 0);
      expect(measured.peakFlops).toBeGreaterThanOrEqual(PEAK_FACTOR * measured.kernelFlopsPerCore * cpus().length);
      expect(measured.peakFlops).toBeGreaterThanOrEqual(FMA_PEAK_FACTOR * (measured.fmaPeakFlopsPerCore ?? 0) * cpus().length);
      const kept = JSON.parse(readFileSync(join(home, 'machine.json'), 'utf8')) as Record<string, unknown>;
      expect(kept).toMatchObject({ kernelFlopsPerCore: measured.kernelFlopsPerCore, fmaPeakFlopsPerCore: measured.fmaPeakFlopsPerCore });
    }
  }, 60_000);

  it("stays above what the lab's fastest kernels do on one core, so a fast honest run is never held as impossible", async () => {
    const load = loadNativeLibrary();
    if (!load.ok) return; // no C compiler: the wasm kernels are the fastest, and the bound is 8x theirs
    const fmaPeak = measureFmaPeakFlops();
    expect(fmaPeak).not.toBeNull();
    // The native matmul on one thread, the best of 100 calls: the kernel that does most of a run's arithmetic.
    const made = createNativeBackend({ threads: 1 });
    if (!made.ok) throw new Error(made.reason);
    const backend = made.backend;
    const [BT, C, OC] = [256, 256, 512];
    const input = backend.allocate(BT * C).fill(0.5); // (BT, C)
    const weight = backend.allocate(OC * C).fill(0.25); // (OC, C)
    const out = backend.allocate(BT * OC); // (BT, OC)
    let best = 0;
    for (let repetition = 0; repetition < 100; repetition++) {
      const started = performance.now();
      backend.matmulForward(out, input, weight, null, BT, C, OC);
      const seconds = (performance.now() - started) / 1000;
      if (seconds > 0) best = Math.max(best, (2 * BT * C * OC) / seconds);
    }
    await backend.dispose();
    // Measured at the same moment, under the same load: the native kernel is under the core's FMA peak, and the
    // bound is twice that peak (or more) whatever the wasm kernel measured.
    expect(best).toBeLessThan(1.1 * fmaPeak!);
    expect(best).toBeLessThan(peakFlopsOf({ kernelFlopsPerCore: await measureKernelFlops(), fmaPeakFlopsPerCore: fmaPeak }, 1) / 1.8);
  }, 60_000);
});
