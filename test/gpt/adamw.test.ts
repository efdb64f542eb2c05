/**
 * AdamW against a hand computation (two steps, so bias correction and the moments' carry-over both count),
 * gradient-norm clipping, the weight-decay mask, and a non-finite gradient.
 */
import { describe, expect, it } from 'vitest';
import { AdamW, DECAYED_PARAMETERS } from '../../src/gpt/adamw.js';
import { tsBackend } from '../../src/gpt/backend-ts.js';
import { ModelConfig, PARAMETER_NAMES } from '../../src/gpt/config.js';
import { Gpt } from '../../src/gpt/model.js';
import { createRng } from '../../src/gpt/random.js';

const config = ModelConfig.parse({ vocabSize: 5, contextLength: 3, layers: 1, heads: 1, width: 4, mlpRatio: 1, tiedEmbeddings: false });
const options = { beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1, gradClip: 0 };

function model(): Gpt {
  const gpt = new Gpt(config, tsBackend, { batchSize: 1, sequenceLength: 3 });
  const rng = createRng(3);
  for (let i = 0; i < gpt.params.length; i++) gpt.params[i] = rng.normal();
  return gpt;
}

function fillGrads(gpt: Gpt, seed: number, scale = 1): void {
  const rng = createRng(seed);
  for (let i = 0; i < gpt.grads.length; i++) gpt.grads[i] = scale * rng.normal();
}

function norm(values: Float32Array): number {
  return Math.sqrt(values.reduce((sum, value) => sum + value * value, 0));
}

describe('AdamW', () => {
  it('takes two steps exactly as written out by hand', () => {
    const gpt = model();
    const optimizer = new AdamW(gpt, options);
    const { beta1, beta2, epsilon, weightDecay } = options;
    const learningRates = [1e-2, 5e-3];
    // the hand computation, one scalar at a time, in float64
    const params = Array.from(gpt.params);
    const m = params.map(() => 0);
    const v = params.map(() => 0);
    for (const [index, learningRate] of learningRates.entries()) {
      fillGrads(gpt, 10 + index);
      const step = index + 1;
      for (const name of PARAMETER_NAMES) {
        const { offset, size } = gpt.layout.slices[name];
        const decay = DECAYED_PARAMETERS.has(name) ? weightDecay : 0;
        for (let i = offset; i < offset + size; i++) {
          const grad = gpt.grads[i];
          m[i] = beta1 * m[i] + (1 - beta1) * grad;
          v[i] = beta2 * v[i] + (1 - beta2) * grad * grad;
          const mHat = m[i] / (1 - beta1 ** step);
          const vHat = v[i] / (1 - beta2 ** step);
          params[i] = params[i] - learningRate * (mHat / (Math.sqrt(vHat) + epsilon) + decay * params[i]);
        }
      }
      const { gradNorm } = optimizer.step(learningRate);
      expect(gradNorm).toBeCloseTo(norm(gpt.grads), 4);
      expect(optimizer.stepCount).toBe(step);
    }
    for (let i = 0; i < params.length; i++) {
      expect(Math.abs(gpt.params[i] - params[i]), `param ${i}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(params[i])));
      expect(Math.abs(optimizer.m[i] - m[i]), `m ${i}`).toBeLessThan(1e-6);
      expect(Math.abs(optimizer.v[i] - v[i]), `v ${i}`).toBeLessThan(1e-6);
    }
  });

  it('clips the global gradient norm, and reports the norm before clipping', () => {
    const gpt = model();
    const optimizer = new AdamW(gpt, { ...options, gradClip: 1 });
    fillGrads(gpt, 20, 5);
    const before = norm(gpt.grads);
    const grads = gpt.grads.slice();
    expect(before).toBeGreaterThan(10);
    const { gradNorm } = optimizer.step(1e-3);
    expect(gradNorm).toBeCloseTo(before, 3);
    expect(norm(gpt.grads)).toBeCloseTo(1, 5);
    // the moments saw the clipped gradient
    for (let i = 0; i < grads.length; i += 7) expect(optimizer.m[i]).toBeCloseTo((1 - options.beta1) * (grads[i] / before), 7);
  });

  it('leaves gradients alone when their norm is under the clip', () => {
    const gpt = model();
    fillGrads(gpt, 21, 1e-3);
    const grads = gpt.grads.slice();
    new AdamW(gpt, { ...options, gradClip: 1 }).step(1e-3);
    expect(gpt.grads.every((value, i) => value === grads[i])).toBe(true);
  });

  it('decays matrices only: with zero gradients, matrices shrink by (1 - lr * decay) and the rest stay put', () => {
    const gpt = model();
    const before = gpt.params.slice();
    new AdamW(gpt, options).step(0.5);
    const shrink = 1 - 0.5 * options.weightDecay;
    for (const name of PARAMETER_NAMES) {
      const { offset, size } = gpt.layout.slices[name];
      for (let i = offset; i < offset + size; i++) {
        const expected = DECAYED_PARAMETERS.has(name) ? before[i] * shrink : before[i];
        expect(gpt.params[i], name).toBeCloseTo(expected, 6);
      }
    }
    expect([...DECAYED_PARAMETERS].sort()).toEqual(['attprojw', 'fcprojw', 'fcw', 'lmhead', 'qkvw', 'wpe', 'wte']);
  });

  it('skips the update when the gradient norm is not finite', () => {
    const gpt = model();
    const optimizer = new AdamW(gpt, { ...options, gradClip: 1 });
    fillGrads(gpt, 22);
    gpt.grads[5] = Number.NaN;
    const before = gpt.params.slice();
    expect(optimizer.step(1e-2).gradNorm).toBeNaN();
    expect(optimizer.stepCount).toBe(0);
    expect(gpt.params.every((value, i) => value === before[i])).toBe(true);
  });
});

describe('optimizer kernels', () => {
  it('sumOfSquares and scale touch only their slice', () => {
    const values = new Float32Array([1, 2, 3, 4, 5]);
    expect(tsBackend.sumOfSquares(values, 1, 3)).toBe(4 + 9 + 16);
    tsBackend.scale(values, 1, 2, 0.5);
    expect(Array.from(values)).toEqual([1, 1, 1.5, 4, 5]);
  });

  it('adamwUpdate touches only its slice', () => {
    const [params, grads, m, v] = [new Float32Array([1, 1, 1]), new Float32Array([1, 1, 1]), new Float32Array(3), new Float32Array(3)];
    tsBackend.adamwUpdate(params, grads, m, v, 1, 1, 0.1, 0.9, 0.99, 1e-8, 0, 1);
    expect(params[0]).toBe(1);
    expect(params[1]).toBeCloseTo(0.9, 6); // first step: mHat / sqrt(vHat) = sign(grad)
    expect(params[2]).toBe(1);
  });
});
