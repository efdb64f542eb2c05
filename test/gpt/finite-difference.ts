/**
 * Test helper: checks analytic gradients against central finite differences, in float64.
 * Not a test file itself (vitest runs only *.test.ts).
 */
import { createRng, type Rng } from '../../src/gpt/random.js';

export interface GradientInput {
  name: string;
  values: Float64Array; // perturbed in place, restored afterwards
  analytic: Float64Array; // the backward pass's gradient of loss() with respect to values
}

/**
 * The worst error per input: max |numeric - analytic| over the tensor, divided by max |analytic| over the tensor
 * (so entries with tiny true gradients are judged on the tensor's scale, not their own).
 */
export function gradientErrors(loss: () => number, inputs: GradientInput[], step = 1e-5): Record<string, number> {
  const errors: Record<string, number> = {};
  for (const { name, values, analytic } of inputs) {
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < values.length; i++) {
      const original = values[i];
      values[i] = original + step;
      const lossPlus = loss();
      values[i] = original - step;
      const lossMinus = loss();
      values[i] = original;
      const numeric = (lossPlus - lossMinus) / (2 * step);
      worst = Math.max(worst, Math.abs(numeric - analytic[i]));
      scale = Math.max(scale, Math.abs(analytic[i]));
    }
    if (scale === 0) throw new Error(`${name}: the analytic gradient is all zeros, so the check would prove nothing`);
    errors[name] = worst / scale;
  }
  return errors;
}

export function randomArray(rng: Rng, length: number, scale = 1, shift = 0): Float64Array {
  const values = new Float64Array(length);
  for (let i = 0; i < length; i++) values[i] = shift + scale * rng.normal();
  return values;
}

export function randomTokens(rng: Rng, length: number, vocabSize: number): Int32Array {
  const tokens = new Int32Array(length);
  for (let i = 0; i < length; i++) tokens[i] = rng.int(vocabSize);
  return tokens;
}

/** sum(out * projection): a scalar loss whose gradient with respect to out is the projection. */
export function project(out: Float64Array, projection: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < out.length; i++) sum += out[i] * projection[i];
  return sum;
}

/**
 * Gradients of parameters (and a norm's dInp) accumulate, so each check starts such a buffer at random values
 * (what an earlier backward call left there) and subtracts them afterwards: a kernel that overwrites instead of
 * adding fails.
 */
export function accumulated(rng: Rng, length: number): { buffer: Float64Array; added: () => Float64Array } {
  const before = randomArray(rng, length);
  const buffer = before.slice();
  return { buffer, added: () => buffer.map((value, i) => value - before[i]) };
}

export { createRng };

/**
 * Activation gradients are overwritten (backend.ts), so each check starts such a buffer at random values too and
 * reads it as it is afterwards: a kernel that adds instead of overwriting (or leaves an entry alone) fails.
 */
export function overwritten(rng: Rng, length: number): { buffer: Float64Array; written: () => Float64Array } {
  const buffer = randomArray(rng, length, 10);
  return { buffer, written: () => buffer };
}
