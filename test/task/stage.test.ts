/**
 * Per-run data: a task's `stage` script gives every run its own copy of the data. lm-speedrun's stage draws fresh
 * text from a secret synthetic language (tasks/lm-speedrun/harness/language.ts) keyed by the run key, so weights
 * made before the run fit nothing. Here: the generator on its own (deterministic per key, new text per key, an exact
 * sample likelihood checked against the byte-by-byte chain rule, an entropy rate checked by Monte Carlo, a small
 * spread across keys), and the stage through the real harness (two runs see different text, and never the key).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/executor/local.js';
import { loadTask } from '../../src/task/loader.js';
import { prepareTask } from '../../src/task/prepare.js';
import { defaultAssignment } from '../../src/task/space.js';
import { createLanguage, DEFAULT_LANGUAGE, generateText, type Language, transitionProbability } from '../../tasks/lm-speedrun/harness/language.js';
import { entropyRate, prefixProbability, rowEntropy, sampleNats } from '../../tasks/lm-speedrun/harness/likelihood.js';
import { temporaryDir } from '../lab/fixtures.js';

const KEY_A = 'a'.repeat(64);
const KEY_B = '0123456789abcdef'.repeat(4);
const keyOf = (index: number) => createHash('sha256').update(`stage-test-${index}`).digest('hex');
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const SPACE = 0x20;
const NEWLINE = 0x0a;

describe('the lm-speedrun language', () => {
  const a = createLanguage(KEY_A);

  it('is deterministic given the key; another key gives another lexicon and other text', () => {
    const again = createLanguage(KEY_A);
    expect(again.words.map((word) => Buffer.from(word).toString())).toEqual(a.words.map((word) => Buffer.from(word).toString()));
    expect(generateText(again, KEY_A, 'train', 50_000).equals(generateText(a, KEY_A, 'train', 50_000))).toBe(true);
    const b = createLanguage(KEY_B);
    const shared = b.words.filter((word) => a.ids.has(Buffer.from(word).toString('latin1'))).length;
    expect(shared).toBeLessThan(DEFAULT_LANGUAGE.vocabularySize / 10); // only short words can coincide
    const topA = new Set(a.words.slice(0, 100).map((word) => Buffer.from(word).toString()));
    expect(b.words.slice(0, 100).filter((word) => topA.has(Buffer.from(word).toString())).length).toBeLessThan(15);
    expect(() => createLanguage('short')).toThrow(/at least 16 bytes of hex/);
  });

  it('draws each split as its own sample: same words, different text; ASCII letters, spaces and newlines only', () => {
    const train = generateText(a, KEY_A, 'train', 200_000);
    const test = generateText(a, KEY_A, 'test', 200_000);
    expect(train.subarray(0, 1000).equals(test.subarray(0, 1000))).toBe(false);
    for (const text of [train, test]) {
      expect(text.length).toBeGreaterThanOrEqual(200_000);
      expect(text.at(-1)).toBe(NEWLINE);
      expect(text.every((byte) => byte === SPACE || byte === NEWLINE || (byte >= 0x61 && byte <= 0x7a))).toBe(true);
      const lines = text.toString('latin1').split('\n').slice(0, -1);
      for (const line of lines) for (const word of line.split(' ')) expect(a.ids.has(word), word).toBe(true);
      // A newline follows exactly the words that end at or past the line width (the last line ends the text).
      expect(lines.slice(0, -1).every((line) => line.length >= DEFAULT_LANGUAGE.lineWidth && line.lastIndexOf(' ') < DEFAULT_LANGUAGE.lineWidth)).toBe(true);
    }
  });

  it("gives a sample's exact likelihood: the word-level sum equals the byte-by-byte chain rule, every conditional summing to 1", () => {
    const text = generateText(a, KEY_A, 'check', 600);
    for (const scored of [1, 37, 200, 463]) {
      expect(sampleNats(a, text, scored)).toBeCloseTo(chainRuleNats(a, text, scored), 8);
    }
  });

  it('has the entropy rate it claims: a Monte Carlo estimate of the true NLL per byte agrees within 1%', () => {
    const rate = entropyRate(a);
    const sample = generateText(a, KEY_A, 'monte-carlo', 3 << 20);
    const perByte = sampleNats(a, sample, sample.length - 1) / (sample.length - 1);
    expect(Math.abs(perByte - rate.natsPerByte) / rate.natsPerByte).toBeLessThan(0.01);
    // Bytes per word, counted directly.
    const words = sample.filter((byte) => byte === SPACE || byte === NEWLINE).length;
    expect(Math.abs(sample.length / words - rate.bytesPerWord) / rate.bytesPerWord).toBeLessThan(0.01);
  }, 60_000);

  it("computes each word's next-word entropy in O(K) exactly as the full row over the lexicon gives it", () => {
    for (const word of [0, 1, 17, 1000, DEFAULT_LANGUAGE.vocabularySize - 1]) {
      let direct = 0;
      for (let next = 0; next < DEFAULT_LANGUAGE.vocabularySize; next++) {
        const probability = transitionProbability(a, word, next);
        direct -= probability * Math.log(probability);
      }
      expect(rowEntropy(a, word)).toBeCloseTo(direct, 10);
    }
  });

  it('has a floor that varies little from key to key, so fixed targets work', () => {
    const rates = Array.from({ length: 6 }, (_, index) => entropyRate(createLanguage(keyOf(index))).natsPerByte);
    expect(Math.max(...rates) - Math.min(...rates), rates.join(", ")).toBeLessThan(0.02);
  }, 60_000);

  it('draws 4 MiB of text in a few seconds', () => {
    const started = performance.now();
    const language = createLanguage(KEY_B);
    generateText(language, KEY_B, 'train', 4 << 20);
    expect((performance.now() - started) / 1000).toBeLessThan(5);
  });
});

/**
 * The reference for sampleNats: at every scored byte, the full next-byte distribution from the lexicon (each word
 * still consistent with the current word's prefix, by its probability; a word that ends here puts its mass on the
 * separator the rendering rule gives), then -log of the byte that came.
 */
