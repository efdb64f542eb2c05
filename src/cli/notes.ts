/**
 * `successor notes TASK`: the task's research notebook, the lessons researchers wrote down across its runs, oldest
 * first (the newest `--limit` entries). Read-only; the notebook is written by researchers (and MCP agents) in runs.
 */
import type { Command } from 'commander';
import { readNotebook } from '../lab/notebook.js';
import { formatNotebook } from '../researcher/notebook-text.js';
import { loadTask } from '../task/loader.js';
import { action, parseNumber } from './common.js';
import { withJournal } from './lab-state.js';

export function register(program: Command): void {
  program
    .command('notes')
    .description('the research notebook of a task: lessons written down across its runs')
    .argument('<task>', 'a built-in task name or task folder (its name is what runs record)')
    .option('--limit <n>', 'the newest N entries', '100')
    .option('--json', 'print an array of entries')
    .action(
      action((taskName: string, flags: { limit: string; json?: boolean }) => {
        const limit = parseNumber('limit', flags.limit, { integer: true, min: 1, max: 100_000 });
        // A folder names its task in task.json; a plain name is taken as it is (the task may have moved since).
        const name = /^[a-z0-9][a-z0-9-]*$/.test(taskName) ? taskName : loadTask(taskName).file.name;
        return withJournal((journal) => {
          const entries = readNotebook(journal, name, { entries: limit, chars: Number.POSITIVE_INFINITY });
          if (flags.json) process.stdout.write(`${JSON.stringify(entries)}\n`);
          else process.stdout.write(`${entries.length === 0 ? `no notes for ${name} yet` : formatNotebook(entries)}\n`);
        });
      }),
    );
}
