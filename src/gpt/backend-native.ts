/**
 * The native backend: C kernels (native/*.c) compiled for this CPU on first use and called through Node-API, on a
 * pool of native threads. Matmuls and attention are register-blocked products (native/gemm.c); attention keeps
 * its scores in per-thread scratch, never in the (B,NH,T,T) buffers (only the softmax, which backward needs, is
 * stored); results do not depend on the thread count, since every kernel cuts its work by the sizes alone.
 *
 * This file is the boundary that keeps the C side safe: every call checks that sizes are whole numbers, that each
 * buffer holds what the sizes say, and that token ids index inside their table, before any native code runs (the
 * C code trusts all three). Float64 buffers (gradient checks) go to the TypeScript reference kernels, which stay
 * the definition of every result; tests hold these kernels to them.
 * Not here: compiling and caching (native/library.ts), the arithmetic (native/*.c).
 */
import { availableParallelism } from 'node:os';
import type { Backend, Floats } from './backend.js';
import { tsBackend } from './backend-ts.js';
import { LAYERNORM_EPSILON } from './kernels/layernorm.js';
import { RMSNORM_EPSILON } from './kernels/rmsnorm.js';
import { EPILOGUE, type NativeKernels, type NativePool } from './native/kernels.js';
import { loadNativeLibrary, nativeSettings, type NativeLibrary, type NativeSettings } from './native/library.js';

export interface NativeBackendOptions {
  /** Threads including the calling one; defaults to the machine's available parallelism. */
  threads?: number;
  settings?: NativeSettings;
}

export type NativeBackendResult = { ok: true; backend: Backend; library: NativeLibrary } | { ok: false; reason: string };

const LARGEST_SIZE = 2 ** 31 - 1;

/** The native backend, or why it is not available on this machine (never throws for that). */
export function createNativeBackend(options: NativeBackendOptions = {}): NativeBackendResult {
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new RangeError(`threads must be 1..256, got ${threads}`);
  const load = loadNativeLibrary(options.settings ?? nativeSettings());
  if (!load.ok) return load;
  let pool: NativePool;
  try {
    pool = load.library.kernels.createPool(threads);
  } catch (error) {
    return { ok: false, reason: `native threads could not start (${error instanceof Error ? error.message : String(error)})` };
  }
  return { ok: true, backend: nativeBackend(load.library, pool, threads), library: load.library };
}

