/**
 * `successor train`: trains the successor GPT on Moby Dick (or --data FILE) and writes a checkpoint, on the fastest
 * kernels that work here (native, else wasm, else TypeScript; `--set kernels=...` chooses), on every core, and
 * says which on stderr. Config: defaults, then --config FILE (a TrainConfig JSON), then --set key=value overrides, then
 * --max-seconds / --target-loss. Everything is validated before anything is written. Progress on stderr
 * (\r-updated on a TTY), the summary on stdout. Also exports the error mapping the eval and sample commands share.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CheckpointError, loadCheckpoint } from '../gpt/checkpoint.js';
import { TrainConfig } from '../gpt/config.js';
import { BackendUnavailableError } from '../gpt/create-backend.js';
import { DataError, loadCorpus, splitCorpus } from '../gpt/data.js';
import { EvaluationError } from '../gpt/evaluate.js';
import { TokenizerError } from '../gpt/tokenizer.js';
import { prepareData, resolveTrainConfig, train, TrainConfigError, type TrainProgress } from '../gpt/train.js';
import { stateDir } from '../journal/paths.js';
import { describeTrainConfig, formatTrainConfig } from './train-config-help.js';
import { EXIT_FAILURE, EXIT_OK, UsageError, action, collect, describeZodError, parseDurationSeconds, parseNumber, printResult } from './common.js';

interface TrainFlags {
  data?: string;
  config?: string;
  set: string[];
  maxSeconds?: string;
  targetLoss?: string;
  out?: string;
  resume?: string;
  json?: boolean;
  printConfig?: boolean;
}

export function register(program: Command): void {
  program
    .command('train')
    .description('Train the successor GPT on the CPU (the fastest kernels that work here; --set kernels=... to choose) and write a checkpoint')
    .option('--data <file>', 'UTF-8 text corpus (default: Moby Dick); split 90/5/5 into train/val/test')
    .option('--config <file>', 'TrainConfig JSON file')
    .option('--set <key=value>', 'override one config value, dotted keys (model.width=64); repeatable', collect, [])
    .option('--max-seconds <duration>', 'stop after this much wall time (90, 90s, 20m)')
    .option('--target-loss <nats>', 'stop once the validation loss reaches this')
    .option('--out <dir>', 'checkpoint directory (default: $SUCCESSOR_HOME/checkpoints/<timestamp>)')
    .option('--resume <dir>', 'continue from a checkpoint written by train')
    .option('--json', 'print the summary as one JSON object')
    .option('--print-config', 'list every config key with its default, range and meaning (what --set and --config take), and exit')
    .action(gptAction((flags: TrainFlags) => (flags.printConfig ? printConfig(flags.json === true) : runTrain(flags))));
}

function printConfig(json: boolean): number {
  const keys = describeTrainConfig();
  process.stdout.write(json ? `${JSON.stringify(keys)}\n` : formatTrainConfig(keys));
  return EXIT_OK;
}

/** action() plus the trainer's expected input errors (bad data, config, checkpoint) as usage errors: exit 2. */
export function gptAction<Args extends unknown[]>(run: (...args: Args) => Promise<number | void> | number | void) {
  return action(async (...args: Args) => {
    try {
      return await run(...args);
    } catch (error) {
      const inputErrors = [DataError, TrainConfigError, TokenizerError, CheckpointError, EvaluationError, BackendUnavailableError];
      if (inputErrors.some((type) => error instanceof type)) throw new UsageError((error as Error).message);
      throw error;
    }
  });
}

/** Parses a --set value: numbers and booleans become JSON values, anything else stays a string. */
export function parseSetValue(text: string): unknown {
  if (text === 'true' || text === 'false') return text === 'true';
  if (text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
  return text;
}

/** Applies `key.path=value` to a plain object, creating intermediate objects. */
export function applySet(target: Record<string, unknown>, assignment: string): void {
  const equals = assignment.indexOf('=');
  if (equals <= 0) throw new UsageError(`--set needs key=value, got '${assignment}'`);
  const path = assignment.slice(0, equals).trim().split('.');
  if (path.some((key) => key === '' || key === '__proto__' || key === 'constructor' || key === 'prototype')) {
    throw new UsageError(`--set has an invalid key '${assignment.slice(0, equals)}'`);
  }
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key] ?? {};
    if (typeof next !== 'object' || next === null || Array.isArray(next)) throw new UsageError(`--set ${path.join('.')}: ${key} is not an object`);
    node = node[key] = next as Record<string, unknown>;
  }
  node[path[path.length - 1]] = parseSetValue(assignment.slice(equals + 1));
}

