/**
 * Checkpoints: a directory that any GPT-2 tooling can read, plus what a resumed run needs.
 *
 *   config.json            { format, version, model: ModelConfig, tokenizer: TokenizerSpec }
 *   model.safetensors      the weights, nanoGPT names, one tensor per layer (our stacked (L, ...) tensors sliced)
 *   optimizer.safetensors  AdamW moments m, v (flat, our layout) and the step count      (only for resume)
 *   train-state.json       step, tokens, elapsed seconds and the TrainConfig of the run  (only for resume)
 *
 * Writes are atomic: files go to a temporary sibling directory that replaces the target by rename, so a crash
 * leaves either the old checkpoint or the new one, never a mix. Reads validate everything against config.json and
 * throw CheckpointError with one line naming the file and the problem: a checkpoint is untrusted input.
 * Not here: building or running a model (model.ts), evaluation (evaluate.ts).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { ModelConfig, PARAMETER_NAMES, TrainConfig, parameterLayout, type ParameterName } from './config.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsFormatError, type Tensor } from './safetensors.js';
import { TokenizerSpec } from './tokenizer.js';

export const CHECKPOINT_FORMAT = 'successor-gpt';
export const CHECKPOINT_VERSION = 1;
export const CHECKPOINT_FILES = {
  config: 'config.json',
  model: 'model.safetensors',
  optimizer: 'optimizer.safetensors',
  trainState: 'train-state.json',
} as const;

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export const CheckpointConfig = z
  .object({
    format: z.literal(CHECKPOINT_FORMAT),
    version: z.literal(CHECKPOINT_VERSION),
    model: ModelConfig,
    tokenizer: TokenizerSpec,
  })
  .strict();
export type CheckpointConfig = z.infer<typeof CheckpointConfig>;

export const TrainState = z
  .object({
    version: z.literal(CHECKPOINT_VERSION),
    step: z.number().int().min(0), // optimizer updates done
    tokens: z.number().int().min(0), // training tokens consumed
    elapsedSeconds: z.number().min(0),
    config: TrainConfig,
  })
  .strict();
export type TrainState = z.infer<typeof TrainState>;

export interface OptimizerState {
  m: Float32Array;
  v: Float32Array;
  step: number;
}

export interface Checkpoint {
  model: ModelConfig;
  tokenizer: TokenizerSpec;
  params: Float32Array; // flat, in parameterLayout(model) order
  optimizer?: OptimizerState;
  trainState?: TrainState;
}

/** One named checkpoint tensor: where its values sit in the flat parameter buffer. */
export interface TensorEntry {
  name: string;
  parameter: ParameterName;
  offset: number;
  shape: number[];
}

const LAYER_NAMES: Partial<Record<ParameterName, string>> = {
  ln1w: 'ln_1.weight', ln1b: 'ln_1.bias',
  qkvw: 'attn.c_attn.weight', qkvb: 'attn.c_attn.bias',
  attprojw: 'attn.c_proj.weight', attprojb: 'attn.c_proj.bias',
  ln2w: 'ln_2.weight', ln2b: 'ln_2.bias',
  fcw: 'mlp.c_fc.weight', fcb: 'mlp.c_fc.bias',
  fcprojw: 'mlp.c_proj.weight', fcprojb: 'mlp.c_proj.bias',
};
const GLOBAL_NAMES: Partial<Record<ParameterName, string>> = {
  wte: 'transformer.wte.weight',
  wpe: 'transformer.wpe.weight',
  lnfw: 'transformer.ln_f.weight',
  lnfb: 'transformer.ln_f.bias',
  lmhead: 'lm_head.weight',
};

/** The nanoGPT-named tensors of a config, in file order. Zero-sized parameters (RMSNorm biases, tied head) are absent. */
export function tensorEntries(config: ModelConfig): TensorEntry[] {
  const { slices } = parameterLayout(config);
  const entries: TensorEntry[] = [];
  for (const parameter of PARAMETER_NAMES) {
    const slice = slices[parameter];
    if (slice.size === 0) continue;
    const layerName = LAYER_NAMES[parameter];
    if (layerName === undefined) {
      entries.push({ name: GLOBAL_NAMES[parameter]!, parameter, offset: slice.offset, shape: slice.shape });
      continue;
    }
    const [layers, ...shape] = slice.shape; // (L, ...) -> L tensors of shape (...)
    const perLayer = slice.size / layers;
    for (let layer = 0; layer < layers; layer++) {
      entries.push({ name: `transformer.h.${layer}.${layerName}`, parameter, offset: slice.offset + layer * perLayer, shape });
    }
  }
  // File order: global tensors first, then layer by layer, as in a PyTorch state_dict.
  const rank = (entry: TensorEntry) => (entry.name.startsWith('transformer.h.') ? Number(entry.name.split('.')[2]) + 1 : 0);
  return entries.sort((left, right) => rank(left) - rank(right));
}

