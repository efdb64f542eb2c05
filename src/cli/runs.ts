/**
 * `successor runs`: the runs in the journal, newest first, with what their model calls cost; as text, one JSON
 * array (--json) or a table for spreadsheets (--format tsv|csv). Read-only.
 */
import type { Command } from 'commander';
import { NO_USAGE, formatDollars } from '../journal/journal.js';
import { storedSummaryOf } from '../lab/summary.js';
import { action, formatNumber, formatRatio } from './common.js';
import { withJournal } from './lab-state.js';
import { formatTable, parseTableFormat } from './tables.js';

const COLUMNS = ['run', 'status', 'task', 'researcher', 'generation', 'experiments', 'best_score', 'gain', 'elapsed_seconds',
  'model_calls', 'input_tokens', 'output_tokens', 'dollars', 'created'] as const;

export function register(program: Command): void {
  program
    .command('runs')
    .description('list research runs, newest first')
    .option('--json', 'print an array of runs')
    .option('--format <format>', 'text | tsv | csv (one row per run)', 'text')
    .action(
      action((flags: { json?: boolean; format: string }) => {
        const format = parseTableFormat(flags.format);
        return withJournal((journal) => {
          const usage = journal.modelUsageByRun().byRun;
          const runs = journal.listRuns().map((run) => {
            const summary = storedSummaryOf(run);
            const spent = usage.get(run.id) ?? NO_USAGE;
            return {
              runId: run.id, task: run.task, researcher: run.researcher, status: run.status, generation: run.generation,
              experiments: journal.listExperiments(run.id).length, bestScore: summary.bestScore ?? null, gain: summary.gain ?? null,
              elapsedSeconds: summary.elapsedSeconds ?? null, createdAt: run.createdAt,
              modelCalls: spent.calls, inputTokens: spent.inputTokens, outputTokens: spent.outputTokens, dollars: spent.dollars,
            };
          });
          if (flags.json) {
            process.stdout.write(`${JSON.stringify(runs)}\n`);
            return;
          }
          if (format !== 'text') {
            process.stdout.write(formatTable(format, COLUMNS, runs.map((run) => [
              run.runId, run.status, run.task, run.researcher, run.generation, run.experiments, run.bestScore, run.gain, run.elapsedSeconds,
              run.modelCalls, run.inputTokens, run.outputTokens, run.dollars, run.createdAt,
            ])));
            return;
          }
          if (runs.length === 0) process.stdout.write('no runs yet\n');
          for (const run of runs) {
            const gain = run.gain === null ? '-' : `${formatRatio(run.gain)}x`;
            const best = run.bestScore === null ? '-' : formatNumber(run.bestScore);
            const model = run.modelCalls > 0 ? `  ${run.modelCalls} calls ${formatDollars(run.dollars)}` : '';
            process.stdout.write(`${run.runId}  ${run.status.padEnd(9)} ${run.task} gen ${run.generation}  ${run.researcher}  ${run.experiments} exp  best ${best}  gain ${gain}${model}  ${run.createdAt}\n`);
          }
        });
      }),
    );
}
