/**
 * Trusted: scores one run. Loads the checkpoint the run left (strictly validated by the lab's reference evaluator)
 * and measures its loss on this run's hidden test split, text drawn fresh from this run's secret language
 * (stage.ts, language.ts). The run passes when that loss reaches the target; the lab's own clock is the score.
 *
 * Physical bound (a passed run that breaks it is `suspect`, and the lab's gate never accepts it), resting only on
 * what the harness holds: the exact negative log-likelihood of the scored test bytes under the true source. A model
 * that never saw the sample beats it by t nats in total with probability at most e^-t (Markov's inequality on the
 * likelihood ratio), and the stage's choice of a typical sample among 64 costs a union bound; a loss lower than that
 * floor by more than `floorSlackNats` (default ln(64 x 10^6): at most one false alarm in a million honest runs)
 * means the run saw the test text.
 *
 * Not here: any bound on what the run says about itself (its `tokens:` line and the rest of its stdout are never
 * read: a run can print anything).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLanguage, languageOptions } from './language.js';
import { sampleNats, TYPICAL_CANDIDATES } from './likelihood.js';
import { labModule, requireEnvironment, taskParameters } from './lab.js';

type Evaluate = typeof import('../../../src/gpt/evaluate.js');
type Checkpoints = typeof import('../../../src/gpt/checkpoint.js');
type Config = typeof import('../../../src/gpt/config.js');
type ScorerReportModule = typeof import('../../../src/task/scorer-report.js');
const { evaluateCheckpoint } = await labModule<Evaluate>('src/gpt/evaluate.ts');
const { loadCheckpoint } = await labModule<Checkpoints>('src/gpt/checkpoint.ts');
const { trainingFlopsPerToken } = await labModule<Config>('src/gpt/config.ts');
const { printScorerReport } = await labModule<ScorerReportModule>('src/task/scorer-report.ts');

const parameters = taskParameters();
const targetLoss = Number(parameters.targetLoss);
const evalTokens = Number(parameters.evalTokens ?? 32768);
// The test split is the typical one of up to TYPICAL_CANDIDATES samples (stage.ts): a union bound over them.
const floorSlackNats = Number(parameters.floorSlackNats ?? Math.log(1e6 * TYPICAL_CANDIDATES));
const artifacts = process.env.SUCCESSOR_ARTIFACTS ?? '';
const checkpoint = join(artifacts, 'checkpoint');

if (!artifacts || !existsSync(checkpoint)) {
  printScorerReport({ passed: false, reason: 'the run left no checkpoint (expected artifacts/checkpoint)', metrics: {} });
} else {
  const test = readFileSync(join(requireEnvironment('SUCCESSOR_HIDDEN'), 'test.txt'));
  const language = createLanguage(requireEnvironment('SUCCESSOR_RUN_KEY'), languageOptions(parameters));
  let evaluation: ReturnType<Evaluate['evaluateCheckpoint']>;
  let flopsPerToken: number;
  try {
    evaluation = evaluateCheckpoint(checkpoint, test.toString('utf8'), { maxTokens: evalTokens });
    flopsPerToken = trainingFlopsPerToken(loadCheckpoint(checkpoint).model);
  } catch (error) {
    printScorerReport({ passed: false, reason: `checkpoint rejected: ${(error as Error).message}`, metrics: {} });
    process.exit(0);
  }
  // The text is ASCII, so a scored token is a scored byte (byte and char tokenizers alike): targets 1..n.
  const floorNats = sampleNats(language, test, evaluation.bytes);
  const modelNats = evaluation.lossNats * evaluation.tokens;
  const entropyFloor = floorNats / evaluation.bytes;
  const metrics = { testLoss: evaluation.lossNats, bitsPerByte: evaluation.bitsPerByte, evalTokens: evaluation.tokens, targetLoss, entropyFloor, flopsPerToken };
  const passed = evaluation.lossNats <= targetLoss;
  const belowFloor = modelNats < floorNats - floorSlackNats;
  printScorerReport({
    passed,
    reason: passed ? undefined : `missed the target: test loss ${evaluation.lossNats.toFixed(4)} > ${targetLoss}`,
    metrics,
    suspect:
      passed && belowFloor
        ? {
            bound: 'entropy',
            reason: `test loss ${evaluation.lossNats.toFixed(4)} is below the exact entropy of this test sample under its source, ${entropyFloor.toFixed(4)} nats/byte, by ${(floorNats - modelNats).toFixed(1)} nats in total (more than ${floorSlackNats.toFixed(1)}): the run saw the test text`,
          }
        : undefined,
  });
}
