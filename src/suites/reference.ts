/**
 * A task's reference solution as a Change: `reference/change.json` ({knobs, edits} in the change.ts format) plus
 * every file under `reference/files/`, each a whole-file write at the same workspace path. Tests apply it through
 * the real harness to prove it reaches the declared reference score.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Change } from '../task/change.js';
import type { Task } from '../task/loader.js';
import { type Lineage, listFiles, mergeAssignment } from '../task/workspace.js';

export function loadReferenceChange(task: Task): Change | null {
  const dir = join(task.dir, 'reference');
  if (!existsSync(dir)) return null;
  const changePath = join(dir, 'change.json');
  const change = Change.parse(existsSync(changePath) ? JSON.parse(readFileSync(changePath, 'utf8')) : {});
  const filesDir = join(dir, 'files');
  for (const path of listFiles(filesDir)) change.edits.push({ kind: 'write', path, content: readFileSync(join(filesDir, path), 'utf8') });
  return change;
}

/** The lineage that runs a change straight on the task's workspace (knob values checked against the space). */
export function lineageOfChange(task: Task, change: Change): Lineage {
  return { edits: change.edits, assignment: mergeAssignment(task.file.space, {}, change.knobs) };
}
