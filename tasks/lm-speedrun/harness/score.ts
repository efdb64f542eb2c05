/**
 * Trusted: scores one run. Loads the checkpoint the run left (strictly validated by the lab's reference evaluator)
 * and measures its loss on the hidden test split. The run passes when that loss reaches the target; the lab's
 * own clock is the score.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labModule, requireEnvironment, taskParameters } from './lab.js';

type Evaluate = typeof import('../../../src/gpt/evaluate.js');
type ScorerReportModule = typeof import('../../../src/task/scorer-report.js');
const { evaluateCheckpoint } = await labModule<Evaluate>('src/gpt/evaluate.ts');
const { printScorerReport } = await labModule<ScorerReportModule>('src/task/scorer-report.ts');

const parameters = taskParameters();
const targetLoss = Number(parameters.targetLoss);
const evalTokens = Number(parameters.evalTokens ?? 32768);
const artifacts = process.env.SUCCESSOR_ARTIFACTS ?? '';
const checkpoint = join(artifacts, 'checkpoint');

if (!artifacts || !existsSync(checkpoint)) {
  printScorerReport({ passed: false, reason: 'the run left no checkpoint (expected artifacts/checkpoint)', metrics: {} });
} else {
  const test = readFileSync(join(requireEnvironment('SUCCESSOR_HIDDEN'), 'test.txt'), 'utf8');
  try {
    const evaluation = evaluateCheckpoint(checkpoint, test, { maxTokens: evalTokens });
    const metrics = { testLoss: evaluation.lossNats, bitsPerByte: evaluation.bitsPerByte, evalTokens: evaluation.tokens, targetLoss };
    const passed = evaluation.lossNats <= targetLoss;
    printScorerReport({
      passed,
      reason: passed ? undefined : `missed the target: test loss ${evaluation.lossNats.toFixed(4)} > ${targetLoss}`,
      metrics,
    });
  } catch (error) {
    printScorerReport({ passed: false, reason: `checkpoint rejected: ${(error as Error).message}`, metrics: {} });
  }
}