export function buildTrainConfig(flags: Pick<TrainFlags, 'config' | 'set' | 'maxSeconds' | 'targetLoss' | 'resume'>): TrainConfig {
  let base: Record<string, unknown> = {};
  if (flags.resume) {
    // A resumed run continues the checkpoint's own config; --set may still change e.g. maxSteps.
    if (flags.config) throw new UsageError('--config cannot be combined with --resume (the checkpoint holds the config; use --set)');
    base = structuredClone(loadCheckpoint(flags.resume, { training: true }).trainState!.config) as Record<string, unknown>;
  }
  if (flags.config) {
    let text: string;
    try {
      text = readFileSync(flags.config, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read --config ${flags.config}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
    try {
      base = JSON.parse(text);
    } catch {
      throw new UsageError(`--config ${flags.config} is not valid JSON`);
    }
    if (typeof base !== 'object' || base === null || Array.isArray(base)) throw new UsageError(`--config ${flags.config} must hold a JSON object`);
  }
  for (const assignment of flags.set) applySet(base, assignment);
  if (flags.maxSeconds !== undefined) base.maxSeconds = parseDurationSeconds('max-seconds', flags.maxSeconds);
  if (flags.targetLoss !== undefined) base.targetValLoss = parseNumber('target-loss', flags.targetLoss, { min: Number.MIN_VALUE });
  const parsed = TrainConfig.safeParse(base);
  if (!parsed.success) throw new UsageError(`invalid config: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

async function runTrain(flags: TrainFlags): Promise<number> {
  const config = buildTrainConfig(flags);
  const corpus = loadCorpus(flags.data);
  const splits = splitCorpus(corpus);
  // The char vocabulary comes from the whole corpus, so eval on val or test never meets an unknown character.
  const data = prepareData(config.tokenizer, splits, corpus);
  const resolved = resolveTrainConfig(config, data.tokenizer);
  const T = resolved.sequenceLength ?? resolved.model.contextLength;
  if (data.train.length < T + 1) throw new DataError(`the training split has ${data.train.length} tokens, needs at least ${T + 1}: use a larger --data file`);
  if (data.val.length < 2) throw new DataError(`the validation split has ${data.val.length} tokens, needs at least 2: use a larger --data file`);
  const out = flags.out ?? join(stateDir(), 'checkpoints', new Date().toISOString().replace(/[:.]/g, '-'));

  const reporter = progressReporter(resolved);
  // --max-seconds bounds the whole command: its clock starts with the process (performance.now() counts from there).
  const summary = await train(resolved, data, {
    checkpointDir: out, resumeFrom: flags.resume, onStep: reporter.step, onEvaluation: reporter.evaluation, deadlineStartMs: 0,
    onBackend: (backend) => process.stderr.write(`kernels: ${backend.description}\n`),
  });
  reporter.finish();
  printResult(
    {
      steps: summary.steps, tokens: summary.tokens, seconds: summary.seconds, tokensPerSecond: summary.tokensPerSecond,
      trainLoss: summary.trainLoss, valLoss: summary.valLoss, reachedTarget: summary.reachedTarget, stopReason: summary.stopReason,
      parameters: summary.parameters, backend: summary.backend, kernels: summary.backendDescription, checkpoint: summary.checkpoint,
    },
    flags.json ?? false,
  );
  if (summary.stopReason === 'diverged') {
    process.stderr.write('successor: training diverged (non-finite loss or gradient); no checkpoint written\n');
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

/** The live progress line: \r-updated at most 10 times a second on a TTY; otherwise a plain line per evaluation. */
function progressReporter(config: TrainConfig) {
  const tty = process.stderr.isTTY === true;
  let lastDraw = 0;
  let startStep: number | null = null;
  const line = (progress: TrainProgress): string => {
    startStep ??= progress.step - 1;
    const stepsDone = progress.step - startStep;
    let eta = ((config.maxSteps - progress.step) * progress.seconds) / Math.max(stepsDone, 1);
    if (config.maxSeconds !== undefined) eta = Math.min(eta, Math.max(0, config.maxSeconds - progress.seconds));
    const val = progress.valLoss === null ? '-' : progress.valLoss.toFixed(4);
    return `step ${progress.step}/${config.maxSteps} | loss ${progress.loss.toFixed(4)} | val ${val} | ` +
      `${Math.round(progress.tokensPerSecond)} tok/s | ETA ${formatDuration(eta)}`;
  };
  return {
    step(progress: TrainProgress) {
      startStep ??= progress.step - 1;
      if (!tty || performance.now() - lastDraw < 100) return;
      lastDraw = performance.now();
      process.stderr.write(`\r${line(progress)}\x1b[K`);
    },
    evaluation(progress: TrainProgress) {
      process.stderr.write(tty ? `\r${line(progress)}\x1b[K\n` : `${line(progress)}\n`);
    },
    finish() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}
