/**
 * The contract suite every fast backend runs against the TypeScript reference kernels (the oracle): every kernel
 * on random inputs of odd sizes (so that SIMD tails and ragged tiles run) and sizes large enough that the work is
 * really split across threads, then a whole model's forward, backward and AdamW step, and bitwise repeatability.
 * Tolerance: |fast - ts| <= 1e-5 * (|ts| + rms(ts)), float32 rounding of differently ordered sums.
 * Not a test file itself: backend-wasm.test.ts and backend-native.test.ts call `describeBackendParity`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from '../../src/gpt/adamw.js';
import type { Backend, Floats } from '../../src/gpt/backend.js';
import { tsBackend } from '../../src/gpt/backend-ts.js';
import { ModelConfig } from '../../src/gpt/config.js';
import { Gpt } from '../../src/gpt/model.js';
import { createRng, type Rng } from '../../src/gpt/random.js';

export const TOLERANCE = 1e-5;

export function randomArray(rng: Rng, length: number, scale = 1): Float32Array {
  const values = new Float32Array(length);
  for (let i = 0; i < length; i++) values[i] = scale * rng.normal();
  return values;
}

export function randomTokens(rng: Rng, length: number, vocabulary: number): Int32Array {
  const tokens = new Int32Array(length);
  for (let i = 0; i < length; i++) tokens[i] = rng.int(vocabulary);
  return tokens;
}

/** Worst |actual - expected| / (|expected| + rms(expected)); 0 when equal. */
export function relativeError(actual: Floats, expected: Floats): number {
  expect(actual.length).toBe(expected.length);
  let squares = 0;
  for (let i = 0; i < expected.length; i++) squares += expected[i] * expected[i];
  const rms = Math.sqrt(squares / Math.max(1, expected.length)) || 1;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i] - expected[i]) / (Math.abs(expected[i]) + rms);
    if (!(error <= worst)) worst = error; // NaN sticks
  }
  return worst;
}

function expectClose(actual: Floats, expected: Floats, label: string): void {
  expect(relativeError(actual, expected), label).toBeLessThanOrEqual(TOLERANCE);
}

/** The softmax entries of att (B,NH,T,T) that the contract defines: t2 <= t (backend.ts). */
function lowerTriangles(att: Float32Array, T: number): Float32Array {
  const values: number[] = [];
  for (let row = 0; row < att.length / T; row++) {
    const t = row % T;
    for (let t2 = 0; t2 <= t; t2++) values.push(att[row * T + t2]);
  }
  return Float32Array.from(values);
}

