/**
 * The reference evaluator: mean cross-entropy of a model on a token sequence, in non-overlapping windows.
 *
 * The lab's harness trusts this file to score checkpoints that an untrusted run produced, so it uses only the
 * lab's own src/gpt code, whatever backend trained the model. By default it runs on the fastest backend that starts
 * synchronously (fastest-backend.ts: the native kernels, else the TypeScript reference). That is safe for a trusted
 * scorer because the native library is the lab's own: compiled from the C files in src/gpt/native by the lab's
 * process, cached in the lab user's private cache directory (a file anyone else could write is never loaded), and
 * never built from or by a workspace; and it is correct because its losses are held to the reference's (tests:
 * a relative 1e-5 on every kernel and on whole models; a score compared to a target at 2 decimals cannot tell).
 * Pass `backend: tsBackend` for the reference itself.
 * `evaluateTokens` is also the trainer's validation loss, so both count the same targets the same way.
 *
 * Windows: the scored targets are tokens[1 .. n] with n = min(maxTokens, length - 1). Window w feeds
 * tokens[wT .. wT+T) and predicts tokens[wT+1 .. wT+T], so every target is scored exactly once, with between
 * 1 and T tokens of context. Full windows run B at a time; a shorter last window runs alone.
 */
import type { Backend } from './backend.js';
import { loadCheckpoint } from './checkpoint.js';
import type { ModelConfig } from './config.js';
import { Gpt } from './model.js';
import { fastestSynchronousBackend } from './fastest-backend.js';
import { createTokenizer, type Tokenizer } from './tokenizer.js';

export class EvaluationError extends Error {
  override name = 'EvaluationError';
}

export interface EvaluationOptions {
  maxTokens?: number; // score at most this many targets (from the start), to keep scoring fast
  batchSize?: number; // windows per forward pass in evaluateCheckpoint; does not change the result beyond float rounding
  backend?: Backend; // default: the fastest that starts synchronously (native, else the TypeScript reference)
}

export interface Evaluation {
  lossNats: number; // mean cross-entropy per scored token, in nats
  bitsPerByte: number; // total cross-entropy in bits over the UTF-8 bytes the scored tokens stand for
  tokens: number; // targets scored
  bytes: number;
}

/** Mean loss of `model` over the windows described above, using the model's (B, T) buffer shape. */
export function evaluateTokens(model: Gpt, tokens: Int32Array, maxTokens = Infinity): { lossNats: number; tokens: number } {
  const scored = Math.min(Math.floor(maxTokens), tokens.length - 1);
  if (!(scored >= 1)) throw new EvaluationError(`evaluation needs at least 2 tokens, got ${tokens.length}`);
  const { batchSize: B, sequenceLength: T } = model.shape;
  const inputs = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  const fullWindows = Math.floor(scored / T);
  let lossSum = 0; // summed in float64 over batches
  for (let first = 0; first < fullWindows; first += B) {
    const rows = Math.min(B, fullWindows - first);
    for (let row = 0; row < rows; row++) {
      const start = (first + row) * T;
      inputs.set(tokens.subarray(start, start + T), row * T);
      targets.set(tokens.subarray(start + 1, start + T + 1), row * T);
    }
    lossSum += model.forward(inputs, targets, rows, T) * rows * T;
  }
  const remainder = scored - fullWindows * T;
  if (remainder > 0) {
    const start = fullWindows * T;
    inputs.set(tokens.subarray(start, start + remainder));
    targets.set(tokens.subarray(start + 1, start + remainder + 1));
    lossSum += model.forward(inputs, targets, 1, remainder) * remainder;
  }
  return { lossNats: lossSum / scored, tokens: scored };
}

/** Loads a checkpoint (strictly validated) and scores it on a text or a token sequence. */
export function evaluateCheckpoint(directory: string, input: string | Int32Array, options: EvaluationOptions = {}): Evaluation {
  const checkpoint = loadCheckpoint(directory);
  const tokenizer = createTokenizer(checkpoint.tokenizer);
  const tokens = typeof input === 'string' ? tokenizer.encode(input) : input;
  checkTokenIds(tokens, tokenizer);
  const scored = Math.min(options.maxTokens ?? Infinity, tokens.length - 1);
  if (!(scored >= 1)) throw new EvaluationError(`evaluation needs at least 2 tokens, got ${tokens.length}`);
  const T = checkpoint.model.contextLength;
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 8, Math.ceil(scored / T), rowsWithinMemory(checkpoint.model)));
  const model = new Gpt(checkpoint.model, options.backend ?? fastestSynchronousBackend(), { batchSize, sequenceLength: T });
  model.params.set(checkpoint.params);
  const { lossNats } = evaluateTokens(model, tokens, scored);
  const bytes = tokenizer.byteLength(tokens.subarray(1, scored + 1));
  return { lossNats, bitsPerByte: (lossNats * scored) / (Math.LN2 * bytes), tokens: scored, bytes };
}

/**
 * How many windows fit about 256 MB of activations (at least one). The checkpoint is untrusted: a long context
 * or a large vocabulary must slow scoring down, not exhaust the harness's memory.
 */
function rowsWithinMemory(config: ModelConfig): number {
  const { contextLength: T, width: C, heads: NH, layers: L, vocabSize: V } = config;
  const H = config.mlpRatio * C;
  const floatsPerRow = L * (2 * NH * T * T + 12 * T * C + 2 * T * H) + 4 * T * C + 2 * T * V;
  return Math.floor((64 * 1024 * 1024) / floatsPerRow);
}

function checkTokenIds(tokens: Int32Array, tokenizer: Tokenizer): void {
  for (let index = 0; index < tokens.length; index++) {
    if (!(tokens[index] >= 0 && tokens[index] < tokenizer.vocabSize)) {
      throw new EvaluationError(`token ${index} is ${tokens[index]}, outside the tokenizer's ${tokenizer.vocabSize} ids`);
    }
  }
}
