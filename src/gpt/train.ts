/**
 * The training loop of the successor: batches from the train split, forward, backward, AdamW at the scheduled
 * learning rate; validation loss every `evalInterval` steps; stops at `maxSteps`, at `targetValLoss` or by
 * `maxSeconds` (to within one step: deadline.ts); writes a resumable checkpoint at the end. Resuming continues
 * bit-identically: the batch of step s comes from a generator seeded by (seed, s), and the schedule is a pure
 * function of s.
 *
 * Expected endings (target reached, time up, divergence) are fields of the summary, not exceptions.
 * Not here: the kernels (backend), the model (model.ts), flags and printing (the CLI and run.ts).
 */
import { ModelConfig, TrainConfig, trainingFlopsPerToken } from './config.js';
import { AdamW } from './adamw.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { createBackend } from './create-backend.js';
import { StepDeadline } from './deadline.js';
import { DataError, sampleBatch } from './data.js';
import { evaluateTokens } from './evaluate.js';
import { Gpt } from './model.js';
import { createRng } from './random.js';
import { learningRateAt } from './schedule.js';
import { createTokenizer, tokenizerSpecFor, type TokenizerSpec } from './tokenizer.js';

/** A training config that contradicts its data or checkpoint. */
export class TrainConfigError extends Error {
  override name = 'TrainConfigError';
}

export interface TrainData {
  tokenizer: TokenizerSpec;
  train: Int32Array;
  val: Int32Array;
}

export interface TrainProgress {
  step: number; // optimizer updates done, counting those before a resume
  maxSteps: number;
  loss: number; // this step's training loss
  learningRate: number;
  gradNorm: number;
  tokens: number; // training tokens consumed in this session
  seconds: number; // wall time of this session
  tokensPerSecond: number;
  valLoss: number | null; // latest validation loss, if any yet
}

export interface TrainOptions {
  /** Called once the kernels are chosen, before the first step: the backend's name and one-line description. */
  onBackend?(backend: { name: string; description: string }): void;
  onStep?(progress: TrainProgress): void;
  onEvaluation?(progress: TrainProgress): void;
  resumeFrom?: string; // checkpoint directory with optimizer and train state
  checkpointDir?: string; // written once at the end (never after a divergence)
  stopAtStep?: number; // end early at this step without changing the schedule (maxSteps stays the horizon)
  signal?: AbortSignal; // checked between steps
  deadlineStartMs?: number; // where maxSeconds counts from (performance.now() ms); default: the first step. The CLI passes 0, its process's start
}

export type StopReason = 'max-steps' | 'target' | 'max-seconds' | 'stop-step' | 'aborted' | 'diverged';

export interface TrainSummary {
  steps: number;
  tokens: number;
  seconds: number;
  tokensPerSecond: number;
  trainLoss: number; // mean of the last (up to) 10 step losses
  valLoss: number; // on the final model
  reachedTarget: boolean;
  stopReason: StopReason;
  parameters: number;
  flopsPerToken: number;
  backend: string;
  backendDescription: string;
  checkpoint: string | null;
}

/** Tokenizes train and val texts; a char vocabulary is built from `vocabularyText` (default: train + val). */
export function prepareData(kind: 'byte' | 'char', texts: { train: string; val: string }, vocabularyText = texts.train + texts.val): TrainData {
  const spec = tokenizerSpecFor(kind, vocabularyText);
  const tokenizer = createTokenizer(spec);
  return { tokenizer: spec, train: tokenizer.encode(texts.train), val: tokenizer.encode(texts.val) };
}

/**
 * The config actually trained: a char tokenizer sets model.vocabSize to its vocabulary; a byte tokenizer needs
 * vocabSize >= 256 (a larger, padded vocabulary is allowed).
 */
export function resolveTrainConfig(config: TrainConfig, tokenizer: TokenizerSpec): TrainConfig {
  if (tokenizer.kind !== config.tokenizer) throw new TrainConfigError(`config.tokenizer is '${config.tokenizer}' but the data was tokenized as '${tokenizer.kind}'`);
  if (tokenizer.kind === 'char') return { ...config, model: ModelConfig.parse({ ...config.model, vocabSize: tokenizer.vocabulary.length }) };
  if (config.model.vocabSize < 256) throw new TrainConfigError(`model.vocabSize ${config.model.vocabSize} is below the byte tokenizer's 256`);
  return config;
}

/** The seed of the generator that draws step `step`'s batch: a 32-bit mix of (seed, step). */
export function batchSeed(seed: number, step: number): number {
  let hash = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ step;
  hash = Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d);
  hash = Math.imul(hash ^ (hash >>> 12), 0x297a2d39);
  return (hash ^ (hash >>> 15)) >>> 0;
}

