/**
 * The native backend: the shared parity suite against the TypeScript reference (backend-parity.ts) with 1, 2 and 3
 * threads and with the wide-vector (AVX-512 shaped) build; finite-difference checks of every native backward
 * kernel in float32; results that do not depend on the thread count; the boundary checks that keep native code
 * inside its buffers; and the ways it can be unavailable (no compiler, a failed compile, a CPU lacking what -march
 * asks for, a cache file someone else could write), each a value with a reason, never a crash.
 * Under CI=true the native backend must build here: a missing compiler fails instead of skipping.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpt/backend.js';
import { createNativeBackend } from '../../src/gpt/backend-native.js';
import { tsBackend } from '../../src/gpt/backend-ts.js';
import { ModelConfig } from '../../src/gpt/config.js';
import { BackendUnavailableError, createBackend } from '../../src/gpt/create-backend.js';
import { Gpt } from '../../src/gpt/model.js';
import { loadNativeLibrary, nativeSettings, type NativeSettings } from '../../src/gpt/native/library.js';
import { createRng } from '../../src/gpt/random.js';
import { describeBackendParity, randomArray, randomTokens } from './backend-parity.js';

const available = loadNativeLibrary();
if (!available.ok && process.env.CI === 'true') throw new Error(`the native backend must build under CI: ${available.reason}`);
const describeNative = available.ok ? describe : describe.skip;

function nativeBackend(threads: number, settings?: NativeSettings): Backend {
  const result = createNativeBackend({ threads, settings });
  if (!result.ok) throw new Error(result.reason);
  return result.backend;
}

describeNative('native backend', () => {
  for (const threads of [1, 2, 3]) describeBackendParity(`native, ${threads} thread(s)`, async () => nativeBackend(threads));
  // 64-byte vectors (16 floats, 12 x 32 tiles) compile to pairs of 32-byte instructions on an AVX2 machine: the
  // AVX-512 build's tile shapes and edges are tested here even where the CPU has no AVX-512
  describeBackendParity('native, 64-byte vectors, 2 threads', async () => nativeBackend(2, { ...nativeSettings(), vectorBytes: 64 }));
  describeBackendParity('native, 16-byte vectors, 2 threads', async () => nativeBackend(2, { ...nativeSettings(), vectorBytes: 16 }));
});

/**
 * Worst |numeric - analytic| over a tensor / max |analytic|, with central differences in float32: the perturbed
 * value is whatever float32 holds, and the loss is summed in float64, so the noise is the kernels' float32
 * rounding over the step (about 1e-4 here); a wrong gradient is off by order 1.
 */
function float32GradientErrors(loss: () => number, inputs: { name: string; values: Float32Array; analytic: ArrayLike<number> }[], step = 1e-2): Record<string, number> {
  const errors: Record<string, number> = {};
  for (const { name, values, analytic } of inputs) {
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < values.length; i++) {
      const original = values[i];
      values[i] = original + step;
      const plus = values[i];
      const lossPlus = loss();
      values[i] = original - step;
      const minus = values[i];
      const lossMinus = loss();
      values[i] = original;
      const numeric = (lossPlus - lossMinus) / (plus - minus);
      worst = Math.max(worst, Math.abs(numeric - analytic[i]));
      scale = Math.max(scale, Math.abs(analytic[i]));
    }
    if (scale === 0) throw new Error(`${name}: the analytic gradient is all zeros, so the check would prove nothing`);
    errors[name] = worst / scale;
  }
  return errors;
}

const FINITE_DIFFERENCE_TOLERANCE = 3e-3;

function expectSmall(errors: Record<string, number>): void {
  for (const [name, error] of Object.entries(errors)) expect(error, name).toBeLessThan(FINITE_DIFFERENCE_TOLERANCE);
}

/** sum(out * projection) in float64. */
function project(out: Float32Array, projection: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < projection.length; i++) sum += out[i] * projection[i];
  return sum;
}

/** A gradient buffer starting at garbage; `added` (for accumulating kernels) or the buffer itself afterwards. */
function gradientBuffer(backend: Backend, length: number, seed: number): { buffer: Float32Array; added: () => Float64Array } {
  const before = randomArray(createRng(seed), length);
  const buffer = backend.allocate(length);
  buffer.set(before);
  return { buffer, added: () => Float64Array.from(buffer, (value, i) => value - before[i]) };
}

