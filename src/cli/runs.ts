/** `successor runs`: the runs in the journal, newest first. */
import type { Command } from 'commander';
import { storedSummaryOf } from '../lab/summary.js';
import { action, formatNumber } from './common.js';
import { withJournal } from './lab-state.js';

export function register(program: Command): void {
  program
    .command('runs')
    .description('list research runs, newest first')
    .option('--json', 'print an array of runs')
    .action(
      action((flags: { json?: boolean }) =>
        withJournal((journal) => {
          const runs = journal.listRuns().map((run) => {
            const summary = storedSummaryOf(run);
            return {
              runId: run.id, task: run.task, researcher: run.researcher, status: run.status, generation: run.generation,
              experiments: journal.listExperiments(run.id).length, bestScore: summary.bestScore ?? null, gain: summary.gain ?? null,
              elapsedSeconds: summary.elapsedSeconds ?? null, createdAt: run.createdAt,
            };
          });
          if (flags.json) {
            process.stdout.write(`${JSON.stringify(runs)}\n`);
            return;
          }
          if (runs.length === 0) process.stdout.write('no runs yet\n');
          for (const run of runs) {
            const gain = run.gain === null ? '-' : `${run.gain.toFixed(2)}x`;
            const best = run.bestScore === null ? '-' : formatNumber(run.bestScore);
            process.stdout.write(`${run.runId}  ${run.status.padEnd(9)} ${run.task} gen ${run.generation}  ${run.researcher}  ${run.experiments} exp  best ${best}  gain ${gain}  ${run.createdAt}\n`);
          }
        }),
      ),
    );
}