export async function train(input: TrainConfig, data: TrainData, options: TrainOptions = {}): Promise<TrainSummary> {
  const config = resolveTrainConfig(TrainConfig.parse(input), data.tokenizer);
  const B = config.batchSize;
  const T = config.sequenceLength ?? config.model.contextLength;
  if (data.train.length < T + 1) throw new DataError(`training split has ${data.train.length} tokens, needs at least ${T + 1} (sequence length + 1)`);
  if (data.val.length < 2) throw new DataError(`validation split has ${data.val.length} tokens, needs at least 2`);

  // the checkpoint is checked before the backend starts, so that bad input leaves no threads behind
  const checkpoint = options.resumeFrom ? loadCheckpoint(options.resumeFrom, { training: true }) : null;
  if (checkpoint && JSON.stringify(checkpoint.model) !== JSON.stringify(config.model)) throw new TrainConfigError(`resume: the model config differs from checkpoint ${options.resumeFrom}`);
  if (checkpoint && JSON.stringify(checkpoint.tokenizer) !== JSON.stringify(data.tokenizer)) throw new TrainConfigError(`resume: the tokenizer differs from checkpoint ${options.resumeFrom}`);

  const backend = await createBackend(config);
  const model = new Gpt(config.model, backend, { batchSize: B, sequenceLength: T });
  const optimizer = new AdamW(model, config);
  let step = 0;
  let elapsedBefore = 0;
  let tokensBefore = 0;
  if (checkpoint) {
    model.params.set(checkpoint.params);
    optimizer.m.set(checkpoint.optimizer!.m);
    optimizer.v.set(checkpoint.optimizer!.v);
    optimizer.stepCount = checkpoint.optimizer!.step;
    step = checkpoint.trainState!.step;
    elapsedBefore = checkpoint.trainState!.elapsedSeconds;
    tokensBefore = checkpoint.trainState!.tokens;
  } else {
    model.initialize(config.seed);
  }

  options.onBackend?.({ name: backend.name, description: backend.description });
  const inputs = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  const recentLosses: number[] = [];
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  let tokens = 0;
  let valLoss: number | null = null;
  let valLossStep = -1;
  let stopReason: StopReason = 'max-steps';
  const progress = (loss: number, learningRate: number, gradNorm: number): TrainProgress => ({
    step, maxSteps: config.maxSteps, loss, learningRate, gradNorm, tokens, seconds: seconds(),
    tokensPerSecond: tokens / Math.max(seconds(), 1e-9), valLoss,
  });
  const evaluationBatches = Math.ceil(Math.min(config.evalTokens, data.val.length - 1) / (B * T));
  const deadline = new StepDeadline(config.maxSeconds, evaluationBatches);
  const validate = () => {
    const validationStarted = seconds();
    valLoss = evaluateTokens(model, data.val, config.evalTokens).lossNats;
    valLossStep = step;
    deadline.recordEvaluation(seconds() - validationStarted);
    return valLoss;
  };

  while (step < config.maxSteps) {
    if (options.stopAtStep !== undefined && step >= options.stopAtStep) { stopReason = 'stop-step'; break; }
    if (!deadline.allowsStep((performance.now() - (options.deadlineStartMs ?? started)) / 1000)) { stopReason = 'max-seconds'; break; }
    if (options.signal?.aborted) { stopReason = 'aborted'; break; }

    const stepStarted = seconds();
    sampleBatch(data.train, B, T, createRng(batchSeed(config.seed, step)), inputs, targets);
    const learningRate = learningRateAt(step, config);
    model.zeroGrad();
    const loss = model.forward(inputs, targets, B, T);
    model.backward();
    const { gradNorm } = optimizer.step(learningRate);
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) { stopReason = 'diverged'; break; }
    deadline.recordStep(seconds() - stepStarted);
    step += 1;
    tokens += B * T;
    recentLosses.push(loss);
    if (recentLosses.length > 10) recentLosses.shift();
    options.onStep?.(progress(loss, learningRate, gradNorm));

    if (step % config.evalInterval === 0) {
      validate();
      options.onEvaluation?.(progress(loss, learningRate, gradNorm));
      if (config.targetValLoss !== undefined && valLoss! <= config.targetValLoss) { stopReason = 'target'; break; }
    }
    await new Promise((resolve) => setImmediate(resolve)); // lets signals and timers in between steps
  }

  const diverged = stopReason === 'diverged';
  if (!diverged && valLossStep !== step) validate();
  const finalValLoss = diverged ? Number.NaN : (valLoss as unknown as number);
  const elapsed = seconds();
  if (options.checkpointDir && !diverged) {
    saveCheckpoint(options.checkpointDir, {
      model: config.model,
      tokenizer: data.tokenizer,
      params: model.params,
      optimizer: { m: optimizer.m, v: optimizer.v, step: optimizer.stepCount },
      trainState: { version: 1, step, tokens: tokensBefore + tokens, elapsedSeconds: elapsedBefore + elapsed, config },
    });
  }
  await backend.dispose();
  return {
    steps: step,
    tokens,
    seconds: elapsed,
    tokensPerSecond: tokens / Math.max(elapsed, 1e-9),
    trainLoss: recentLosses.length ? recentLosses.reduce((sum, loss) => sum + loss, 0) / recentLosses.length : Number.NaN,
    valLoss: finalValLoss,
    reachedTarget: config.targetValLoss !== undefined && finalValLoss <= config.targetValLoss,
    stopReason,
    parameters: model.layout.total,
    flopsPerToken: trainingFlopsPerToken(config.model, T),
    backend: backend.name,
    backendDescription: backend.description,
    checkpoint: options.checkpointDir && !diverged ? options.checkpointDir : null,
  };
}