describeNative('native backward kernels against finite differences (float32)', () => {
  let k: Backend;
  beforeAll(() => {
    k = nativeBackend(2);
  });
  afterAll(async () => {
    await k?.dispose();
  });
  const array = (length: number, seed: number, scale = 1, shift = 0): Float32Array => {
    const values = k.allocate(length);
    const rng = createRng(seed);
    for (let i = 0; i < length; i++) values[i] = shift + scale * rng.normal();
    return values;
  };

  it('encoder', () => {
    const [B, T, C, V] = [2, 5, 3, 4];
    const inputs = randomTokens(createRng(1), B * T, V);
    const [wte, wpe, projection] = [array(V * C, 2), array(T * C, 3), array(B * T * C, 4)];
    const out = k.allocate(B * T * C);
    const loss = () => (k.encoderForward(out, inputs, wte, wpe, B, T, C), project(out, projection));
    const [dWte, dWpe] = [gradientBuffer(k, V * C, 5), gradientBuffer(k, T * C, 6)];
    k.encoderBackward(dWte.buffer, dWpe.buffer, projection, inputs, B, T, C);
    expectSmall(float32GradientErrors(loss, [{ name: 'wte', values: wte, analytic: dWte.added() }, { name: 'wpe', values: wpe, analytic: dWpe.added() }]));
  });

  it('layernorm and rmsnorm', () => {
    const [BT, C] = [5, 19];
    const [inp, weight, bias, projection] = [array(BT * C, 1, 2, 0.5), array(C, 2, 0.5, 1), array(C, 3, 0.3), array(BT * C, 4)];
    const [out, mean, rstd] = [k.allocate(BT * C), k.allocate(BT), k.allocate(BT)];
    const layernorm = () => (k.layernormForward(out, mean, rstd, inp, weight, bias, BT, C), project(out, projection));
    layernorm();
    const [dInp, dWeight, dBias] = [gradientBuffer(k, BT * C, 5), gradientBuffer(k, C, 6), gradientBuffer(k, C, 7)];
    k.layernormBackward(dInp.buffer, dWeight.buffer, dBias.buffer, projection, inp, weight, mean, rstd, BT, C);
    expectSmall(float32GradientErrors(layernorm, [
      { name: 'inp', values: inp, analytic: dInp.added() },
      { name: 'weight', values: weight, analytic: dWeight.added() },
      { name: 'bias', values: bias, analytic: dBias.added() },
    ]));
    const rmsnorm = () => (k.rmsnormForward(out, rstd, inp, weight, BT, C), project(out, projection));
    rmsnorm();
    const [dInp2, dWeight2] = [gradientBuffer(k, BT * C, 8), gradientBuffer(k, C, 9)];
    k.rmsnormBackward(dInp2.buffer, dWeight2.buffer, projection, inp, weight, rstd, BT, C);
    expectSmall(float32GradientErrors(rmsnorm, [
      { name: 'inp', values: inp, analytic: dInp2.added() },
      { name: 'weight', values: weight, analytic: dWeight2.added() },
    ]));
  });

  it.each([[7, 5, 6], [13, 9, 19]])('matmul BT=%i C=%i OC=%i: dInp overwritten, dWeight and dBias accumulated', (BT, C, OC) => {
    const [inp, weight, bias, projection] = [array(BT * C, 1), array(OC * C, 2), array(OC, 3), array(BT * OC, 4)];
    const out = k.allocate(BT * OC);
    const loss = () => (k.matmulForward(out, inp, weight, bias, BT, C, OC), project(out, projection));
    const dInp = array(BT * C, 5, 10); // garbage the kernel must overwrite
    const [dWeight, dBias] = [gradientBuffer(k, OC * C, 6), gradientBuffer(k, OC, 7)];
    k.matmulBackward(dInp, dWeight.buffer, dBias.buffer, projection, inp, weight, BT, C, OC);
    expectSmall(float32GradientErrors(loss, [
      { name: 'inp', values: inp, analytic: dInp.slice() },
      { name: 'weight', values: weight, analytic: dWeight.added() },
      { name: 'bias', values: bias, analytic: dBias.added() },
    ]));
  });

  it('matmul through GELU (the fused backward): dPre overwritten, dWeight and dBias accumulated', () => {
    const [BT, C, OC] = [9, 7, 5];
    const [pre, weight, bias, projection] = [array(BT * C, 1, 1.5), array(OC * C, 2), array(OC, 3), array(BT * OC, 4)];
    const [activated, out] = [k.allocate(BT * C), k.allocate(BT * OC)];
    const loss = () => (k.geluForward(activated, pre, BT * C), k.matmulForward(out, activated, weight, bias, BT, C, OC), project(out, projection));
    loss();
    const dPre = array(BT * C, 5, 10);
    const [dWeight, dBias] = [gradientBuffer(k, OC * C, 6), gradientBuffer(k, OC, 7)];
    k.matmulBackwardGelu!(dPre, dWeight.buffer, dBias.buffer, projection, activated, weight, pre, BT, C, OC);
    expectSmall(float32GradientErrors(loss, [
      { name: 'pre', values: pre, analytic: dPre.slice() },
      { name: 'weight', values: weight, analytic: dWeight.added() },
      { name: 'bias', values: bias, analytic: dBias.added() },
    ]));
  });

  it('attention: dQkv overwritten', () => {
    const [B, T, C, NH] = [2, 7, 10, 2];
    const [qkv, projection] = [array(B * T * 3 * C, 1), array(B * T * C, 2)];
    const [out, preatt, att] = [k.allocate(B * T * C), k.allocate(B * NH * T * T), k.allocate(B * NH * T * T)];
    const loss = () => (k.attentionForward(out, preatt, att, qkv, B, T, C, NH), project(out, projection));
    loss();
    const dQkv = array(B * T * 3 * C, 3, 10);
    k.attentionBackward(dQkv, k.allocate(B * NH * T * T), k.allocate(B * NH * T * T), projection, qkv, att, B, T, C, NH);
    expectSmall(float32GradientErrors(loss, [{ name: 'qkv', values: qkv, analytic: dQkv.slice() }]));
  });

  it('gelu, relu2 and residual: input gradients overwritten', () => {
    const N = 37;
    const inp = array(N, 1, 1.5);
    for (let i = 0; i < N; i++) if (Math.abs(inp[i]) < 0.05) inp[i] = 0.3; // relu2 has a kink at 0
    const projection = array(N, 2);
    const out = k.allocate(N);
    for (const [forward, backward] of [[k.geluForward, k.geluBackward], [k.relu2Forward, k.relu2Backward]] as const) {
      const loss = () => (forward(out, inp, N), project(out, projection));
      const dInp = array(N, 3, 10);
      backward(dInp, inp, projection, N);
      expectSmall(float32GradientErrors(loss, [{ name: forward.name, values: inp, analytic: dInp.slice() }]));
    }
    const other = array(N, 4);
    const residual = () => (k.residualForward(out, inp, other, N), project(out, projection));
    const [dInp1, dInp2] = [array(N, 5, 10), array(N, 6, 10)];
    k.residualBackward(dInp1, dInp2, projection, N);
    expectSmall(float32GradientErrors(residual, [{ name: 'inp1', values: inp, analytic: dInp1.slice() }, { name: 'inp2', values: other, analytic: dInp2.slice() }]));
  });

  it('cross-entropy: dLogits overwritten', () => {
    const [BT, V] = [6, 21];
    const logits = array(BT * V, 1, 3);
    const targets = randomTokens(createRng(2), BT, V);
    const [losses, probs] = [k.allocate(BT), k.allocate(BT * V)];
    const loss = () => k.crossEntropyForward(losses, probs, logits, targets, BT, V);
    loss();
    const dLogits = array(BT * V, 3, 10);
    k.crossEntropyBackward(dLogits, probs, targets, 1 / BT, BT, V);
    expectSmall(float32GradientErrors(loss, [{ name: 'logits', values: logits, analytic: dLogits.slice() }], 3e-3));
  });
});

