/**
 * Trusted: scores one run. Loads the checkpoint the run left (strictly validated by the lab's reference evaluator)
 * and measures its loss on the hidden test split. The run passes when that loss reaches the target; the lab's
 * own clock is the score. The run trained on text enciphered with its own secret permutation (stage.ts), and the
 * test split is enciphered the same way, so only a model trained in this run on this run's data can pass; a passed
 * checkpoint is also kept deciphered, as `artifacts/checkpoint-plaintext`, for sampling and evaluation on plain text.
 *
 * Physical bounds (a passed run that breaks one is `suspect`, and the lab's gate never accepts it):
 * - tokens: the run must report (`tokens: N` in its summary) at least `minTokensToTarget` trained tokens, a
 *   conservative floor below what any configuration we have seen needs to reach the target from scratch;
 * - flops: those tokens at the checkpoint's FLOPs per token cannot take less time than the machine's peak allows
 *   (SUCCESSOR_MACHINE_FLOPS, measured by the lab: src/task/machine.ts; `peakFlopsPerCore` x cores when the
 *   scorer runs without it);
 * - entropy: a test loss below `entropyFloorNats` (an estimate of the text's entropy) means the run saw the test data.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { asciiPermutation, decipherCheckpoint } from './cipher.js';
import { labModule, requireEnvironment, taskParameters } from './lab.js';

type Evaluate = typeof import('../../../src/gpt/evaluate.js');
type Checkpoints = typeof import('../../../src/gpt/checkpoint.js');
type Config = typeof import('../../../src/gpt/config.js');
type ScorerReportModule = typeof import('../../../src/task/scorer-report.js');
const { evaluateCheckpoint } = await labModule<Evaluate>('src/gpt/evaluate.ts');
const { loadCheckpoint, saveCheckpoint } = await labModule<Checkpoints>('src/gpt/checkpoint.ts');
const { parameterLayout, trainingFlopsPerToken } = await labModule<Config>('src/gpt/config.ts');
const { printScorerReport } = await labModule<ScorerReportModule>('src/task/scorer-report.ts');

const parameters = taskParameters();
const targetLoss = Number(parameters.targetLoss);
const evalTokens = Number(parameters.evalTokens ?? 32768);
const minTokensToTarget = Number(parameters.minTokensToTarget ?? 0);
const peakFlops = Number(process.env.SUCCESSOR_MACHINE_FLOPS) || Number(parameters.peakFlopsPerCore ?? 180e9) * cpus().length;
const entropyFloorNats = Number(parameters.entropyFloorNats ?? 0);
const wallSeconds = Number(process.env.SUCCESSOR_WALL_SECONDS ?? Number.NaN);
const artifacts = process.env.SUCCESSOR_ARTIFACTS ?? '';
const checkpoint = join(artifacts, 'checkpoint');

/** The run's own claim of how many tokens it trained on (untrusted: only ever used to raise a bound). */
function claimedTokens(): number {
  const stdoutPath = process.env.SUCCESSOR_STDOUT;
  if (!stdoutPath || !existsSync(stdoutPath)) return 0;
  const match = /^tokens:\s*(\d+)/m.exec(readFileSync(stdoutPath, 'utf8'));
  return match ? Number(match[1]) : 0;
}

function physicalBound(testLoss: number, flopsPerToken: number): { bound: 'flops' | 'tokens' | 'entropy'; reason: string } | undefined {
  if (testLoss < entropyFloorNats) return { bound: 'entropy', reason: `test loss ${testLoss.toFixed(4)} is below the data's entropy floor ${entropyFloorNats}` };
  const tokens = claimedTokens();
  if (tokens < minTokensToTarget) return { bound: 'tokens', reason: `reached the target after ${tokens} reported tokens; at least ${minTokensToTarget} are needed` };
  const minimumSeconds = (Math.max(tokens, minTokensToTarget) * flopsPerToken) / peakFlops;
  if (wallSeconds < minimumSeconds) {
    return { bound: 'flops', reason: `${Math.max(tokens, minTokensToTarget)} tokens need at least ${minimumSeconds.toFixed(2)} s at this machine's peak, the run took ${wallSeconds.toFixed(2)} s` };
  }
  return undefined;
}

if (!artifacts || !existsSync(checkpoint)) {
  printScorerReport({ passed: false, reason: 'the run left no checkpoint (expected artifacts/checkpoint)', metrics: {} });
} else {
  const test = readFileSync(join(requireEnvironment('SUCCESSOR_HIDDEN'), 'test.txt'), 'utf8');
  try {
    const evaluation = evaluateCheckpoint(checkpoint, test, { maxTokens: evalTokens });
    const trained = loadCheckpoint(checkpoint);
    const flopsPerToken = trainingFlopsPerToken(trained.model);
    const metrics = { testLoss: evaluation.lossNats, bitsPerByte: evaluation.bitsPerByte, evalTokens: evaluation.tokens, targetLoss, flopsPerToken, reportedTokens: claimedTokens(), machineFlops: peakFlops };
    const passed = evaluation.lossNats <= targetLoss;
    const key = process.env.SUCCESSOR_RUN_KEY;
    if (passed && key) saveCheckpoint(join(artifacts, 'checkpoint-plaintext'), decipherCheckpoint(trained, asciiPermutation(key), parameterLayout));
    printScorerReport({
      passed,
      reason: passed ? undefined : `missed the target: test loss ${evaluation.lossNats.toFixed(4)} > ${targetLoss}`,
      metrics,
      suspect: passed ? physicalBound(evaluation.lossNats, flopsPerToken) : undefined,
    });
  } catch (error) {
    printScorerReport({ passed: false, reason: `checkpoint rejected: ${(error as Error).message}`, metrics: {} });
  }
}
