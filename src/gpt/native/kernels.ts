/**
 * The native library's exports (addon.c), typed: what backend-native.ts calls. Every kernel takes the pool handle
 * first; buffers must be Float32Arrays (any, not only those from `allocate`; the library throws a TypeError for
 * any other kind, so the type below admits Floats only to spare the caller casts), token arrays Int32Arrays.
 * Lengths are not checked on the C side of the boundary: the caller must (backend-native.ts does, before every call).
 */
import type { Floats } from '../backend.js';

/** An opaque handle to a native thread pool. */
export type NativePool = { readonly __nativePool: unique symbol };

/** What the epilogue of a matmul does with the rows it has just computed (the values of addon.c's Epilogue). */
export const EPILOGUE = { none: 0, gelu: 1, geluBackward: 2 } as const;

type F = Floats;

export interface NativeKernels {
  readonly vectorBytes: number;
  readonly tileRows: number;
  readonly tileColumns: number;
  readonly blockDepth: number;
  readonly blockRows: number;
  createPool(threads: number): NativePool;
  destroyPool(pool: NativePool): void;
  /** A zero-filled, 64-byte-aligned Float32Array whose memory the library owns (freed when it is collected). */
  allocate(length: number): Float32Array;

  matmulForward(pool: NativePool, out: F, activated: F | null, inp: F, weight: F, bias: F | null, BT: number, C: number, OC: number, epilogue: number): void;
  matmulBackward(pool: NativePool, dInp: F, dWeight: F, dBias: F | null, dOut: F, inp: F, weight: F, pre: F | null, BT: number, C: number, OC: number, epilogue: number): void;
  attentionForward(pool: NativePool, out: F, att: F, qkv: F, B: number, T: number, C: number, NH: number): void;
  attentionBackward(pool: NativePool, dQkv: F, dOut: F, qkv: F, att: F, B: number, T: number, C: number, NH: number): void;
  layernormForward(pool: NativePool, out: F, mean: F, rstd: F, inp: F, weight: F, bias: F, BT: number, C: number, epsilon: number): void;
  layernormBackward(pool: NativePool, dInp: F, dWeight: F, dBias: F, dOut: F, inp: F, weight: F, mean: F, rstd: F, BT: number, C: number): void;
  rmsnormForward(pool: NativePool, out: F, rstd: F, inp: F, weight: F, BT: number, C: number, epsilon: number): void;
  rmsnormBackward(pool: NativePool, dInp: F, dWeight: F, dOut: F, inp: F, weight: F, rstd: F, BT: number, C: number): void;
  encoderForward(pool: NativePool, out: F, inputs: Int32Array, wte: F, wpe: F, B: number, T: number, C: number): void;
  encoderBackward(pool: NativePool, dWte: F, dWpe: F, dOut: F, inputs: Int32Array, B: number, T: number, C: number): void;
  geluForward(pool: NativePool, out: F, inp: F, N: number): void;
  geluBackward(pool: NativePool, dInp: F, inp: F, dOut: F, N: number): void;
  relu2Forward(pool: NativePool, out: F, inp: F, N: number): void;
  relu2Backward(pool: NativePool, dInp: F, inp: F, dOut: F, N: number): void;
  residualForward(pool: NativePool, out: F, inp1: F, inp2: F, N: number): void;
  residualBackward(pool: NativePool, dInp1: F, dInp2: F, dOut: F, N: number): void;
  crossEntropyForward(pool: NativePool, losses: F, probs: F, logits: F, targets: Int32Array, BT: number, V: number): number;
  crossEntropyBackward(pool: NativePool, dLogits: F, probs: F, targets: Int32Array, dLossScale: number, BT: number, V: number): void;
  adamwUpdate(
    pool: NativePool, params: F, grads: F, m: F, v: F, offset: number, length: number, learningRate: number, beta1: number,
    beta2: number, epsilon: number, weightDecay: number, beta1Correction: number, beta2Correction: number,
  ): void;
  sumOfSquares(pool: NativePool, values: F, offset: number, length: number): number;
  scale(pool: NativePool, values: F, offset: number, length: number, factor: number): void;
  /** FLOP/s of vector fused multiply-adds on the calling thread, measured for `seconds` (the benchmark's peak). */
  measureFmaPeak(seconds: number): number;
}
