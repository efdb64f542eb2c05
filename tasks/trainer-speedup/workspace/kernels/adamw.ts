/**
 * Optimizer kernels: the AdamW update over a slice of the flat parameter buffer, and the sum of squares and
 * scaling that gradient-norm clipping needs. Reference kernels; the policy (which slices decay, when to clip)
 * lives in `../adamw.ts`.
 */
import type { Floats } from '../backend.js';

// params, grads, m, v: flat buffers; only [offset, offset + length) is touched. step counts from 1.
// Decoupled weight decay (Loshchilov & Hutter), written as llm.c: p -= lr * (mHat / (sqrt(vHat) + eps) + decay * p).
export function adamwUpdate(
  params: Floats, grads: Floats, m: Floats, v: Floats, offset: number, length: number,
  learningRate: number, beta1: number, beta2: number, epsilon: number, weightDecay: number, step: number,
): void {
  const beta1Correction = 1 - Math.pow(beta1, step);
  const beta2Correction = 1 - Math.pow(beta2, step);
  const end = offset + length;
  for (let i = offset; i < end; i++) {
    const grad = grads[i];
    const mNew = beta1 * m[i] + (1 - beta1) * grad;
    const vNew = beta2 * v[i] + (1 - beta2) * grad * grad;
    m[i] = mNew;
    v[i] = vNew;
    const mHat = mNew / beta1Correction;
    const vHat = vNew / beta2Correction;
    params[i] -= learningRate * (mHat / (Math.sqrt(vHat) + epsilon) + weightDecay * params[i]);
  }
}

// sum of values[i]^2 over [offset, offset + length), accumulated in float64
export function sumOfSquares(values: Floats, offset: number, length: number): number {
  let sum = 0;
  const end = offset + length;
  for (let i = offset; i < end; i++) sum += values[i] * values[i];
  return sum;
}

// values[offset, offset + length) *= factor
export function scale(values: Floats, offset: number, length: number, factor: number): void {
  const end = offset + length;
  for (let i = offset; i < end; i++) values[i] *= factor;
}