/** Writes a checkpoint directory atomically, replacing any previous checkpoint there. */
export function saveCheckpoint(directory: string, checkpoint: Checkpoint): void {
  const { total } = parameterLayout(checkpoint.model);
  if (checkpoint.params.length !== total) throw new Error(`params has ${checkpoint.params.length} values, the config needs ${total}`);
  const config: CheckpointConfig = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, model: checkpoint.model, tokenizer: checkpoint.tokenizer };
  const tensors = tensorEntries(checkpoint.model).map((entry) => ({
    name: entry.name,
    shape: entry.shape,
    data: checkpoint.params.subarray(entry.offset, entry.offset + entry.shape.reduce((product, dimension) => product * dimension, 1)),
  }));
  const files: Array<[string, Uint8Array | string]> = [
    [CHECKPOINT_FILES.config, `${JSON.stringify(config, null, 2)}\n`],
    [CHECKPOINT_FILES.model, encodeSafetensors(tensors, { format: 'pt', successor_format: `${CHECKPOINT_FORMAT}/${CHECKPOINT_VERSION}` })],
  ];
  if (checkpoint.optimizer) {
    const { m, v, step } = checkpoint.optimizer;
    const moments = [{ name: 'm', shape: [total], data: m }, { name: 'v', shape: [total], data: v }];
    files.push([CHECKPOINT_FILES.optimizer, encodeSafetensors(moments, { step: String(step) })]);
  }
  if (checkpoint.trainState) files.push([CHECKPOINT_FILES.trainState, `${JSON.stringify(checkpoint.trainState, null, 2)}\n`]);
  writeDirectoryAtomically(directory, files);
}

/** Reads and strictly validates a checkpoint; `training` also requires and returns the optimizer and train state. */
export function loadCheckpoint(directory: string, options: { training?: boolean } = {}): Checkpoint {
  const config = parseJsonFile(directory, CHECKPOINT_FILES.config, CheckpointConfig);
  const model = config.model;
  const tokenizerSize = config.tokenizer.kind === 'byte' ? 256 : config.tokenizer.vocabulary.length;
  if (model.vocabSize < tokenizerSize) {
    fail(directory, CHECKPOINT_FILES.config, `model.vocabSize ${model.vocabSize} is smaller than the tokenizer's ${tokenizerSize} tokens`);
  }
  // Every shape is checked against the file before the parameter buffer is allocated, so a config.json that
  // claims a huge model cannot make the reader allocate more than the weights file actually holds.
  const weights = readSafetensors(directory, CHECKPOINT_FILES.model);
  const expected = tensorEntries(model);
  for (const entry of expected) {
    const tensor = weights.get(entry.name);
    if (!tensor) fail(directory, CHECKPOINT_FILES.model, `tensor '${entry.name}' is missing`);
    checkShape(directory, CHECKPOINT_FILES.model, entry.name, tensor!, entry.shape);
  }
  if (weights.size !== expected.length) {
    const known = new Set(expected.map((entry) => entry.name));
    const extra = [...weights.keys()].filter((name) => !known.has(name));
    fail(directory, CHECKPOINT_FILES.model, `unexpected tensor${extra.length > 1 ? 's' : ''} ${extra.map((name) => `'${name}'`).join(', ')} for this config`);
  }
  const { total } = parameterLayout(model);
  const params = new Float32Array(total);
  for (const entry of expected) params.set(weights.get(entry.name)!.data, entry.offset);
  const checkpoint: Checkpoint = { model, tokenizer: config.tokenizer, params };
  if (!options.training) return checkpoint;

  const moments = readSafetensors(directory, CHECKPOINT_FILES.optimizer, true);
  for (const name of ['m', 'v']) {
    if (!moments.get(name)) fail(directory, CHECKPOINT_FILES.optimizer, `tensor '${name}' is missing`);
    checkShape(directory, CHECKPOINT_FILES.optimizer, name, moments.get(name)!, [total]);
  }
  if (moments.size !== 2) fail(directory, CHECKPOINT_FILES.optimizer, 'has tensors other than m and v');
  const step = Number(moments.metadata.step);
  if (!Number.isSafeInteger(step) || step < 0) fail(directory, CHECKPOINT_FILES.optimizer, `metadata step '${moments.metadata.step}' is not a step count`);
  checkpoint.optimizer = { m: moments.get('m')!.data, v: moments.get('v')!.data, step };
  checkpoint.trainState = parseJsonFile(directory, CHECKPOINT_FILES.trainState, TrainState);
  if (JSON.stringify(checkpoint.trainState.config.model) !== JSON.stringify(model)) {
    fail(directory, CHECKPOINT_FILES.trainState, 'its model config differs from config.json');
  }
  return checkpoint;
}

