/**
 * `successor sample`: generates text from a checkpoint (temperature, top-k, seed, prompt). Prints the prompt
 * and its continuation on stdout, or one JSON object with --json; which kernels it runs on, on stderr.
 */
import type { Command } from 'commander';
import { fastestSynchronousBackend } from '../gpt/fastest-backend.js';
import { sampleFromCheckpoint } from '../gpt/sample.js';
import { parseNumber } from './common.js';
import { gptAction } from './train.js';

interface SampleFlags {
  checkpoint: string;
  prompt: string;
  tokens: string;
  temperature: string;
  topK?: string;
  seed: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('sample')
    .description('Generate text from a checkpoint')
    .requiredOption('--checkpoint <dir>', 'checkpoint directory written by train')
    .option('--prompt <text>', 'text to continue (default: start from a newline)', '')
    .option('--tokens <n>', 'tokens to generate', '200')
    .option('--temperature <t>', 'sampling temperature; 0 = always the most likely token', '1')
    .option('--top-k <k>', 'sample only among the k most likely tokens')
    .option('--seed <s>', 'random seed', '1337')
    .option('--json', 'print one JSON object with the text')
    .action(gptAction((flags: SampleFlags) => {
      const options = {
        tokens: parseNumber('tokens', flags.tokens, { min: 0, max: 1_000_000, integer: true }),
        temperature: parseNumber('temperature', flags.temperature, { min: 0, max: 100 }),
        topK: flags.topK === undefined ? undefined : parseNumber('top-k', flags.topK, { min: 1, integer: true }),
        seed: parseNumber('seed', flags.seed, { min: 0, max: 2 ** 32 - 1, integer: true }),
      };
      const backend = fastestSynchronousBackend();
      const result = sampleFromCheckpoint(flags.checkpoint, flags.prompt, options, backend);
      process.stderr.write(`kernels: ${backend.description}\n`); // after the checkpoint loaded: bad input stays one line
      if (flags.json) process.stdout.write(`${JSON.stringify({ checkpoint: flags.checkpoint, prompt: flags.prompt, ...options, ...result })}\n`);
      else process.stdout.write(`${result.text}\n`);
    }));
}
