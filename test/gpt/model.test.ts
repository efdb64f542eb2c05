/**
 * The whole Gpt: finite-difference gradient checks in float64 for every switch of ModelConfig, deterministic
 * initialization, batches smaller than the allocated shape, and the forward/backward/probabilities contract.
 */
import { describe, expect, it } from 'vitest';
import { tsBackend } from '../../src/gpt/backend-ts.js';
import { ModelConfig, PARAMETER_NAMES, type ParameterName } from '../../src/gpt/config.js';
import { Gpt } from '../../src/gpt/model.js';
import { createRng, gradientErrors, randomTokens } from './finite-difference.js';

const TINY = { vocabSize: 7, contextLength: 5, layers: 2, heads: 2, width: 8, mlpRatio: 2 };
const float64 = { allocate: (length: number) => new Float64Array(length) };

function float64Model(overrides: Partial<ModelConfig>, shape = { batchSize: 2, sequenceLength: 4 }): Gpt<Float64Array> {
  const model = new Gpt(ModelConfig.parse({ ...TINY, ...overrides }), tsBackend, shape, float64);
  model.initialize(11);
  // move every parameter off its init (biases 0, norm weights 1, small matrices) so every path carries gradient
  const rng = createRng(12);
  for (let i = 0; i < model.params.length; i++) model.params[i] += 0.3 * rng.normal();
  return model;
}

describe('Gpt gradients match finite differences (float64)', () => {
  const variants: Partial<ModelConfig>[] = [
    { norm: 'layernorm', activation: 'gelu', tiedEmbeddings: true },
    { norm: 'rmsnorm', activation: 'relu2', tiedEmbeddings: false },
    { norm: 'layernorm', activation: 'relu2', tiedEmbeddings: false, mlpRatio: 3 },
    { norm: 'rmsnorm', activation: 'gelu', tiedEmbeddings: true, layers: 1, heads: 4 },
  ];
  for (const variant of variants) {
    it(JSON.stringify(variant), () => {
      const model = float64Model(variant);
      const [B, T] = [2, 4];
      const rng = createRng(13);
      const inputs = randomTokens(rng, B * T, TINY.vocabSize);
      const targets = randomTokens(rng, B * T, TINY.vocabSize);
      model.zeroGrad();
      model.forward(inputs, targets, B, T);
      model.backward();
      const checked = PARAMETER_NAMES.filter((name) => model.layout.slices[name].size > 0);
      const errors = gradientErrors(
        () => model.forward(inputs, targets, B, T),
        checked.map((name) => ({ name, values: model.tensor(name), analytic: model.gradient(name).slice() })),
      );
      // observed errors are 5e-11 to 4e-9 (relu2 has a kink in its second derivative, which finite differences feel)
      for (const [name, error] of Object.entries(errors)) expect(error, name).toBeLessThan(1e-7);
      expect(Object.keys(errors)).toContain(variant.tiedEmbeddings ? 'wte' : 'lmhead');
    });
  }
});

describe('Gpt.initialize', () => {
  const config = ModelConfig.parse({ vocabSize: 50, contextLength: 16, layers: 2, heads: 2, width: 64, tiedEmbeddings: false });
  const shape = { batchSize: 1, sequenceLength: 4 };

  it('is a function of the seed alone', () => {
    const [first, second, other] = [new Gpt(config, tsBackend, shape), new Gpt(config, tsBackend, shape), new Gpt(config, tsBackend, shape)];
    first.initialize(42);
    second.params.fill(3); // leftovers must not matter
    second.initialize(42);
    other.initialize(43);
    expect(identical(second.params, first.params)).toBe(true);
    expect(identical(other.params, first.params)).toBe(false);
  });

  it('draws matrices from normal(0, 0.02), residual projections scaled by 1/sqrt(2L), norms 1, biases 0', () => {
    const model = new Gpt(config, tsBackend, shape);
    model.grads.fill(1);
    model.initialize(7);
    const std = (name: ParameterName) => Math.sqrt(model.tensor(name).reduce((sum, x) => sum + x * x, 0) / model.tensor(name).length);
    for (const name of ['wte', 'qkvw', 'fcw', 'lmhead'] as const) expect(std(name), name).toBeCloseTo(0.02, 3);
    for (const name of ['attprojw', 'fcprojw'] as const) expect(std(name) / (0.02 / Math.sqrt(4)), name).toBeCloseTo(1, 1);
    for (const name of ['ln1w', 'ln2w', 'lnfw'] as const) expect(model.tensor(name).every((x) => x === 1), name).toBe(true);
    for (const name of ['ln1b', 'qkvb', 'attprojb', 'fcb', 'fcprojb', 'lnfb'] as const) {
      expect(model.tensor(name).every((x) => x === 0), name).toBe(true);
    }
    expect(model.grads.every((x) => x === 0)).toBe(true);
  });
});

