import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/common.js';
import { buildTrainConfig, parseSetValue } from '../../src/cli/train.js';
import { loadNativeLibrary } from '../../src/gpt/native/library.js';

const bin = resolve('bin/successor.js');
const run = promisify(execFile);

/** Runs the real CLI; never throws, returns the exit code and both streams. */
async function successor(args: string[], home: string, environment: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const env = { ...process.env, SUCCESSOR_HOME: home, NO_COLOR: '1', ...environment };
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env, cwd: home });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const TINY = ['--set', 'model.width=8', '--set', 'model.heads=2', '--set', 'model.layers=1', '--set', 'model.contextLength=16',
  '--set', 'batchSize=4', '--set', 'maxSteps=20', '--set', 'evalInterval=10', '--set', 'evalTokens=128'];

describe('train config from flags (in-process)', () => {
  it.each<[string, Parameters<typeof buildTrainConfig>[0], RegExp]>([
    ['a value of the wrong type', { set: ['batchSize=many'] }, /invalid config: batchSize: .*expected number/],
    ['an unknown top-level key', { set: ['speed=11'] }, /invalid config: \(root\): Unrecognized key: "speed"/],
    ['--set without =', { set: ['batchSize'] }, /--set needs key=value, got 'batchSize'/],
    ['a key through a number', { set: ['batchSize=2', 'batchSize.x=1'] }, /--set batchSize\.x: batchSize is not an object/],
    ['a prototype key', { set: ['__proto__.x=1'] }, /invalid key/],
    ['a missing --config file', { set: [], config: 'nope.json' }, /cannot read --config nope\.json: ENOENT/],
    ['a bad --max-seconds', { set: [], maxSeconds: 'soon' }, /--max-seconds must be a duration/],
    ['a zero --target-loss', { set: [], targetLoss: '0' }, /--target-loss must be at least/],
    ['sequenceLength above the context', { set: ['sequenceLength=512'] }, /sequenceLength: sequenceLength cannot exceed model\.contextLength/],
  ])('rejects %s with a UsageError', (_, flags, message) => {
    expect(() => buildTrainConfig(flags)).toThrow(UsageError);
    expect(() => buildTrainConfig(flags)).toThrow(message);
  });

  it('parses numbers and booleans in --set, keeps strings, nests dotted keys', () => {
    const config = buildTrainConfig({ set: ['model.width=64', 'model.tiedEmbeddings=false', 'schedule=linear', 'learningRate=3e-4'], maxSeconds: '2m', targetLoss: '1.5' });
    expect(config.model).toMatchObject({ width: 64, tiedEmbeddings: false });
    expect(config).toMatchObject({ schedule: 'linear', learningRate: 3e-4, maxSeconds: 120, targetValLoss: 1.5 });
    expect(parseSetValue('12')).toBe(12);
    expect(parseSetValue('')).toBe('');
    expect(parseSetValue('true')).toBe(true);
  });
});

