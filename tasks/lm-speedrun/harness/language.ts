/**
 * Trusted: the secret generative source of lm-speedrun's per-run data. From a run key it draws a synthetic language
 * and samples text from it:
 *
 * - a lexicon of V distinct words over the letters a-z, word w's spelling drawn from a random first-order letter
 *   model (so words have sub-word structure), frequent words shorter than rare ones (lengths grow with log rank);
 * - a word-level Markov chain: P(next | w) = lambda * q[j] if next is w's j-th successor, plus (1 - lambda) * u(next),
 *   with u a Zipf unigram over the ranks, q one Zipf vector over K successors shared by every word, and each word's
 *   K successors drawn from u^beta (so frequent words follow often, but every word has its own successors);
 * - rendering: words separated by one space, or by a newline after a word that ends at or past `lineWidth`
 *   columns. The separator is a function of the past, so it carries no entropy, and the bytes and the word sequence
 *   determine each other.
 *
 * Every random draw comes from AES-256-CTR keyed by an HMAC of the run key and a label (`language`, `train`, ...),
 * so the splits of one key are independent samples of one language, and text of one key tells nothing about text
 * of another key, nor about the key. Because the byte string determines the word sequence, the exact probability
 * of any sample under the true source is computable (sampleNats): the scorer's entropy floor for its test split.
 *
 * Not here: which splits a run gets (stage.ts), how a run is scored (score.ts).
 */
import { createCipheriv, createHmac } from 'node:crypto';

export interface LanguageOptions {
  /** V: words in the lexicon. */
  vocabularySize: number;
  /** Zipf exponent of the unigram u over the ranks 1..V. */
  unigramExponent: number;
  /** K: successors per word. */
  successors: number;
  /** Zipf exponent of the successor vector q over 1..K. */
  successorExponent: number;
  /** lambda: the weight of a word's own successors against the unigram. */
  successorWeight: number;
  /** beta: successors are drawn (without replacement) from u^beta; 1 follows the unigram, 0 is uniform. */
  successorTemperature: number;
  /**
   * The letter model spells the lexicon: a second-order chain whose every row (the next letter given the last two)
   * is one Zipf vector over the 26 letters with this exponent, permuted, so every row has the same entropy whatever
   * the key. The permutations are nested: a random ranking of the letters for the whole language, each letter's
   * bigram ranking that ranking with Gaussian noise of `bigramShuffle` ranks added, each trigram ranking its bigram
   * ranking with `trigramShuffle` more; so letter frequencies, bigrams and trigrams each carry some structure.
   */
  letterExponent: number;
  bigramShuffle: number;
  trigramShuffle: number;
  /** Mean word length at rank r (0-based) is lengthBase + lengthSlope * ln(1 + r) letters (the same for every key). */
  lengthBase: number;
  lengthSlope: number;
  /** Spellings are typical: a word's letter-model NLL is within this many nats per letter of its expected NLL. */
  spellingTolerance: number;
  /** A word that ends at or past this column is followed by a newline instead of a space. */
  lineWidth: number;
}

export const DEFAULT_LANGUAGE: LanguageOptions = {
  vocabularySize: 4096,
  unigramExponent: 1,
  successors: 64,
  successorExponent: 1,
  successorWeight: 0.7,
  successorTemperature: 0.5,
  letterExponent: 1.5,
  bigramShuffle: 6,
  trigramShuffle: 3,
  lengthBase: 1.6,
  lengthSlope: 0.75,
  spellingTolerance: 0.2,
  lineWidth: 64,
};

export interface Language {
  options: LanguageOptions;
  /** Each word's spelling (lowercase ASCII letters), by id; id 0 is the most frequent word of u. */
  words: Uint8Array[];
  /** u, (V). */
  unigram: Float64Array;
  /** q, (K), descending. */
  successorVector: Float64Array;
  /** (V, K): successorIds[w * K + j] is the word that follows w with weight q[j]. */
  successorIds: Int32Array;
  /** Spelling (latin1) to id. */
  ids: Map<string, number>;
}

const LETTERS = 26;
const LETTER_A = 0x61;
const SPACE = 0x20;
const NEWLINE = 0x0a;
const MAX_WORD_LETTERS = 24;
const STREAM_BLOCK_BYTES = 1 << 16;

/** Uniform random numbers from AES-256-CTR keyed by HMAC-SHA256(run key, label): unpredictable without the key. */
export class KeyStream {
  private readonly cipher;
  private block = Buffer.alloc(0);
  private offset = 0;
  private spareNormal: number | undefined;

  constructor(key: string, label: string) {
    if (!/^[0-9a-f]{32,}$/.test(key)) throw new Error('the run key must be at least 16 bytes of hex');
    const aesKey = createHmac('sha256', Buffer.from(key, 'hex')).update(`successor-language:${label}`).digest();
    this.cipher = createCipheriv('aes-256-ctr', aesKey, Buffer.alloc(16));
  }

