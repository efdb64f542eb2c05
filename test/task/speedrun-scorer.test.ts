/**
 * lm-speedrun's trusted scorer on its own: a passing run that breaks a physical bound is `suspect` (too few
 * reported tokens; more arithmetic than the machine's measured FLOP/s allows in the time; a loss below the entropy
 * floor), an honest one is not, and with a run key the test split is read enciphered and the passed checkpoint is
 * kept deciphered. Also the lab's measurement of the machine's FLOP/s that the FLOPs bound uses.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainConfig } from '../../src/gpt/config.js';
import { loadMobyDick, splitCorpus } from '../../src/gpt/data.js';
import { prepareData, train } from '../../src/gpt/train.js';
import { PEAK_FACTOR, machineFlops, measureKernelFlops } from '../../src/task/machine.js';
import { ScorerReport } from '../../src/task/scorer-report.js';
import { runTrustedScript } from '../../src/task/trusted-script.js';
import { asciiPermutation, encipher } from '../../tasks/lm-speedrun/harness/cipher.js';
import { ROOT, temporaryDir } from '../lab/fixtures.js';

const SCORER = join(ROOT, 'tasks/lm-speedrun/harness/score.ts');
const scratch = temporaryDir('successor-scorer-');
const splits = splitCorpus(loadMobyDick().slice(0, 200_000));
const KEY = 'c0ffee'.repeat(11).slice(0, 64);
const plainHidden = join(scratch.path, 'hidden-plain');
const cipherHidden = join(scratch.path, 'hidden-cipher');
let artifacts: string;
let cipherArtifacts: string;
let flopsPerToken = 0;

async function trainInto(directory: string, texts: { train: string; val: string }): Promise<void> {
  const config = TrainConfig.parse({
    model: { width: 16, heads: 2, layers: 1, contextLength: 16 }, batchSize: 16, maxSteps: 120, warmupSteps: 5,
    learningRate: 0.02, evalInterval: 120, evalTokens: 512,
  });
  await train(config, prepareData('byte', texts), { checkpointDir: join(directory, 'checkpoint') });
}

beforeAll(async () => {
  mkdirSync(plainHidden);
  mkdirSync(cipherHidden);
  writeFileSync(join(plainHidden, 'test.txt'), splits.test);
  const permutation = asciiPermutation(KEY);
  const cipher = (text: string) => encipher(Buffer.from(text), permutation).toString('utf8');
  writeFileSync(join(cipherHidden, 'test.txt'), cipher(splits.test));
  artifacts = join(scratch.path, 'plain');
  cipherArtifacts = join(scratch.path, 'cipher');
  await trainInto(artifacts, splits);
  await trainInto(cipherArtifacts, { train: cipher(splits.train), val: cipher(splits.val) });
  const { trainingFlopsPerToken } = await import('../../src/gpt/config.js');
  const { loadCheckpoint } = await import('../../src/gpt/checkpoint.js');
  flopsPerToken = trainingFlopsPerToken(loadCheckpoint(join(artifacts, 'checkpoint')).model);
}, 120_000);
afterAll(() => scratch.remove());

let counter = 0;
async function score(options: { tokens: number; wallSeconds: number; machineFlops?: number; params?: Record<string, unknown>; key?: string; dir?: string; hidden?: string }): Promise<ScorerReport> {
  const stdout = join(scratch.path, `stdout-${counter++}.log`);
  writeFileSync(stdout, `steps: 100\ntokens: ${options.tokens}\n`);
  const result = await runTrustedScript(SCORER, {
    SUCCESSOR_ARTIFACTS: options.dir ?? artifacts,
    SUCCESSOR_HIDDEN: options.hidden ?? plainHidden,
    SUCCESSOR_PARAMS: JSON.stringify({ targetLoss: 4, evalTokens: 1024, minTokensToTarget: 10_000, entropyFloorNats: 0.6, ...options.params }),
    SUCCESSOR_WALL_SECONDS: String(options.wallSeconds),
    SUCCESSOR_STDOUT: stdout,
    ...(options.machineFlops ? { SUCCESSOR_MACHINE_FLOPS: String(options.machineFlops) } : {}),
    ...(options.key ? { SUCCESSOR_RUN_KEY: options.key } : {}),
  }, 120);
  return ScorerReport.parse(JSON.parse(result.stdout.trim().split('\n').at(-1) ?? ''));
}

describe('the lm-speedrun scorer', () => {
  it('passes an honest run: enough tokens, time the machine could do them in, a loss above the floor', async () => {
    const report = await score({ tokens: 30_720, wallSeconds: 10, machineFlops: (30_720 * flopsPerToken) / 5 }); // needs 5 s
    expect(report.passed).toBe(true);
    expect(report.suspect).toBeUndefined();
    expect(Number(report.metrics?.testLoss)).toBeLessThan(4);
  });

  it('holds as suspect a run that reports fewer tokens than reaching the target needs', async () => {
    const report = await score({ tokens: 500, wallSeconds: 10 });
    expect(report).toMatchObject({ passed: true, suspect: { bound: 'tokens' } });
  });

  it("holds as suspect a run that claims more arithmetic than the machine's measured FLOP/s allows in its time", async () => {
    // 30,720 tokens need 30,720 x FLOPs/token; at a machine peak of one tenth of that per second they take 10 s.
    const machine = (30_720 * flopsPerToken) / 10;
    expect((await score({ tokens: 30_720, wallSeconds: 5, machineFlops: machine })).suspect).toMatchObject({ bound: 'flops', reason: expect.stringMatching(/need at least 10\.00 s/) });
    expect((await score({ tokens: 30_720, wallSeconds: 11, machineFlops: machine })).suspect).toBeUndefined();
  });

  it('holds as suspect a loss below the entropy floor', async () => {
    const report = await score({ tokens: 30_720, wallSeconds: 10, params: { entropyFloorNats: 3.9 } });
    expect(report).toMatchObject({ passed: true, suspect: { bound: 'entropy' } });
  });

  it('with a run key: scores on the enciphered split, and keeps the passed checkpoint deciphered', async () => {
    const onCipher = await score({ tokens: 30_720, wallSeconds: 10, key: KEY, dir: cipherArtifacts, hidden: cipherHidden });
    expect(onCipher.passed).toBe(true);
    // The deciphered copy, scored as a plain run on the plain split, has the same loss to rounding.
    const plainRun = join(scratch.path, 'deciphered');
    mkdirSync(plainRun);
    cpSync(join(cipherArtifacts, 'checkpoint-plaintext'), join(plainRun, 'checkpoint'), { recursive: true });
    const deciphered = await score({ tokens: 30_720, wallSeconds: 10, dir: plainRun });
    expect(Number(deciphered.metrics?.testLoss)).toBeCloseTo(Number(onCipher.metrics?.testLoss), 5);
    // The weights as trained, read as plain text: what copying them into another run would score.
    const copied = await score({ tokens: 30_720, wallSeconds: 10, dir: cipherArtifacts });
    expect(Number(copied.metrics?.testLoss)).toBeGreaterThan(Number(onCipher.metrics?.testLoss) + 1);
  });
});

describe("the machine's FLOP/s", () => {
  it('is measured with the lab kernel, kept per machine, and re-measured when the file is unreadable', async () => {
    const kernel = await measureKernelFlops();
    expect(kernel).toBeGreaterThan(1e8); // a plausibility check, not a benchmark
    expect(kernel).toBeLessThan(1e12);
    const home = join(scratch.path, 'machine-home');
    mkdirSync(home);
    writeFileSync(join(home, 'machine.json'), '{ not json');
    const measured = await machineFlops(home);
    expect(measured.peakFlops).toBeCloseTo(PEAK_FACTOR * measured.kernelFlopsPerCore * cpus().length, 0);
    expect(JSON.parse(readFileSync(join(home, 'machine.json'), 'utf8')).kernelFlopsPerCore).toBe(measured.kernelFlopsPerCore);
  }, 60_000);
});
