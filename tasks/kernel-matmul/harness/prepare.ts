/**
 * Trusted: draws A and B from a seeded generator (inputs, visible to the run) and computes C = (A·B)·B with a
 * plain reference loop here, outside the sandbox (hidden, never mounted).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const parameters = JSON.parse(process.env.SUCCESSOR_PARAMS ?? '{}') as { size: number; seed: number };
const inputs = process.env.SUCCESSOR_INPUTS ?? '';
const hidden = process.env.SUCCESSOR_HIDDEN ?? '';
const size = parameters.size;

// mulberry32: a small seeded generator, so the matrices are the same on every machine.
let state = parameters.seed >>> 0;
const random = (): number => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const a = Float64Array.from({ length: size * size }, () => random() * 2 - 1); // (n, n)
const b = Float64Array.from({ length: size * size }, () => random() * 2 - 1); // (n, n)
function multiply(left: Float64Array, right: Float64Array): Float64Array {
  const product = new Float64Array(size * size); // (n, n)
  for (let i = 0; i < size; i++) {
    for (let k = 0; k < size; k++) {
      const leftIk = left[i * size + k];
      for (let j = 0; j < size; j++) product[i * size + j] += leftIk * right[k * size + j];
    }
  }
  return product;
}
const c = multiply(multiply(a, b), b); // (n, n)
writeFileSync(join(inputs, 'shape.json'), JSON.stringify({ size }));
writeFileSync(join(inputs, 'a.bin'), new Uint8Array(a.buffer));
writeFileSync(join(inputs, 'b.bin'), new Uint8Array(b.buffer));
writeFileSync(join(hidden, 'c.bin'), new Uint8Array(c.buffer));
