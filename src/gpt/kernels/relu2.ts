/**
 * Squared ReLU activation, relu(x)^2 (Primer; used in modded-nanogpt). Elementwise reference kernels over N values.
 */
import type { Floats } from '../backend.js';

// out (N) = max(inp, 0)^2
export function relu2Forward(out: Floats, inp: Floats, N: number): void {
  for (let i = 0; i < N; i++) {
    const x = inp[i];
    out[i] = x > 0 ? x * x : 0;
  }
}

// dInp (N) = 2 max(inp, 0) * dOut (overwritten: an activation's gradient)
export function relu2Backward(dInp: Floats, inp: Floats, dOut: Floats, N: number): void {
  for (let i = 0; i < N; i++) {
    const x = inp[i];
    dInp[i] = x > 0 ? 2 * x * dOut[i] : 0;
  }
}
