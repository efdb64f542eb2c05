/**
 * The Gpt against golden values from an independent implementation (PyTorch, float64; scripts/golden-fixture.py):
 * same weights and batch, then loss, logits (through probabilities) and every parameter's gradient.
 * The float32 path, which training uses, must agree to 1e-4 relative, with the reference kernels and with the native
 * ones (when they build here; under CI=true they must); the float64 path to 1e-9.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Backend } from '../../src/gpt/backend.js';
import { createNativeBackend } from '../../src/gpt/backend-native.js';
import { tsBackend } from '../../src/gpt/backend-ts.js';
import { ModelConfig, PARAMETER_NAMES } from '../../src/gpt/config.js';
import { Gpt } from '../../src/gpt/model.js';

const GoldenCase = z.object({
  name: z.string(),
  config: ModelConfig,
  batchSize: z.number().int(),
  sequenceLength: z.number().int(),
  inputs: z.array(z.number().int()),
  targets: z.array(z.number().int()),
  weights: z.partialRecord(z.enum(PARAMETER_NAMES), z.array(z.number().int())),
  loss: z.number(),
  logits: z.array(z.object({ b: z.number().int(), t: z.number().int(), values: z.array(z.number()) })),
  gradients: z.partialRecord(z.enum(PARAMETER_NAMES), z.object({ norm: z.number(), head: z.array(z.number()) })),
});
const Golden = z.object({ weightScale: z.number().positive(), cases: z.array(GoldenCase).min(2) });

const golden = Golden.parse(JSON.parse(readFileSync(new URL('./fixtures/golden.json', import.meta.url), 'utf8')));

const native = createNativeBackend({ threads: 2 });
if (!native.ok && process.env.CI === 'true') throw new Error(`the native backend must build under CI: ${native.reason}`);

const precisions: { label: string; tolerance: number; backend: Backend; options: { allocate?: (length: number) => Float64Array } }[] = [
  { label: 'float32', tolerance: 1e-4, backend: tsBackend, options: {} },
  { label: 'float64', tolerance: 1e-9, backend: tsBackend, options: { allocate: (length: number) => new Float64Array(length) } },
  ...(native.ok ? [{ label: 'float32, native kernels', tolerance: 1e-4, backend: native.backend, options: {} }] : []),
];

function relativeError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.abs(expected);
}

describe.each(golden.cases)('golden fixture: $name', (goldenCase) => {
  const { config, batchSize: B, sequenceLength: T } = goldenCase;
  const inputs = Int32Array.from(goldenCase.inputs);
  const targets = Int32Array.from(goldenCase.targets);

  for (const { label, tolerance, backend, options } of precisions) {
    it(`${label}: loss, logits and gradients match PyTorch`, () => {
      const model = new Gpt<Float32Array | Float64Array>(config, backend, { batchSize: B, sequenceLength: T }, options);
      for (const name of PARAMETER_NAMES) {
        const weights = goldenCase.weights[name] ?? [];
        expect(weights.length, name).toBe(model.layout.slices[name].size);
        model.tensor(name).set(weights.map((k) => k / golden.weightScale));
      }
      model.zeroGrad();
      const loss = model.forward(inputs, targets, B, T);
      expect(relativeError(loss, goldenCase.loss)).toBeLessThan(tolerance);

      for (const { b, t, values } of goldenCase.logits) {
        const maxLogit = Math.max(...values);
        const expSum = values.reduce((sum, value) => sum + Math.exp(value - maxLogit), 0);
        const probabilities = model.probabilities(b, t);
        for (let i = 0; i < values.length; i++) {
          const expected = Math.exp(values[i] - maxLogit) / expSum;
          expect(Math.abs(probabilities[i] - expected), `p[${b},${t},${i}]`).toBeLessThan(tolerance * expected + 1e-7);
        }
      }

      model.backward();
      for (const name of PARAMETER_NAMES) {
        const expected = goldenCase.gradients[name];
        if (model.layout.slices[name].size === 0) {
          expect(expected, name).toBeUndefined();
          continue;
        }
        if (!expected) throw new Error(`the fixture has no gradient for ${name}`);
        const gradient = model.gradient(name);
        let sumOfSquares = 0;
        for (const value of gradient) sumOfSquares += value * value;
        const norm = Math.sqrt(sumOfSquares);
        expect(relativeError(norm, expected.norm), `${name} norm`).toBeLessThan(tolerance);
        // the leading values too, judged on the tensor's scale: a norm alone cannot see a permutation
        expected.head.forEach((value, i) => {
          expect(Math.abs(gradient[i] - value) / expected.norm, `${name}[${i}]`).toBeLessThan(tolerance);
        });
      }
    });
  }
});