describe('successor train / eval / sample', () => {
  const home = mkdtempSync(join(tmpdir(), 'successor-cli-'));
  let checkpoint: string;
  let summary: Record<string, unknown>;
  let progress: string;
  beforeAll(async () => {
    const result = await successor(['train', ...TINY, '--json'], home);
    expect(result.code, result.stderr).toBe(0);
    summary = JSON.parse(result.stdout);
    progress = result.stderr;
    checkpoint = summary.checkpoint as string;
  }, 60_000);

  it('train --json trains on Moby Dick and writes a checkpoint under $SUCCESSOR_HOME/checkpoints', () => {
    // the fastest kernels that work here, said on stderr: native where a compiler is (under CI=true it must be)
    const fastest = loadNativeLibrary().ok ? 'native' : 'wasm';
    expect(summary).toMatchObject({ steps: 20, tokens: 20 * 4 * 16, reachedTarget: false, stopReason: 'max-steps', backend: fastest });
    for (const key of ['seconds', 'tokensPerSecond', 'trainLoss', 'valLoss']) expect(typeof summary[key]).toBe('number');
    expect(summary.valLoss as number).toBeLessThan(Math.log(256)); // better than uniform over bytes
    expect(checkpoint.startsWith(join(home, 'checkpoints'))).toBe(true);
    expect(readdirSync(checkpoint).sort()).toEqual(['config.json', 'model.safetensors', 'optimizer.safetensors', 'train-state.json']);
    // not a TTY: one plain progress line per evaluation
    expect(progress.trim().split('\n')).toEqual([
      expect.stringMatching(fastest === 'native' ? /^kernels: native C kernels \(\d+-bit vectors, \d+ threads?; / : /^kernels: WebAssembly SIMD kernels/),
      expect.stringMatching(/^step 10\/20 \| loss \d\.\d{4} \| val \d\.\d{4} \| \d+ tok\/s \| ETA /), expect.stringMatching(/^step 20\/20 /),
    ]);
  });

  it('train without a C compiler uses wasm and says why in one line; --set kernels=ts forces the reference', async () => {
    const hidden = await successor(['train', ...TINY, '--set', 'maxSteps=2', '--out', join(home, 'no-compiler'), '--json'], home, {
      SUCCESSOR_CC: '', SUCCESSOR_NATIVE_CACHE: mkdtempSync(join(tmpdir(), 'successor-native-cache-')),
    });
    expect(hidden.code, hidden.stderr).toBe(0);
    expect(JSON.parse(hidden.stdout)).toMatchObject({ steps: 2, backend: 'wasm' });
    expect(hidden.stderr.split('\n')[0]).toMatch(/^kernels: WebAssembly SIMD kernels \(\d+ threads?\), because native kernels are unavailable: no C compiler/);
    const reference = await successor(['train', ...TINY, '--set', 'maxSteps=2', '--set', 'kernels=ts', '--out', join(home, 'reference'), '--json'], home);
    expect(JSON.parse(reference.stdout)).toMatchObject({ steps: 2, backend: 'ts', kernels: 'TypeScript reference kernels (1 thread)' });
  });

  it('eval prints lossNats and bitsPerByte, as key: value lines or JSON', async () => {
    const json = await successor(['eval', '--checkpoint', checkpoint, '--split', 'val', '--max-tokens', '128', '--json'], home);
    expect(json.code).toBe(0);
    const evaluation = JSON.parse(json.stdout);
    expect(evaluation).toMatchObject({ split: 'val', tokens: 128, bytes: 128 });
    expect(evaluation.lossNats).toBeCloseTo(summary.valLoss as number, 5); // same windows as the trainer's check
    expect(evaluation.bitsPerByte).toBeCloseTo(evaluation.lossNats / Math.LN2, 10);
    const text = await successor(['eval', '--checkpoint', checkpoint, '--max-tokens', '64'], home);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^checkpoint: .*\nsplit: test\nlossNats: \d\.\d+\nbitsPerByte: \d\.\d+\ntokens: 64\nbytes: 64\n$/);
    expect(text.stderr).toMatch(/^kernels: (native C kernels|TypeScript reference kernels)/);
  });

  it('sample continues the prompt, the same text for the same seed', async () => {
    const args = ['sample', '--checkpoint', checkpoint, '--prompt', 'Call me', '--tokens', '12', '--seed', '3', '--top-k', '20'];
    const first = await successor(args, home);
    expect(first.code).toBe(0);
    expect(first.stdout.startsWith('Call me')).toBe(true);
    expect((await successor(args, home)).stdout).toBe(first.stdout);
    const json = await successor([...args, '--json', '--temperature', '0'], home);
    expect(JSON.parse(json.stdout)).toMatchObject({ tokens: 12, temperature: 0, seed: 3 });
  });

  it('train --resume continues a checkpoint with its own config', async () => {
    const out = join(home, 'resumed');
    const result = await successor(['train', '--resume', checkpoint, '--set', 'maxSteps=30', '--out', out], home);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^steps: 30\ntokens: 640\n/);
  });

  it('train reads --data and --config, applies --set over it, and stops at --target-loss', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'successor-cli-data-'));
    writeFileSync(join(directory, 'corpus.txt'), 'the quick brown fox jumps over the lazy dog. '.repeat(200));
    writeFileSync(join(directory, 'config.json'), JSON.stringify({ model: { width: 8, heads: 2, layers: 1, contextLength: 8 }, batchSize: 2, maxSteps: 500, evalInterval: 5, evalTokens: 32, tokenizer: 'char' }));
    const out = join(directory, 'out');
    const result = await successor(['train', '--data', join(directory, 'corpus.txt'), '--config', join(directory, 'config.json'),
      '--set', 'learningRate=0.01', '--target-loss', '50', '--out', out, '--json'], home);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ steps: 5, reachedTarget: true, stopReason: 'target', checkpoint: out });
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.tokenizer.vocabulary.join('')).toBe(' .abcdefghijklmnopqrstuvwxyz'.replace(/[^ .thequickbrownfxjmpsvlazydg]/g, ''));
    const evaluation = await successor(['eval', '--checkpoint', out, '--data', join(directory, 'corpus.txt'), '--json'], home);
    expect(JSON.parse(evaluation.stdout).tokens).toBe(449); // the 5% test split of 9000 characters, less one
  });

  describe('bad input: exit 2, one line naming the problem, nothing written', () => {
    const small = join(mkdtempSync(join(tmpdir(), 'successor-cli-small-')), 'small.txt');
    writeFileSync(small, 'Call me Ishmael. '.repeat(4));
    it.each<[string, string[], RegExp]>([
      ['a negative learning rate', ['train', '--set', 'learningRate=-1'], /learningRate: Too small/],
      ['heads that do not divide width', ['train', '--set', 'model.width=10', '--set', 'model.heads=3'], /model\.heads: heads must divide width/],
      ['an unknown key', ['train', '--set', 'model.depth=3'], /model: Unrecognized key: "depth"/],
      ['a missing --data file', ['train', '--data', 'no-such-file.txt'], /cannot read data file no-such-file\.txt: no such file/],
      ['a --data file too small for one window', ['train', '--data', small], /training split has 61 tokens, needs at least 129/],
      ['a missing checkpoint', ['eval', '--checkpoint', 'nowhere'], /checkpoint nowhere: config\.json: missing/],
    ])('%s', async (_, args, message) => {
      const home = mkdtempSync(join(tmpdir(), 'successor-cli-bad-'));
      const out = join(home, 'out');
      const result = await successor(args[0] === 'train' ? [...args, '--out', out] : args, home);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(message);
      expect(readdirSync(home)).toEqual([]);
    });

    it('a truncated checkpoint', async () => {
      const home = mkdtempSync(join(tmpdir(), 'successor-cli-bad-'));
      const result = await successor(['train', ...TINY, '--set', 'maxSteps=1', '--out', join(home, 'checkpoint')], home);
      expect(result.code).toBe(0);
      const weights = join(home, 'checkpoint', 'model.safetensors');
      writeFileSync(weights, readFileSync(weights).subarray(0, 2000));
      for (const command of ['eval', 'sample']) {
        const damaged = await successor([command, '--checkpoint', join(home, 'checkpoint')], home);
        expect(damaged.code).toBe(2);
        expect(damaged.stderr).toMatch(/^successor: checkpoint .*model\.safetensors: tensor '.*' ends at byte \d+, past the \d+-byte data section.*\n$/);
      }
      expect(existsSync(join(home, 'checkpoints'))).toBe(false);
    });
  });
});
