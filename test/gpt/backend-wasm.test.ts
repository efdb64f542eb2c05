/**
 * The wasm backend: the shared parity suite against the TypeScript reference (backend-parity.ts) with 1 and 2
 * threads, its fallback for buffers outside its shared memory, and its worker pool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpt/backend.js';
import { createWasmBackend } from '../../src/gpt/backend-wasm.js';
import { tsBackend } from '../../src/gpt/backend-ts.js';
import { createRng } from '../../src/gpt/random.js';
import { SharedArena } from '../../src/gpt/wasm/arena.js';
import { kernelModule } from '../../src/gpt/wasm/module.js';
import { WorkerPool } from '../../src/gpt/wasm/pool.js';
import { describeBackendParity, randomArray } from './backend-parity.js';

describe.each([1, 2])('wasm backend with %i thread(s)', (threads) => {
  describeBackendParity(`wasm, ${threads} thread(s)`, () => createWasmBackend({ threads }));

  let backend: Backend;
  beforeAll(async () => {
    backend = await createWasmBackend({ threads });
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('falls back to the reference kernels for buffers it does not own', () => {
    const rng = createRng(1);
    const inp = randomArray(rng, 10 * 6);
    const weight = randomArray(rng, 4 * 6);
    const expected = new Float32Array(10 * 4);
    tsBackend.matmulForward(expected, inp, weight, null, 10, 6, 4);
    const actual = new Float32Array(10 * 4);
    backend.matmulForward(actual, inp, weight, null, 10, 6, 4);
    expect(Array.from(actual)).toEqual(Array.from(expected));
  });
});

describe('the wasm worker pool', () => {
  it('sees memory grown after the workers started, and reports a trapping kernel without hanging', async () => {
    const arena = new SharedArena(1 << 20);
    const pool = await WorkerPool.start(await kernelModule(), arena.memory, 2);
    try {
      // 24 MiB allocated after the start: the memory grows under the running workers
      const values = arena.allocateFloats(6_000_001).fill(2);
      const partials = arena.allocateBytes(2 * 64);
      pool.run('scale', values.length, 16, [values.byteOffset, 1.5]);
      expect(values[0]).toBe(3);
      expect(values[values.length - 1]).toBe(3);
      pool.run('sumOfSquares', values.length, 16, [values.byteOffset, partials]);
      const sums = arena.doubles(partials, 16);
      expect(sums[0] + sums[8]).toBe(9 * values.length);
      // a pointer past the end of memory traps in whichever thread claims the chunk; the call throws
      const pastTheEnd = arena.memory.buffer.byteLength;
      expect(() => pool.run('scale', 1 << 20, 16, [pastTheEnd, 2])).toThrow(/out of bounds/);
      // and the pool still works afterwards
      pool.run('scale', values.length, 16, [values.byteOffset, 2]);
      expect(values[123_457]).toBe(6);
    } finally {
      await pool.dispose();
    }
    expect(() => pool.run('scale', 1, 1, [64, 1])).toThrow(/disposed/);
  });
});
