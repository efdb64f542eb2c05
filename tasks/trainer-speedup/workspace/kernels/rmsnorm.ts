/**
 * RMSNorm over the channel dimension: out = x / sqrt(mean(x^2) + eps) * weight (no centering, no bias).
 * Reference kernels; the forward pass caches 1/rms per row for the backward pass.
 */
import type { Floats } from '../backend.js';

/** Added to mean(x^2). The golden fixture's hand-written PyTorch RMSNorm uses the same value. */
export const RMSNORM_EPSILON = 1e-5;

// out (BT,C); rstd (BT); inp (BT,C); weight (C)
export function rmsnormForward(out: Floats, rstd: Floats, inp: Floats, weight: Floats, BT: number, C: number): void {
  for (let row = 0; row < BT; row++) {
    const base = row * C;
    let sumOfSquares = 0;
    for (let i = 0; i < C; i++) sumOfSquares += inp[base + i] * inp[base + i];
    const rowRstd = 1 / Math.sqrt(sumOfSquares / C + RMSNORM_EPSILON);
    for (let i = 0; i < C; i++) out[base + i] = inp[base + i] * rowRstd * weight[i];
    rstd[row] = rowRstd;
  }
}

// dInp (BT,C), dWeight (C) += gradients from dOut (BT,C).
// With norm = x * rstd and dNorm = weight * dOut: dx = rstd * (dNorm - norm * mean(dNorm * norm)).
export function rmsnormBackward(
  dInp: Floats, dWeight: Floats, dOut: Floats, inp: Floats, weight: Floats, rstd: Floats, BT: number, C: number,
): void {
  for (let row = 0; row < BT; row++) {
    const base = row * C;
    const rowRstd = rstd[row];
    let dNormNormMean = 0;
    for (let i = 0; i < C; i++) dNormNormMean += weight[i] * dOut[base + i] * inp[base + i] * rowRstd;
    dNormNormMean /= C;
    for (let i = 0; i < C; i++) {
      const norm = inp[base + i] * rowRstd;
      dWeight[i] += norm * dOut[base + i];
      dInp[base + i] += (weight[i] * dOut[base + i] - norm * dNormNormMean) * rowRstd;
    }
  }
}
