/**
 * `successor eval`: scores a checkpoint with the lab's evaluator (src/gpt/evaluate.ts: non-overlapping windows of
 * the model's context, on the fastest kernels that start here) on the val or test split of Moby Dick or --data
 * FILE, split as `train` splits it; which kernels it runs on, on stderr.
 * A corrupted or truncated checkpoint is bad input: exit 2 with one line.
 */
import type { Command } from 'commander';
import { loadCorpus, splitCorpus } from '../gpt/data.js';
import { evaluateCheckpoint } from '../gpt/evaluate.js';
import { fastestSynchronousBackend } from '../gpt/fastest-backend.js';
import { UsageError, parseNumber, printResult } from './common.js';
import { gptAction } from './train.js';

interface EvalFlags {
  checkpoint: string;
  split: string;
  data?: string;
  maxTokens?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('eval')
    .description('Evaluate a checkpoint: mean cross-entropy (nats/token) and bits per byte on a held-out split')
    .requiredOption('--checkpoint <dir>', 'checkpoint directory written by train')
    .option('--split <name>', 'val or test', 'test')
    .option('--data <file>', 'UTF-8 text corpus the checkpoint was trained on (default: Moby Dick)')
    .option('--max-tokens <n>', 'score only the first N tokens of the split (default: all)')
    .option('--json', 'print the result as one JSON object')
    .action(gptAction((flags: EvalFlags) => {
      if (flags.split !== 'val' && flags.split !== 'test') throw new UsageError(`--split must be val or test, got '${flags.split}'`);
      const maxTokens = flags.maxTokens === undefined ? undefined : parseNumber('max-tokens', flags.maxTokens, { min: 1, integer: true });
      const text = splitCorpus(loadCorpus(flags.data))[flags.split];
      const backend = fastestSynchronousBackend();
      const result = evaluateCheckpoint(flags.checkpoint, text, { maxTokens, backend });
      process.stderr.write(`kernels: ${backend.description}\n`); // after the checkpoint loaded: bad input stays one line
      printResult({ checkpoint: flags.checkpoint, split: flags.split, ...result }, flags.json ?? false);
    }));
}
