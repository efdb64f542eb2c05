/** `successor approve EXP`, `successor reject EXP --why TEXT`, `successor stop RUN`: a human's hand on a run. */
import type { Command } from 'commander';
import { approveExperiment, rejectExperiment, requestStop } from '../lab/control.js';
import { action, printResult } from './common.js';
import { findExperiment, findRun, withJournal } from './lab-state.js';

export function register(program: Command): void {
  program
    .command('approve')
    .description('let an experiment that waits for approval run, or let a nominated incumbent stand')
    .argument('<experiment>', 'experiment id (exp_...)')
    .option('--json', 'print the decision as JSON')
    .action(
      action((id: string, flags: { json?: boolean }) =>
        withJournal((journal) => {
          const experiment = approveExperiment(journal, findExperiment(journal, id).id);
          printResult({ experimentId: experiment.id, decision: 'approved', state: experiment.state }, flags.json === true);
        }, { writable: true }),
      ),
    );
  program
    .command('reject')
    .description('reject an experiment that waits for approval; the reason is journaled')
    .argument('<experiment>', 'experiment id (exp_...)')
    .requiredOption('--why <text>', 'the reason, kept in the journal')
    .option('--json', 'print the decision as JSON')
    .action(
      action((id: string, flags: { why: string; json?: boolean }) =>
        withJournal((journal) => {
          const experiment = rejectExperiment(journal, findExperiment(journal, id).id, flags.why);
          printResult({ experimentId: experiment.id, decision: 'rejected', why: flags.why }, flags.json === true);
        }, { writable: true }),
      ),
    );
  program
    .command('stop')
    .description('stop a running run from another terminal: its sandboxed processes are killed and it stays resumable')
    .argument('<run>', 'run id (run_...)')
    .option('--why <text>', 'the reason, kept in the journal', 'stopped from the command line')
    .option('--json', 'print the request as JSON')
    .action(
      action((id: string, flags: { why: string; json?: boolean }) =>
        withJournal((journal) => {
          const run = requestStop(journal, findRun(journal, id).id, flags.why);
          printResult({ runId: run.id, stopRequested: true, reason: flags.why }, flags.json === true);
        }, { writable: true }),
      ),
    );
}
