/**
 * The successor's configuration: model architecture and training hyperparameters, parsed with zod,
 * and the parameter size table that cuts the one flat Float32Array of weights into tensors.
 *
 * Dimension letters used across src/gpt (and only there):
 *   B  batch size            T  sequence length (context)     C  channels (d_model)
 *   V  vocabulary size       L  number of layers              NH number of attention heads
 *   hs head size = C / NH    OC output channels of a matmul
 */
import { z } from 'zod';

export const ModelConfig = z
  .object({
    vocabSize: z.number().int().min(2).max(1 << 20).default(256), // V
    contextLength: z.number().int().min(1).max(8192).default(128), // T (maximum)
    layers: z.number().int().min(1).max(64).default(4), // L
    heads: z.number().int().min(1).max(64).default(4), // NH
    width: z.number().int().min(1).max(8192).default(128), // C
    mlpRatio: z.number().int().min(1).max(16).default(4), // hidden width = mlpRatio * C
    norm: z.enum(['layernorm', 'rmsnorm']).default('layernorm'),
    activation: z.enum(['gelu', 'relu2']).default('gelu'),
    tiedEmbeddings: z.boolean().default(true),
  })
  .strict()
  .refine((config) => config.width % config.heads === 0, {
    message: 'heads must divide width',
    path: ['heads'],
  });
export type ModelConfig = z.infer<typeof ModelConfig>;

/** Names of the parameter tensors, in the order they sit in the flat buffer. */
export const PARAMETER_NAMES = [
  'wte', // (V, C) token embedding, also the LM head when tied
  'wpe', // (T, C) position embedding
  'ln1w', // (L, C)
  'ln1b', // (L, C)  zero-sized under RMSNorm
  'qkvw', // (L, 3C, C)
  'qkvb', // (L, 3C)
  'attprojw', // (L, C, C)
  'attprojb', // (L, C)
  'ln2w', // (L, C)
  'ln2b', // (L, C)  zero-sized under RMSNorm
  'fcw', // (L, 4C, C)
  'fcb', // (L, 4C)
  'fcprojw', // (L, C, 4C)
  'fcprojb', // (L, C)
  'lnfw', // (C)
  'lnfb', // (C)     zero-sized under RMSNorm
  'lmhead', // (V, C) zero-sized when embeddings are tied
] as const;
export type ParameterName = (typeof PARAMETER_NAMES)[number];

export interface ParameterSlice {
  name: ParameterName;
  offset: number;
  size: number;
  shape: number[];
}

/** The size table: where each tensor lives in the flat parameter (and gradient, and optimizer) buffers. */
export function parameterLayout(config: ModelConfig): { slices: Record<ParameterName, ParameterSlice>; total: number } {
  const { vocabSize: V, contextLength: T, layers: L, width: C } = config;
  const H = config.mlpRatio * C;
  const hasBias = config.norm === 'layernorm';
  const shapes: Record<ParameterName, number[]> = {
    wte: [V, C],
    wpe: [T, C],
    ln1w: [L, C],
    ln1b: hasBias ? [L, C] : [0],
    qkvw: [L, 3 * C, C],
    qkvb: [L, 3 * C],
    attprojw: [L, C, C],
    attprojb: [L, C],
    ln2w: [L, C],
    ln2b: hasBias ? [L, C] : [0],
    fcw: [L, H, C],
    fcb: [L, H],
    fcprojw: [L, C, H],
    fcprojb: [L, C],
    lnfw: [C],
    lnfb: hasBias ? [C] : [0],
    lmhead: config.tiedEmbeddings ? [0] : [V, C],
  };
  const slices = {} as Record<ParameterName, ParameterSlice>;
  let offset = 0;
  for (const name of PARAMETER_NAMES) {
    const shape = shapes[name];
    const size = shape.reduce((product, dimension) => product * dimension, 1);
    slices[name] = { name, offset, size, shape };
    offset += size;
  }
  return { slices, total: offset };
}

/** Model FLOPs per trained token (forward + backward = 3x forward), as in the PaLM/Chinchilla accounting. */
export function trainingFlopsPerToken(config: ModelConfig, sequenceLength = config.contextLength): number {
  const { vocabSize: V, layers: L, width: C } = config;
  const H = config.mlpRatio * C;
  const matmulParameters = L * (3 * C * C + C * C + 2 * H * C) + V * C;
  const attention = L * 2 * sequenceLength * C; // QK^T and AV, causal average is T/2 each way, x2 FLOPs per MAC
  return 3 * (2 * matmulParameters + attention);
}

export const Schedule = z.enum(['cosine', 'linear', 'constant']);

export const TrainConfig = z
  .object({
    model: ModelConfig.default(ModelConfig.parse({})),
    batchSize: z.number().int().min(1).max(4096).default(32), // B
    sequenceLength: z.number().int().min(1).max(8192).optional(), // T used in training; defaults to model.contextLength
    learningRate: z.number().positive().max(10).default(1e-3),
    minLearningRateRatio: z.number().min(0).max(1).default(0.1),
    warmupSteps: z.number().int().min(0).default(20),
    schedule: Schedule.default('cosine'),
    maxSteps: z.number().int().min(1).default(2000), // the schedule's horizon
    weightDecay: z.number().min(0).max(10).default(0.1),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.95),
    epsilon: z.number().positive().default(1e-8),
    gradClip: z.number().min(0).default(1.0), // 0 disables clipping
    seed: z.number().int().min(0).default(1337),
    tokenizer: z.enum(['byte', 'char']).default('byte'),
    evalInterval: z.number().int().min(1).default(50), // steps between validation checks
    evalTokens: z.number().int().min(1).default(16384), // validation tokens per check
    targetValLoss: z.number().positive().optional(), // stop once validation loss reaches this
    maxSeconds: z.number().positive().optional(), // stop after this much wall time
    threads: z.number().int().min(1).max(256).optional(), // kernel threads; default: every core (create-backend.ts)
    // 'auto': the fastest backend that works here (native, else wasm, else ts); the others force one
    kernels: z.enum(['auto', 'native', 'wasm', 'ts']).default('auto'),
  })
  .strict()
  .refine((config) => (config.sequenceLength ?? config.model.contextLength) <= config.model.contextLength, {
    message: 'sequenceLength cannot exceed model.contextLength',
    path: ['sequenceLength'],
  });
export type TrainConfig = z.infer<typeof TrainConfig>;
