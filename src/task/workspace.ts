/**
 * Workspaces: materialise an experiment's files (the task's workspace + its lineage of changes), apply a change
 * under the task's rules (editable globs, exact search/replace), and diff two workspaces.
 * Nothing here runs workspace code; that is the sandbox's job.
 */
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import picomatch from 'picomatch';
import { createTwoFilesPatch } from 'diff';
import type { Change, FileEdit } from './change.js';
import { ChangeError } from './errors.js';
import type { Task } from './loader.js';
import type { Assignment, KnobValue, Space } from './space.js';

/** Paths never part of a workspace's content (links to the lab's dependencies, run outputs). */
const ALWAYS_IGNORED = ['node_modules', 'node_modules/**'];

export function workspaceMatcher(globs: string[]): (path: string) => boolean {
  return globs.length === 0 ? () => false : picomatch(globs, { dot: true });
}

/** Relative paths (with `/`) of the regular files below `dir`, sorted; symlinks are listed, not followed. */
export function listFiles(dir: string, ignore: string[] = []): string[] {
  const ignored = workspaceMatcher([...ALWAYS_IGNORED, ...ignore]);
  const files: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      const rel = relative(dir, path).split(sep).join('/');
      if (ignored(rel)) continue;
      if (entry.isDirectory()) walk(path);
      else files.push(rel);
    }
  };
  if (existsSync(dir)) walk(dir);
  return files.sort();
}

export function copyWorkspace(source: string, destination: string, ignore: string[] = []): void {
  const ignored = workspaceMatcher([...ALWAYS_IGNORED, ...ignore]);
  mkdirSync(destination, { recursive: true });
  cpSync(source, destination, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (path) => {
      const rel = relative(source, path).split(sep).join('/');
      return rel === '' || !ignored(rel);
    },
  });
}

/** Resolves a researcher-given path inside the workspace, refusing absolute paths and escapes. */
function safeRelativePath(path: string): string {
  const normalized = normalize(path).split(sep).join('/');
  if (normalized.startsWith('/') || normalized === '..' || normalized.startsWith('../')) {
    throw new ChangeError(`'${path}' is outside the workspace`);
  }
  return normalized;
}

function applyEdit(workdir: string, edit: FileEdit, editable: (path: string) => boolean): void {
  const path = safeRelativePath(edit.path);
  if (!editable(path)) throw new ChangeError(`'${path}' is not editable in this task (see the task's workspace.editable globs)`);
  const absolute = join(workdir, path);
  if (existsSync(absolute) && lstatSync(absolute).isSymbolicLink()) throw new ChangeError(`'${path}' is a symbolic link; links cannot be edited`);
  if (edit.kind === 'write') {
    mkdirSync(dirname(absolute), { recursive: true });
    writeFileSync(absolute, edit.content);
    return;
  }
  if (!existsSync(absolute)) throw new ChangeError(`'${path}' does not exist`);
  if (edit.kind === 'delete') {
    rmSync(absolute);
    return;
  }
  const content = readFileSync(absolute, 'utf8');
  const first = content.indexOf(edit.search);
  if (first < 0) throw new ChangeError(`the search text was not found in '${path}'; it must match the file exactly, whitespace included`);
  if (content.indexOf(edit.search, first + 1) >= 0) {
    throw new ChangeError(`the search text occurs more than once in '${path}'; include more surrounding lines so it matches exactly once`);
  }
  writeFileSync(absolute, content.slice(0, first) + edit.replace + content.slice(first + edit.search.length));
}

/** Checks knob values against the space and returns the merged assignment. */
export function mergeAssignment(space: Space, base: Assignment, knobs: Record<string, KnobValue>): Assignment {
  for (const [name, value] of Object.entries(knobs)) {
    const knob = space[name];
    if (!knob) throw new ChangeError(`unknown knob '${name}'; the space has: ${Object.keys(space).join(', ')}`);
    if (knob.type === 'categorical') {
      if (!knob.choices.includes(value)) throw new ChangeError(`knob '${name}' must be one of ${JSON.stringify(knob.choices)}, got ${JSON.stringify(value)}`);
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ChangeError(`knob '${name}' must be a number, got ${JSON.stringify(value)}`);
    if (knob.type === 'int' && !Number.isInteger(value)) throw new ChangeError(`knob '${name}' must be an integer, got ${value}`);
    if (value < knob.min || value > knob.max) throw new ChangeError(`knob '${name}' must lie in [${knob.min}, ${knob.max}], got ${value}`);
  }
  return { ...base, ...knobs };
}

/** Writes knob values into the JSON config file at their dotted keys. */
export function writeAssignment(workdir: string, configFile: string, space: Space, assignment: Assignment): void {
  updateConfig(workdir, configFile, (config) => {
    for (const [name, value] of Object.entries(assignment)) setDotted(config, space[name]?.key ?? name, value);
  });
}

function updateConfig(workdir: string, configFile: string, update: (config: Record<string, unknown>) => void): void {
  const path = join(workdir, configFile);
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new ChangeError(`the config file '${configFile}' is not valid JSON: ${(error as Error).message}`);
  }
  update(config);
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
}

