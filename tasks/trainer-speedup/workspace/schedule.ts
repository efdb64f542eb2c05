/**
 * The learning-rate schedule: linear warmup, then cosine or linear decay to `minLearningRateRatio * learningRate`
 * at `maxSteps` (held there afterwards), or constant. A pure function of the step, so a resumed run gets the
 * same rates as an uninterrupted one.
 */
import type { TrainConfig } from './config.js';

export type ScheduleOptions = Pick<TrainConfig, 'learningRate' | 'minLearningRateRatio' | 'warmupSteps' | 'schedule' | 'maxSteps'>;

/** Learning rate for `step` (0-based: the rate used by the step-th optimizer update). */
export function learningRateAt(step: number, options: ScheduleOptions): number {
  const { learningRate, warmupSteps, maxSteps } = options;
  // Warmup reaches the full rate on its last step rather than one step after it, as in nanoGPT/llm.c.
  if (step < warmupSteps) return (learningRate * (step + 1)) / warmupSteps;
  if (options.schedule === 'constant') return learningRate;
  const minimum = learningRate * options.minLearningRateRatio;
  const decaySteps = Math.max(1, maxSteps - warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - warmupSteps) / decaySteps)); // 0 -> 1 over the decay
  const coefficient = options.schedule === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
  return minimum + coefficient * (learningRate - minimum);
}
