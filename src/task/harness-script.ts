/**
 * Harness scripts in any language: how a task's `prepare`, `stage` or `score` entry becomes what the sandbox runs.
 * A path is a TypeScript/JavaScript module, run by the lab's loader; an argv is a command in any language, whose
 * placeholders are filled in and whose arguments naming files in the harness folder become absolute paths (the
 * script's cwd is its writable workdir, never the harness folder). Both speak the one protocol of docs/tasks.md.
 * Also the loader's checks of these entries that need only the task folder.
 * Not here: running them (trusted-script.ts), checks against the host (a program on PATH: environment.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, resolve } from 'node:path';
import type { HarnessScript, TaskFile } from './schema.js';
import { PROJECT_ROOT, type TrustedProgram } from './trusted-script.js';

export type HarnessRole = 'prepare' | 'stage' | 'score';
export const HARNESS_ROLES: readonly HarnessRole[] = ['prepare', 'stage', 'score'];

/** The lab's TypeScript loader, for `{tsx}` (a run's command uses the same one). */
export const TSX_LOADER = join(PROJECT_ROOT, 'node_modules/tsx/dist/loader.mjs');

/** Placeholders of a harness command and the scripts that know each: artifacts exist only once a run is over. */
const PLACEHOLDER_ROLES: Record<string, readonly HarnessRole[]> = {
  node: HARNESS_ROLES, tsx: HARNESS_ROLES, harness: HARNESS_ROLES, inputs: HARNESS_ROLES, hidden: HARNESS_ROLES, workdir: HARNESS_ROLES,
  artifacts: ['score'],
};
const PLACEHOLDER = /\{(node|tsx|harness|inputs|hidden|workdir|artifacts)\}/g;

/** Extensions of script files: an argument with one of these that is not in the harness folder is surely a mistake. */
const SCRIPT_FILE = /\.(py|sh|bash|r|jl|js|mjs|cjs|ts|mts|cts|pl|rb|lua|php)$/i;

export interface HarnessValues {
  inputs: string;
  hidden: string;
  workdir: string;
  /** The run's artifacts: the scorer's only. */
  artifacts?: string;
}

/** A path inside the harness folder that a relative argument names, when it names a file there. */
function harnessFile(harnessDir: string, argument: string): string | null {
  if (isAbsolute(argument) || argument.startsWith('-') || argument.includes('{')) return null;
  const path = resolve(harnessDir, argument);
  if (!path.startsWith(`${resolve(harnessDir)}/`)) return null;
  return statSync(path, { throwIfNoEntry: false })?.isFile() ? path : null;
}

/** What one harness entry runs: the module, or the argv with placeholders filled and harness files made absolute. */
export function harnessProgram(harnessDir: string, script: HarnessScript, values: HarnessValues): TrustedProgram {
  if (typeof script === 'string') return { module: join(harnessDir, script) };
  const filled: Record<string, string> = { node: process.execPath, tsx: TSX_LOADER, harness: harnessDir, ...values };
  return {
    argv: script.map((argument) => harnessFile(harnessDir, argument) ?? argument.replace(PLACEHOLDER, (_, name: string) => filled[name] ?? '')),
  };
}

/** How an entry reads in `task check` and logs: the module's path, or the argv as written. */
export function describeHarnessScript(script: HarnessScript): string {
  return typeof script === 'string' ? script : script.map((argument) => (/\s/.test(argument) ? JSON.stringify(argument) : argument)).join(' ');
}

/** Whether any entry is a module: only then must the harness folder load as ES modules. */
export function hasModuleScripts(file: TaskFile): boolean {
  return HARNESS_ROLES.some((role) => typeof file.harness[role] === 'string');
}

/**
 * Checks one command entry against the task folder; returns the problem in words (the loader names the field), or
 * null. A module entry is checked by the loader as a file.
 */
export function commandProblem(harnessDir: string, role: HarnessRole, command: string[]): string | null {
  for (const argument of command) {
    for (const [, name] of argument.matchAll(PLACEHOLDER)) {
      if (!PLACEHOLDER_ROLES[name].includes(role)) return `{${name}} is known only to the scorer, not to ${role}`;
    }
  }
  const [program, ...rest] = command;
  if (program.includes('/') && !isAbsolute(program) && !program.includes('{') && !harnessFile(harnessDir, program)) {
    return `the program '${program}' is not a file in the harness folder`;
  }
  const missing = rest.find((argument) => SCRIPT_FILE.test(argument) && !isAbsolute(argument) && !argument.startsWith('-') && !argument.includes('{') && !harnessFile(harnessDir, argument));
  if (missing !== undefined) {
    const path = normalize(join(harnessDir, missing));
    return existsSync(path) ? `'${missing}' in the harness folder is not a file` : `'${missing}' is not a file in the harness folder (${harnessDir})`;
  }
  return null;
}
