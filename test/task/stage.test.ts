/**
 * Per-run data: a task's `stage` script gives every run its own copy of the data. lm-speedrun's stage enciphers
 * Moby Dick's ASCII bytes with a secret per-run permutation, so weights made before the run (copied, shipped in the
 * change) fit the wrong labelling; its scorer then keeps a deciphered copy of a passed checkpoint.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../../src/gpt/checkpoint.js';
import { parameterLayout, TrainConfig } from '../../src/gpt/config.js';
import { loadMobyDick, splitCorpus } from '../../src/gpt/data.js';
import { evaluateCheckpoint } from '../../src/gpt/evaluate.js';
import { prepareData, train } from '../../src/gpt/train.js';
import { LocalExecutor } from '../../src/executor/local.js';
import { loadTask } from '../../src/task/loader.js';
import { prepareTask } from '../../src/task/prepare.js';
import { defaultAssignment } from '../../src/task/space.js';
import { asciiPermutation, decipherCheckpoint, encipher, invert } from '../../tasks/lm-speedrun/harness/cipher.js';
import { temporaryDir } from '../lab/fixtures.js';

const KEY_A = 'a'.repeat(64);
const KEY_B = '0123456789abcdef'.repeat(4);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('the lm-speedrun cipher', () => {
  it('draws a permutation of the 128 ASCII bytes from the key, a different one per key', () => {
    const a = asciiPermutation(KEY_A);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 128 }, (_, index) => index));
    expect(asciiPermutation(KEY_A)).toEqual(a);
    const b = asciiPermutation(KEY_B);
    const same = a.filter((value, index) => b[index] === value).length;
    expect(same).toBeLessThan(10); // two uniform permutations share ~1 fixed point
    expect(() => asciiPermutation('short')).toThrow(/at least 16 bytes of hex/);
  });

  it('relabels only ASCII: the text stays valid UTF-8 of the same length, and inverting restores it', () => {
    const text = Buffer.from('Call me Ishmael — “whale”.\n', 'utf8');
    const permutation = asciiPermutation(KEY_A);
    const enciphered = encipher(text, permutation);
    expect(enciphered.length).toBe(text.length);
    expect(enciphered.equals(text)).toBe(false);
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(enciphered)).not.toThrow();
    for (let index = 0; index < text.length; index++) if (text[index] >= 128) expect(enciphered[index]).toBe(text[index]);
    expect(encipher(enciphered, invert(permutation)).equals(text)).toBe(true);
  });
});

describe('a model trained on enciphered text', () => {
  const scratch = temporaryDir('successor-cipher-');
  const splits = splitCorpus(loadMobyDick().slice(0, 200_000));
  const permutation = asciiPermutation(KEY_B);
  const cipherText = (text: string) => encipher(Buffer.from(text, 'utf8'), permutation).toString('utf8');
  const byteDir = join(scratch.path, 'byte');
  const charDir = join(scratch.path, 'char');
  beforeAll(async () => {
    const texts = { train: cipherText(splits.train), val: cipherText(splits.val) };
    for (const [tokenizer, directory] of [['byte', byteDir], ['char', charDir]] as const) {
      const config = TrainConfig.parse({
        tokenizer, model: { width: 16, heads: 2, layers: 1, contextLength: 16, tiedEmbeddings: tokenizer === 'char' },
        batchSize: 16, maxSteps: 150, warmupSteps: 5, learningRate: 0.02, evalInterval: 150, evalTokens: 512,
      });
      const data = prepareData(tokenizer, texts, texts.train + texts.val + cipherText(splits.test));
      await train(config, data, { checkpointDir: directory });
    }
  }, 120_000);
  afterAll(() => scratch.remove());

  it.each([['byte', () => byteDir], ['char', () => charDir]])('%s tokenizer: fails on plain text; deciphered, scores on plain text exactly as on the cipher', (_kind, directory) => {
    const options = { maxTokens: 2048 };
    const onCipher = evaluateCheckpoint(directory(), cipherText(splits.test), options).lossNats;
    const plainDir = join(directory(), '..', `${_kind}-plaintext`);
    saveCheckpoint(plainDir, decipherCheckpoint(loadCheckpoint(directory()), permutation, parameterLayout));
    const decipheredOnPlain = evaluateCheckpoint(plainDir, splits.test, options).lossNats;
    expect(decipheredOnPlain).toBeCloseTo(onCipher, 5);
    if (_kind === 'byte') {
      // The copied-weights attack: the same weights read under another labelling lose more than a nat per byte.
      const onPlain = evaluateCheckpoint(directory(), splits.test, options).lossNats;
      expect(onPlain).toBeGreaterThan(onCipher + 1);
    }
  });
});

const bwrapAvailable = existsSync('/usr/bin/bwrap');

describe.skipIf(!bwrapAvailable)('staged data through the harness', () => {
  const home = temporaryDir('successor-stage-');
  afterAll(() => home.remove());

  it('every run sees its own enciphered data, never the prepared copy or the key, and the staged copy is removed', async () => {
    const taskDir = join(import.meta.dirname, '../fixtures/tasks/speedrun-tiny');
    const task = loadTask(taskDir);
    const state = join(home.path, 'state');
    const prepared = await prepareTask(task, state);
    const preparedHash = sha256(readFileSync(join(prepared.inputsDir, 'train.txt')));
    const probe = `import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
const dir = process.argv[process.argv.indexOf('--data-dir') + 1];
const bytes = readFileSync(dir + '/train.txt');
process.stdout.write(JSON.stringify({ hash: createHash('sha256').update(bytes).digest('hex'), length: bytes.length, files: readdirSync(dir).sort(), env: Object.keys(process.env).sort() }) + '\\n');
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
      const preparedLength = readFileSync(join(prepared.inputsDir, 'train.txt')).length;
      for (const run of seen) {
        expect(run.files).toEqual(['train.txt', 'val.txt']);
        expect(run.length).toBe(preparedLength);
        expect(run.hash).not.toBe(preparedHash);
        expect(run.env.some((name: string) => /KEY|SUCCESSOR_RUN/.test(name))).toBe(false);
      }
      expect(seen[0].hash).not.toBe(seen[1].hash);
    } finally {
      await executor.close();
    }
  }, 120_000);
});
