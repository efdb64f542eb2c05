/**
 * Trusted: scores one run of trainer-speedup. The score is the harness's wall clock; this script only decides
 * whether the run did the recipe's training (harness params `recipe`) on this run's own data. Training is chaotic:
 * two correct runs whose sums are rounded in another order end up about 1e-1 apart (relative L2) after 200 steps,
 * while a skipped step moves the weights by only 1e-3. So the run is checked segment by segment instead:
 *
 * 1. the run leaves its final checkpoint and a trajectory, a resumable checkpoint (weights, AdamW moments, step)
 *    every `trajectoryEvery` steps; each has the recipe's model and the step and token counts of its place;
 * 2. this script replays every segment itself: from the recipe's initialisation (the first) or from the run's
 *    checkpoint at the segment's start, `trajectoryEvery` steps of the recipe on the run's data, with the pristine
 *    workspace's trainer (the task's own files, never the run's copy) on the lab's fast backend; the run's checkpoint
 *    at the segment's end must be within `parameterTolerance` of the replay's weights and `momentTolerance` of its
 *    moments (relative L2). Another kernel order moves them by about 1e-5 over a segment; a skipped step moves the
 *    first moment by about 0.3, other data or another schedule by far more;
 * 3. the final checkpoint is the last segment's end, and its held-out test loss is within `lossTolerance` of the
 *    replay's;
 * 4. a FLOPs bound: the recipe's tokens x FLOPs per token cannot take less time than the machine's peak allows.
 *
 * The data is the run's own (stage.ts: a secret per-run relabelling of the bytes), so weights trained before the
 * run fit nothing. The replay's backend is the lab's fastest one (src/gpt/backend-wasm.ts today; docs/benchmarks.md
 * says how to re-measure with a native backend).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { labModule, requireEnvironment, taskParameters } from './lab.js';

type Evaluate = typeof import('../../../src/gpt/evaluate.js');
type Checkpoints = typeof import('../../../src/gpt/checkpoint.js');
type Config = typeof import('../../../src/gpt/config.js');
type Wasm = typeof import('../../../src/gpt/backend-wasm.js');
type ScorerReportModule = typeof import('../../../src/task/scorer-report.js');
type Trainer = typeof import('../workspace/train.js');
type Data = typeof import('../workspace/data.js');
type Checkpoint = import('../../../src/gpt/checkpoint.js').Checkpoint;
const { evaluateCheckpoint } = await labModule<Evaluate>('src/gpt/evaluate.ts');
const { loadCheckpoint } = await labModule<Checkpoints>('src/gpt/checkpoint.ts');
const { ModelConfig, trainingFlopsPerToken } = await labModule<Config>('src/gpt/config.ts');
const { createWasmBackend } = await labModule<Wasm>('src/gpt/backend-wasm.ts');
const { printScorerReport } = await labModule<ScorerReportModule>('src/task/scorer-report.ts');
// The pristine workspace beside this harness: the task's own trainer, which defines the recipe's training.
const pristine = (file: string) => import(pathToFileURL(join(import.meta.dirname, '..', 'workspace', file)).href);
const { prepareData, train } = (await pristine('train.ts')) as Trainer;
const { readTrainingSplits } = (await pristine('data.ts')) as Data;

const parameters = taskParameters();
const recipe = parameters.recipe as Record<string, unknown> & { model: Record<string, unknown>; maxSteps: number; batchSize: number };
const every = Number(parameters.trajectoryEvery ?? 25);
const parameterTolerance = Number(parameters.parameterTolerance ?? 1e-3);
const momentTolerance = Number(parameters.momentTolerance ?? 1e-2);
const lossTolerance = Number(parameters.lossTolerance ?? 0.01);
const evalTokens = Number(parameters.evalTokens ?? 16384);
const peakFlops = Number(process.env.SUCCESSOR_MACHINE_FLOPS) || Number(parameters.peakFlopsPerCore ?? 180e9) * cpus().length;
const wallSeconds = Number(process.env.SUCCESSOR_WALL_SECONDS ?? Number.NaN);
const artifacts = process.env.SUCCESSOR_ARTIFACTS ?? '';
const fail = (reason: string, metrics: Record<string, number | string> = {}) => printScorerReport({ passed: false, reason, metrics });

/** A check that failed: the reason goes into the verdict. */
class NotTheRecipe extends Error {}

function relativeDistance(left: Float32Array, right: Float32Array): number {
  if (left.length !== right.length) return Number.POSITIVE_INFINITY;
  let difference = 0;
  let norm = 0;
  for (let index = 0; index < right.length; index++) {
    difference += (left[index] - right[index]) ** 2;
    norm += right[index] ** 2;
  }
  return Math.sqrt(difference / Math.max(norm, 1e-30));
}

const stepDir = (step: number) => join(artifacts, 'trajectory', `step-${String(step).padStart(6, '0')}`);

