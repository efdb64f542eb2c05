/**
 * Every backward kernel of the TypeScript backend against central finite differences of its forward kernel, in
 * float64, plus forward checks against direct formulas. Gradient buffers start with garbage: parameter gradients
 * must add to it, activation gradients must overwrite it (backend.ts). Sizes are deliberately not multiples of the matmul's
 * 4-wide tiling, so the remainder loops are exercised too.
 */
import { describe, expect, it } from 'vitest';
import { tsBackend as k } from '../../src/gpt/backend-ts.js';
import { accumulated, createRng, gradientErrors, overwritten, project, randomArray, randomTokens } from './finite-difference.js';

const TOLERANCE = 1e-8; // relative to the tensor's largest gradient; observed errors are 1e-11 to 5e-10

function expectSmall(errors: Record<string, number>): void {
  for (const [name, error] of Object.entries(errors)) expect(error, name).toBeLessThan(TOLERANCE);
}

describe('encoder', () => {
  it('backward matches finite differences, with repeated tokens accumulating', () => {
    const rng = createRng(1);
    const [B, T, C, V] = [2, 5, 3, 4]; // 10 tokens from 4 ids: repeats are certain
    const inputs = randomTokens(rng, B * T, V);
    const wte = randomArray(rng, V * C);
    const wpe = randomArray(rng, T * C);
    const projection = randomArray(rng, B * T * C);
    const out = new Float64Array(B * T * C);
    const loss = () => (k.encoderForward(out, inputs, wte, wpe, B, T, C), project(out, projection));
    const dWte = accumulated(rng, V * C);
    const dWpe = accumulated(rng, T * C);
    k.encoderBackward(dWte.buffer, dWpe.buffer, projection, inputs, B, T, C);
    expectSmall(gradientErrors(loss, [
      { name: 'wte', values: wte, analytic: dWte.added() },
      { name: 'wpe', values: wpe, analytic: dWpe.added() },
    ]));
  });
});

describe('layernorm', () => {
  it('forward normalizes each row; backward matches finite differences', () => {
    const rng = createRng(2);
    const [BT, C] = [5, 7];
    const inp = randomArray(rng, BT * C, 2, 0.5);
    const weight = randomArray(rng, C, 0.5, 1);
    const bias = randomArray(rng, C, 0.3);
    const projection = randomArray(rng, BT * C);
    const [out, mean, rstd] = [new Float64Array(BT * C), new Float64Array(BT), new Float64Array(BT)];
    const loss = () => (k.layernormForward(out, mean, rstd, inp, weight, bias, BT, C), project(out, projection));
    loss();
    const row = Array.from(inp.subarray(0, C));
    const rowMean = row.reduce((sum, x) => sum + x, 0) / C;
    const variance = row.reduce((sum, x) => sum + (x - rowMean) ** 2, 0) / C;
    expect(out[2]).toBeCloseTo(((row[2] - rowMean) / Math.sqrt(variance + 1e-5)) * weight[2] + bias[2], 12);
    const [dInp, dWeight, dBias] = [accumulated(rng, BT * C), accumulated(rng, C), accumulated(rng, C)];
    k.layernormBackward(dInp.buffer, dWeight.buffer, dBias.buffer, projection, inp, weight, mean, rstd, BT, C);
    expectSmall(gradientErrors(loss, [
      { name: 'inp', values: inp, analytic: dInp.added() },
      { name: 'weight', values: weight, analytic: dWeight.added() },
      { name: 'bias', values: bias, analytic: dBias.added() },
    ]));
  });
});

describe('rmsnorm', () => {
  it('forward divides by the root mean square; backward matches finite differences', () => {
    const rng = createRng(3);
    const [BT, C] = [5, 7];
    const inp = randomArray(rng, BT * C, 2, 0.5);
    const weight = randomArray(rng, C, 0.5, 1);
    const projection = randomArray(rng, BT * C);
    const [out, rstd] = [new Float64Array(BT * C), new Float64Array(BT)];
    const loss = () => (k.rmsnormForward(out, rstd, inp, weight, BT, C), project(out, projection));
    loss();
    const meanSquare = Array.from(inp.subarray(0, C)).reduce((sum, x) => sum + x * x, 0) / C;
    expect(out[3]).toBeCloseTo((inp[3] / Math.sqrt(meanSquare + 1e-5)) * weight[3], 12);
    const [dInp, dWeight] = [accumulated(rng, BT * C), accumulated(rng, C)];
    k.rmsnormBackward(dInp.buffer, dWeight.buffer, projection, inp, weight, rstd, BT, C);
    expectSmall(gradientErrors(loss, [
      { name: 'inp', values: inp, analytic: dInp.added() },
      { name: 'weight', values: weight, analytic: dWeight.added() },
    ]));
  });
});

