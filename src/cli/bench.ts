/**
 * `successor bench`: runs every task of a suite with each researcher and seed as ordinary journaled research runs,
 * then prints raw and normalised scores, success, and each researcher's time horizon over the suite. The result is
 * stored in the journal's cache as `bench:latest` and `bench:<finishedAt>` for the dashboard.
 */
import type { Command } from 'commander';
import { formatBenchReport, jsonSafe, summariseResearchers } from '../suites/report.js';
import { planSuite, runSuite } from '../suites/run-suite.js';
import { loadSuite } from '../suites/suite.js';
import { stateDir } from '../journal/paths.js';
import { createBuiltinResearcher } from '../researcher/builtin.js';
import { UnknownResearcherError } from '../researcher/types.js';
import { TaskError } from '../task/errors.js';
import { UsageError, action, parseDurationSeconds, parseNumber } from './common.js';
import { SANDBOX_FLAG, composeResearcher, createExecutor, openLabJournal, parseContentionLimit, parseSandboxMode } from './compose.js';

interface BenchFlags {
  suite: string;
  researchers: string;
  seeds: string;
  budgetPerTask?: string;
  maxExperiments?: string;
  tasks?: string;
  repeats?: string;
  sandbox: string;
  json?: boolean;
}


export function register(program: Command): void {
  program
    .command('bench')
    .description('run a benchmark suite with each researcher: normalised scores, success and time horizons')
    .option('--suite <builtin|dir>', 'a built-in suite name or a folder with a suite.json', 'builtin')
    .option('--researchers <list>', 'comma-separated researchers, e.g. search,search:evolution,llm:MODEL', 'search')
    .option('--seeds <n>', 'runs per (task, researcher), seeds 1..n', '1')
    .option('--budget-per-task <duration>', "wall-clock budget per run, e.g. 5m (default: the suite's)")
    .option('--max-experiments <n>', 'candidates per run')
    .option('--tasks <list>', 'only these tasks of the suite (comma-separated)')
    .option('--repeats <n>', 'runs per configuration compared by the gate')
    .option(...SANDBOX_FLAG)
    .option('--json', 'print the result as one JSON object')
    .action(
      action(async (flags: BenchFlags) => {
        const sandboxMode = parseSandboxMode(flags.sandbox);
        const researchers = flags.researchers.split(',').map((name) => name.trim()).filter(Boolean);
        if (researchers.length === 0) throw new UsageError('--researchers needs at least one researcher');
        for (const name of researchers) {
          try {
            createBuiltinResearcher(name, { seed: 1 });
          } catch (error) {
            if (error instanceof UnknownResearcherError) {
              const hint = name.startsWith('llm:') ? ' (the llm researcher is not available in this build)' : '';
              throw new UsageError(`${error.message}${hint}`);
            }
            throw new UsageError(`researcher '${name}': ${(error as Error).message}`);
          }
        }
        let suite;
        try {
          suite = loadSuite(flags.suite);
        } catch (error) {
          if (error instanceof TaskError) throw new UsageError(error.message);
          throw error;
        }
        const only = flags.tasks?.split(',').map((name) => name.trim()).filter(Boolean);
        const unknown = only?.filter((name) => !suite.tasks.some((entry) => entry.task === name)) ?? [];
        if (unknown.length > 0) throw new UsageError(`--tasks: not in suite ${suite.file.name}: ${unknown.join(', ')}`);
        const benchOptions = {
          researchers,
          seeds: parseNumber('seeds', flags.seeds, { min: 1, max: 100, integer: true }),
          budgetSeconds: flags.budgetPerTask ? parseDurationSeconds('budget-per-task', flags.budgetPerTask) : undefined,
          maxExperiments: flags.maxExperiments ? parseNumber('max-experiments', flags.maxExperiments, { integer: true }) : undefined,
          repeats: flags.repeats ? parseNumber('repeats', flags.repeats, { integer: true }) : undefined,
          only,
          sandboxMode,
          contentionLimit: parseContentionLimit(undefined),
        };
        planSuite(suite, benchOptions); // every run's options checked before anything is opened
        const journal = openLabJournal();
        const executor = await createExecutor('local', sandboxMode);
        const controller = new AbortController();
        const onSignal = () => controller.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          const result = await runSuite(
            {
              journal, executor, stateDir: stateDir(), signal: controller.signal, observe: () => {},
              researcherFor: async (name, seed) => (await composeResearcher(name, seed, journal)).researcher,
            },
            suite,
            benchOptions,
            (line) => process.stderr.write(`${line}\n`),
          );
          const summaries = summariseResearchers(result);
          const stored = jsonSafe({ ...result, researchersSummary: summaries });
          journal.setCache('bench:latest', stored);
          journal.setCache(`bench:${result.finishedAt}`, stored);
          if (flags.json) process.stdout.write(`${JSON.stringify(stored)}\n`);
          else process.stdout.write(formatBenchReport(result, summaries));
          return controller.signal.aborted || result.rows.some((row) => row.error !== undefined) ? 1 : 0;
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          await executor.close();
          journal.close();
        }
      }),
    );
}
