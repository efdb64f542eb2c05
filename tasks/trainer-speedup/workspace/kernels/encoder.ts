/**
 * Encoder: token embedding plus position embedding (the model's first layer).
 * Reference kernels in plain TypeScript; dimension letters as in `../config.ts`. Not the place for dropout.
 */
import type { Floats } from '../backend.js';

// out (B,T,C) = wte[inputs[b,t]] (V,C) + wpe[t] (T,C)
export function encoderForward(out: Floats, inputs: Int32Array, wte: Floats, wpe: Floats, B: number, T: number, C: number): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const outRow = (b * T + t) * C;
      const tokenRow = inputs[b * T + t] * C;
      const positionRow = t * C;
      for (let i = 0; i < C; i++) out[outRow + i] = wte[tokenRow + i] + wpe[positionRow + i];
    }
  }
}

// dWte (V,C) and dWpe (T,C) += dOut (B,T,C), routed to the rows the forward pass read
export function encoderBackward(dWte: Floats, dWpe: Floats, dOut: Floats, inputs: Int32Array, B: number, T: number, C: number): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const dOutRow = (b * T + t) * C;
      const tokenRow = inputs[b * T + t] * C;
      const positionRow = t * C;
      for (let i = 0; i < C; i++) {
        const d = dOut[dOutRow + i];
        dWte[tokenRow + i] += d;
        dWpe[positionRow + i] += d;
      }
    }
  }
}
