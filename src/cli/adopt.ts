/** `successor adopt EXP DIR`: writes an experiment's whole workspace out, to keep or to build on. */
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { lineageOf } from '../lab/lineage.js';
import { loadTask } from '../task/loader.js';
import { materialiseWorkspace } from '../task/workspace.js';
import { UsageError, action, printResult } from './common.js';
import { findExperiment, withJournal } from './lab-state.js';

export function register(program: Command): void {
  program
    .command('adopt')
    .description("write an experiment's workspace to a folder")
    .argument('<experiment>', 'experiment id (exp_...)')
    .argument('<dir>', 'an empty or missing folder')
    .option('--json', 'print {experimentId, dir}')
    .action(
      action((id: string, dir: string, flags: { json?: boolean }) =>
        withJournal((journal) => {
          const destination = resolve(dir);
          if (existsSync(destination) && readdirSync(destination).length > 0) throw new UsageError(`${destination} is not empty; adopt writes into an empty or missing folder`);
          const experiment = findExperiment(journal, id);
          const run = journal.getRun(experiment.runId);
          if (!run) throw new Error(`experiment ${id} belongs to no run`);
          const task = loadTask(run.taskDir);
          materialiseWorkspace(task, lineageOf(journal, task, experiment), destination);
          printResult({ experimentId: experiment.id, dir: destination }, flags.json === true);
        }),
      ),
    );
}
