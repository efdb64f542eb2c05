/**
 * The fast backend: hand-written WebAssembly SIMD kernels (wasm/*.wat) on worker threads that share one
 * WebAssembly.Memory. Calls are synchronous: each kernel's work is cut into chunks (rows of BT for forward
 * products, norms and elementwise kernels; rows of OC for weight gradients; channels for the embedding gradients;
 * (b, h) pairs for attention) that the main thread and the workers claim until none is left, so no two threads
 * ever write the same memory. Sums across chunks are added in chunk order: results do not depend on which
 * thread ran what, and a run is reproducible for a given thread count.
 *
 * Its kernels add into activation gradients, which the Backend contract overwrites: the backend zero-fills those
 * first (on the main thread, as the model used to). Buffers must come from `allocate` (views into the shared memory). A call with any other buffer (a plain
 * Float32Array, float64 for gradient checks) falls back to the TypeScript reference kernels, which stay the
 * definition of every result; tests hold these kernels to them. Token arrays (Int32Array) may live anywhere:
 * they are copied into shared memory, BT values per call.
 * Not here: the kernels' arithmetic (wasm/*.wat), threads and the control block (wasm/pool.ts).
 */
import { availableParallelism } from 'node:os';
import type { Backend, Floats } from './backend.js';
import { tsBackend } from './backend-ts.js';
import { LAYERNORM_EPSILON } from './kernels/layernorm.js';
import { RMSNORM_EPSILON } from './kernels/rmsnorm.js';
import { SharedArena } from './wasm/arena.js';
import { kernelModule } from './wasm/module.js';
import { WorkerPool } from './wasm/pool.js';

export interface WasmBackendOptions {
  /** Threads including the main one; defaults to the machine's available parallelism. */
  threads?: number;
  /** Memory reserved up front, in bytes (it grows on demand up to 4 GiB). */
  initialBytes?: number;
}

/** Below this many multiply-adds (or values touched) a kernel runs on the main thread alone. */
const PARALLEL_WORK = 65536;
const CACHE_LINE_FLOATS = 16;

export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<Backend> {
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new RangeError(`threads must be 1..256, got ${threads}`);
  const module = await kernelModule();
  const arena = new SharedArena(options.initialBytes);
  const pool = await WorkerPool.start(module, arena.memory, threads);
  return wasmBackend(arena, pool);
}

