/**
 * Where the lab keeps its state: `$SUCCESSOR_HOME`, or `.successor/` under the working directory.
 * Only resolves paths; creating the directory is openJournal's job (readers must not create it).
 */
import { join, resolve } from 'node:path';

export function stateDir(environment: NodeJS.ProcessEnv = process.env, workingDirectory: string = process.cwd()): string {
  const home = environment.SUCCESSOR_HOME?.trim();
  return home ? resolve(workingDirectory, home) : resolve(workingDirectory, '.successor');
}

export function journalPath(environment: NodeJS.ProcessEnv = process.env, workingDirectory: string = process.cwd()): string {
  return join(stateDir(environment, workingDirectory), 'successor.db');
}
