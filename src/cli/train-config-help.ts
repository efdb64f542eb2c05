/**
 * `successor train --print-config`: every key `--set` and `--config` accept, with its default and range read from
 * the trainer's own schema (TrainConfig in src/gpt/config.ts, through zod's JSON Schema), and its meaning from the
 * table below. The schema stays the one source of defaults and ranges; a test checks that every key it has is
 * explained here and that nothing here names a key it lacks.
 * Is not: the schema, nor the parsing of --set values (train.ts).
 */
import { z } from 'zod';
import { TrainConfig } from '../gpt/config.js';

/** What each key means, for people choosing `--set` values. Dimension letters as in src/gpt/config.ts. */
export const TRAIN_CONFIG_MEANINGS: Record<string, string> = {
  'model.vocabSize': 'V: vocabulary size (the byte tokenizer needs at least 256; the char tokenizer sets it to its vocabulary)',
  'model.contextLength': 'T: the longest sequence the model attends over (its position embeddings)',
  'model.layers': 'L: transformer blocks',
  'model.heads': 'NH: attention heads (must divide model.width)',
  'model.width': 'C: channels of the residual stream (d_model)',
  'model.mlpRatio': 'the MLP hidden width is mlpRatio x width',
  'model.norm': 'LayerNorm or RMSNorm',
  'model.activation': 'the MLP activation: GELU or squared ReLU',
  'model.tiedEmbeddings': 'the output head reuses the token embedding',
  batchSize: 'B: sequences per step (tokens per step = batchSize x sequenceLength)',
  sequenceLength: 'T used in training; unset means model.contextLength',
  learningRate: 'peak AdamW learning rate, reached after warmupSteps',
  minLearningRateRatio: 'the schedule decays to learningRate x this',
  warmupSteps: 'steps of linear warmup from 0',
  schedule: 'after warmup: cosine or linear decay to the minimum, or constant',
  maxSteps: 'optimizer steps; also the horizon the schedule decays over',
  weightDecay: 'AdamW decoupled weight decay',
  beta1: 'AdamW first-moment decay',
  beta2: 'AdamW second-moment decay',
  epsilon: 'AdamW denominator epsilon',
  gradClip: 'clip the global gradient norm to this (0: no clipping)',
  seed: 'initial weights and the order of batches',
  tokenizer: 'byte (256 symbols) or char (the characters of the corpus)',
  evalInterval: 'steps between validation checks',
  evalTokens: 'validation tokens per check (and in the final one)',
  targetValLoss: 'stop once the validation loss (nats per token) reaches this (--target-loss)',
  maxSeconds: 'stop by this much wall time, to within one step (--max-seconds)',
  threads: 'threads for the kernels that use several (unset: every core; the TypeScript reference kernels use one)',
  kernels: 'which kernels train: auto picks native (C compiled for this CPU), else wasm (WebAssembly SIMD), else ts; ts is the plain TypeScript reference, for checking, and far slower than the others',
};

export interface ConfigKey {
  key: string;
  /** The default as `--set` would write it; null when the key is unset by default. */
  default: string | null;
  range: string;
  meaning: string;
}

type JsonSchema = {
  type?: string; properties?: Record<string, JsonSchema>; default?: unknown; enum?: unknown[];
  minimum?: number; maximum?: number; exclusiveMinimum?: number; exclusiveMaximum?: number;
};

/** JavaScript's safe-integer bounds are what zod reports for "no bound". */
const bounded = (value: number | undefined): value is number => value !== undefined && Math.abs(value) < Number.MAX_SAFE_INTEGER;

function rangeOf(schema: JsonSchema): string {
  if (schema.enum) return schema.enum.map(String).join(' | ');
  if (schema.type === 'boolean') return 'true | false';
  if (schema.type === 'integer' || schema.type === 'number') {
    const low = bounded(schema.minimum) ? `>= ${schema.minimum}` : bounded(schema.exclusiveMinimum) ? `> ${schema.exclusiveMinimum}` : null;
    const high = bounded(schema.maximum) ? `<= ${schema.maximum}` : bounded(schema.exclusiveMaximum) ? `< ${schema.exclusiveMaximum}` : null;
    return [schema.type, [low, high].filter(Boolean).join(', ')].filter(Boolean).join(' ');
  }
  return schema.type ?? 'any';
}

/** Every leaf key of TrainConfig (dotted), in the schema's order, with its default, range and meaning. */
export function describeTrainConfig(): ConfigKey[] {
  const root = z.toJSONSchema(TrainConfig, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const keys: ConfigKey[] = [];
  const walk = (schema: JsonSchema, prefix: string): void => {
    for (const [name, child] of Object.entries(schema.properties ?? {})) {
      const key = prefix ? `${prefix}.${name}` : name;
      if (child.type === 'object' && child.properties) {
        walk(child, key);
        continue;
      }
      keys.push({ key, default: child.default === undefined ? null : String(child.default), range: rangeOf(child), meaning: TRAIN_CONFIG_MEANINGS[key] ?? '' });
    }
  };
  walk(root, '');
  return keys;
}

/** The table as aligned text: key, default, range, meaning. */
export function formatTrainConfig(keys: readonly ConfigKey[]): string {
  const rows = [['key', 'default', 'range', 'meaning'], ...keys.map((item) => [item.key, item.default ?? '(unset)', item.range, item.meaning])];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column].length)));
  return `${rows.map((row) => row.map((cell, column) => (column < 3 ? cell.padEnd(widths[column]) : cell)).join('  ').trimEnd()).join('\n')}\n`;
}
