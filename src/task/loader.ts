/**
 * Finds and parses tasks: a built-in name (a folder under the project's `tasks/`) or a path to a task folder.
 * Every problem becomes one TaskError line that names the file and the field. Only what the task folder holds is
 * checked here; what the machine must provide (programs, mounts, devices) is checked where runs run (environment.ts).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TaskError, describeZodError } from './errors.js';
import { HARNESS_ROLES, commandProblem, hasModuleScripts } from './harness-script.js';
import { TaskFile } from './schema.js';

export const BUILTIN_TASKS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../tasks');

export interface Task {
  dir: string;
  file: TaskFile;
  instructions: string;
  workspaceDir: string;
  harnessDir: string;
  builtin: boolean;
}

export function listBuiltinTasks(): Task[] {
  if (!existsSync(BUILTIN_TASKS_DIR)) return [];
  return readdirSync(BUILTIN_TASKS_DIR)
    .filter((name) => existsSync(join(BUILTIN_TASKS_DIR, name, 'task.json')))
    .sort()
    .map((name) => loadTaskDir(join(BUILTIN_TASKS_DIR, name), true));
}

/** `nameOrDir` is a built-in task's name or a path to a folder holding a task.json. */
export function loadTask(nameOrDir: string): Task {
  const builtin = join(BUILTIN_TASKS_DIR, nameOrDir);
  if (/^[a-z0-9-]+$/.test(nameOrDir) && existsSync(join(builtin, 'task.json'))) return loadTaskDir(builtin, true);
  const dir = resolve(nameOrDir);
  if (!existsSync(dir)) {
    const known = listBuiltinTasks().map((task) => task.file.name).join(', ');
    throw new TaskError(`no task '${nameOrDir}': not a built-in task (${known || 'none'}) and no such folder`);
  }
  return loadTaskDir(dir, false);
}

/** The package.json nearest above `dir` (the one that says how its scripts load), or null. */
export function nearestManifest(dir: string): string | null {
  for (let current = resolve(dir); ; current = dirname(current)) {
    const manifest = join(current, 'package.json');
    if (existsSync(manifest)) return manifest;
    if (dirname(current) === current) return null;
  }
}

/** Whether .ts/.js files in `dir` load as ES modules: the nearest package.json says "type": "module". */
function isEsmScope(dir: string): boolean {
  const manifest = nearestManifest(dir);
  if (!manifest) return false;
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: string }).type === 'module';
  } catch {
    return false;
  }
}

export function loadTaskDir(dir: string, builtin = false): Task {
  const taskPath = join(dir, 'task.json');
  if (!existsSync(taskPath)) throw new TaskError(`${dir}: no task.json in this folder`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(taskPath, 'utf8'));
  } catch (error) {
    throw new TaskError(`${taskPath}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = TaskFile.safeParse(raw);
  if (!parsed.success) throw new TaskError(`${taskPath}: ${describeZodError(parsed.error)}`);
  const file = parsed.data;
  const within = (relative: string, what: string, kind: 'file' | 'dir'): string => {
    const path = resolve(dir, relative);
    if (!existsSync(path)) throw new TaskError(`${taskPath}: ${what} '${relative}' does not exist`);
    const isDir = statSync(path).isDirectory();
    if (kind === 'dir' && !isDir) throw new TaskError(`${taskPath}: ${what} '${relative}' is not a folder`);
    if (kind === 'file' && isDir) throw new TaskError(`${taskPath}: ${what} '${relative}' is not a file`);
    return path;
  };
  const instructionsPath = within(file.instructions, 'instructions', 'file');
  const workspaceDir = within(file.workspace.dir, 'workspace.dir', 'dir');
  const harnessDir = within(file.harness.dir, 'harness.dir', 'dir');
  for (const role of HARNESS_ROLES) {
    const script = file.harness[role];
    if (typeof script === 'string') within(join(file.harness.dir, script), `harness.${role}`, 'file');
    const problem = Array.isArray(script) ? commandProblem(harnessDir, role, script) : null;
    if (problem) throw new TaskError(`${taskPath}: harness.${role}: ${problem}`);
  }
  if (file.run.configFile) within(join(file.workspace.dir, file.run.configFile), 'run.configFile', 'file');
  if (hasModuleScripts(file) && !isEsmScope(harnessDir)) {
    throw new TaskError(`${taskPath}: harness scripts run as ES modules: add a package.json with {"type": "module"} to the task folder`);
  }
  return { dir, file, instructions: readFileSync(instructionsPath, 'utf8'), workspaceDir, harnessDir, builtin };
}
