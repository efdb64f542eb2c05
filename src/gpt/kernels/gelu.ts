/**
 * GELU activation, tanh approximation (as GPT-2 and llm.c): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
 * Elementwise reference kernels over N values.
 */
import type { Floats } from '../backend.js';

const GELU_SCALE = Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;

// out (N) = gelu(inp (N))
export function geluForward(out: Floats, inp: Floats, N: number): void {
  for (let i = 0; i < N; i++) {
    const x = inp[i];
    out[i] = 0.5 * x * (1 + Math.tanh(GELU_SCALE * (x + GELU_CUBIC * x * x * x)));
  }
}

// dInp (N) += gelu'(inp) * dOut
export function geluBackward(dInp: Floats, inp: Floats, dOut: Floats, N: number): void {
  for (let i = 0; i < N; i++) {
    const x = inp[i];
    const tanhOut = Math.tanh(GELU_SCALE * (x + GELU_CUBIC * x * x * x));
    const sech2 = 1 - tanhOut * tanhOut;
    const localGrad = 0.5 * (1 + tanhOut) + 0.5 * x * sech2 * GELU_SCALE * (1 + 3 * GELU_CUBIC * x * x);
    dInp[i] = localGrad * dOut[i];
  }
}
