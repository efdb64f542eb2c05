/**
 * The research notebook: what researchers (and people) wrote down about a task, kept in the journal as
 * `notebook.entry` events of the run they were written in, and read back across every run of the task: later
 * episodes, runs and generations see the latest entries, bounded in count and characters, oldest first.
 * Is not: the history of experiments (the journal's rows) nor a place for scores the lab measured (those are rows).
 */
import type { Journal, RunRow } from '../journal/journal.js';
import type { NotebookEntry } from '../researcher/types.js';
import type { ExperimentId, RunId } from '../task/ids.js';

export const NOTEBOOK_EVENT = 'notebook.entry';
/** The most characters one entry keeps. */
export const MAX_NOTE_CHARS = 1200;

export interface NotebookLimits { entries: number; chars: number }
/** What one proposal is given: enough for a page of lessons, never the whole history of a long-lived task. */
export const DEFAULT_NOTEBOOK_LIMITS: NotebookLimits = { entries: 30, chars: 8000 };

/** Adds an entry to `run`'s task notebook; an empty text is refused (a bug in the caller's checks). */
export function appendNote(journal: Journal, run: Pick<RunRow, 'id' | 'task'>, author: string, text: string, experimentId?: ExperimentId): NotebookEntry {
  const trimmed = text.trim().slice(0, MAX_NOTE_CHARS);
  if (trimmed === '') throw new Error('a notebook entry needs text');
  const event = journal.appendEvent(run.id, NOTEBOOK_EVENT, { task: run.task, author: author.slice(0, 100), text: trimmed, ...(experimentId ? { experimentId } : {}) }, experimentId);
  return entryOf(event.id, event.at, run.id, event.payload);
}

/**
 * The task's latest entries over all its runs, oldest first, within `limits` (whole entries only; the newest win).
 * Reads every run of the task: a journal query by event type would be faster for very long-lived labs.
 */
export function readNotebook(journal: Journal, task: string, limits: NotebookLimits = DEFAULT_NOTEBOOK_LIMITS): NotebookEntry[] {
  const entries: NotebookEntry[] = [];
  for (const run of journal.listRuns()) {
    if (run.task !== task) continue;
    for (const event of journal.listEvents(run.id)) {
      if (event.type === NOTEBOOK_EVENT) entries.push(entryOf(event.id, event.at, run.id, event.payload));
    }
  }
  entries.sort((left, right) => left.id - right.id);
  const kept: NotebookEntry[] = [];
  let chars = 0;
  for (let index = entries.length - 1; index >= 0 && kept.length < limits.entries; index--) {
    chars += entries[index].text.length;
    if (chars > limits.chars && kept.length > 0) break;
    kept.unshift(entries[index]);
  }
  return kept;
}

function entryOf(id: number, at: string, runId: RunId | string, payload: Record<string, unknown>): NotebookEntry {
  return {
    id, at, runId,
    author: typeof payload.author === 'string' ? payload.author : 'unknown',
    text: typeof payload.text === 'string' ? payload.text : '',
    ...(typeof payload.experimentId === 'string' ? { experimentId: payload.experimentId } : {}),
  };
}