describe('matmul', () => {
  for (const [BT, C, OC] of [[7, 5, 6], [8, 8, 4], [3, 9, 11], [9, 13, 10]]) {
    for (const withBias of [true, false]) {
      it(`BT=${BT} C=${C} OC=${OC} ${withBias ? 'with' : 'without'} bias: forward is inp @ weight^T + bias, backward matches`, () => {
        const rng = createRng(BT * 100 + C * 10 + OC);
        const inp = randomArray(rng, BT * C);
        const weight = randomArray(rng, OC * C);
        const bias = withBias ? randomArray(rng, OC) : null;
        const projection = randomArray(rng, BT * OC);
        const out = new Float64Array(BT * OC);
        const loss = () => (k.matmulForward(out, inp, weight, bias, BT, C, OC), project(out, projection));
        loss();
        for (let row = 0; row < BT; row++) {
          for (let o = 0; o < OC; o++) {
            let expected = bias ? bias[o] : 0;
            for (let i = 0; i < C; i++) expected += inp[row * C + i] * weight[o * C + i];
            expect(out[row * OC + o]).toBeCloseTo(expected, 12);
          }
        }
        const [dInp, dWeight, dBias] = [overwritten(rng, BT * C), accumulated(rng, OC * C), accumulated(rng, OC)];
        k.matmulBackward(dInp.buffer, dWeight.buffer, bias ? dBias.buffer : null, projection, inp, weight, BT, C, OC);
        const inputs = [
          { name: 'inp', values: inp, analytic: dInp.written() },
          { name: 'weight', values: weight, analytic: dWeight.added() },
        ];
        if (bias) inputs.push({ name: 'bias', values: bias, analytic: dBias.added() });
        else expect(dBias.added().every((value) => value === 0)).toBe(true);
        expectSmall(gradientErrors(loss, inputs));
      });
    }
  }
});

describe('attention', () => {
  const [B, T, C, NH] = [2, 5, 6, 2];
  const attentionSize = B * NH * T * T;

  it('is causal: an output never depends on later positions', () => {
    const rng = createRng(4);
    const qkv = randomArray(rng, B * T * 3 * C);
    const [out, preatt, att] = [new Float64Array(B * T * C), new Float64Array(attentionSize), new Float64Array(attentionSize)];
    k.attentionForward(out, preatt, att, qkv, B, T, C, NH);
    const before = out.slice();
    for (let i = 0; i < 3 * C; i++) qkv[(0 * T + 3) * 3 * C + i] += 1; // change position 3 of batch row 0
    k.attentionForward(out, preatt, att, qkv, B, T, C, NH);
    for (let t = 0; t < T; t++) {
      const changed = out.subarray(t * C, (t + 1) * C).some((value, i) => value !== before[t * C + i]);
      expect(changed, `position ${t}`).toBe(t >= 3);
    }
    expect(out.subarray(T * C)).toEqual(before.subarray(T * C)); // batch row 1 untouched
    // each attention row is a distribution over positions up to t
    for (let row = 0; row < B * NH * T; row++) {
      const t = row % T;
      const weights = att.subarray(row * T, (row + 1) * T);
      expect(weights.reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 12);
      expect(weights.subarray(t + 1).every((value) => value === 0)).toBe(true);
    }
  });

  it('backward matches finite differences', () => {
    const rng = createRng(5);
    const qkv = randomArray(rng, B * T * 3 * C);
    const projection = randomArray(rng, B * T * C);
    const [out, preatt, att] = [new Float64Array(B * T * C), new Float64Array(attentionSize), new Float64Array(attentionSize)];
    const loss = () => (k.attentionForward(out, preatt, att, qkv, B, T, C, NH), project(out, projection));
    loss();
    const dQkv = overwritten(rng, B * T * 3 * C);
    // the scratch starts with garbage too: the kernel must write before it reads
    k.attentionBackward(dQkv.buffer, randomArray(rng, attentionSize), randomArray(rng, attentionSize), projection, qkv, att, B, T, C, NH);
    expectSmall(gradientErrors(loss, [{ name: 'qkv', values: qkv, analytic: dQkv.written() }]));
  });
});

