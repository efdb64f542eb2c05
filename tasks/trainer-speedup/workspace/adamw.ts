/**
 * The AdamW optimizer over a Gpt's flat parameter buffer: optional global gradient-norm clipping, then a
 * bias-corrected Adam step with decoupled weight decay on the matrices only (embeddings and linear weights;
 * never biases or norm weights). The per-element math is the backend's `adamwUpdate` kernel; this file is the
 * policy. Not here: the learning-rate schedule (the trainer passes the rate for each step).
 */
import { PARAMETER_NAMES, type ParameterName } from './config.js';
import type { Gpt } from './model.js';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  gradClip: number; // clip the global gradient L2 norm to this; 0 disables clipping
}

/** The tensors that weight decay applies to. */
export const DECAYED_PARAMETERS: ReadonlySet<ParameterName> = new Set([
  'wte', 'wpe', 'qkvw', 'attprojw', 'fcw', 'fcprojw', 'lmhead',
]);

export class AdamW {
  readonly m: Float32Array; // first moments, same layout as the parameters
  readonly v: Float32Array; // second moments
  stepCount = 0; // steps taken; the next update uses stepCount + 1 for bias correction

  constructor(
    readonly model: Gpt,
    readonly options: AdamWOptions,
  ) {
    this.m = model.backend.allocate(model.layout.total);
    this.v = model.backend.allocate(model.layout.total);
  }

  /**
   * One update from the gradients in `model.grads`. Returns the global gradient norm before clipping.
   * A non-finite norm means the step would poison every parameter, so nothing is updated (stepCount included)
   * and the caller sees the NaN or Infinity and decides what to do.
   */
  step(learningRate: number): { gradNorm: number } {
    const { model, options } = this;
    const backend = model.backend;
    const total = model.layout.total;
    const gradNorm = Math.sqrt(backend.sumOfSquares(model.grads, 0, total));
    if (!Number.isFinite(gradNorm)) return { gradNorm };
    if (options.gradClip > 0 && gradNorm > options.gradClip) {
      backend.scale(model.grads, 0, total, options.gradClip / gradNorm);
    }
    this.stepCount += 1;
    for (const name of PARAMETER_NAMES) {
      const { offset, size } = model.layout.slices[name];
      if (size === 0) continue;
      const weightDecay = DECAYED_PARAMETERS.has(name) ? options.weightDecay : 0;
      backend.adamwUpdate(
        model.params, model.grads, this.m, this.v, offset, size,
        learningRate, options.beta1, options.beta2, options.epsilon, weightDecay, this.stepCount,
      );
    }
    return { gradNorm };
  }
}
