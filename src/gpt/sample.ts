/**
 * Sampling text from a trained model: temperature, top-k, a seed, a prompt. The model sees at most its context
 * length of the most recent tokens (no key-value cache: each new token reruns the window, fine at this size).
 * Not here: decoding policy beyond temperature/top-k (no nucleus, no beam search).
 */
import type { Backend } from './backend.js';
import { loadCheckpoint } from './checkpoint.js';
import { fastestSynchronousBackend } from './fastest-backend.js';
import { Gpt } from './model.js';
import { createRng, type Rng } from './random.js';
import { createTokenizer } from './tokenizer.js';

export interface SampleOptions {
  tokens: number; // how many tokens to generate
  temperature: number; // 0 = greedy (always the most likely token)
  topK?: number; // sample only among the k most likely tokens
  seed: number;
}

/**
 * Picks the next token from probabilities (V). Only ids below `allowed` are candidates (a model vocabulary
 * padded beyond the tokenizer's has ids that decode to nothing).
 */
export function pickToken(probabilities: Float32Array, allowed: number, options: Omit<SampleOptions, 'tokens' | 'seed'>, rng: Rng): number {
  const candidates = Array.from({ length: allowed }, (_, id) => id).sort((left, right) => probabilities[right] - probabilities[left]);
  if (options.temperature === 0) return candidates[0];
  const kept = options.topK ? candidates.slice(0, Math.max(1, options.topK)) : candidates;
  // softmax(logits / temperature) = p^(1/temperature), renormalised; computed in log space against the largest
  const logTop = Math.log(probabilities[kept[0]]);
  const weights = kept.map((id) => Math.exp((Math.log(probabilities[id]) - logTop) / options.temperature));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let threshold = rng.next() * total;
  for (let index = 0; index < kept.length; index++) {
    threshold -= weights[index];
    if (threshold < 0) return kept[index];
  }
  return kept[kept.length - 1];
}

/** Continues `prompt` (at least one token) by `options.tokens` tokens; returns only the new tokens. */
export function sampleTokens(model: Gpt, prompt: Int32Array, allowed: number, options: SampleOptions): Int32Array {
  if (prompt.length === 0) throw new RangeError('sampling needs a prompt of at least one token');
  const T = model.shape.sequenceLength;
  const rng = createRng(options.seed);
  const context = Array.from(prompt);
  const generated = new Int32Array(options.tokens);
  const window = new Int32Array(T);
  for (let index = 0; index < options.tokens; index++) {
    const recent = context.slice(-T);
    window.set(recent);
    model.forward(window, null, 1, recent.length);
    const token = pickToken(model.probabilities(0, recent.length - 1), allowed, options, rng);
    generated[index] = token;
    context.push(token);
  }
  return generated;
}

/**
 * Loads a checkpoint and samples a continuation of `prompt`. `text` is the prompt and its continuation decoded
 * together (so a character split across the seam still decodes). An empty prompt starts from a newline.
 */
export function sampleFromCheckpoint(
  directory: string, prompt: string, options: SampleOptions, backend: Backend = fastestSynchronousBackend(),
): { text: string; tokens: number } {
  const checkpoint = loadCheckpoint(directory);
  const tokenizer = createTokenizer(checkpoint.tokenizer);
  let promptTokens = tokenizer.encode(prompt);
  const promptShown = promptTokens.length > 0;
  if (!promptShown) {
    // No begin-of-text token exists, so condition on a newline (or the first character a char vocabulary has).
    const start = checkpoint.tokenizer.kind === 'char' && !checkpoint.tokenizer.vocabulary.includes('\n') ? checkpoint.tokenizer.vocabulary[0] : '\n';
    promptTokens = tokenizer.encode(start);
  }
  const model = new Gpt(checkpoint.model, backend, { batchSize: 1, sequenceLength: checkpoint.model.contextLength });
  model.params.set(checkpoint.params);
  const generated = sampleTokens(model, promptTokens, Math.min(tokenizer.vocabSize, checkpoint.model.vocabSize), options);
  const shown = promptShown ? Int32Array.from([...promptTokens, ...generated]) : generated;
  return { text: tokenizer.decode(shown), tokens: generated.length };
}
