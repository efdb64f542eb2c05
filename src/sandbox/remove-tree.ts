/**
 * Removes a file tree that untrusted code may have shaped (a scratch copy, artifacts, a staged folder), however
 * deep or wide: coreutils `rm -rf --one-file-system`, which walks with directory descriptors and copes with trees
 * far past PATH_MAX, where Node's recursive rm overflows the JS stack or fails with ENAMETOOLONG. A folder the
 * command made unwritable (mode 0500) is opened up and removed on a second try, for a lab that is not root.
 *
 * Never throws: a tree that cannot be removed is left behind and reported (a leftover scratch folder is not worth
 * crashing the lab over). Not for trusted paths with special needs; those keep `rmSync`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { findExecutable } from './enforcement.js';

export interface Removal {
  removed: boolean;
  /** What rm said when it could not remove everything. */
  error?: string;
}

const RM = findExecutable('rm') ?? '/bin/rm';
const CHMOD = findExecutable('chmod') ?? '/bin/chmod';

/** GNU rm refuses to cross into another file system below the path; other rm's do not know the option. */
const removeArguments = (path: string, gnu: boolean) => (gnu ? ['-rf', '--one-file-system', '--', path] : ['-rf', '--', path]);

function runSync(command: string, args: string[]): string | null {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.error) return result.error.message;
  return result.status === 0 ? null : result.stderr.trim().slice(0, 500) || `exit ${result.status}`;
}

function run(command: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { if (stderr.length < 2000) stderr += chunk.toString('utf8'); });
    child.once('error', (error) => resolve(error.message));
    child.once('close', (code) => resolve(code === 0 ? null : stderr.trim().slice(0, 500) || `exit ${code}`));
  });
}

export function removeTreeSync(path: string): Removal {
  if (!lstatSync(path, { throwIfNoEntry: false })) return { removed: true };
  let error = runSync(RM, removeArguments(path, true));
  if (error && /unrecognized option|illegal option|invalid option/.test(error)) error = runSync(RM, removeArguments(path, false));
  if (error) {
    runSync(CHMOD, ['-R', 'u+rwX', '--', path]);
    error = runSync(RM, removeArguments(path, true));
  }
  return error ? { removed: false, error } : { removed: true };
}

export async function removeTree(path: string): Promise<Removal> {
  if (!lstatSync(path, { throwIfNoEntry: false })) return { removed: true };
  let error = await run(RM, removeArguments(path, true));
  if (error && /unrecognized option|illegal option|invalid option/.test(error)) error = await run(RM, removeArguments(path, false));
  if (error) {
    await run(CHMOD, ['-R', 'u+rwX', '--', path]);
    error = await run(RM, removeArguments(path, true));
  }
  return error ? { removed: false, error } : { removed: true };
}
