/**
 * Trusted: exact likelihoods under a run's language (language.ts): the probability of a sample's bytes (the
 * scorer's entropy floor), the language's entropy rate, and typical samples (the stage's val and test splits).
 *
 * Not here: drawing the language or its text (language.ts).
 */
import { generateText, type Language, transitionProbability } from './language.js';

const SPACE = 0x20;
const NEWLINE = 0x0a;

/** How many independent samples typicalText draws at most. */
export const TYPICAL_CANDIDATES = 64;

/**
 * A sample (as generateText) whose bytes 1..scoredBytes have a true NLL per byte within 0.25 / sqrt(scoredBytes)
 * nats of the entropy rate (about a quarter of the sampling spread, so one candidate in five passes): the first of
 * at most TYPICAL_CANDIDATES independent samples, labelled `label:0`, `label:1`, ..., that does, else the last. A
 * loss measured on such a sample has less noise (an unusually hard or easy sample moves every model's loss alike).
 * The choice costs the entropy floor ln(TYPICAL_CANDIDATES) nats of slack: a union bound over the candidates.
 */
export function typicalText(language: Language, key: string, label: string, minimumBytes: number, scoredBytes: number, natsPerByte: number): Buffer {
  const tolerance = 0.25 / Math.sqrt(scoredBytes);
  let text: Buffer = Buffer.alloc(0);
  for (let candidate = 0; candidate < TYPICAL_CANDIDATES; candidate++) {
    text = generateText(language, key, `${label}:${candidate}`, Math.max(minimumBytes, scoredBytes + 1));
    if (Math.abs(sampleNats(language, text, scoredBytes) / scoredBytes - natsPerByte) <= tolerance) break;
  }
  return text;
}

/** Total P(next word's spelling starts with `prefix` | previous), over the whole lexicon. */
export function prefixProbability(language: Language, previous: number, prefix: Uint8Array): number {
  let total = 0;
  language.words.forEach((spelling, word) => {
    if (spelling.length < prefix.length) return;
    for (let index = 0; index < prefix.length; index++) if (spelling[index] !== prefix[index]) return;
    total += transitionProbability(language, previous, word);
  });
  return total;
}

/**
 * The exact negative log-likelihood, in nats, of bytes 1..scoredBytes of `text` given byte 0, under the true source
 * (text sampled by generateText, read from its start; byte 0 is the first letter of its first word). It is what
 * an evaluator that scores targets 1..n pays at best in expectation: no predictor that never saw the sample beats
 * it by t nats with probability above e^-t (Markov's inequality on the likelihood ratio).
 */
export function sampleNats(language: Language, text: Uint8Array, scoredBytes: number): number {
  const end = Math.min(scoredBytes + 1, text.length); // bytes [0, end) are conditioned on or scored
  if (end < 2) throw new Error('a sample needs at least two bytes');
  let nats = 0;
  let previous = -1;
  let start = 0;
  for (;;) {
    let separator = start;
    while (separator < text.length && text[separator] !== SPACE && text[separator] !== NEWLINE) separator++;
    if (separator >= end) {
      // The scored part ends inside this word (or right after its letters, before its separator).
      nats -= Math.log(prefixProbability(language, previous, text.subarray(start, end)));
      break;
    }
    const word = language.ids.get(Buffer.from(text.subarray(start, separator)).toString('latin1'));
    if (word === undefined) throw new Error(`byte ${start}: not a word of this language`);
    nats -= Math.log(transitionProbability(language, previous, word));
    previous = word;
    start = separator + 1;
    if (start >= end) break;
  }
  // Condition on byte 0: it is not scored.
  return nats + Math.log(prefixProbability(language, -1, text.subarray(0, 1)));
}

/** -x ln x, with 0 ln 0 = 0. */
const plogp = (probability: number): number => (probability > 0 ? -probability * Math.log(probability) : 0);

const backgroundEntropies = new WeakMap<Language, number>();

/**
 * H(P(. | word)) in nats, in O(K): the row is (1 - lambda) u everywhere plus lambda q on the word's K distinct
 * successors, so it is the entropy of (1 - lambda) u (the same for every word, computed once per language) with the
 * K successors' terms swapped for their true ones.
 */
export function rowEntropy(language: Language, word: number): number {
  const { unigram, successorVector, successorIds, options } = language;
  const K = successorVector.length;
  const lambda = options.successorWeight;
  let background = backgroundEntropies.get(language);
  if (background === undefined) {
    background = 0;
    for (let next = 0; next < unigram.length; next++) background += plogp((1 - lambda) * unigram[next]);
    backgroundEntropies.set(language, background);
  }
  let entropy = background;
  for (let slot = 0; slot < K; slot++) {
    const next = successorIds[word * K + slot];
    entropy += plogp((1 - lambda) * unigram[next] + lambda * successorVector[slot]) - plogp((1 - lambda) * unigram[next]);
  }
  return entropy;
}

/**
 * The language's exact entropy rate: H = sum_w pi(w) H(P(.|w)) nats per word, with pi the stationary distribution
 * (pi = lambda pi Q + (1 - lambda) u, solved by iteration), and per byte H / E_pi[letters + 1].
 */
export function entropyRate(language: Language): { natsPerWord: number; natsPerByte: number; bytesPerWord: number; unigramNatsPerWord: number } {
  const { unigram, successorVector, successorIds, options, words } = language;
  const V = unigram.length;
  const K = successorVector.length;
  const lambda = options.successorWeight;
  let stationary = Float64Array.from(unigram);
  for (let iteration = 0; iteration < 2000; iteration++) {
    const next = unigram.map((probability) => (1 - lambda) * probability);
    for (let word = 0; word < V; word++) {
      for (let slot = 0; slot < K; slot++) next[successorIds[word * K + slot]] += lambda * stationary[word] * successorVector[slot];
    }
    let change = 0;
    for (let word = 0; word < V; word++) change += Math.abs(next[word] - stationary[word]);
    stationary = next;
    if (change < 1e-15) break;
  }
  let natsPerWord = 0;
  let bytesPerWord = 0;
  for (let word = 0; word < V; word++) {
    natsPerWord += stationary[word] * rowEntropy(language, word);
    bytesPerWord += stationary[word] * (words[word].length + 1);
  }
  let unigramNatsPerWord = 0;
  for (let word = 0; word < V; word++) unigramNatsPerWord -= stationary[word] * Math.log(stationary[word]);
  return { natsPerWord, natsPerByte: natsPerWord / bytesPerWord, bytesPerWord, unigramNatsPerWord };
}