describe('elementwise', () => {
  it('gelu is the tanh approximation; backward matches finite differences', () => {
    const out = new Float64Array(3);
    k.geluForward(out, new Float64Array([1, -2, 0]), 3);
    expect(out[0]).toBeCloseTo(0.8411919906082768, 14); // 0.5 (1 + tanh(sqrt(2/pi) 1.044715))
    expect(out[1]).toBeCloseTo(-0.04540230591222686, 14);
    expect(out[2]).toBe(0);
    checkElementwise(k.geluForward, k.geluBackward, 6);
  });

  it('relu2 is relu(x)^2; backward matches finite differences', () => {
    const out = new Float64Array(3);
    k.relu2Forward(out, new Float64Array([1.5, -2, 0]), 3);
    expect(Array.from(out)).toEqual([2.25, 0, 0]);
    checkElementwise(k.relu2Forward, k.relu2Backward, 7);
  });

  it('residual adds; backward passes the gradient to both inputs', () => {
    const rng = createRng(8);
    const N = 9;
    const [inp1, inp2, projection] = [randomArray(rng, N), randomArray(rng, N), randomArray(rng, N)];
    const out = new Float64Array(N);
    const loss = () => (k.residualForward(out, inp1, inp2, N), project(out, projection));
    loss();
    expect(out[4]).toBe(inp1[4] + inp2[4]);
    const [dInp1, dInp2] = [overwritten(rng, N), overwritten(rng, N)];
    k.residualBackward(dInp1.buffer, dInp2.buffer, projection, N);
    expectSmall(gradientErrors(loss, [
      { name: 'inp1', values: inp1, analytic: dInp1.written() },
      { name: 'inp2', values: inp2, analytic: dInp2.written() },
    ]));
  });
});

type ElementwiseForward = (out: Float64Array, inp: Float64Array, N: number) => void;
type ElementwiseBackward = (dInp: Float64Array, inp: Float64Array, dOut: Float64Array, N: number) => void;

function checkElementwise(forward: ElementwiseForward, backward: ElementwiseBackward, seed: number): void {
  const rng = createRng(seed);
  const N = 13;
  const inp = randomArray(rng, N, 1.5); // about half negative; none within the finite-difference step of 0
  const projection = randomArray(rng, N);
  const out = new Float64Array(N);
  const loss = () => (forward(out, inp, N), project(out, projection));
  const dInp = overwritten(rng, N);
  backward(dInp.buffer, inp, projection, N);
  expectSmall(gradientErrors(loss, [{ name: 'inp', values: inp, analytic: dInp.written() }]));
}

describe('cross-entropy', () => {
  it('forward gives softmax and -log p[target]; backward is the gradient of the mean loss', () => {
    const rng = createRng(9);
    const [BT, V] = [6, 5];
    const logits = randomArray(rng, BT * V, 3);
    const targets = randomTokens(rng, BT, V);
    const [losses, probs] = [new Float64Array(BT), new Float64Array(BT * V)];
    const loss = () => k.crossEntropyForward(losses, probs, logits, targets, BT, V);
    const meanLoss = loss();
    let lossSum = 0;
    for (let row = 0; row < BT; row++) {
      const rowProbs = probs.subarray(row * V, (row + 1) * V);
      expect(rowProbs.reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 14);
      expect(losses[row]).toBeCloseTo(-Math.log(rowProbs[targets[row]]), 12);
      lossSum += losses[row];
    }
    expect(meanLoss).toBeCloseTo(lossSum / BT, 14);
    const dLogits = overwritten(rng, BT * V);
    k.crossEntropyBackward(dLogits.buffer, probs, targets, 1 / BT, BT, V);
    expectSmall(gradientErrors(loss, [{ name: 'logits', values: logits, analytic: dLogits.written() }]));
  });

  it('stays finite where a float32 probability underflows', () => {
    const logits = new Float32Array([0, 200, -200]);
    const [losses, probs] = [new Float32Array(1), new Float32Array(3)];
    const loss = k.crossEntropyForward(losses, probs, logits, new Int32Array([2]), 1, 3);
    expect(probs[2]).toBe(0);
    expect(loss).toBeCloseTo(400, 3);
  });
});
