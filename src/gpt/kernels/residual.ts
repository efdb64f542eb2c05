/**
 * Residual connection: out = inp1 + inp2, elementwise over N values. Reference kernels.
 */
import type { Floats } from '../backend.js';

// out (N) = inp1 (N) + inp2 (N)
export function residualForward(out: Floats, inp1: Floats, inp2: Floats, N: number): void {
  for (let i = 0; i < N; i++) out[i] = inp1[i] + inp2[i];
}

// dInp1, dInp2 (N) = dOut (N): an addition passes its gradient to both inputs unchanged (overwritten)
export function residualBackward(dInp1: Floats, dInp2: Floats, dOut: Floats, N: number): void {
  for (let i = 0; i < N; i++) {
    dInp1[i] = dOut[i];
    dInp2[i] = dOut[i];
  }
}
