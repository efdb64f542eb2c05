import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tsBackend } from '../../src/gpt/backend-ts.js';
import { loadCheckpoint } from '../../src/gpt/checkpoint.js';
import { TrainConfig } from '../../src/gpt/config.js';
import { DataError, loadMobyDick, splitCorpus } from '../../src/gpt/data.js';
import { evaluateCheckpoint } from '../../src/gpt/evaluate.js';
import { pickToken, sampleFromCheckpoint } from '../../src/gpt/sample.js';
import { createRng } from '../../src/gpt/random.js';
import { createTokenizer } from '../../src/gpt/tokenizer.js';
import { prepareData, resolveTrainConfig, train, TrainConfigError, type TrainSummary } from '../../src/gpt/train.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'successor-train-'));
const splits = splitCorpus(loadMobyDick());

/** Entropy (nats) of the token frequencies: the loss of the best model that ignores context. */
function unigramEntropy(tokens: Int32Array): number {
  const counts = new Map<number, number>();
  for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) entropy -= (count / tokens.length) * Math.log(count / tokens.length);
  return entropy;
}

const tiny = (overrides: Record<string, unknown> = {}) =>
  TrainConfig.parse({
    model: { width: 8, heads: 2, layers: 1, contextLength: 8 },
    batchSize: 4, maxSteps: 12, warmupSteps: 2, learningRate: 1e-2, evalInterval: 4, evalTokens: 64,
    ...overrides,
  });