function nativeBackend(library: NativeLibrary, pool: NativePool, threads: number): Backend {
  const kernels: NativeKernels = library.kernels;
  let disposed = false;
  const live = (): NativePool => {
    if (disposed) throw new Error('the native backend was disposed');
    return pool;
  };
  /** Whether the native kernels take these buffers (float32); float64 ones go to the reference kernels. */
  const native = (...arrays: (Floats | null)[]): boolean => arrays.every((array) => array === null || array instanceof Float32Array);
  /** Throws unless every size is a whole number the C side can index with. */
  const sizes = (kernel: string, ...values: number[]): void => {
    for (const value of values) {
      if (!(Number.isInteger(value) && value >= 0 && value <= LARGEST_SIZE)) throw new RangeError(`${kernel}: size ${value} is not a whole number below 2^31`);
    }
  };
  /** Throws unless every buffer holds the values the call touches: native code would read or write past its end. */
  const fits = (kernel: string, ...needs: [Floats | null, number][]): void => {
    for (const [array, length] of needs) {
      if (array !== null && array.length < length) throw new RangeError(`${kernel}: a buffer holds ${array.length} values, the call needs ${length}`);
    }
  };
  /** Throws unless tokens[0, length) are ids below `vocabulary`: the kernels index rows by them. */
  const ids = (kernel: string, tokens: Int32Array, length: number, vocabulary: number): void => {
    if (tokens.length < length) throw new RangeError(`${kernel}: ${tokens.length} token ids, the call needs ${length}`);
    for (let i = 0; i < length; i++) {
      if (!(tokens[i] >= 0 && tokens[i] < vocabulary)) throw new RangeError(`${kernel}: token ${i} is ${tokens[i]}, not an id below ${vocabulary}`);
    }
  };
  const heads = (kernel: string, C: number, NH: number): void => {
    if (!(NH >= 1 && C % NH === 0)) throw new RangeError(`${kernel}: NH=${NH} does not divide C=${C}`);
  };
  const vectorBits = kernels.vectorBytes * 8;

  return {
    name: 'native',
    description: `native C kernels (${vectorBits}-bit vectors, ${threads} thread${threads === 1 ? '' : 's'}; ${library.compiler})`,
    allocate: (length) => {
      sizes('allocate', length);
      return kernels.allocate(length);
    },
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      kernels.destroyPool(pool);
    },

    encoderForward(out, inputs, wte, wpe, B, T, C) {
      if (!native(out, wte, wpe)) return tsBackend.encoderForward(out, inputs, wte, wpe, B, T, C);
      sizes('encoderForward', B, T, C, B * T * C);
      fits('encoderForward', [out, B * T * C], [wpe, T * C]);
      ids('encoderForward', inputs, B * T, C === 0 ? 0 : Math.floor(wte.length / C));
      kernels.encoderForward(live(), out, inputs, wte, wpe, B, T, C);
    },
    encoderBackward(dWte, dWpe, dOut, inputs, B, T, C) {
      if (!native(dWte, dWpe, dOut)) return tsBackend.encoderBackward(dWte, dWpe, dOut, inputs, B, T, C);
      sizes('encoderBackward', B, T, C, B * T * C);
      fits('encoderBackward', [dWpe, T * C], [dOut, B * T * C]);
      ids('encoderBackward', inputs, B * T, C === 0 ? 0 : Math.floor(dWte.length / C));
      kernels.encoderBackward(live(), dWte, dWpe, dOut, inputs, B, T, C);
    },

    layernormForward(out, mean, rstd, inp, weight, bias, BT, C) {
      if (!native(out, mean, rstd, inp, weight, bias)) return tsBackend.layernormForward(out, mean, rstd, inp, weight, bias, BT, C);
      sizes('layernormForward', BT, C, BT * C);
      fits('layernormForward', [out, BT * C], [inp, BT * C], [mean, BT], [rstd, BT], [weight, C], [bias, C]);
      kernels.layernormForward(live(), out, mean, rstd, inp, weight, bias, BT, C, LAYERNORM_EPSILON);
    },
    layernormBackward(dInp, dWeight, dBias, dOut, inp, weight, mean, rstd, BT, C) {
      if (!native(dInp, dWeight, dBias, dOut, inp, weight, mean, rstd)) {
        return tsBackend.layernormBackward(dInp, dWeight, dBias, dOut, inp, weight, mean, rstd, BT, C);
      }
      sizes('layernormBackward', BT, C, BT * C);
      fits('layernormBackward', [dInp, BT * C], [dOut, BT * C], [inp, BT * C], [dWeight, C], [dBias, C], [weight, C], [mean, BT], [rstd, BT]);
      kernels.layernormBackward(live(), dInp, dWeight, dBias, dOut, inp, weight, mean, rstd, BT, C);
    },

    rmsnormForward(out, rstd, inp, weight, BT, C) {
      if (!native(out, rstd, inp, weight)) return tsBackend.rmsnormForward(out, rstd, inp, weight, BT, C);
      sizes('rmsnormForward', BT, C, BT * C);
      fits('rmsnormForward', [out, BT * C], [inp, BT * C], [rstd, BT], [weight, C]);
      kernels.rmsnormForward(live(), out, rstd, inp, weight, BT, C, RMSNORM_EPSILON);
    },
    rmsnormBackward(dInp, dWeight, dOut, inp, weight, rstd, BT, C) {
      if (!native(dInp, dWeight, dOut, inp, weight, rstd)) return tsBackend.rmsnormBackward(dInp, dWeight, dOut, inp, weight, rstd, BT, C);
      sizes('rmsnormBackward', BT, C, BT * C);
      fits('rmsnormBackward', [dInp, BT * C], [dOut, BT * C], [inp, BT * C], [dWeight, C], [weight, C], [rstd, BT]);
      kernels.rmsnormBackward(live(), dInp, dWeight, dOut, inp, weight, rstd, BT, C);
    },

    matmulForward(out, inp, weight, bias, BT, C, OC) {
      if (!native(out, inp, weight, bias)) return tsBackend.matmulForward(out, inp, weight, bias, BT, C, OC);
      sizes('matmulForward', BT, C, OC, BT * C, BT * OC, OC * C);
      fits('matmulForward', [out, BT * OC], [inp, BT * C], [weight, OC * C], [bias, OC]);
      kernels.matmulForward(live(), out, null, inp, weight, bias, BT, C, OC, EPILOGUE.none);
    },
    matmulBackward(dInp, dWeight, dBias, dOut, inp, weight, BT, C, OC) {
      if (!native(dInp, dWeight, dBias, dOut, inp, weight)) return tsBackend.matmulBackward(dInp, dWeight, dBias, dOut, inp, weight, BT, C, OC);
      sizes('matmulBackward', BT, C, OC, BT * C, BT * OC, OC * C);
      fits('matmulBackward', [dInp, BT * C], [dWeight, OC * C], [dBias, OC], [dOut, BT * OC], [inp, BT * C], [weight, OC * C]);
      kernels.matmulBackward(live(), dInp, dWeight, dBias, dOut, inp, weight, null, BT, C, OC, EPILOGUE.none);
    },

    matmulGeluForward(pre, out, inp, weight, bias, BT, C, OC) {
      if (!native(pre, out, inp, weight, bias)) {
        tsBackend.matmulForward(pre, inp, weight, bias, BT, C, OC);
        return tsBackend.geluForward(out, pre, BT * OC);
      }
      sizes('matmulGeluForward', BT, C, OC, BT * C, BT * OC, OC * C);
      fits('matmulGeluForward', [pre, BT * OC], [out, BT * OC], [inp, BT * C], [weight, OC * C], [bias, OC]);
      kernels.matmulForward(live(), pre, out, inp, weight, bias, BT, C, OC, EPILOGUE.gelu);
    },
    matmulBackwardGelu(dPre, dWeight, dBias, dOut, inp, weight, pre, BT, C, OC) {
      if (!native(dPre, dWeight, dBias, dOut, inp, weight, pre)) {
        const dActivated = new Float64Array(BT * C);
        tsBackend.matmulBackward(dActivated, dWeight, dBias, dOut, inp, weight, BT, C, OC);
        return tsBackend.geluBackward(dPre, pre, dActivated, BT * C);
      }
      sizes('matmulBackwardGelu', BT, C, OC, BT * C, BT * OC, OC * C);
      fits('matmulBackwardGelu', [dPre, BT * C], [dWeight, OC * C], [dBias, OC], [dOut, BT * OC], [inp, BT * C], [weight, OC * C], [pre, BT * C]);
      kernels.matmulBackward(live(), dPre, dWeight, dBias, dOut, inp, weight, pre, BT, C, OC, EPILOGUE.geluBackward);
    },

    attentionForward(out, preatt, att, qkv, B, T, C, NH) {
      if (!native(out, preatt, att, qkv)) return tsBackend.attentionForward(out, preatt, att, qkv, B, T, C, NH);
      sizes('attentionForward', B, T, C, NH, B * T * 3 * C, B * NH * T * T);
      heads('attentionForward', C, NH);
      fits('attentionForward', [out, B * T * C], [att, B * NH * T * T], [qkv, B * T * 3 * C]);
      kernels.attentionForward(live(), out, att, qkv, B, T, C, NH);
    },
    attentionBackward(dQkv, dPreatt, dAtt, dOut, qkv, att, B, T, C, NH) {
      if (!native(dQkv, dPreatt, dAtt, dOut, qkv, att)) return tsBackend.attentionBackward(dQkv, dPreatt, dAtt, dOut, qkv, att, B, T, C, NH);
      sizes('attentionBackward', B, T, C, NH, B * T * 3 * C, B * NH * T * T);
      heads('attentionBackward', C, NH);
      fits('attentionBackward', [dQkv, B * T * 3 * C], [dOut, B * T * C], [qkv, B * T * 3 * C], [att, B * NH * T * T]);
      kernels.attentionBackward(live(), dQkv, dOut, qkv, att, B, T, C, NH);
    },

    geluForward(out, inp, N) {
      if (!native(out, inp)) return tsBackend.geluForward(out, inp, N);
      sizes('geluForward', N);
      fits('geluForward', [out, N], [inp, N]);
      kernels.geluForward(live(), out, inp, N);
    },
    geluBackward(dInp, inp, dOut, N) {
      if (!native(dInp, inp, dOut)) return tsBackend.geluBackward(dInp, inp, dOut, N);
      sizes('geluBackward', N);
      fits('geluBackward', [dInp, N], [inp, N], [dOut, N]);
      kernels.geluBackward(live(), dInp, inp, dOut, N);
    },
    relu2Forward(out, inp, N) {
      if (!native(out, inp)) return tsBackend.relu2Forward(out, inp, N);
      sizes('relu2Forward', N);
      fits('relu2Forward', [out, N], [inp, N]);
      kernels.relu2Forward(live(), out, inp, N);
    },
    relu2Backward(dInp, inp, dOut, N) {
      if (!native(dInp, inp, dOut)) return tsBackend.relu2Backward(dInp, inp, dOut, N);
      sizes('relu2Backward', N);
      fits('relu2Backward', [dInp, N], [inp, N], [dOut, N]);
      kernels.relu2Backward(live(), dInp, inp, dOut, N);
    },
    residualForward(out, inp1, inp2, N) {
      if (!native(out, inp1, inp2)) return tsBackend.residualForward(out, inp1, inp2, N);
      sizes('residualForward', N);
      fits('residualForward', [out, N], [inp1, N], [inp2, N]);
      kernels.residualForward(live(), out, inp1, inp2, N);
    },
    residualBackward(dInp1, dInp2, dOut, N) {
      if (!native(dInp1, dInp2, dOut)) return tsBackend.residualBackward(dInp1, dInp2, dOut, N);
      sizes('residualBackward', N);
      fits('residualBackward', [dInp1, N], [dInp2, N], [dOut, N]);
      kernels.residualBackward(live(), dInp1, dInp2, dOut, N);
    },

    crossEntropyForward(losses, probs, logits, targets, BT, V) {
      if (!native(losses, probs, logits)) return tsBackend.crossEntropyForward(losses, probs, logits, targets, BT, V);
      sizes('crossEntropyForward', BT, V, BT * V);
      fits('crossEntropyForward', [losses, BT], [probs, BT * V], [logits, BT * V]);
      ids('crossEntropyForward', targets, BT, V);
      return kernels.crossEntropyForward(live(), losses, probs, logits, targets, BT, V);
    },
    crossEntropyBackward(dLogits, probs, targets, dLossScale, BT, V) {
      if (!native(dLogits, probs)) return tsBackend.crossEntropyBackward(dLogits, probs, targets, dLossScale, BT, V);
      sizes('crossEntropyBackward', BT, V, BT * V);
      fits('crossEntropyBackward', [dLogits, BT * V], [probs, BT * V]);
      ids('crossEntropyBackward', targets, BT, V);
      kernels.crossEntropyBackward(live(), dLogits, probs, targets, dLossScale, BT, V);
    },

    adamwUpdate(params, grads, m, v, offset, length, learningRate, beta1, beta2, epsilon, weightDecay, step) {
      if (!native(params, grads, m, v)) {
        return tsBackend.adamwUpdate(params, grads, m, v, offset, length, learningRate, beta1, beta2, epsilon, weightDecay, step);
      }
      sizes('adamwUpdate', offset, length, offset + length);
      fits('adamwUpdate', [params, offset + length], [grads, offset + length], [m, offset + length], [v, offset + length]);
      kernels.adamwUpdate(live(), params, grads, m, v, offset, length, learningRate, beta1, beta2, epsilon, weightDecay,
        1 - Math.pow(beta1, step), 1 - Math.pow(beta2, step));
    },
    sumOfSquares(values, offset, length) {
      if (!native(values)) return tsBackend.sumOfSquares(values, offset, length);
      sizes('sumOfSquares', offset, length, offset + length);
      fits('sumOfSquares', [values, offset + length]);
      return kernels.sumOfSquares(live(), values, offset, length);
    },
    scale(values, offset, length, factor) {
      if (!native(values)) return tsBackend.scale(values, offset, length, factor);
      sizes('scale', offset, length, offset + length);
      fits('scale', [values, offset + length]);
      kernels.scale(live(), values, offset, length, factor);
    },
  };
}
