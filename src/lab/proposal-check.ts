/**
 * Checks a proposal before it is journaled as a candidate: the change on its own (paths, knobs, size), the lineage
 * it makes (its whole edit list, and what its workspace adds to the task's own), and that it applies at all, by
 * building the parent's and the candidate's workspaces in a scratch folder (the diff humans read comes from them).
 * Whatever goes wrong because of the change is a ChangeError and comes back as the candidate's `failed` outcome
 * ("change did not apply: ..."): a malformed change never throws out of the loop. The harness checks the lineage
 * again when the candidate runs. Not here: approving or running it (the loop).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { removeTreeSync } from '../sandbox/remove-tree.js';
import { type Change, isEmptyChange } from '../task/change.js';
import { ChangeError } from '../task/errors.js';
import type { Task } from '../task/loader.js';
import type { Outcome } from '../task/outcome.js';
import { checkChange, checkLineageSize, checkWorkspaceGrowth, diffWorkspaces, type Lineage, materialiseWorkspace } from '../task/workspace.js';

export interface CheckedProposal {
  /** The unified diff against the parent; empty when the change did not apply. */
  diff: string;
  /** The candidate's outcome when the change did not apply; null when it may run. */
  outcome: Outcome | null;
}

export function checkProposal(task: Task, parent: Lineage, change: Change, scratchRoot: string): CheckedProposal {
  try {
    if (isEmptyChange(change)) throw new ChangeError('the change is empty');
    checkChange(task, parent.assignment, change);
    const after: Lineage = { assignment: { ...parent.assignment, ...change.knobs }, edits: [...parent.edits, ...change.edits] };
    checkLineageSize(after);
    mkdirSync(scratchRoot, { recursive: true });
    const dir = mkdtempSync(join(scratchRoot, 'proposal-'));
    try {
      materialiseWorkspace(task, parent, join(dir, 'a'));
      materialiseWorkspace(task, after, join(dir, 'b'));
      checkWorkspaceGrowth(task, join(dir, 'b'));
      return { diff: diffWorkspaces(join(dir, 'a'), join(dir, 'b'), task.file.workspace.ignore), outcome: null };
    } finally {
      removeTreeSync(dir);
    }
  } catch (error) {
    if (!(error instanceof ChangeError)) throw error;
    return { diff: '', outcome: { status: 'failed', reason: `change did not apply: ${error.message}`, metrics: {} } };
  }
}