describe('training on Moby Dick (char tokenizer, tiny model, default kernels)', () => {
  const data = prepareData('char', splits, splits.train + splits.val + splits.test);
  const directory = join(scratch(), 'checkpoint');
  let summary: TrainSummary;
  beforeAll(async () => {
    // 300 steps x 32 x 16 = 154k tokens: a few seconds on one core, and past the unigram plateau.
    const config = TrainConfig.parse({
      tokenizer: 'char', model: { width: 16, heads: 2, layers: 1, contextLength: 16 },
      batchSize: 32, maxSteps: 300, warmupSteps: 5, learningRate: 0.02, evalInterval: 300, evalTokens: 4096,
    });
    summary = await train(config, data, { checkpointDir: directory });
  }, 120_000);

  it('learns: held-out loss falls well below the unigram entropy of the data', () => {
    const entropy = unigramEntropy(data.train); // ~3.07 nats for Moby Dick's characters
    const heldOut = evaluateCheckpoint(directory, splits.test, { maxTokens: 4096 });
    expect(summary.steps).toBe(300);
    expect(summary.stopReason).toBe('max-steps');
    expect(summary.valLoss).toBeLessThan(0.85 * entropy);
    expect(heldOut.lossNats).toBeLessThan(0.85 * entropy);
    expect(heldOut.tokens).toBe(4096);
    expect(heldOut.bitsPerByte).toBeCloseTo((heldOut.lossNats * 4096) / Math.LN2 / heldOut.bytes, 10);
  });

  it('the reference evaluator reproduces the trainer validation loss', () => {
    const evaluation = evaluateCheckpoint(directory, data.val, { maxTokens: 4096 });
    expect(evaluation.lossNats).toBeCloseTo(summary.valLoss, 5);
    const oneByOne = evaluateCheckpoint(directory, data.val, { maxTokens: 4096, batchSize: 1 });
    expect(oneByOne.lossNats).toBeCloseTo(evaluation.lossNats, 5);
  });

  it('the evaluator gives the reference kernels\' loss on whatever kernels it picks (native here)', () => {
    const reference = evaluateCheckpoint(directory, splits.test, { maxTokens: 4096, backend: tsBackend });
    const fastest = evaluateCheckpoint(directory, splits.test, { maxTokens: 4096 });
    expect(Math.abs(fastest.lossNats - reference.lossNats)).toBeLessThan(1e-5 * reference.lossNats);
    expect(fastest.tokens).toBe(reference.tokens);
  });

  it('stores the char vocabulary, sized the model to it, and rejects unknown characters on eval', () => {
    const checkpoint = loadCheckpoint(directory);
    expect(checkpoint.tokenizer).toEqual(data.tokenizer);
    expect(checkpoint.model.vocabSize).toBe(createTokenizer(data.tokenizer).vocabSize);
    expect(() => evaluateCheckpoint(directory, 'the whale 鯨')).toThrow(/"鯨" \(U\+9BE8\) at position 10 is not in the tokenizer's vocabulary/);
  });

  it('samples deterministically per seed, continuing the prompt', () => {
    const options = { tokens: 40, temperature: 0.8, topK: 10, seed: 5 };
    const first = sampleFromCheckpoint(directory, 'Call me', options);
    expect(first.text.startsWith('Call me')).toBe(true);
    expect(Array.from(first.text).length).toBe(7 + 40);
    expect(sampleFromCheckpoint(directory, 'Call me', options)).toEqual(first);
    expect(sampleFromCheckpoint(directory, 'Call me', { ...options, seed: 6 }).text).not.toBe(first.text);
    const greedy = sampleFromCheckpoint(directory, 'Call me', { ...options, temperature: 0 });
    expect(sampleFromCheckpoint(directory, 'Call me', { ...options, temperature: 1, topK: 1, seed: 99 })).toEqual(greedy);
    expect(sampleFromCheckpoint(directory, '', { ...options, tokens: 5 }).text).toHaveLength(5);
  });
});

describe('train', () => {
  const data = prepareData('byte', splits);

  it.each(['ts', 'wasm', 'native'] as const)('resumes bit-identically on kernels %s: N steps straight == N/2, checkpoint, resume, N/2', async (kernels) => {
    const config = tiny({ kernels, threads: 2 });
    const straightLosses: number[] = [];
    const straight = await train(config, data, { checkpointDir: join(scratch(), 'straight'), onStep: (progress) => straightLosses.push(progress.loss) });
    const halfway = join(scratch(), 'halfway');
    const first = await train(config, data, { checkpointDir: halfway, stopAtStep: 6 });
    expect(first).toMatchObject({ steps: 6, stopReason: 'stop-step' });
    const resumedLosses: number[] = [];
    const resumedDirectory = join(scratch(), 'resumed');
    const resumed = await train(config, data, { resumeFrom: halfway, checkpointDir: resumedDirectory, onStep: (progress) => resumedLosses.push(progress.loss) });
    expect(resumed.steps).toBe(12);
    expect(resumed.tokens).toBe(6 * 4 * 8); // tokens of this session
    expect(resumedLosses).toEqual(straightLosses.slice(6));
    expect(resumed.valLoss).toBe(straight.valLoss);
    const a = loadCheckpoint(straight.checkpoint!, { training: true });
    const b = loadCheckpoint(resumedDirectory, { training: true });
    expect(b.params).toEqual(a.params);
    expect(b.optimizer).toEqual(a.optimizer);
    expect(b.trainState!.tokens).toBe(12 * 4 * 8);
  });

  it('refuses to resume into a different model', async () => {
    const halfway = join(scratch(), 'halfway');
    await train(tiny(), data, { checkpointDir: halfway, stopAtStep: 1 });
    await expect(train(tiny({ model: { width: 16, heads: 2, layers: 1, contextLength: 8 } }), data, { resumeFrom: halfway })).rejects.toThrow(TrainConfigError);
  });

  it('stops at the target validation loss, at maxSeconds, and reports each', async () => {
    const target = await train(tiny({ targetValLoss: 20 }), data);
    expect(target).toMatchObject({ steps: 4, stopReason: 'target', reachedTarget: true });
    const missed = await train(tiny({ targetValLoss: 0.01 }), data);
    expect(missed).toMatchObject({ steps: 12, stopReason: 'max-steps', reachedTarget: false });
    const timed = await train(tiny({ maxSeconds: 1e-9, maxSteps: 1000 }), data);
    expect(timed.stopReason).toBe('max-seconds');
    expect(timed.steps).toBeLessThan(1000);
    expect(Number.isFinite(timed.valLoss)).toBe(true);
  });

  it('reports a divergence as a value and writes no checkpoint', async () => {
    // Decoupled weight decay multiplies the matrices by 1 - lr * wd = -99 per step: certain to blow up.
    const directory = join(scratch(), 'diverged');
    const summary = await train(tiny({ learningRate: 10, weightDecay: 10, warmupSteps: 0, maxSteps: 200 }), data, { checkpointDir: directory });
    expect(summary.stopReason).toBe('diverged');
    expect(summary.steps).toBeLessThan(200);
    expect(summary.checkpoint).toBeNull();
    expect(Number.isNaN(summary.valLoss)).toBe(true);
    expect(existsSync(directory)).toBe(false);
  });

  it('checks data and tokenizer against the config', async () => {
    expect(() => resolveTrainConfig(tiny({ model: { width: 8, heads: 2, vocabSize: 100 } }), { kind: 'byte' })).toThrow(/vocabSize 100 is below/);
    expect(() => resolveTrainConfig(tiny(), { kind: 'char', vocabulary: ['a'] })).toThrow(/tokenized as 'char'/);
    const short = { tokenizer: { kind: 'byte' } as const, train: new Int32Array(5), val: new Int32Array(5) };
    await expect(train(tiny(), short)).rejects.toThrow(DataError);
  });
});

describe('pickToken', () => {
  const probabilities = Float32Array.from([0.1, 0.5, 0.3, 0.1]);
  it('greedy, top-k and the allowed range', () => {
    const rng = createRng(1);
    expect(pickToken(probabilities, 4, { temperature: 0 }, rng)).toBe(1);
    expect(pickToken(probabilities, 1, { temperature: 1 }, rng)).toBe(0);
    for (let draw = 0; draw < 50; draw++) expect([1, 2]).toContain(pickToken(probabilities, 4, { temperature: 1, topK: 2 }, rng));
  });
  it('draws in proportion to the probabilities at temperature 1', () => {
    const rng = createRng(2);
    const counts = [0, 0, 0, 0];
    for (let draw = 0; draw < 20_000; draw++) counts[pickToken(probabilities, 4, { temperature: 1 }, rng)]++;
    counts.forEach((count, id) => expect(count / 20_000).toBeCloseTo(probabilities[id], 1));
  });
});
