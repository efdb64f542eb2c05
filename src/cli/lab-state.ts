/** Shared by the commands that read the lab's state: open the journal and resolve run/experiment ids. */
import { existsSync } from 'node:fs';
import { type ExperimentRow, type Journal, type RunRow, openJournal } from '../journal/journal.js';
import { journalPath } from '../journal/paths.js';
import { ExperimentId, RunId } from '../task/ids.js';
import { UsageError } from './common.js';

export function openExistingJournal(): Journal {
  const path = journalPath();
  if (!existsSync(path)) throw new UsageError(`no lab state at ${path}: run \`successor research\` first (or set SUCCESSOR_HOME)`);
  return openJournal(path);
}

export function findRun(journal: Journal, id: string): RunRow {
  const parsed = RunId.safeParse(id);
  const run = parsed.success ? journal.getRun(parsed.data) : undefined;
  if (!run) throw new UsageError(`no run '${id}' (see \`successor runs\`)`);
  return run;
}

export function findExperiment(journal: Journal, id: string): ExperimentRow {
  const parsed = ExperimentId.safeParse(id);
  const experiment = parsed.success ? journal.getExperiment(parsed.data) : undefined;
  if (!experiment) throw new UsageError(`no experiment '${id}' (see \`successor show RUN\`)`);
  return experiment;
}

/** Closes the journal whatever happens in `work`. */
export async function withJournal<T>(work: (journal: Journal) => T | Promise<T>): Promise<T> {
  const journal = openExistingJournal();
  try {
    return await work(journal);
  } finally {
    journal.close();
  }
}
