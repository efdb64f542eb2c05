/**
 * Unified diffs between experiments' workspaces, built by materialising both sides in a scratch folder, and the
 * fingerprints of what each side would run (fingerprint.ts), read while both sides are on disk.
 */
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Change } from '../task/change.js';
import type { Task } from '../task/loader.js';
import { type Lineage, diffWorkspaces, materialiseWorkspace } from '../task/workspace.js';
import { fingerprintWorkspace } from './fingerprint.js';

export function diffLineages(task: Task, before: Lineage, after: Lineage, scratchRoot: string): string {
  return compareLineages(task, before, after, scratchRoot).diff;
}

/** The diff from `before` to `after`, and the fingerprint of each side's workspace. */
export function compareLineages(task: Task, before: Lineage, after: Lineage, scratchRoot: string): { diff: string; before: string; after: string } {
  mkdirSync(scratchRoot, { recursive: true });
  const dir = mkdtempSync(join(scratchRoot, 'diff-'));
  try {
    materialiseWorkspace(task, before, join(dir, 'a'));
    materialiseWorkspace(task, after, join(dir, 'b'));
    return {
      diff: diffWorkspaces(join(dir, 'a'), join(dir, 'b'), task.file.workspace.ignore),
      before: fingerprintWorkspace(task, join(dir, 'a')),
      after: fingerprintWorkspace(task, join(dir, 'b')),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const childLineage = (parent: Lineage, change: Change): Lineage => ({ assignment: { ...parent.assignment, ...change.knobs }, edits: [...parent.edits, ...change.edits] });

export function diffChange(task: Task, parent: Lineage, change: Change, scratchRoot: string): string {
  return diffLineages(task, parent, childLineage(parent, change), scratchRoot);
}