describeNative('native backend boundaries', () => {
  it('gives bitwise the same loss and gradients with 1, 2 and 3 threads (work is cut by sizes, not threads)', async () => {
    const config = ModelConfig.parse({ vocabSize: 70, contextLength: 40, layers: 2, heads: 2, width: 36 });
    const shape = { batchSize: 30, sequenceLength: 40 }; // 1200 rows: several row blocks and dWeight slices
    const rng = createRng(11);
    const inputs = randomTokens(rng, 1200, 70);
    const targets = randomTokens(rng, 1200, 70);
    const results: { loss: number; grads: Float32Array }[] = [];
    for (const threads of [1, 2, 3]) {
      const backend = nativeBackend(threads);
      const model = new Gpt(config, backend, shape);
      model.initialize(9);
      const loss = model.forward(inputs, targets, 30, 40);
      model.backward();
      results.push({ loss, grads: model.grads.slice() });
      await backend.dispose();
    }
    for (const result of results.slice(1)) {
      expect(result.loss).toBe(results[0].loss);
      expect(result.grads).toEqual(results[0].grads);
    }
  });

  it('takes any Float32Array, sends float64 to the reference kernels, refuses bad ids, and stops when disposed', async () => {
    const backend = nativeBackend(2);
    const rng = createRng(1);
    const [inp, weight] = [randomArray(rng, 10 * 6), randomArray(rng, 4 * 6)];
    const expected = new Float32Array(10 * 4);
    tsBackend.matmulForward(expected, inp, weight, null, 10, 6, 4);
    const actual = new Float32Array(10 * 4);
    backend.matmulForward(actual, inp, weight, null, 10, 6, 4);
    for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i], 5);
    const float64 = new Float64Array(10 * 4);
    backend.matmulForward(float64, Float64Array.from(inp), Float64Array.from(weight), null, 10, 6, 4);
    expect(Array.from(float64, Math.fround)).toEqual(Array.from(expected));
    const logits = backend.allocate(2 * 5);
    expect(() => backend.crossEntropyForward(backend.allocate(2), backend.allocate(2 * 5), logits, Int32Array.from([0, 5]), 2, 5)).toThrow(/not an id below 5/);
    expect(() => backend.matmulForward(actual, inp, weight, null, 10.5, 6, 4)).toThrow(/not a whole number/);
    expect(() => backend.attentionForward(backend.allocate(30), backend.allocate(50), backend.allocate(50), backend.allocate(90), 1, 5, 6, 4))
      .toThrow(/does not divide/);
    await backend.dispose();
    expect(() => backend.matmulForward(actual, inp, weight, null, 10, 6, 4)).toThrow(/disposed/);
  });

  it('allocates zero-filled, 64-byte-aligned buffers', () => {
    const backend = nativeBackend(1);
    for (const length of [1, 100, 300_000]) {
      const buffer = backend.allocate(length);
      expect(buffer.length).toBe(length);
      expect(buffer.every((value) => value === 0)).toBe(true);
    }
  });
});

