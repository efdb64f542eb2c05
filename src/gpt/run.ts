/**
 * The standalone trainer entry that the lab runs inside a sandboxed copy of src/gpt:
 *
 *   run.ts --config config.json --data-dir DIR --out DIR
 *
 * DIR holds train.txt and val.txt (the harness keeps the test split outside). Trains, writes the checkpoint
 * to --out, prints progress on stderr and a greppable `key: value` summary on stdout. Exit 0 after training
 * (whether or not the target was reached: the harness judges), 1 if training diverged, 2 for bad input.
 *
 * It depends only on src/gpt, zod and node builtins (never src/cli), because only src/gpt is copied.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CheckpointError } from './checkpoint.js';
import { TrainConfig } from './config.js';
import { BackendUnavailableError } from './create-backend.js';
import { DataError, readTrainingSplits } from './data.js';
import { TokenizerError } from './tokenizer.js';
import { prepareData, resolveTrainConfig, train, TrainConfigError, type TrainSummary } from './train.js';

const USAGE = 'usage: run.ts [--config config.json] --data-dir DIR --out DIR';

class RunUsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { config: { type: 'string' }, 'data-dir': { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } },
      strict: true,
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (!values['data-dir'] || !values.out) throw new RunUsageError(USAGE);
    const config = readConfig(values.config);
    const data = prepareData(config.tokenizer, readTrainingSplits(values['data-dir']));
    const trained = resolveTrainConfig(config, data.tokenizer);
    const summary = await train(trained, data, {
      checkpointDir: resolve(values.out),
      onBackend: (backend) => process.stderr.write(`kernels: ${backend.description}\n`),
      onEvaluation: (progress) =>
        process.stderr.write(
          `step ${progress.step}/${progress.maxSteps} loss ${progress.loss.toFixed(4)} val ${progress.valLoss?.toFixed(4)} ` +
            `${Math.round(progress.tokensPerSecond)} tok/s ${progress.seconds.toFixed(1)} s\n`,
        ),
    });
    printSummary(summary);
    return summary.stopReason === 'diverged' ? 1 : 0;
  } catch (error) {
    const expected = [RunUsageError, DataError, TrainConfigError, TokenizerError, CheckpointError, BackendUnavailableError];
    if (expected.some((type) => error instanceof type) || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`run: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}

function readConfig(path: string | undefined): TrainConfig {
  if (path === undefined) return TrainConfig.parse({});
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new RunUsageError(`cannot read config ${path}: ${(error as NodeJS.ErrnoException).code ?? 'not valid JSON'}`);
  }
  const parsed = TrainConfig.safeParse(value);
  if (!parsed.success) {
    throw new RunUsageError(`invalid config ${path}: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`);
  }
  return parsed.data;
}

function printSummary(summary: TrainSummary): void {
  const lines: Array<[string, unknown]> = [
    ['steps', summary.steps],
    ['tokens', summary.tokens],
    ['seconds', summary.seconds],
    ['tokens_per_second', summary.tokensPerSecond],
    ['train_loss', summary.trainLoss],
    ['val_loss', summary.valLoss],
    ['reached_target', summary.reachedTarget],
    ['stop_reason', summary.stopReason],
    ['parameters', summary.parameters],
    ['backend', summary.backend],
  ];
  for (const [key, value] of lines) {
    const text = typeof value === 'number' && !Number.isInteger(value) ? value.toPrecision(6) : String(value);
    process.stdout.write(`${key}: ${text}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