/** Bitwise equality of two float arrays (a loop: vitest's deep equality is slow on 100k elements). */
function identical(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((value, i) => Object.is(value, b[i]));
}

describe('Gpt forward and backward', () => {
  const config = ModelConfig.parse({ ...TINY, norm: 'rmsnorm', tiedEmbeddings: false });

  it('runs a batch smaller than its buffers exactly as a model sized for that batch', () => {
    const [B, T] = [2, 3];
    const large = new Gpt(config, tsBackend, { batchSize: 3, sequenceLength: 5 });
    const exact = new Gpt(config, tsBackend, { batchSize: B, sequenceLength: T });
    large.initialize(5);
    exact.initialize(5);
    const rng = createRng(6);
    const fullInputs = randomTokens(rng, 3 * 5, TINY.vocabSize);
    const fullTargets = randomTokens(rng, 3 * 5, TINY.vocabSize);
    large.forward(fullInputs, fullTargets, 3, 5); // fill the large model's buffers first, so stale values would show
    large.zeroGrad();
    const inputs = randomTokens(rng, B * T, TINY.vocabSize);
    const targets = randomTokens(rng, B * T, TINY.vocabSize);
    const loss = large.forward(inputs, targets, B, T);
    expect(loss).toBe(exact.forward(inputs, targets, B, T));
    large.backward();
    exact.backward();
    expect(identical(large.grads, exact.grads)).toBe(true);
    expect(large.probabilities(1, 2)).toEqual(exact.probabilities(1, 2));
  });

  it('gives the loss as the mean of -log probabilities, NaN without targets, and accumulates gradients', () => {
    const model = new Gpt(config, tsBackend, { batchSize: 2, sequenceLength: 4 });
    model.initialize(1);
    const rng = createRng(2);
    const inputs = randomTokens(rng, 8, TINY.vocabSize);
    const targets = randomTokens(rng, 8, TINY.vocabSize);
    const loss = model.forward(inputs, targets, 2, 4);
    let expected = 0;
    for (let i = 0; i < 8; i++) {
      const probabilities = model.probabilities(Math.floor(i / 4), i % 4);
      expect(probabilities.reduce((sum, p) => sum + p, 0)).toBeCloseTo(1, 6);
      expected -= Math.log(probabilities[targets[i]]) / 8;
    }
    expect(loss).toBeCloseTo(expected, 5);
    expect(loss).toBeCloseTo(Math.log(TINY.vocabSize), 1); // near-uniform at init

    model.backward();
    const once = model.grads.slice();
    model.backward();
    for (let i = 0; i < once.length; i += 17) expect(model.grads[i]).toBeCloseTo(2 * once[i], 6);

    expect(model.forward(inputs, null, 2, 4)).toBeNaN();
    expect(() => model.backward()).toThrow(/targets/);
    expect(model.probabilities(0, 3)).toHaveLength(TINY.vocabSize);
  });

  it('rejects batches that do not fit and tokens outside the vocabulary', () => {
    const model = new Gpt(config, tsBackend, { batchSize: 2, sequenceLength: 4 });
    const tokens = new Int32Array(12);
    expect(() => model.forward(tokens, null, 3, 4)).toThrow(RangeError);
    expect(() => model.forward(tokens, null, 2, 5)).toThrow(RangeError);
    expect(() => model.forward(new Int32Array(8).fill(TINY.vocabSize), null, 2, 4)).toThrow(/token id/);
    expect(() => model.probabilities(0, 0)).toThrow(RangeError);
    expect(() => new Gpt(config, tsBackend, { batchSize: 1, sequenceLength: TINY.contextLength + 1 })).toThrow(RangeError);
  });
});
