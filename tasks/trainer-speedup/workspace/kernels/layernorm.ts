/**
 * LayerNorm over the channel dimension: out = (x - mean) / sqrt(var + eps) * weight + bias.
 * Reference kernels; the forward pass caches mean and 1/std per row for the backward pass.
 * Sums run in float64 (JavaScript numbers) whatever the buffer type.
 */
import type { Floats } from '../backend.js';

/** Added to the variance, as in GPT-2 and PyTorch's default. The golden fixture uses the same value. */
export const LAYERNORM_EPSILON = 1e-5;

// out (BT,C); mean, rstd (BT); inp (BT,C); weight, bias (C)
export function layernormForward(
  out: Floats, mean: Floats, rstd: Floats, inp: Floats, weight: Floats, bias: Floats, BT: number, C: number,
): void {
  for (let row = 0; row < BT; row++) {
    const base = row * C;
    let sum = 0;
    for (let i = 0; i < C; i++) sum += inp[base + i];
    const rowMean = sum / C;
    let sumOfSquares = 0;
    for (let i = 0; i < C; i++) {
      const centered = inp[base + i] - rowMean;
      sumOfSquares += centered * centered;
    }
    const rowRstd = 1 / Math.sqrt(sumOfSquares / C + LAYERNORM_EPSILON); // biased variance, as PyTorch
    for (let i = 0; i < C; i++) out[base + i] = (inp[base + i] - rowMean) * rowRstd * weight[i] + bias[i];
    mean[row] = rowMean;
    rstd[row] = rowRstd;
  }
}

// dInp (BT,C), dWeight (C), dBias (C) += gradients from dOut (BT,C)
export function layernormBackward(
  dInp: Floats, dWeight: Floats, dBias: Floats, dOut: Floats, inp: Floats, weight: Floats, mean: Floats, rstd: Floats,
  BT: number, C: number,
): void {
  for (let row = 0; row < BT; row++) {
    const base = row * C;
    const rowMean = mean[row];
    const rowRstd = rstd[row];
    // two reductions: mean(dNorm) and mean(dNorm * norm), where norm = (x - mean) * rstd and dNorm = weight * dOut
    let dNormMean = 0;
    let dNormNormMean = 0;
    for (let i = 0; i < C; i++) {
      const norm = (inp[base + i] - rowMean) * rowRstd;
      const dNorm = weight[i] * dOut[base + i];
      dNormMean += dNorm;
      dNormNormMean += dNorm * norm;
    }
    dNormMean /= C;
    dNormNormMean /= C;
    for (let i = 0; i < C; i++) {
      const norm = (inp[base + i] - rowMean) * rowRstd;
      const dNorm = weight[i] * dOut[base + i];
      dBias[i] += dOut[base + i];
      dWeight[i] += norm * dOut[base + i];
      dInp[base + i] += (dNorm - dNormMean - norm * dNormNormMean) * rowRstd;
    }
  }
}