/** A fresh cache directory and environment for one library build. */
function isolatedSettings(overrides: Partial<NativeSettings> = {}): NativeSettings {
  return { ...nativeSettings(), cacheDirectory: mkdtempSync(join(tmpdir(), 'successor-native-cache-')), ...overrides };
}

describe('native backend unavailable: a value with a reason, and auto falls back', () => {
  const restore = () => {
    delete process.env.SUCCESSOR_CC;
    delete process.env.SUCCESSOR_NATIVE_CACHE;
  };
  afterAll(restore);

  it('with no compiler (hidden from PATH, or SUCCESSOR_CC empty), auto uses wasm and says why in one line', async () => {
    const emptyDirectory = mkdtempSync(join(tmpdir(), 'successor-no-compiler-'));
    const withoutCompiler = nativeSettings({ ...process.env, SUCCESSOR_CC: undefined, CC: undefined, PATH: emptyDirectory });
    expect(withoutCompiler.compiler).toBeNull();
    expect(loadNativeLibrary(withoutCompiler)).toEqual({ ok: false, reason: expect.stringMatching(/no C compiler/) });

    process.env.SUCCESSOR_CC = '';
    process.env.SUCCESSOR_NATIVE_CACHE = mkdtempSync(join(tmpdir(), 'successor-native-cache-'));
    const backend = await createBackend({ kernels: 'auto', threads: 2 });
    try {
      expect(backend.name).toBe('wasm');
      expect(backend.description).toMatch(/^WebAssembly SIMD kernels \(2 threads\), because native kernels are unavailable: no C compiler/);
      expect(backend.description).not.toContain('\n');
    } finally {
      await backend.dispose();
    }
    await expect(createBackend({ kernels: 'native', threads: 1 })).rejects.toThrow(BackendUnavailableError);
    restore();
  });

  it('a compiler that fails, or a target the compiler rejects, is a reason, not a crash', () => {
    const directory = mkdtempSync(join(tmpdir(), 'successor-broken-cc-'));
    const brokenCompiler = join(directory, 'cc');
    writeFileSync(brokenCompiler, '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "broken-cc 1.0"; exit 0; fi\necho "error: this compiler is broken" >&2\nexit 1\n');
    chmodSync(brokenCompiler, 0o755);
    expect(loadNativeLibrary(isolatedSettings({ compiler: brokenCompiler }))).toEqual({ ok: false, reason: expect.stringMatching(/rejects -march=native: error: this compiler is broken/) });
    if (!available.ok) return;
    expect(loadNativeLibrary(isolatedSettings({ march: 'no-such-cpu' }))).toEqual({ ok: false, reason: expect.stringMatching(/rejects -march=no-such-cpu/) });
  });

  const cpuFlags = (() => {
    try {
      return /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].split(/\s+/) ?? [];
    } catch {
      return [];
    }
  })();
  it.skipIf(!available.ok || process.arch !== 'x64' || cpuFlags.length === 0 || cpuFlags.includes('avx512f'))(
    'a -march whose instructions this CPU lacks is refused before anything is built or loaded',
    () => {
      const settings = isolatedSettings({ march: 'x86-64-v4' });
      expect(loadNativeLibrary(settings)).toEqual({ ok: false, reason: expect.stringMatching(/-march=x86-64-v4 needs avx512f.*which this CPU lacks/) });
      expect(readdirSync(settings.cacheDirectory)).toEqual([]);
    },
  );
});

