/**
 * Tokenizers of the successor: text <-> token ids.
 *
 * - `byte`: the UTF-8 bytes of the text, vocabulary 256. Needs nothing stored; decoding is lenient (invalid UTF-8
 *   becomes U+FFFD) because a sampled byte sequence need not be valid UTF-8.
 * - `char`: one token per Unicode code point, vocabulary = the sorted distinct characters of the corpus. The
 *   vocabulary is part of the spec, and the spec is stored in the checkpoint so eval and sample decode the same way.
 *
 * This file is not the data pipeline (see data.ts) and knows nothing about models.
 */
import { z } from 'zod';

export const TokenizerSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('byte') }).strict(),
  z
    .object({
      kind: z.literal('char'),
      // Each entry one code point, no duplicates: the token id is the index.
      vocabulary: z
        .array(z.string().refine((character) => Array.from(character).length === 1, 'each entry must be one character'))
        .min(1)
        .refine((vocabulary) => new Set(vocabulary).size === vocabulary.length, 'vocabulary has duplicates'),
    })
    .strict(),
]);
export type TokenizerSpec = z.infer<typeof TokenizerSpec>;

/** Text that the tokenizer cannot encode (a character outside a char vocabulary). */
export class TokenizerError extends Error {
  override name = 'TokenizerError';
}

export interface Tokenizer {
  readonly spec: TokenizerSpec;
  readonly vocabSize: number;
  encode(text: string): Int32Array;
  decode(tokens: ArrayLike<number>): string;
  /** UTF-8 bytes that `tokens` stand for, for bits-per-byte. */
  byteLength(tokens: ArrayLike<number>): number;
}

const encoder = new TextEncoder();

/** The char vocabulary of a text: its distinct code points, sorted by code point. */
export function charTokenizerSpec(text: string): TokenizerSpec {
  const distinct = [...new Set(Array.from(text))];
  distinct.sort((left, right) => left.codePointAt(0)! - right.codePointAt(0)!);
  return { kind: 'char', vocabulary: distinct };
}

/** The spec for a tokenizer kind; a char vocabulary is built from `corpus`. */
export function tokenizerSpecFor(kind: 'byte' | 'char', corpus: string): TokenizerSpec {
  return kind === 'byte' ? { kind: 'byte' } : charTokenizerSpec(corpus);
}

export function createTokenizer(spec: TokenizerSpec): Tokenizer {
  return spec.kind === 'byte' ? byteTokenizer() : charTokenizer(spec.vocabulary);
}

function byteTokenizer(): Tokenizer {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  return {
    spec: { kind: 'byte' },
    vocabSize: 256,
    encode: (text) => Int32Array.from(encoder.encode(text)),
    decode: (tokens) => decoder.decode(Uint8Array.from(tokens, (token) => token & 0xff)),
    byteLength: (tokens) => tokens.length,
  };
}

function charTokenizer(vocabulary: string[]): Tokenizer {
  const ids = new Map(vocabulary.map((character, index) => [character, index]));
  const bytesPerToken = vocabulary.map((character) => encoder.encode(character).length);
  return {
    spec: { kind: 'char', vocabulary },
    vocabSize: vocabulary.length,
    encode(text) {
      const characters = Array.from(text);
      const tokens = new Int32Array(characters.length);
      for (let index = 0; index < characters.length; index++) {
        const id = ids.get(characters[index]);
        if (id === undefined) {
          const codePoint = characters[index].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
          throw new TokenizerError(
            `character ${JSON.stringify(characters[index])} (U+${codePoint}) at position ${index} is not in the ` +
              `tokenizer's vocabulary of ${vocabulary.length} characters`,
          );
        }
        tokens[index] = id;
      }
      return tokens;
    },
    // Ids outside the vocabulary (a padded model vocabulary) decode to U+FFFD, like invalid bytes do.
    decode: (tokens) => Array.from(tokens, (token) => vocabulary[token] ?? '\uFFFD').join(''),
    byteLength(tokens) {
      let total = 0;
      for (let index = 0; index < tokens.length; index++) total += bytesPerToken[tokens[index]] ?? 3;
      return total;
    },
  };
}
