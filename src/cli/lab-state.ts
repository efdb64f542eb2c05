/**
 * Shared by the commands that use the lab's state: open the existing journal and resolve run/experiment ids.
 * Commands that only read (runs, show, diff, audit verify, ui, adopt) open it read-only: they never create a
 * journal, migrate one, or add anything to a file that is not one (a foreign or damaged file is one line, exit 2).
 * Commands that write to an existing journal (approve, reject, stop, audit checkpoint) ask for `writable`.
 */
import { existsSync } from 'node:fs';
import { type ExperimentRow, type Journal, type RunRow, openJournal } from '../journal/journal.js';
import { journalPath } from '../journal/paths.js';
import { ExperimentId, RunId } from '../task/ids.js';
import { UsageError } from './common.js';

export interface OpenOptions {
  /** Open read-write (default: read-only). Either way the journal must exist already. */
  writable?: boolean;
}

/** A missing journal is the user's input (a wrong folder or SUCCESSOR_HOME): exit 2, for every command alike. */
export function openExistingJournal(options: OpenOptions = {}, path = journalPath()): Journal {
  if (!existsSync(path)) throw new UsageError(`no lab state at ${path}: run \`successor research\` first (or set SUCCESSOR_HOME)`);
  return openJournal(path, { readonly: options.writable !== true });
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

/** Opens the existing journal (read-only unless asked), and closes it whatever happens in `work`. */
export async function withJournal<T>(work: (journal: Journal) => T | Promise<T>, options: OpenOptions = {}): Promise<T> {
  const journal = openExistingJournal(options);
  try {
    return await work(journal);
  } finally {
    journal.close();
  }
}
