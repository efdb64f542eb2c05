/**
 * The kernel backend: every forward/backward pair the GPT needs, as one interface.
 *
 * The model calls only these functions, so a faster backend (native C kernels, WebAssembly SIMD on worker threads)
 * can replace any of them while the plain TypeScript reference (`backend-ts.ts`) stays the readable definition and
 * the test oracle.
 *
 * Conventions (as in llm.c):
 * - Buffers are flat, row-major; each parameter's shape is in its comment. BT = B * T.
 * - Gradients of parameters (dWeight, dBias, dWte, dWpe) ACCUMULATE (+=); the caller zeroes them once per step.
 *   So does a norm's dInp: it is the residual stream's gradient, which every branch adds into.
 * - Every other gradient is an activation's, with exactly one producer in the graph, and is OVERWRITTEN (=): the
 *   caller never zero-fills a buffer that the first writer overwrites anyway.
 * - Buffers must come from `allocate` of the same backend (a fast backend may keep them in its own memory).
 * - `Floats` lets the reference kernels run in float64 for finite-difference gradient checks.
 */
export type Floats = Float32Array | Float64Array;

export interface Backend {
  readonly name: string;
  /** One line for people: which kernels, how many threads, and why this backend when another was asked for. */
  readonly description: string;
  /** A zero-filled buffer that this backend's kernels can read and write without copies. */
  allocate(length: number): Float32Array;
  /** Frees worker threads and memory. The backend is unusable afterwards. */
  dispose(): Promise<void>;

  // out (B,T,C) = wte[inputs] (V,C) + wpe[t] (T,C)
  encoderForward(out: Floats, inputs: Int32Array, wte: Floats, wpe: Floats, B: number, T: number, C: number): void;
  encoderBackward(dWte: Floats, dWpe: Floats, dOut: Floats, inputs: Int32Array, B: number, T: number, C: number): void;

  // out (BT,C); mean, rstd (BT)
  layernormForward(out: Floats, mean: Floats, rstd: Floats, inp: Floats, weight: Floats, bias: Floats, BT: number, C: number): void;
  layernormBackward(dInp: Floats, dWeight: Floats, dBias: Floats, dOut: Floats, inp: Floats, weight: Floats, mean: Floats, rstd: Floats, BT: number, C: number): void;

  // out (BT,C); rstd (BT)
  rmsnormForward(out: Floats, rstd: Floats, inp: Floats, weight: Floats, BT: number, C: number): void;
  rmsnormBackward(dInp: Floats, dWeight: Floats, dOut: Floats, inp: Floats, weight: Floats, rstd: Floats, BT: number, C: number): void;

  // out (BT,OC) = inp (BT,C) @ weight^T (OC,C) + bias (OC)
  matmulForward(out: Floats, inp: Floats, weight: Floats, bias: Floats | null, BT: number, C: number, OC: number): void;
  matmulBackward(dInp: Floats, dWeight: Floats, dBias: Floats | null, dOut: Floats, inp: Floats, weight: Floats, BT: number, C: number, OC: number): void;

  // causal self-attention. qkv (B,T,3C) -> out (B,T,C). preatt, att (B,NH,T,T) carry what the backward pass needs
  // from the forward: the reference keeps the scores and the softmax there (llm.c); every backend keeps the softmax
  // in att at t2 <= t, and may leave preatt and att above the diagonal untouched. dPreatt, dAtt are scratch.
  attentionForward(out: Floats, preatt: Floats, att: Floats, qkv: Floats, B: number, T: number, C: number, NH: number): void;
  attentionBackward(dQkv: Floats, dPreatt: Floats, dAtt: Floats, dOut: Floats, qkv: Floats, att: Floats, B: number, T: number, C: number, NH: number): void;

  // Optional fusions. A backend that has one does in one pass what the model otherwise composes from the kernels
  // here, with the same results up to float rounding (tests hold fusions to the reference kernels composed).
  // pre (BT,OC) = inp (BT,C) @ weight^T (OC,C) + bias; out (BT,OC) = gelu(pre): matmulForward, then geluForward
  matmulGeluForward?(pre: Floats, out: Floats, inp: Floats, weight: Floats, bias: Floats | null, BT: number, C: number, OC: number): void;
  // The backward pass of a matmul whose input is gelu(pre), carried through the GELU: dPre (BT,C) =
  // gelu'(pre) * (dOut @ weight), dWeight, dBias += as matmulBackward: matmulBackward, then geluBackward
  matmulBackwardGelu?(
    dPre: Floats, dWeight: Floats, dBias: Floats | null, dOut: Floats, inp: Floats, weight: Floats, pre: Floats, BT: number, C: number, OC: number,
  ): void;

  // elementwise over N values
  geluForward(out: Floats, inp: Floats, N: number): void;
  geluBackward(dInp: Floats, inp: Floats, dOut: Floats, N: number): void;
  relu2Forward(out: Floats, inp: Floats, N: number): void;
  relu2Backward(dInp: Floats, inp: Floats, dOut: Floats, N: number): void;
  residualForward(out: Floats, inp1: Floats, inp2: Floats, N: number): void;
  residualBackward(dInp1: Floats, dInp2: Floats, dOut: Floats, N: number): void;

  // probs (BT,V) = softmax(logits (BT,V)); losses (BT) = -log probs[target]. Returns the mean loss.
  crossEntropyForward(losses: Floats, probs: Floats, logits: Floats, targets: Int32Array, BT: number, V: number): number;
  // dLogits (BT,V) = (probs - onehot(target)) * dLossScale, where dLossScale is usually 1 / BT.
  crossEntropyBackward(dLogits: Floats, probs: Floats, targets: Int32Array, dLossScale: number, BT: number, V: number): void;

  // AdamW on params[offset, offset + length): decoupled weight decay, bias-corrected moments, step counts from 1.
  adamwUpdate(
    params: Floats, grads: Floats, m: Floats, v: Floats, offset: number, length: number,
    learningRate: number, beta1: number, beta2: number, epsilon: number, weightDecay: number, step: number,
  ): void;
  /** Sum of squares of values[offset, offset + length), for gradient clipping. */
  sumOfSquares(values: Floats, offset: number, length: number): number;
  /** values[offset, offset + length) *= factor. */
  scale(values: Floats, offset: number, length: number, factor: number): void;
}
