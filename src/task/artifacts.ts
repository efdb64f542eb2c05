/**
 * Taking a run's artifacts out of its scratch copy: the folder the task names is checked by admit-tree.ts (regular
 * files and folders only, normalised modes and owner, caps on depth, entries and bytes) where it lies, then moved
 * into the experiment's folder. A refusal removes what the run left and is the experiment's `invalid` outcome.
 * Runs only once the run's processes are dead. Not here: scoring (harness.ts), the walk itself (the sandbox area).
 */
import { lstatSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { admitTree, type TreeCaps } from '../sandbox/admit-tree.js';
import { removeTree } from '../sandbox/remove-tree.js';
import type { Task } from './loader.js';

/** Deepest file below the artifacts folder: a checkpoint is a folder or two deep, nothing needs 32. */
export const MAX_ARTIFACT_DEPTH = 32;

/** The task's own limits bound its artifacts: entries as its file limit, bytes as its disk limit. */
export function artifactCaps(task: Task): TreeCaps {
  const { limits } = task.file.run;
  return { maxDepth: MAX_ARTIFACT_DEPTH, maxEntries: limits.files, maxBytes: limits.diskMb * 2 ** 20 };
}

/**
 * Admits `<workdir>/<relativePath>` and moves it to `destination`. `artifactsDir` is null when the run left none.
 * Every folder on the way from the workdir must be a real folder: a link there would move (and admit) another tree.
 */
export async function takeArtifacts(workdir: string, relativePath: string, destination: string, caps: TreeCaps): Promise<{ artifactsDir: string | null } | { refused: string }> {
  const source = join(workdir, relativePath);
  const steps = relativePath.split('/').filter((step) => step && step !== '.');
  for (let index = 1; index < steps.length; index += 1) {
    const folder = join(workdir, ...steps.slice(0, index));
    const stats = lstatSync(folder, { throwIfNoEntry: false });
    if (!stats) return { artifactsDir: null };
    if (!stats.isDirectory()) {
      await removeTree(folder);
      return { refused: `${steps.slice(0, index).join('/')} is not a folder` };
    }
  }
  const admission = await admitTree(source, caps);
  if (!admission.admitted) {
    await removeTree(source);
    return { refused: admission.reason };
  }
  if (!admission.exists) return { artifactsDir: null };
  await removeTree(destination);
  renameSync(source, destination);
  return { artifactsDir: destination };
}