function chainRuleNats(language: Language, text: Uint8Array, scored: number): number {
  let nats = 0;
  let previous = -1;
  let wordStart = 0;
  let column = 0;
  for (let position = 0; position <= scored; position++) {
    const prefix = text.subarray(wordStart, position);
    const next = new Map<number, number>();
    let total = 0;
    language.words.forEach((spelling, word) => {
      if (spelling.length < prefix.length || prefix.some((byte, index) => spelling[index] !== byte)) return;
      const probability = transitionProbability(language, previous, word);
      const separator = column + spelling.length >= language.options.lineWidth ? NEWLINE : SPACE;
      const byte = spelling.length === prefix.length ? separator : spelling[prefix.length];
      next.set(byte, (next.get(byte) ?? 0) + probability);
      total += probability;
    });
    expect(total).toBeCloseTo(prefixProbability(language, previous, prefix), 12);
    if (prefix.length === 0) expect(total).toBeCloseTo(1, 12);
    const byte = text[position];
    if (position > 0) nats -= Math.log(next.get(byte)! / total);
    if (byte === SPACE || byte === NEWLINE) {
      previous = language.ids.get(Buffer.from(prefix).toString('latin1'))!;
      column = byte === NEWLINE ? 0 : column + prefix.length + 1;
      wordStart = position + 1;
    }
  }
  return nats;
}

const bwrapAvailable = existsSync('/usr/bin/bwrap');

describe.skipIf(!bwrapAvailable)('staged data through the harness', () => {
  const home = temporaryDir('successor-stage-');
  afterAll(() => home.remove());

  it('every run sees its own fresh text, never the key, and the staged copy is removed', async () => {
    const taskDir = join(import.meta.dirname, '../fixtures/tasks/speedrun-tiny');
    const task = loadTask(taskDir);
    const state = join(home.path, 'state');
    await prepareTask(task, state);
    const probe = `import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
const dir = process.argv[process.argv.indexOf('--data-dir') + 1];
const bytes = readFileSync(dir + '/train.txt');
const words = new Set(bytes.toString().split(/[ \\n]/));
process.stdout.write(JSON.stringify({ hash: createHash('sha256').update(bytes).digest('hex'), length: bytes.length, head: bytes.subarray(0, 2000).toString(), files: readdirSync(dir).sort(), env: Object.keys(process.env).sort(), words: words.size }) + '\\n');
`;
    const executor = await LocalExecutor.create('required', state);
    try {
      const seen = [];
      for (const experimentId of ['stage-1', 'stage-2']) {
        const result = await executor.run({
          runId: 'stage', experimentId, taskDir, taskName: task.file.name, taskVersion: task.file.version,
          lineage: { assignment: defaultAssignment(task.file.space), edits: [{ kind: 'write', path: 'run.ts', content: probe }] }, capSeconds: 30, seed: 1,
        }, new AbortController().signal);
        expect(result.outcome.status).toBe('failed'); // no checkpoint
        seen.push(JSON.parse(readFileSync(join(result.logDir, 'stdout.log'), 'utf8')));
        expect(readdirSync(join(state, 'staged'))).toEqual([]);
      }
      for (const run of seen) {
        expect(run.files).toEqual(['train.txt', 'val.txt']);
        expect(run.length).toBeGreaterThanOrEqual(Number(task.file.harness.params.trainBytes));
        expect(run.words).toBeGreaterThan(1000);
        expect(run.env.some((name: string) => /KEY|SUCCESSOR_RUN/.test(name))).toBe(false);
      }
      expect(seen[0].hash).not.toBe(seen[1].hash);
      // Not the same text shifted or relabelled: the two runs' frequent words are different words.
      const top = (head: string) => new Set([...head.split(/[ \n]/)].filter((word) => word.length >= 3));
      const first = top(seen[0].head);
      expect([...top(seen[1].head)].filter((word) => first.has(word)).length).toBeLessThan(5);
    } finally {
      await executor.close();
    }
  }, 120_000);
});