/** The run's checkpoint at `step`, checked against its place in the recipe (model, step, tokens, AdamW's step). */
function runCheckpoint(path: string, step: number, model: unknown, tokensPerStep: number): Checkpoint {
  if (!existsSync(path)) throw new NotTheRecipe(`the run left no checkpoint for step ${step} (expected ${path.slice(artifacts.length + 1)})`);
  let checkpoint: Checkpoint;
  try {
    checkpoint = loadCheckpoint(path, { training: true });
  } catch (error) {
    throw new NotTheRecipe(`the checkpoint for step ${step} is rejected: ${(error as Error).message}`);
  }
  if (JSON.stringify(checkpoint.model) !== JSON.stringify(model)) throw new NotTheRecipe(`the checkpoint's model ${JSON.stringify(checkpoint.model)} is not the recipe's`);
  const state = checkpoint.trainState;
  if (state?.step !== step || state.tokens !== step * tokensPerStep || checkpoint.optimizer?.step !== step) {
    throw new NotTheRecipe(`the checkpoint for step ${step} says step ${state?.step}, ${state?.tokens} tokens, AdamW step ${checkpoint.optimizer?.step}`);
  }
  return checkpoint;
}

async function score(): Promise<void> {
  if (!artifacts || !existsSync(join(artifacts, 'checkpoint'))) return fail('the run left no checkpoint (expected artifacts/checkpoint)');
  const model = ModelConfig.parse(recipe.model);
  const T = model.contextLength;
  const steps = recipe.maxSteps;
  const tokensPerStep = recipe.batchSize * T;
  const tokens = steps * tokensPerStep;
  const metrics: Record<string, number | string> = { steps, tokens, segments: Math.ceil(steps / every), parameterTolerance, momentTolerance, lossTolerance };
  const replayDir = mkdtempSync(join(tmpdir(), 'trainer-speedup-replay-'));
  const backend = await createWasmBackend({ threads: Math.min(2, cpus().length) });
  try {
    const final = runCheckpoint(join(artifacts, 'checkpoint'), steps, model, tokensPerStep);
    const data = prepareData('byte', readTrainingSplits(requireEnvironment('SUCCESSOR_INPUTS')));
    const config = { ...recipe, kernels: 'ts', threads: 1, evalInterval: steps + 1, evalTokens: 2 };
    const started = performance.now();
    let worst = { parameters: 0, moments: 0 };
    for (let start = 0; start < steps; start += every) {
      const end = Math.min(steps, start + every);
      const output = join(replayDir, `segment-${end}`);
      await train(config as never, data, { backend: backend as never, checkpointDir: output, stopAtStep: end, ...(start > 0 ? { resumeFrom: stepDir(start) } : {}) });
      const replayed = loadCheckpoint(output, { training: true });
      const theirs = end === steps ? final : runCheckpoint(stepDir(end), end, model, tokensPerStep);
      const distance = {
        parameters: relativeDistance(theirs.params, replayed.params),
        moments: Math.max(relativeDistance(theirs.optimizer!.m, replayed.optimizer!.m), relativeDistance(theirs.optimizer!.v, replayed.optimizer!.v)),
      };
      worst = { parameters: Math.max(worst.parameters, distance.parameters), moments: Math.max(worst.moments, distance.moments) };
      if (!(distance.parameters <= parameterTolerance && distance.moments <= momentTolerance)) {
        throw new NotTheRecipe(`not the recipe's training: steps ${start}-${end} end ${distance.parameters.toPrecision(3)} from the replay's weights and ${distance.moments.toPrecision(3)} from its AdamW moments (relative L2; at most ${parameterTolerance} and ${momentTolerance})`);
      }
      if (end === steps) {
        const test = readFileSync(join(requireEnvironment('SUCCESSOR_HIDDEN'), 'test.txt'), 'utf8');
        const runLoss = evaluateCheckpoint(join(artifacts, 'checkpoint'), test, { maxTokens: evalTokens }).lossNats;
        const replayLoss = evaluateCheckpoint(output, test, { maxTokens: evalTokens }).lossNats;
        Object.assign(metrics, { testLoss: runLoss, replayTestLoss: replayLoss });
        if (!(Math.abs(runLoss - replayLoss) <= lossTolerance)) throw new NotTheRecipe(`not the recipe's training: test loss ${runLoss.toFixed(4)} against the replay's ${replayLoss.toFixed(4)}`);
      }
    }
    Object.assign(metrics, { replaySeconds: (performance.now() - started) / 1000, worstParameterDistance: worst.parameters, worstMomentDistance: worst.moments });
  } catch (error) {
    if (error instanceof NotTheRecipe) return fail(error.message, metrics);
    throw error;
  } finally {
    await backend.dispose();
    rmSync(replayDir, { recursive: true, force: true });
  }
  const flopsPerToken = trainingFlopsPerToken(model, T);
  const minimumSeconds = (tokens * flopsPerToken) / peakFlops;
  Object.assign(metrics, { flopsPerToken, machineFlops: peakFlops });
  const suspect = wallSeconds < minimumSeconds
    ? { bound: 'flops' as const, reason: `${tokens} tokens need at least ${minimumSeconds.toFixed(2)} s at this machine's peak, the run took ${wallSeconds.toFixed(2)} s` }
    : undefined;
  printScorerReport({ passed: true, metrics, suspect });
}

try {
  await score();
} catch (error) {
  fail(`the scorer could not check the run: ${(error as Error).message}`);
}