/** Loads the native library in a fresh Node process with this cache directory; its result as JSON. */
function loadInChild(cacheDirectory: string): Promise<{ ok: boolean; compiled?: boolean; path?: string; reason?: string }> {
  const script = "import { loadNativeLibrary } from './src/gpt/native/library.ts'; const load = loadNativeLibrary(); " +
    "process.stdout.write(JSON.stringify(load.ok ? { ok: true, compiled: load.library.compiled, path: load.library.path } : load));";
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '..', '..'), env: { ...process.env, SUCCESSOR_NATIVE_CACHE: cacheDirectory }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(output)) : reject(new Error(`exit ${code}`))));
  });
}

describeNative('the native library cache', () => {
  it('two processes building at once into one cache both load a whole library, and leave one file', async () => {
    const cacheDirectory = mkdtempSync(join(tmpdir(), 'successor-native-cache-'));
    const results = await Promise.all([loadInChild(cacheDirectory), loadInChild(cacheDirectory)]);
    for (const result of results) expect(result).toMatchObject({ ok: true });
    expect(results[0].path).toBe(results[1].path);
    expect(readdirSync(cacheDirectory)).toEqual([results[0].path!.split('/').pop()]);
    // a third process finds it in the cache; and refuses it once others could have written it
    expect(await loadInChild(cacheDirectory)).toMatchObject({ ok: true, compiled: false });
    chmodSync(results[0].path!, 0o666);
    expect(await loadInChild(cacheDirectory)).toEqual({ ok: false, reason: expect.stringMatching(/not this user's alone to write/) });
  }, 120_000);

  it('keys the library by its flags', () => {
    const settings = isolatedSettings();
    const first = loadNativeLibrary(settings);
    const wide = loadNativeLibrary({ ...settings, vectorBytes: 64 });
    if (!first.ok || !wide.ok) throw new Error('the native library should build');
    expect(wide.library.path).not.toBe(first.library.path);
    expect(readdirSync(settings.cacheDirectory).sort()).toEqual([first.library.path, wide.library.path].map((path) => path.split('/').pop()).sort());
  }, 60_000);
});
