/**
 * `successor diff EXP`: the experiment's workspace against its parent's, or against the run's baseline. Read-only:
 * both sides are materialised in a temporary folder outside the lab's state, then removed.
 */
import type { Command } from 'commander';
import { diffLineages } from '../lab/diff.js';
import { lineageOf } from '../lab/lineage.js';
import { loadTask } from '../task/loader.js';
import { tmpdir } from 'node:os';
import { action } from './common.js';
import { findExperiment, withJournal } from './lab-state.js';

export function register(program: Command): void {
  program
    .command('diff')
    .description("show an experiment's change as a unified diff")
    .argument('<experiment>', 'experiment id (exp_...)')
    .option('--against <what>', 'parent | baseline', 'parent')
    .option('--json', 'print {experimentId, against, diff}')
    .action(
      action((id: string, flags: { against: string; json?: boolean }) =>
        withJournal((journal) => {
          const experiment = findExperiment(journal, id);
          const run = journal.getRun(experiment.runId);
          if (!run) throw new Error(`experiment ${id} belongs to no run`);
          const task = loadTask(run.taskDir);
          const root = journal.listExperiments(run.id).find((other) => other.role === 'baseline');
          const reference = flags.against === 'baseline' ? root : experiment.parentId ? journal.getExperiment(experiment.parentId) : undefined;
          const diff = reference
            ? diffLineages(task, lineageOf(journal, task, reference), lineageOf(journal, task, experiment), tmpdir())
            : '';
          if (flags.json) process.stdout.write(`${JSON.stringify({ experimentId: experiment.id, against: flags.against, diff })}\n`);
          else process.stdout.write(diff || '(no difference)\n');
        }),
      ),
    );
}
