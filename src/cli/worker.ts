/**
 * `successor worker`: runs experiments from a Redis-backed BullMQ queue on this machine until stopped.
 * Start one per machine (or several) against the coordinator's Redis; `successor research --executor redis://...`
 * sends the experiments. SIGINT/SIGTERM finish the running experiments, then exit; a second signal exits at once
 * (the queue hands the unfinished jobs to another worker after the stall timeout).
 */
import type { Command } from 'commander';
import { stateDir } from '../journal/paths.js';
import { startWorker } from '../executor/worker.js';
import { CommandFailure, UsageError, action, parseNumber } from './common.js';
import { SANDBOX_FLAG, parseSandboxMode } from './compose.js';

interface WorkerFlags {
  redis: string;
  concurrency: string;
  sandbox: string;
  sharedDir?: string;
  maxTransferMb: string;
  stallSeconds: string;
  maxStalls: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('run experiments from a Redis queue (scale out: start one per machine)')
    .requiredOption('--redis <url>', 'the queue\'s Redis, e.g. redis://10.0.0.5:6379')
    .option('--concurrency <n>', 'experiments at once on this machine', '1')
    .option(...SANDBOX_FLAG)
    .option('--shared-dir <dir>', 'a folder every machine mounts at the same path: results travel there, not through Redis')
    .option('--max-transfer-mb <n>', 'largest logs/artifacts folder sent through Redis', '64')
    .option('--stall-seconds <n>', 'a job whose worker is silent this long goes to another worker', '30')
    .option('--max-stalls <n>', 'how often a job may lose its worker before it fails for good', '2')
    .option('--json', 'print one JSON line per finished job on stdout')
    .action(
      action(async (flags: WorkerFlags) => {
        const sandboxMode = parseSandboxMode(flags.sandbox);
        if (!/^redis:\/\//.test(flags.redis)) throw new UsageError(`--redis must be a redis:// URL, got '${flags.redis}'`);
        let jobs = 0;
        const worker = await startWorker({
          redisUrl: flags.redis,
          stateDir: stateDir(),
          concurrency: parseNumber('concurrency', flags.concurrency, { min: 1, max: 256, integer: true }),
          sandboxMode,
          sharedDir: flags.sharedDir,
          maxTransferBytes: parseNumber('max-transfer-mb', flags.maxTransferMb, { min: 1, max: 500 }) * 2 ** 20,
          stallSeconds: parseNumber('stall-seconds', flags.stallSeconds, { min: 1, max: 3600 }),
          maxStalls: parseNumber('max-stalls', flags.maxStalls, { min: 0, max: 100, integer: true }),
          log: (line) => {
            process.stderr.write(`${line}\n`);
            const finished = /^finished (\S+): (\S+)/.exec(line);
            if (finished) jobs += 1;
            if (finished && flags.json) process.stdout.write(`${JSON.stringify({ experimentId: finished[1], status: finished[2] })}\n`);
          },
        }).catch((error: Error) => {
          throw new CommandFailure(`worker could not start: ${error.message}`);
        });
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.stderr.write('stopping: finishing running experiments (signal again to quit now)\n');
            process.once('SIGINT', () => process.exit(1));
            process.once('SIGTERM', () => process.exit(1));
            resolve();
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await worker.close();
        process.stderr.write(`worker ${worker.id} stopped after ${jobs} job(s)\n`);
      }),
    );
}