/** Options: `threads` for the label; `create` makes the backend under test (disposed after the suite). */
export function describeBackendParity(label: string, create: () => Promise<Backend>): void {
  describe(`${label} against the reference kernels`, () => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await create();
    });
    afterAll(async () => {
      await backend?.dispose();
    });

    /** The same values in memory the backend allocated. */
    const owned = (values: Float32Array): Float32Array => {
      const copy = backend.allocate(values.length);
      copy.set(values);
      return copy;
    };

    /**
     * Runs one kernel on both backends from the same random buffers and compares every buffer afterwards, except
     * `scratch` ones (whose contents the contract leaves open) and `att`, compared on its defined lower triangles.
     * Outputs start random too, which checks that each kernel adds or overwrites as the reference does.
     */
    function compare(
      buffers: Record<string, Float32Array>, call: (target: Backend, views: Record<string, Float32Array>) => number | void,
      options: { scratch?: string[]; attT?: number } = {},
    ): void {
      const reference: Record<string, Float32Array> = {};
      const fast: Record<string, Float32Array> = {};
      for (const [name, values] of Object.entries(buffers)) {
        reference[name] = values.slice();
        fast[name] = owned(values);
      }
      const expectedResult = call(tsBackend, reference);
      const actualResult = call(backend, fast);
      if (typeof expectedResult === 'number') {
        expect(Math.abs((actualResult as number) - expectedResult)).toBeLessThanOrEqual(TOLERANCE * (Math.abs(expectedResult) + 1));
      }
      for (const name of Object.keys(buffers)) {
        if (options.scratch?.includes(name)) continue;
        if (name === 'att' && options.attT !== undefined) expectClose(lowerTriangles(fast[name], options.attT), lowerTriangles(reference[name], options.attT), name);
        else expectClose(fast[name], reference[name], name);
      }
    }

    it.each([
      [7, 5, 3],
      [67, 45, 73],
      [130, 64, 96],
      [1100, 37, 200], // more rows than a dWeight slice: partial sums over slices
      [300, 600, 20], // inner size above a k block
    ])('matmul forward and backward, BT=%i C=%i OC=%i', (BT, C, OC) => {
      const rng = createRng(BT * 1000 + C);
      for (const withBias of [true, false]) {
        compare(
          { out: randomArray(rng, BT * OC), inp: randomArray(rng, BT * C), weight: randomArray(rng, OC * C, 0.1), bias: randomArray(rng, OC) },
          (target, b) => target.matmulForward(b.out, b.inp, b.weight, withBias ? b.bias : null, BT, C, OC),
        );
        compare(
          {
            dInp: randomArray(rng, BT * C), dWeight: randomArray(rng, OC * C), dBias: randomArray(rng, OC),
            dOut: randomArray(rng, BT * OC), inp: randomArray(rng, BT * C), weight: randomArray(rng, OC * C, 0.1),
          },
          (target, b) => target.matmulBackward(b.dInp, b.dWeight, withBias ? b.dBias : null, b.dOut, b.inp, b.weight, BT, C, OC),
        );
      }
    });

    it.each([
      [7, 5, 3],
      [130, 64, 96],
      [300, 600, 20],
    ])('fusions (where the backend has them) match the reference kernels composed, BT=%i C=%i OC=%i', (BT, C, OC) => {
      if (!backend.matmulGeluForward && !backend.matmulBackwardGelu) return;
      const rng = createRng(BT + C + OC);
      const inp = randomArray(rng, BT * C);
      const weight = randomArray(rng, OC * C, 0.1);
      const bias = randomArray(rng, OC);
      const expectedPre = new Float32Array(BT * OC);
      const expectedOut = new Float32Array(BT * OC);
      tsBackend.matmulForward(expectedPre, inp, weight, bias, BT, C, OC);
      tsBackend.geluForward(expectedOut, expectedPre, BT * OC);
      const [pre, out] = [owned(randomArray(rng, BT * OC)), owned(randomArray(rng, BT * OC))];
      backend.matmulGeluForward!(pre, out, owned(inp), owned(weight), owned(bias), BT, C, OC);
      expectClose(pre, expectedPre, 'pre');
      expectClose(out, expectedOut, 'out');
      // backward of a layer (BT,C) -> (BT,OC) whose input is gelu(prior), carried into dPrior (BT,C)
      const prior = randomArray(rng, BT * C, 2);
      const activated = new Float32Array(BT * C);
      tsBackend.geluForward(activated, prior, BT * C);
      const dOut = randomArray(rng, BT * OC);
      const [dWeightStart, dBiasStart] = [randomArray(rng, OC * C), randomArray(rng, OC)];
      const dActivated = new Float32Array(BT * C);
      const [expectedDWeight, expectedDBias, expectedDPrior] = [dWeightStart.slice(), dBiasStart.slice(), new Float32Array(BT * C)];
      tsBackend.matmulBackward(dActivated, expectedDWeight, expectedDBias, dOut, activated, weight, BT, C, OC);
      tsBackend.geluBackward(expectedDPrior, prior, dActivated, BT * C);
      const [dPrior, dWeight, dBias] = [owned(randomArray(rng, BT * C)), owned(dWeightStart), owned(dBiasStart)];
      backend.matmulBackwardGelu!(dPrior, dWeight, dBias, owned(dOut), owned(activated), owned(weight), owned(prior), BT, C, OC);
      expectClose(dPrior, expectedDPrior, 'dPre');
      expectClose(dWeight, expectedDWeight, 'dWeight');
      expectClose(dBias, expectedDBias, 'dBias');
    });

    it.each([
      [2, 7, 12, 3], // hs = 4
      [3, 13, 20, 4], // hs = 5: scalar edges only
      [3, 29, 40, 5], // hs = 8, enough work for every thread
      [2, 33, 96, 3], // hs = 32
      [1, 70, 16, 1], // T beyond several tiles, one head
    ])('attention forward and backward, B=%i T=%i C=%i NH=%i', (B, T, C, NH) => {
      const rng = createRng(B * T * C);
      const qkv = randomArray(rng, B * T * 3 * C);
      const forward = { out: randomArray(rng, B * T * C), preatt: randomArray(rng, B * NH * T * T), att: randomArray(rng, B * NH * T * T), qkv };
      compare(forward, (target, b) => target.attentionForward(b.out, b.preatt, b.att, b.qkv, B, T, C, NH), { scratch: ['preatt'], attT: T });
      // backward reads att from the same backend's forward, as in the model: each side gets its own, and the fast
      // side's starts with garbage wherever its forward does not write (above the diagonal, which it must not read)
      const dOut = randomArray(rng, B * T * C);
      const referenceAtt = new Float32Array(B * NH * T * T);
      tsBackend.attentionForward(new Float32Array(B * T * C), new Float32Array(B * NH * T * T), referenceAtt, qkv, B, T, C, NH);
      const fastAtt = owned(randomArray(rng, B * NH * T * T));
      backend.attentionForward(owned(new Float32Array(B * T * C)), owned(new Float32Array(B * NH * T * T)), fastAtt, owned(qkv), B, T, C, NH);
      const dQkvStart = randomArray(rng, B * T * 3 * C);
      const expected = dQkvStart.slice();
      tsBackend.attentionBackward(expected, randomArray(rng, B * NH * T * T), randomArray(rng, B * NH * T * T), dOut, qkv, referenceAtt, B, T, C, NH);
      const actual = owned(dQkvStart);
      backend.attentionBackward(actual, owned(randomArray(rng, B * NH * T * T)), owned(randomArray(rng, B * NH * T * T)), owned(dOut), owned(qkv), fastAtt, B, T, C, NH);
      expectClose(actual, expected, 'dQkv');
    });

    it.each([
      [5, 7],
      [301, 45],
      [64, 128],
    ])('layernorm and rmsnorm forward and backward, BT=%i C=%i', (BT, C) => {
      const rng = createRng(BT + C);
      const inp = randomArray(rng, BT * C, 2);
      for (let i = 0; i < inp.length; i++) inp[i] += 0.5; // a mean away from zero
      const weight = randomArray(rng, C);
      const bias = randomArray(rng, C);
      compare(
        { out: randomArray(rng, BT * C), mean: randomArray(rng, BT), rstd: randomArray(rng, BT), inp, weight, bias },
        (target, b) => target.layernormForward(b.out, b.mean, b.rstd, b.inp, b.weight, b.bias, BT, C),
      );
      const mean = new Float32Array(BT);
      const rstd = new Float32Array(BT);
      tsBackend.layernormForward(new Float32Array(BT * C), mean, rstd, inp, weight, bias, BT, C);
      compare(
        { dInp: randomArray(rng, BT * C), dWeight: randomArray(rng, C), dBias: randomArray(rng, C), dOut: randomArray(rng, BT * C), inp, weight, mean, rstd },
        (target, b) => target.layernormBackward(b.dInp, b.dWeight, b.dBias, b.dOut, b.inp, b.weight, b.mean, b.rstd, BT, C),
      );
      compare(
        { out: randomArray(rng, BT * C), rstd: randomArray(rng, BT), inp, weight },
        (target, b) => target.rmsnormForward(b.out, b.rstd, b.inp, b.weight, BT, C),
      );
      tsBackend.rmsnormForward(new Float32Array(BT * C), rstd, inp, weight, BT, C);
      compare(
        { dInp: randomArray(rng, BT * C), dWeight: randomArray(rng, C), dOut: randomArray(rng, BT * C), inp, weight, rstd },
        (target, b) => target.rmsnormBackward(b.dInp, b.dWeight, b.dOut, b.inp, b.weight, b.rstd, BT, C),
      );
    });

    it.each([7, 1001, 100_003])('elementwise kernels over N=%i', (N) => {
      const rng = createRng(N);
      const inp = randomArray(rng, N, 3);
      compare({ out: randomArray(rng, N), inp }, (target, b) => target.geluForward(b.out, b.inp, N));
      compare({ dInp: randomArray(rng, N), inp, dOut: randomArray(rng, N) }, (target, b) => target.geluBackward(b.dInp, b.inp, b.dOut, N));
      compare({ out: randomArray(rng, N), inp }, (target, b) => target.relu2Forward(b.out, b.inp, N));
      compare({ dInp: randomArray(rng, N), inp, dOut: randomArray(rng, N) }, (target, b) => target.relu2Backward(b.dInp, b.inp, b.dOut, N));
      compare({ out: randomArray(rng, N), a: inp, b: randomArray(rng, N) }, (target, b) => target.residualForward(b.out, b.a, b.b, N));
      compare(
        { dA: randomArray(rng, N), dB: randomArray(rng, N), dOut: randomArray(rng, N) },
        (target, b) => target.residualBackward(b.dA, b.dB, b.dOut, N),
      );
    });

    it.each([
      [3, 5, 11, 7],
      [4, 33, 45, 61],
    ])('encoder, B=%i T=%i C=%i V=%i', (B, T, C, V) => {
      const rng = createRng(B * T * C * V);
      const inputs = randomTokens(rng, B * T, V);
      inputs[1] = inputs[0]; // a repeated token: two rows add into the same dWte row
      compare(
        { out: randomArray(rng, B * T * C), wte: randomArray(rng, V * C), wpe: randomArray(rng, T * C) },
        (target, b) => target.encoderForward(b.out, inputs, b.wte, b.wpe, B, T, C),
      );
      compare(
        { dWte: randomArray(rng, V * C), dWpe: randomArray(rng, T * C), dOut: randomArray(rng, B * T * C) },
        (target, b) => target.encoderBackward(b.dWte, b.dWpe, b.dOut, inputs, B, T, C),
      );
    });

    it.each([
      [5, 7],
      [301, 257],
    ])('cross-entropy forward and backward, BT=%i V=%i', (BT, V) => {
      const rng = createRng(BT * V);
      const targets = randomTokens(rng, BT, V);
      const logits = randomArray(rng, BT * V, 4);
      compare(
        { losses: randomArray(rng, BT), probs: randomArray(rng, BT * V), logits },
        (target, b) => target.crossEntropyForward(b.losses, b.probs, b.logits, targets, BT, V),
      );
      const probs = new Float32Array(BT * V);
      tsBackend.crossEntropyForward(new Float32Array(BT), probs, logits, targets, BT, V);
      compare({ dLogits: randomArray(rng, BT * V), probs }, (target, b) => target.crossEntropyBackward(b.dLogits, b.probs, targets, 1 / BT, BT, V));
    });

    it.each([13, 100_003])('optimizer kernels over a slice of %i values', (length) => {
      const rng = createRng(length);
      const total = length + 10;
      const m = randomArray(rng, total, 0.01);
      const v = randomArray(rng, total, 0.01).map(Math.abs);
      compare(
        { params: randomArray(rng, total, 0.1), grads: randomArray(rng, total, 0.1), m, v },
        (target, b) => target.adamwUpdate(b.params, b.grads, b.m, b.v, 3, length, 1e-3, 0.9, 0.95, 1e-8, 0.1, 7),
      );
      compare({ values: randomArray(rng, total) }, (target, b) => target.sumOfSquares(b.values, 5, length));
      compare({ values: randomArray(rng, total) }, (target, b) => target.scale(b.values, 2, length, 0.37));
    });

    it('refuses sizes larger than its buffers and token ids outside the vocabulary', () => {
      const out = backend.allocate(10 * 4);
      const inp = backend.allocate(10 * 6);
      const weight = backend.allocate(4 * 6);
      // in native or shared memory these would write past `out` into whatever lies beyond
      expect(() => backend.matmulForward(out, inp, weight, null, 11, 6, 4)).toThrow(RangeError);
      const wte = backend.allocate(5 * 3);
      const wpe = backend.allocate(2 * 3);
      const encoded = backend.allocate(2 * 3);
      expect(() => backend.encoderForward(encoded, Int32Array.from([1, 5]), wte, wpe, 1, 2, 3)).toThrow(/not an id below 5/);
    });

    it('gives bitwise the same gradients every run, whichever thread ran which chunk', () => {
      // large enough that every kernel, the norms' partial sums included, is split into chunks
      const config = ModelConfig.parse({ vocabSize: 64, contextLength: 64, layers: 1, heads: 2, width: 64 });
      const shape = { batchSize: 16, sequenceLength: 64 };
      const model = new Gpt(config, backend, shape);
      model.initialize(3);
      const rng = createRng(5);
      const inputs = randomTokens(rng, 1024, 64);
      const targets = randomTokens(rng, 1024, 64);
      const gradients: Float32Array[] = [];
      const losses: number[] = [];
      for (let run = 0; run < 3; run++) {
        model.zeroGrad();
        losses.push(model.forward(inputs, targets, 16, 64));
        model.backward();
        gradients.push(model.grads.slice());
      }
      expect(losses[1]).toBe(losses[0]);
      expect(losses[2]).toBe(losses[0]);
      expect(gradients[1]).toEqual(gradients[0]);
      expect(gradients[2]).toEqual(gradients[0]);
    });

    it.each([
      ModelConfig.parse({ vocabSize: 67, contextLength: 16, layers: 2, heads: 3, width: 24 }),
      ModelConfig.parse({ vocabSize: 53, contextLength: 11, layers: 2, heads: 2, width: 20, norm: 'rmsnorm', activation: 'relu2', tiedEmbeddings: false }),
    ])('a whole model matches the reference: forward, backward, AdamW step (%o)', (config) => {
      const shape = { batchSize: 3, sequenceLength: config.contextLength };
      const reference = new Gpt(config, tsBackend, shape);
      const fast = new Gpt(config, backend, shape);
      reference.initialize(42);
      fast.initialize(42);
      const rng = createRng(7);
      const BT = shape.batchSize * shape.sequenceLength;
      const inputs = randomTokens(rng, BT, config.vocabSize);
      const targets = randomTokens(rng, BT, config.vocabSize);
      const referenceOptimizer = new AdamW(reference, { beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1, gradClip: 1 });
      const fastOptimizer = new AdamW(fast, { beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1, gradClip: 1 });
      const learningRate = 1e-2;
      for (let step = 0; step < 2; step++) {
        const expectedLoss = reference.forward(inputs, targets, shape.batchSize, shape.sequenceLength);
        const actualLoss = fast.forward(inputs, targets, shape.batchSize, shape.sequenceLength);
        expect(Math.abs(actualLoss - expectedLoss)).toBeLessThanOrEqual(TOLERANCE * expectedLoss);
        reference.zeroGrad();
        fast.zeroGrad();
        reference.backward();
        fast.backward();
        expect(relativeError(fast.grads, reference.grads), 'gradients').toBeLessThanOrEqual(1e-4);
        const expectedNorm = referenceOptimizer.step(learningRate).gradNorm;
        const actualNorm = fastOptimizer.step(learningRate).gradNorm;
        expect(Math.abs(actualNorm - expectedNorm)).toBeLessThanOrEqual(TOLERANCE * expectedNorm);
        // Adam's update is g / (|g| + epsilon) on the first steps: where |g| is near epsilon (1e-8), float32 rounding
        // of the gradient shows in the update, so parameters are held to a fraction of one step, not to 1e-5
        let worstStep = 0;
        for (let i = 0; i < fast.params.length; i++) worstStep = Math.max(worstStep, Math.abs(fast.params[i] - reference.params[i]));
        expect(worstStep, 'parameters').toBeLessThanOrEqual(0.01 * learningRate);
      }
    });
  });
}
