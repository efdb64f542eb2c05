import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError, loadMobyDick, readTextFile, readTrainingSplits, sampleBatch, splitCorpus, writeSplits } from '../../src/gpt/data.js';
import { createRng } from '../../src/gpt/random.js';
import { charTokenizerSpec, createTokenizer, TokenizerError, TokenizerSpec } from '../../src/gpt/tokenizer.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'successor-data-'));

describe('corpus and splits', () => {
  it('loads Moby Dick in order, joined by blank lines', () => {
    const text = loadMobyDick();
    expect(text.length).toBeGreaterThan(1_000_000);
    expect(text.startsWith('CONTENTS')).toBe(true);
    expect(text).toContain('Call me Ishmael.');
    const chapterOne = text.indexOf('Call me Ishmael.');
    expect(chapterOne).toBeLessThan(text.indexOf('I stuffed a shirt or two into my old carpet-bag'));
    expect(text.slice(chapterOne - 2, chapterOne)).toBe('\n\n');
  });

  it('splits deterministically into contiguous, disjoint 90/5/5 parts that concatenate back', () => {
    const text = loadMobyDick();
    const first = splitCorpus(text);
    const second = splitCorpus(text);
    expect(second).toEqual(first);
    expect(first.train + first.val + first.test).toBe(text);
    const bytes = (part: string) => Buffer.byteLength(part);
    const total = bytes(text);
    expect(Math.abs(bytes(first.train) - 0.9 * total)).toBeLessThanOrEqual(4);
    expect(Math.abs(bytes(first.val) - 0.05 * total)).toBeLessThanOrEqual(8);
    // disjoint: the val and test texts are not inside the training text
    expect(first.train.includes(first.val.slice(0, 2000))).toBe(false);
    expect(first.train.includes(first.test.slice(0, 2000))).toBe(false);
  });

  it('never cuts a multi-byte character in half', () => {
    const text = 'é'.repeat(50) + '🐋'.repeat(25); // 2-byte and 4-byte characters only
    for (const train of [0.1, 0.33, 0.5, 0.77]) {
      const splits = splitCorpus(text, { train, val: 0.1 });
      expect(splits.train + splits.val + splits.test).toBe(text);
      for (const part of [splits.train, splits.val, splits.test]) expect(part).not.toContain('\uFFFD');
    }
  });

  it('writes and reads split files; the harness can keep test out', () => {
    const directory = scratch();
    const splits = splitCorpus('0123456789'.repeat(100));
    writeSplits(directory, splits, ['train', 'val']);
    expect(readTrainingSplits(directory)).toEqual({ train: splits.train, val: splits.val });
    expect(() => readFileSync(join(directory, 'test.txt'))).toThrow();
  });

  it('rejects missing, empty and non-UTF-8 files with one clear line', () => {
    const directory = scratch();
    writeFileSync(join(directory, 'empty.txt'), '');
    writeFileSync(join(directory, 'binary.bin'), Buffer.from([0xff, 0xfe, 0x00, 0xc3]));
    expect(() => readTextFile(join(directory, 'nope.txt'))).toThrow(/cannot read data file .*nope\.txt: no such file/);
    expect(() => readTextFile(join(directory, 'empty.txt'))).toThrow(/is empty/);
    expect(() => readTextFile(join(directory, 'binary.bin'))).toThrow(/not valid UTF-8/);
    expect(() => readTextFile(directory)).toThrow(DataError);
  });
});

describe('tokenizers', () => {
  const text = 'Call me Ishmael — “whale” 🐋 naïve\n';

  it('byte tokenizer round-trips any text and has 256 ids', () => {
    const tokenizer = createTokenizer({ kind: 'byte' });
    const tokens = tokenizer.encode(text);
    expect(tokenizer.vocabSize).toBe(256);
    expect(tokens.length).toBe(Buffer.byteLength(text));
    expect(tokenizer.decode(tokens)).toBe(text);
    expect(tokenizer.byteLength(tokens)).toBe(tokens.length);
  });

  it('byte tokenizer decodes invalid UTF-8 leniently', () => {
    const tokenizer = createTokenizer({ kind: 'byte' });
    expect(tokenizer.decode([0x61, 0xff, 0xe2, 0x82, 0x62])).toBe('a\uFFFD\uFFFDb');
  });

  it('char tokenizer: sorted distinct code points, round trip, bytes per token', () => {
    const spec = charTokenizerSpec(text);
    expect(TokenizerSpec.parse(spec)).toEqual(spec);
    if (spec.kind !== 'char') throw new Error('expected a char spec');
    expect(spec.vocabulary).toContain('🐋'); // a surrogate pair is one character
    const codePoints = spec.vocabulary.map((character) => character.codePointAt(0)!);
    expect(codePoints).toEqual([...codePoints].sort((left, right) => left - right));
    const tokenizer = createTokenizer(spec);
    const tokens = tokenizer.encode(text);
    expect(tokens.length).toBe(Array.from(text).length);
    expect(tokenizer.decode(tokens)).toBe(text);
    expect(tokenizer.byteLength(tokens)).toBe(Buffer.byteLength(text));
  });

  it('char tokenizer names an unknown character', () => {
    const tokenizer = createTokenizer(charTokenizerSpec('abc'));
    expect(() => tokenizer.encode('abz')).toThrow(TokenizerError);
    expect(() => tokenizer.encode('abz')).toThrow(/"z" \(U\+007A\) at position 2 is not in the tokenizer's vocabulary of 3/);
  });

  it('rejects a char vocabulary with duplicates or multi-character entries', () => {
    expect(TokenizerSpec.safeParse({ kind: 'char', vocabulary: ['a', 'a'] }).success).toBe(false);
    expect(TokenizerSpec.safeParse({ kind: 'char', vocabulary: ['ab'] }).success).toBe(false);
  });
});

describe('batches', () => {
  it('samples windows whose targets are the inputs shifted by one, deterministically per seed', () => {
    const tokens = Int32Array.from({ length: 1000 }, (_, index) => index % 251);
    const [B, T] = [4, 16];
    const draw = (seed: number) => {
      const inputs = new Int32Array(B * T);
      const targets = new Int32Array(B * T);
      sampleBatch(tokens, B, T, createRng(seed), inputs, targets);
      return { inputs, targets };
    };
    const batch = draw(7);
    for (let b = 0; b < B; b++) {
      const row = batch.inputs.subarray(b * T, (b + 1) * T);
      const start = tokens.indexOf(row[0]); // values repeat every 251, so compare the whole window instead
      for (let t = 0; t < T; t++) {
        expect(batch.targets[b * T + t]).toBe((row[t] + 1) % 251);
        if (t > 0) expect(row[t]).toBe((row[t - 1] + 1) % 251);
      }
      expect(start).toBeGreaterThanOrEqual(0);
    }
    expect(draw(7)).toEqual(batch);
    expect(draw(8)).not.toEqual(batch);
  });

  it('refuses a split shorter than one window', () => {
    const rng = createRng(1);
    expect(() => sampleBatch(new Int32Array(16), 1, 16, rng, new Int32Array(16), new Int32Array(16))).toThrow(/needs at least 17/);
  });
});
