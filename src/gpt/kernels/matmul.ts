/**
 * Matmul (a linear layer): out = inp @ weight^T + bias, with weight stored (OC, C) as in PyTorch's nn.Linear.
 * Reference kernels, but the default trainer's hot path too, so the loops are arranged for speed in plain
 * JavaScript: every inner loop walks contiguous memory, and work is tiled over 4 rows so that each value loaded
 * is used 4 times. The tiling changes only the order of float additions, not the math.
 */
import type { Floats } from '../backend.js';

// out (BT,OC) = inp (BT,C) @ weight^T (OC,C) + bias (OC)
export function matmulForward(out: Floats, inp: Floats, weight: Floats, bias: Floats | null, BT: number, C: number, OC: number): void {
  const tiledRows = BT - (BT % 4);
  for (let row = 0; row < tiledRows; row += 4) {
    const inp0 = row * C, inp1 = inp0 + C, inp2 = inp1 + C, inp3 = inp2 + C;
    for (let o = 0; o < OC; o++) {
      const weightRow = o * C;
      // four rows against one weight row: four independent dot products over contiguous C
      let sum0 = 0, sum1 = 0, sum2 = 0, sum3 = 0;
      for (let i = 0; i < C; i++) {
        const w = weight[weightRow + i];
        sum0 += inp[inp0 + i] * w;
        sum1 += inp[inp1 + i] * w;
        sum2 += inp[inp2 + i] * w;
        sum3 += inp[inp3 + i] * w;
      }
      const b = bias === null ? 0 : bias[o];
      out[row * OC + o] = sum0 + b;
      out[(row + 1) * OC + o] = sum1 + b;
      out[(row + 2) * OC + o] = sum2 + b;
      out[(row + 3) * OC + o] = sum3 + b;
    }
  }
  for (let row = tiledRows; row < BT; row++) {
    const inpRow = row * C;
    for (let o = 0; o < OC; o++) {
      const weightRow = o * C;
      let sum = 0;
      for (let i = 0; i < C; i++) sum += inp[inpRow + i] * weight[weightRow + i];
      out[row * OC + o] = sum + (bias === null ? 0 : bias[o]);
    }
  }
}

// dInp (BT,C), dWeight (OC,C), dBias (OC) += gradients from dOut (BT,OC)
export function matmulBackward(
  dInp: Floats, dWeight: Floats, dBias: Floats | null, dOut: Floats, inp: Floats, weight: Floats,
  BT: number, C: number, OC: number,
): void {
  // dInp[row] += sum over o of dOut[row, o] * weight[o]: four weight rows per pass over dInp[row]
  const tiledOutputs = OC - (OC % 4);
  for (let row = 0; row < BT; row++) {
    const dInpRow = row * C;
    const dOutRow = row * OC;
    for (let o = 0; o < tiledOutputs; o += 4) {
      const d0 = dOut[dOutRow + o], d1 = dOut[dOutRow + o + 1], d2 = dOut[dOutRow + o + 2], d3 = dOut[dOutRow + o + 3];
      const w0 = o * C, w1 = w0 + C, w2 = w1 + C, w3 = w2 + C;
      for (let i = 0; i < C; i++) {
        dInp[dInpRow + i] += d0 * weight[w0 + i] + d1 * weight[w1 + i] + d2 * weight[w2 + i] + d3 * weight[w3 + i];
      }
    }
    for (let o = tiledOutputs; o < OC; o++) {
      const d = dOut[dOutRow + o];
      const weightRow = o * C;
      for (let i = 0; i < C; i++) dInp[dInpRow + i] += d * weight[weightRow + i];
    }
  }
  // dWeight[o] += sum over rows of dOut[row, o] * inp[row]: four input rows per pass over dWeight[o]
  const tiledRows = BT - (BT % 4);
  for (let o = 0; o < OC; o++) {
    const dWeightRow = o * C;
    for (let row = 0; row < tiledRows; row += 4) {
      const d0 = dOut[row * OC + o], d1 = dOut[(row + 1) * OC + o], d2 = dOut[(row + 2) * OC + o], d3 = dOut[(row + 3) * OC + o];
      const inp0 = row * C, inp1 = inp0 + C, inp2 = inp1 + C, inp3 = inp2 + C;
      for (let i = 0; i < C; i++) {
        dWeight[dWeightRow + i] += d0 * inp[inp0 + i] + d1 * inp[inp1 + i] + d2 * inp[inp2 + i] + d3 * inp[inp3 + i];
      }
    }
    for (let row = tiledRows; row < BT; row++) {
      const d = dOut[row * OC + o];
      const inpRow = row * C;
      for (let i = 0; i < C; i++) dWeight[dWeightRow + i] += d * inp[inpRow + i];
    }
  }
  if (dBias !== null) {
    for (let row = 0; row < BT; row++) {
      for (let o = 0; o < OC; o++) dBias[o] += dOut[row * OC + o];
    }
  }
}
