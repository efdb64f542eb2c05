/** Unified diffs between experiments' workspaces, built by materialising both sides in a scratch folder. */
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Change } from '../task/change.js';
import type { Task } from '../task/loader.js';
import { type Lineage, diffWorkspaces, materialiseWorkspace } from '../task/workspace.js';

export function diffLineages(task: Task, before: Lineage, after: Lineage, scratchRoot: string): string {
  mkdirSync(scratchRoot, { recursive: true });
  const dir = mkdtempSync(join(scratchRoot, 'diff-'));
  try {
    materialiseWorkspace(task, before, join(dir, 'a'));
    materialiseWorkspace(task, after, join(dir, 'b'));
    return diffWorkspaces(join(dir, 'a'), join(dir, 'b'), task.file.workspace.ignore);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The lineage a change makes on top of its parent's. */
export const childLineage = (parent: Lineage, change: Change): Lineage => ({ assignment: { ...parent.assignment, ...change.knobs }, edits: [...parent.edits, ...change.edits] });

export function diffChange(task: Task, parent: Lineage, change: Change, scratchRoot: string): string {
  return diffLineages(task, parent, childLineage(parent, change), scratchRoot);
}