function setDotted(config: Record<string, unknown>, dottedKey: string, value: unknown): void {
  const keys = dottedKey.split('.');
  let node = config;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

/** Sets one value in the JSON config file (the harness's seed). */
export function writeConfigValue(workdir: string, configFile: string, dottedKey: string, value: unknown): void {
  updateConfig(workdir, configFile, (config) => setDotted(config, dottedKey, value));
}

export interface Lineage {
  /** Edits of every ancestor, root first, then this experiment's own. */
  edits: FileEdit[];
  assignment: Assignment;
}

/** Builds an experiment's workspace in `destination`: the task's files, the lineage's edits, then the knob values. */
export function materialiseWorkspace(task: Task, lineage: Lineage, destination: string): void {
  rmSync(destination, { recursive: true, force: true });
  copyWorkspace(task.workspaceDir, destination, task.file.workspace.ignore);
  const editable = workspaceMatcher(task.file.workspace.editable);
  for (const edit of lineage.edits) applyEdit(destination, edit, editable);
  if (task.file.run.configFile && Object.keys(lineage.assignment).length > 0) {
    writeAssignment(destination, task.file.run.configFile, task.file.space, lineage.assignment);
  }
}

/**
 * The most text one change may write. Code changes are small; a bigger change is almost always data smuggled into
 * the workspace (precomputed weights, cached results), so it is refused before it runs.
 */
export const MAX_CHANGE_BYTES = 256 * 1024;

/** Validates a change on its own (paths, knobs, size) before anything is run, so the researcher hears about it at once. */
export function checkChange(task: Task, base: Assignment, change: Change): Assignment {
  const editable = workspaceMatcher(task.file.workspace.editable);
  const bytes = change.edits.reduce((sum, edit) => sum + (edit.kind === 'write' ? Buffer.byteLength(edit.content) : edit.kind === 'replace' ? Buffer.byteLength(edit.replace) : 0), 0);
  if (bytes > MAX_CHANGE_BYTES) throw new ChangeError(`the change writes ${bytes} bytes; at most ${MAX_CHANGE_BYTES} are allowed (code, not data)`);
  for (const edit of change.edits) {
    const path = safeRelativePath(edit.path);
    if (!editable(path)) throw new ChangeError(`'${path}' is not editable in this task (see the task's workspace.editable globs)`);
  }
  return mergeAssignment(task.file.space, base, change.knobs);
}

const isProbablyText = (buffer: Buffer): boolean => !buffer.subarray(0, 8000).includes(0);

/** A unified diff of two workspace folders (text files; binary files are named only). */
export function diffWorkspaces(beforeDir: string, afterDir: string, ignore: string[] = []): string {
  const before = new Set(listFiles(beforeDir, ignore));
  const after = new Set(listFiles(afterDir, ignore));
  const paths = [...new Set([...before, ...after])].sort();
  const parts: string[] = [];
  for (const path of paths) {
    const old = before.has(path) ? readFileSync(join(beforeDir, path)) : Buffer.alloc(0);
    const next = after.has(path) ? readFileSync(join(afterDir, path)) : Buffer.alloc(0);
    if (old.equals(next)) continue;
    if (!isProbablyText(old) || !isProbablyText(next)) {
      parts.push(`Binary file ${path} differs\n`);
      continue;
    }
    parts.push(
      createTwoFilesPatch(before.has(path) ? `a/${path}` : '/dev/null', after.has(path) ? `b/${path}` : '/dev/null', old.toString('utf8'), next.toString('utf8'), '', '', { context: 3 }),
    );
  }
  return parts.join('');
}