  uint32(): number {
    if (this.offset + 4 > this.block.length) {
      this.block = this.cipher.update(Buffer.alloc(STREAM_BLOCK_BYTES));
      this.offset = 0;
    }
    const value = this.block.readUInt32LE(this.offset);
    this.offset += 4;
    return value;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    return ((this.uint32() >>> 5) * 67108864 + (this.uint32() >>> 6)) / 9007199254740992;
  }

  /** Standard normal (Box-Muller, both values used). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const value = this.spareNormal;
      this.spareNormal = undefined;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }
}

function zipf(size: number, exponent: number): Float64Array {
  const weights = Float64Array.from({ length: size }, (_, rank) => (rank + 1) ** -exponent);
  const total = weights.reduce((sum, value) => sum + value, 0);
  return weights.map((value) => value / total);
}

/** Vose's alias table: draws index i with probability weights[i] / sum in O(1). */
interface AliasTable {
  threshold: Float64Array;
  alias: Int32Array;
}

function aliasTable(weights: ArrayLike<number>): AliasTable {
  const size = weights.length;
  let total = 0;
  for (let index = 0; index < size; index++) total += weights[index];
  const scaled = Float64Array.from({ length: size }, (_, index) => (weights[index] * size) / total);
  const threshold = new Float64Array(size).fill(1);
  const alias = Int32Array.from({ length: size }, (_, index) => index);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((value, index) => (value < 1 ? small : large).push(index));
  while (small.length > 0 && large.length > 0) {
    const less = small.pop()!;
    const more = large.pop()!;
    threshold[less] = scaled[less];
    alias[less] = more;
    scaled[more] -= 1 - scaled[less];
    (scaled[more] < 1 ? small : large).push(more);
  }
  return { threshold, alias };
}

function drawAlias(table: AliasTable, stream: KeyStream): number {
  const position = stream.uniform() * table.threshold.length;
  const index = Math.floor(position);
  return position - index < table.threshold[index] ? index : table.alias[index];
}

/** A random permutation of `vector` (Fisher-Yates). */
function permuted(vector: Float64Array, stream: KeyStream): Float64Array {
  const out = Float64Array.from(vector);
  for (let index = out.length - 1; index > 0; index--) {
    const other = Math.floor(stream.uniform() * (index + 1));
    [out[index], out[other]] = [out[other], out[index]];
  }
  return out;
}

/**
 * The letter model that spells the lexicon: context (two before, last), START = 26 standing for "no letter yet".
 * `spell` draws a word of `length` letters whose NLL is within `tolerance` nats per letter of the sum of the
 * entropies of the rows it went through (a typical spelling), or returns undefined.
 */
function letterModel(stream: KeyStream, options: LanguageOptions) {
  const START = LETTERS;
  const vector = zipf(LETTERS, options.letterExponent);
  // A ranking: ranking[r] is the letter of rank r. noisy(ranking, sd): the letters re-sorted by rank + N(0, sd).
  const noisy = (ranking: number[], deviation: number): number[] =>
    ranking.map((letter, rank) => ({ letter, key: rank + deviation * stream.normal() })).sort((left, right) => left.key - right.key).map(({ letter }) => letter);
  const rowOf = (ranking: number[]): Float64Array => {
    const row = new Float64Array(LETTERS);
    ranking.forEach((letter, rank) => (row[letter] = vector[rank]));
    return row;
  };
  const global = permuted(Float64Array.from({ length: LETTERS }, (_, letter) => letter), stream);
  const bigram = Array.from({ length: LETTERS + 1 }, () => noisy([...global], options.bigramShuffle));
  const rows = Array.from({ length: (LETTERS + 1) ** 2 }, (_, context) => rowOf(noisy(bigram[context % (LETTERS + 1)], options.trigramShuffle)));
  const tables = rows.map((row) => aliasTable(row));
  const entropies = rows.map((row) => row.reduce((sum, probability) => sum - probability * Math.log(probability), 0));
  return {
    spell(length: number, tolerance: number): Uint8Array | undefined {
      const spelling = new Uint8Array(length);
      let twoBefore = START;
      let last = START;
      let nats = 0;
      let expected = 0;
      for (let position = 0; position < length; position++) {
        const context = twoBefore * (LETTERS + 1) + last;
        const letter = drawAlias(tables[context], stream);
        nats -= Math.log(rows[context][letter]);
        expected += entropies[context];
        spelling[position] = LETTER_A + letter;
        twoBefore = last;
        last = letter;
      }
      return Math.abs(nats - expected) <= tolerance * length ? spelling : undefined;
    },
  };
}

/** The language of a run key: deterministic given the key and the options. */
export function createLanguage(key: string, options: LanguageOptions = DEFAULT_LANGUAGE): Language {
  const stream = new KeyStream(key, 'language');
  const V = options.vocabularySize;
  const K = options.successors;
  if (!(K >= 1 && K < V)) throw new Error(`successors must be in [1, ${V}), got ${K}`);

  const letters = letterModel(stream, options);
  const words: Uint8Array[] = [];
  const ids = new Map<string, number>();
  for (let rank = 0; rank < V; rank++) {
    // Lengths follow the rank only (a fixed jitter, the golden-ratio sequence, spreads them around the mean).
    const meanLength = options.lengthBase + options.lengthSlope * Math.log(1 + rank);
    const jitter = ((rank * 0.6180339887498949) % 1) - 0.5;
    for (let attempt = 0; ; attempt++) {
      // Collisions or atypical draws: relax the tolerance, then lengthen, as attempts grow.
      const length = Math.min(MAX_WORD_LETTERS, Math.max(1, Math.round(meanLength + jitter)) + Math.floor(attempt / 400));
      const spelling = letters.spell(length, options.spellingTolerance * 2 ** Math.floor(attempt / 100));
      if (!spelling) continue;
      const text = Buffer.from(spelling).toString('latin1');
      if (!ids.has(text)) {
        ids.set(text, rank);
        words.push(spelling);
        break;
      }
    }
  }

  const unigram = zipf(V, options.unigramExponent);
  const successorVector = zipf(K, options.successorExponent);
  const tempered = aliasTable(unigram.map((probability) => probability ** options.successorTemperature));
  const successorIds = new Int32Array(V * K);
  const chosen = new Set<number>();
  for (let word = 0; word < V; word++) {
    chosen.clear();
    for (let slot = 0; slot < K; ) {
      const next = drawAlias(tempered, stream);
      if (chosen.has(next)) continue;
      chosen.add(next);
      successorIds[word * K + slot] = next;
      slot += 1;
    }
  }
  return { options, words, unigram, successorVector, successorIds, ids };
}

/** P(next | previous); previous -1 is the start of a text, where the first word is drawn from u. */
export function transitionProbability(language: Language, previous: number, next: number): number {
  const { unigram, successorVector, successorIds, options } = language;
  if (previous < 0) return unigram[next];
  const K = successorVector.length;
  let probability = (1 - options.successorWeight) * unigram[next];
  for (let slot = 0; slot < K; slot++) if (successorIds[previous * K + slot] === next) probability += options.successorWeight * successorVector[slot];
  return probability;
}

/**
 * Samples text of at least `minimumBytes` bytes (ending with a newline) from the language, with the stream `label`:
 * one independent chain per label, starting from u.
 */
export function generateText(language: Language, key: string, label: string, minimumBytes: number): Buffer {
  const stream = new KeyStream(key, `text:${label}`);
  const { words, options } = language;
  const K = language.successorVector.length;
  const unigramTable = aliasTable(language.unigram);
  const successorTable = aliasTable(language.successorVector);
  const out = Buffer.alloc(minimumBytes + MAX_WORD_LETTERS + 2);
  let length = 0;
  let column = 0;
  let previous = -1;
  while (length < minimumBytes) {
    const next =
      previous >= 0 && stream.uniform() < options.successorWeight
        ? language.successorIds[previous * K + drawAlias(successorTable, stream)]
        : drawAlias(unigramTable, stream);
    out.set(words[next], length);
    length += words[next].length;
    column += words[next].length;
    if (column >= options.lineWidth || length + 1 >= minimumBytes) {
      out[length++] = NEWLINE;
      column = 0;
    } else {
      out[length++] = SPACE;
      column += 1;
    }
    previous = next;
  }
  return out.subarray(0, length);
}

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
  const row = new Float64Array(V);
  for (let word = 0; word < V; word++) {
    for (let next = 0; next < V; next++) row[next] = (1 - lambda) * unigram[next];
    for (let slot = 0; slot < K; slot++) row[successorIds[word * K + slot]] += lambda * successorVector[slot];
    let entropy = 0;
    for (let next = 0; next < V; next++) if (row[next] > 0) entropy -= row[next] * Math.log(row[next]);
    natsPerWord += stationary[word] * entropy;
    bytesPerWord += stationary[word] * (words[word].length + 1);
  }
  let unigramNatsPerWord = 0;
  for (let word = 0; word < V; word++) unigramNatsPerWord -= stationary[word] * Math.log(stationary[word]);
  return { natsPerWord, natsPerByte: natsPerWord / bytesPerWord, bytesPerWord, unigramNatsPerWord };
}

/** The language options of a task's params (`params.language`, each field optional), over DEFAULT_LANGUAGE. */
export function languageOptions(parameters: Record<string, unknown>): LanguageOptions {
  const given = (parameters.language ?? {}) as Record<string, unknown>;
  const options = { ...DEFAULT_LANGUAGE };
  for (const [name, value] of Object.entries(given)) {
    if (!(name in DEFAULT_LANGUAGE)) throw new Error(`params.language.${name} is not a language option`);
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`params.language.${name} must be a number`);
    (options as Record<string, number>)[name] = value;
  }
  return options;
}
