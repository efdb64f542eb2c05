/**
 * Trusted: the secret generative source of lm-speedrun's per-run data. From a run key it draws a synthetic language
 * and samples text from it:
 *
 * - a lexicon of V distinct words over the letters a-z, frequent words shorter than rare ones (lengths grow with
 *   log rank, the same for every key), each spelled by a random second-order letter model, so text has letter
 *   frequencies, bigrams and trigrams to learn before words (see LanguageOptions.letterExponent);
 * - a word-level Markov chain: P(next | w) = lambda * q[j] if next is w's j-th successor, plus (1 - lambda) * u(next),
 *   with u a Zipf unigram over the ranks, q one Zipf vector over K successors shared by every word, and each word's
 *   K successors drawn from u^beta (so frequent words follow often, but every word has its own successors);
 * - rendering: words separated by one space, or by a newline after a word that ends at or past `lineWidth`
 *   columns (and at the end of the text). The separator is a function of the past, so it carries no entropy, and
 *   the bytes and the word sequence determine each other.
 *
 * How hard a language is to learn should not depend on the key, or a fixed target would take some runs far longer
 * than others: so every letter-model row is a permutation of one vector (the same entropy), spellings are typical
 * draws, word lengths follow the rank, and the word chain shares one successor vector. Measured over keys, the
 * entropy rate varies by about 0.005 nats/byte and the text's bigram entropy by about 0.013.
 *
 * Every random draw comes from AES-256-CTR keyed by an HMAC of the run key and a label (`language`, `text:train`,
 * ...), so the splits of one key are independent samples of one language, and text of one key tells nothing about
 * text of another key, nor about the key. Because the byte string determines the word sequence, the exact
 * probability of any sample under the true source is computable (likelihood.ts): the scorer's entropy floor.
 *
 * Not here: the random streams (key-stream.ts), likelihoods (likelihood.ts), which splits a run gets (stage.ts),
 * how a run is scored (score.ts).
 */
import { aliasTable, drawAlias, KeyStream, permuted, zipf } from './key-stream.js';

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