function wasmBackend(arena: SharedArena, pool: WorkerPool): Backend {
  const threads = pool.threads;
  const owned = (...arrays: (Floats | null)[]): boolean =>
    arrays.every((array) => array === null || (array instanceof Float32Array && arena.owns(array)));
  const pointer = (array: Floats | Int32Array | null): number => (array === null ? 0 : array.byteOffset);
  const run = (kernel: Parameters<WorkerPool['run']>[0], units: number, grain: number, values: number[], work: number, byChunk = false): void =>
    pool.run(kernel, units, grain, values, work >= PARALLEL_WORK, byChunk);
  const parts = pool.maximumChunks;
  /**
   * The byte offset of `tokens` (BT) in shared memory, copying them into a scratch region if they live elsewhere.
   * Ids are checked first: the kernels index rows by them, and a bad id would read or write another buffer.
   */
  const stage = (name: string, tokens: Int32Array, length: number, vocabulary: number): number => {
    for (let i = 0; i < length; i++) {
      if (!(tokens[i] >= 0 && tokens[i] < vocabulary)) throw new RangeError(`token ${i} is ${tokens[i]}, not an id below ${vocabulary}`);
    }
    if (arena.owns(tokens)) return tokens.byteOffset;
    const offset = arena.scratch(name, length * Int32Array.BYTES_PER_ELEMENT);
    arena.int32s(offset, length).set(tokens.subarray(0, length));
    return offset;
  };
  /** Zeroed partial sums, one block of strideBytes per chunk, for a kernel that sums over its chunk's rows. */
  const partials = (name: string, strideBytes: number): number => {
    const offset = arena.scratch(name, parts * strideBytes);
    new Uint8Array(arena.memory.buffer, offset, parts * strideBytes).fill(0);
    return offset;
  };
  /** Adds the per-chunk partial sums that a norm backward left in scratch into the gradient buffers, in chunk order. */
  const addPartials = (partials: number, strideBytes: number, targets: Floats[], C: number): void => {
    for (let part = 0; part < parts; part++) {
      const values = arena.floats(partials + part * strideBytes, targets.length * C);
      targets.forEach((target, which) => {
        for (let i = 0; i < C; i++) target[i] += values[which * C + i];
      });
    }
  };
  const lineAligned = (bytes: number): number => Math.ceil(bytes / 64) * 64;
  /**
   * Throws unless every buffer holds the values the call touches. In shared memory a kernel given sizes larger
   * than its buffers would read or write the neighbouring buffer, where a plain typed array ignores the excess.
   */
  const fits = (kernel: string, ...needs: [Floats | null, number][]): void => {
    for (const [array, length] of needs) {
      if (array !== null && array.length < length) throw new RangeError(`${kernel}: a buffer holds ${array.length} values, the call needs ${length}`);
    }
  };

  return {
    name: 'wasm',
    description: `WebAssembly SIMD kernels (${threads} thread${threads === 1 ? '' : 's'})`,
    allocate: (length) => arena.allocateFloats(length),
    dispose: () => pool.dispose(),

    encoderForward(out, inputs, wte, wpe, B, T, C) {
      if (!owned(out, wte, wpe)) return tsBackend.encoderForward(out, inputs, wte, wpe, B, T, C);
      fits('encoderForward', [out, B * T * C], [wpe, T * C]);
      const tokens = stage('inputs', inputs, B * T, wte.length / C);
      run('encoderForward', B * T, 1, [pointer(out), tokens, pointer(wte), pointer(wpe), T, C], B * T * C);
    },
    encoderBackward(dWte, dWpe, dOut, inputs, B, T, C) {
      if (!owned(dWte, dWpe, dOut)) return tsBackend.encoderBackward(dWte, dWpe, dOut, inputs, B, T, C);
      fits('encoderBackward', [dWpe, T * C], [dOut, B * T * C]);
      const tokens = stage('inputs', inputs, B * T, dWte.length / C);
      run('encoderBackward', C, C >= 2 * CACHE_LINE_FLOATS ? CACHE_LINE_FLOATS : 4,
        [pointer(dWte), pointer(dWpe), pointer(dOut), tokens, B * T, T, C], B * T * C);
    },

    layernormForward(out, mean, rstd, inp, weight, bias, BT, C) {
      if (!owned(out, mean, rstd, inp, weight, bias)) return tsBackend.layernormForward(out, mean, rstd, inp, weight, bias, BT, C);
      fits('layernormForward', [out, BT * C], [inp, BT * C], [mean, BT], [rstd, BT], [weight, C], [bias, C]);
      run('layernormForward', BT, 1,
        [pointer(out), pointer(mean), pointer(rstd), pointer(inp), pointer(weight), pointer(bias), C, LAYERNORM_EPSILON], BT * C);
    },
    layernormBackward(dInp, dWeight, dBias, dOut, inp, weight, mean, rstd, BT, C) {
      if (!owned(dInp, dWeight, dBias, dOut, inp, weight, mean, rstd)) {
        return tsBackend.layernormBackward(dInp, dWeight, dBias, dOut, inp, weight, mean, rstd, BT, C);
      }
      fits('layernormBackward', [dInp, BT * C], [dOut, BT * C], [inp, BT * C], [dWeight, C], [dBias, C], [weight, C], [mean, BT], [rstd, BT]);
      const stride = lineAligned(2 * C * 4);
      const sums = partials('normPartials', stride);
      run('layernormBackward', BT, 1,
        [pointer(dInp), sums, stride, pointer(dOut), pointer(inp), pointer(weight), pointer(mean), pointer(rstd), C], BT * C, true);
      addPartials(sums, stride, [dWeight, dBias], C);
    },

    rmsnormForward(out, rstd, inp, weight, BT, C) {
      if (!owned(out, rstd, inp, weight)) return tsBackend.rmsnormForward(out, rstd, inp, weight, BT, C);
      fits('rmsnormForward', [out, BT * C], [inp, BT * C], [rstd, BT], [weight, C]);
      run('rmsnormForward', BT, 1, [pointer(out), pointer(rstd), pointer(inp), pointer(weight), C, RMSNORM_EPSILON], BT * C);
    },
    rmsnormBackward(dInp, dWeight, dOut, inp, weight, rstd, BT, C) {
      if (!owned(dInp, dWeight, dOut, inp, weight, rstd)) return tsBackend.rmsnormBackward(dInp, dWeight, dOut, inp, weight, rstd, BT, C);
      fits('rmsnormBackward', [dInp, BT * C], [dOut, BT * C], [inp, BT * C], [dWeight, C], [weight, C], [rstd, BT]);
      const stride = lineAligned(C * 4);
      const sums = partials('normPartials', stride);
      run('rmsnormBackward', BT, 1, [pointer(dInp), sums, stride, pointer(dOut), pointer(inp), pointer(weight), pointer(rstd), C], BT * C, true);
      addPartials(sums, stride, [dWeight], C);
    },

    matmulForward(out, inp, weight, bias, BT, C, OC) {
      if (!owned(out, inp, weight, bias)) return tsBackend.matmulForward(out, inp, weight, bias, BT, C, OC);
      fits('matmulForward', [out, BT * OC], [inp, BT * C], [weight, OC * C], [bias, OC]);
      // the product reads the weight transposed (C,OC), so that its inner loop walks rows
      const weightT = arena.scratch('weightT', OC * C * 4);
      run('transposeWeight', OC, CACHE_LINE_FLOATS, [weightT, pointer(weight), C, OC], OC * C);
      run('matmulForward', BT, 4, [pointer(out), pointer(inp), weightT, pointer(bias), C, OC], BT * C * OC);
    },
    matmulBackward(dInp, dWeight, dBias, dOut, inp, weight, BT, C, OC) {
      if (!owned(dInp, dWeight, dBias, dOut, inp, weight)) {
        return tsBackend.matmulBackward(dInp, dWeight, dBias, dOut, inp, weight, BT, C, OC);
      }
      fits('matmulBackward', [dInp, BT * C], [dWeight, OC * C], [dBias, OC], [dOut, BT * OC], [inp, BT * C], [weight, OC * C]);
      dInp.fill(0, 0, BT * C); // the kernel adds into dInp; the contract overwrites it
      run('matmulBackwardInput', BT, 4, [pointer(dInp), pointer(dOut), pointer(weight), C, OC], BT * C * OC);
      run('matmulBackwardWeight', OC, 4,
        [pointer(dWeight), pointer(dBias), pointer(dOut), pointer(inp), BT, C, OC], BT * C * OC);
    },

    attentionForward(out, preatt, att, qkv, B, T, C, NH) {
      if (!owned(out, preatt, att, qkv)) return tsBackend.attentionForward(out, preatt, att, qkv, B, T, C, NH);
      fits('attentionForward', [out, B * T * C], [preatt, B * NH * T * T], [att, B * NH * T * T], [qkv, B * T * 3 * C]);
      if (C % NH !== 0) throw new RangeError(`attentionForward: NH=${NH} does not divide C=${C}`);
      const stride = lineAligned(((C / NH) * T + 2 * T * T) * 4);
      const scratch = arena.scratch('attention', threads * stride);
      run('attentionForward', B * NH, 1,
        [pointer(out), pointer(preatt), pointer(att), pointer(qkv), T, C, NH, scratch, stride], B * T * T * C);
    },
    attentionBackward(dQkv, dPreatt, dAtt, dOut, qkv, att, B, T, C, NH) {
      if (!owned(dQkv, dPreatt, dAtt, dOut, qkv, att)) {
        return tsBackend.attentionBackward(dQkv, dPreatt, dAtt, dOut, qkv, att, B, T, C, NH);
      }
      fits('attentionBackward', [dQkv, B * T * 3 * C], [dPreatt, B * NH * T * T], [dAtt, B * NH * T * T], [dOut, B * T * C], [qkv, B * T * 3 * C], [att, B * NH * T * T]);
      if (C % NH !== 0) throw new RangeError(`attentionBackward: NH=${NH} does not divide C=${C}`);
      // the kernel adds into dQkv and its scratch; the contract overwrites dQkv
      dQkv.fill(0, 0, B * T * 3 * C);
      dPreatt.fill(0, 0, B * NH * T * T);
      dAtt.fill(0, 0, B * NH * T * T);
      const stride = lineAligned(((C / NH) * T + 2 * T * T) * 4);
      const scratch = arena.scratch('attention', threads * stride);
      run('attentionBackward', B * NH, 1,
        [pointer(dQkv), pointer(dPreatt), pointer(dAtt), pointer(dOut), pointer(qkv), pointer(att), T, C, NH, scratch, stride],
        B * T * T * C);
    },

    geluForward(out, inp, N) {
      if (!owned(out, inp)) return tsBackend.geluForward(out, inp, N);
      fits('geluForward', [out, N], [inp, N]);
      run('geluForward', N, CACHE_LINE_FLOATS, [pointer(out), pointer(inp)], 8 * N);
    },
    geluBackward(dInp, inp, dOut, N) {
      if (!owned(dInp, inp, dOut)) return tsBackend.geluBackward(dInp, inp, dOut, N);
      fits('geluBackward', [dInp, N], [inp, N], [dOut, N]);
      dInp.fill(0, 0, N);
      run('geluBackward', N, CACHE_LINE_FLOATS, [pointer(dInp), pointer(inp), pointer(dOut)], 8 * N);
    },
    relu2Forward(out, inp, N) {
      if (!owned(out, inp)) return tsBackend.relu2Forward(out, inp, N);
      fits('relu2Forward', [out, N], [inp, N]);
      run('relu2Forward', N, CACHE_LINE_FLOATS, [pointer(out), pointer(inp)], N);
    },
    relu2Backward(dInp, inp, dOut, N) {
      if (!owned(dInp, inp, dOut)) return tsBackend.relu2Backward(dInp, inp, dOut, N);
      fits('relu2Backward', [dInp, N], [inp, N], [dOut, N]);
      dInp.fill(0, 0, N);
      run('relu2Backward', N, CACHE_LINE_FLOATS, [pointer(dInp), pointer(inp), pointer(dOut)], N);
    },
    residualForward(out, inp1, inp2, N) {
      if (!owned(out, inp1, inp2)) return tsBackend.residualForward(out, inp1, inp2, N);
      fits('residualForward', [out, N], [inp1, N], [inp2, N]);
      run('residualForward', N, CACHE_LINE_FLOATS, [pointer(out), pointer(inp1), pointer(inp2)], N);
    },
    residualBackward(dInp1, dInp2, dOut, N) {
      if (!owned(dInp1, dInp2, dOut)) return tsBackend.residualBackward(dInp1, dInp2, dOut, N);
      fits('residualBackward', [dInp1, N], [dInp2, N], [dOut, N]);
      dInp1.fill(0, 0, N);
      dInp2.fill(0, 0, N);
      run('residualBackward', N, CACHE_LINE_FLOATS, [pointer(dInp1), pointer(dInp2), pointer(dOut)], N);
    },

    crossEntropyForward(losses, probs, logits, targets, BT, V) {
      if (!owned(losses, probs, logits)) return tsBackend.crossEntropyForward(losses, probs, logits, targets, BT, V);
      fits('crossEntropyForward', [losses, BT], [probs, BT * V], [logits, BT * V]);
      // the softmax in wasm; the loss, log(expSum) + max - logit[target], here in float64 (wasm has no log)
      const rowStats = arena.scratch('softmaxRows', 2 * BT * 4);
      run('softmaxForward', BT, 1, [pointer(probs), pointer(logits), rowStats, rowStats + BT * 4, V], 4 * BT * V);
      const stats = arena.floats(rowStats, 2 * BT);
      let lossSum = 0;
      for (let row = 0; row < BT; row++) {
        const loss = Math.log(stats[row]) + stats[BT + row] - logits[row * V + targets[row]];
        losses[row] = loss;
        lossSum += loss;
      }
      return lossSum / BT;
    },
    crossEntropyBackward(dLogits, probs, targets, dLossScale, BT, V) {
      if (!owned(dLogits, probs)) return tsBackend.crossEntropyBackward(dLogits, probs, targets, dLossScale, BT, V);
      fits('crossEntropyBackward', [dLogits, BT * V], [probs, BT * V]);
      dLogits.fill(0, 0, BT * V);
      const staged = stage('targets', targets, BT, V);
      run('crossEntropyBackward', BT, 1, [pointer(dLogits), pointer(probs), staged, dLossScale, V], BT * V);
    },

    adamwUpdate(params, grads, m, v, offset, length, learningRate, beta1, beta2, epsilon, weightDecay, step) {
      if (!owned(params, grads, m, v)) {
        return tsBackend.adamwUpdate(params, grads, m, v, offset, length, learningRate, beta1, beta2, epsilon, weightDecay, step);
      }
      fits('adamwUpdate', [params, offset + length], [grads, offset + length], [m, offset + length], [v, offset + length]);
      const at = (array: Floats) => pointer(array) + offset * 4;
      run('adamwUpdate', length, CACHE_LINE_FLOATS, [
        at(params), at(grads), at(m), at(v), learningRate, beta1, 1 - beta1, beta2, 1 - beta2, epsilon, weightDecay,
        1 - Math.pow(beta1, step), 1 - Math.pow(beta2, step),
      ], 8 * length);
    },
    sumOfSquares(values, offset, length) {
      if (!owned(values)) return tsBackend.sumOfSquares(values, offset, length);
      fits('sumOfSquares', [values, offset + length]);
      const sums = partials('sumOfSquares', 64);
      run('sumOfSquares', length, CACHE_LINE_FLOATS, [pointer(values) + offset * 4, sums], length, true);
      const chunkSums = arena.doubles(sums, parts * 8);
      let total = 0;
      for (let part = 0; part < parts; part++) total += chunkSums[part * 8];
      return total;
    },
    scale(values, offset, length, factor) {
      if (!owned(values)) return tsBackend.scale(values, offset, length, factor);
      fits('scale', [values, offset + length]);
      run('scale', length, CACHE_LINE_FLOATS, [pointer(values) + offset * 4, factor], length);
    },
  };
}