function fail(directory: string, file: string, message: string): never {
  throw new CheckpointError(`checkpoint ${directory}: ${file}: ${message}`);
}

function readFile(directory: string, file: string, forResume = false): Buffer {
  try {
    return readFileSync(join(directory, file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? (forResume ? 'missing (the checkpoint cannot be resumed)' : 'missing') : `unreadable (${code})`;
    return fail(directory, file, reason);
  }
}

function parseJsonFile<Schema extends z.ZodType>(directory: string, file: string, schema: Schema): z.infer<Schema> {
  let value: unknown;
  try {
    value = JSON.parse(readFile(directory, file, file === CHECKPOINT_FILES.trainState).toString('utf8'));
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    fail(directory, file, 'is not valid JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    fail(directory, file, issues.join('; '));
  }
  return parsed.data;
}

function readSafetensors(directory: string, file: string, forResume = false): Map<string, Tensor> & { metadata: Record<string, string> } {
  try {
    const contents = decodeSafetensors(readFile(directory, file, forResume));
    return Object.assign(contents.tensors, { metadata: contents.metadata });
  } catch (error) {
    if (error instanceof SafetensorsFormatError) fail(directory, file, error.message);
    throw error;
  }
}

function checkShape(directory: string, file: string, name: string, tensor: Tensor, shape: number[]): void {
  if (tensor.shape.length !== shape.length || tensor.shape.some((dimension, index) => dimension !== shape[index])) {
    fail(directory, file, `tensor '${name}' has shape [${tensor.shape}], the config needs [${shape}]`);
  }
}

/**
 * Writes files into a fresh sibling directory, then renames it over the target (rename replaces an empty
 * directory; a non-empty one is first moved aside). Where no sibling can be made (the target is a mount point
 * in a sandbox, or its parent is read-only), each file is written to a temporary name and renamed instead.
 */
function writeDirectoryAtomically(directory: string, files: Array<[string, Uint8Array | string]>): void {
  const target = resolve(directory);
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = `${target}.partial-${suffix}`;
  try {
    mkdirSync(dirname(target), { recursive: true });
    mkdirSync(staging);
  } catch {
    writeFilesInPlace(target, files, suffix);
    return;
  }
  try {
    for (const [name, content] of files) writeDurably(join(staging, name), content);
    try {
      renameSync(staging, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        const previous = `${target}.previous-${suffix}`;
        renameSync(target, previous);
        renameSync(staging, target);
        rmSync(previous, { recursive: true, force: true });
      } else if (code === 'EBUSY' || code === 'EXDEV' || code === 'EPERM' || code === 'EACCES') {
        writeFilesInPlace(target, files, suffix);
      } else {
        throw error;
      }
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function writeFilesInPlace(target: string, files: Array<[string, Uint8Array | string]>, suffix: string): void {
  mkdirSync(target, { recursive: true });
  const names = files.map(([name]) => name);
  for (const [name, content] of files) writeDurably(join(target, `.${name}.partial-${suffix}`), content);
  // Resume files first and the weights last: a reader sees the new weights only once everything is in place.
  for (const name of Object.values(CHECKPOINT_FILES)) {
    if (!names.includes(name)) rmSync(join(target, name), { force: true }); // a stale optimizer must not pair with new weights
  }
  for (const name of [...names].sort((left, right) => Number(left === CHECKPOINT_FILES.model) - Number(right === CHECKPOINT_FILES.model))) {
    renameSync(join(target, `.${name}.partial-${suffix}`), join(target, name));
  }
}

function writeDurably(path: string, content: Uint8Array | string): void {
  const descriptor = openSync(path, 'w');
  try {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    let written = 0;
    while (written < bytes.length) written += writeSync(descriptor, bytes, written, bytes.length - written);
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}
