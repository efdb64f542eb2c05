/**
 * Workspaces: materialise an experiment's files (the task's workspace + its lineage of changes), apply a change
 * under the task's rules (editable globs, exact search/replace, bounded paths), bound what a change and a whole
 * lineage may carry, and diff two workspaces. Everything a change can make go wrong here (a path under a file, a
 * config that is not a JSON object, a lineage grown past its cap) is a ChangeError, never another exception.
 * Nothing here runs workspace code; that is the sandbox's job.
 */
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { removeTreeSync } from '../sandbox/remove-tree.js';
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

/** The longest path, and the most folders deep, a change may name: no workspace needs more, and each costs every walker. */
export const MAX_EDIT_PATH_LENGTH = 512;
export const MAX_EDIT_PATH_DEPTH = 16;

/** Resolves a researcher-given path inside the workspace, refusing absolute paths, escapes and outsized paths. */
function safeRelativePath(path: string): string {
  const normalized = normalize(path).split(sep).join('/');
  if (normalized.startsWith('/') || normalized === '..' || normalized.startsWith('../')) {
    throw new ChangeError(`'${path.slice(0, 200)}' is outside the workspace`);
  }
  if (normalized === '.' || normalized.endsWith('/..')) throw new ChangeError(`'${path.slice(0, 200)}' names no file`);
  if (Buffer.byteLength(normalized) > MAX_EDIT_PATH_LENGTH) throw new ChangeError(`a path of ${Buffer.byteLength(normalized)} bytes; at most ${MAX_EDIT_PATH_LENGTH} are allowed`);
  if (normalized.split('/').length > MAX_EDIT_PATH_DEPTH) throw new ChangeError(`'${normalized.slice(0, 200)}' is nested more than ${MAX_EDIT_PATH_DEPTH} folders deep`);
  return normalized;
}

/** Words for the file-system errors an edit can run into. */
const FILE_ERRORS: Record<string, string> = {
  EEXIST: 'a folder on its path is a file', ENOTDIR: 'a folder on its path is a file', EISDIR: 'it is a folder',
  ERR_FS_EISDIR: 'it is a folder', ENAMETOOLONG: 'the path is too long', ENOENT: 'it does not exist', ELOOP: 'a link is in the way',
};

/**
 * An error a file operation raised on behalf of a change, as the change's own error; anything else (a bug) as it
 * was. A Node system error has a string `code` (EEXIST, ENOTDIR, ERR_FS_EISDIR, ...).
 */
function asChangeError(error: unknown, what: string): unknown {
  if (error instanceof ChangeError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return error;
  return new ChangeError(`${what} failed: ${FILE_ERRORS[code] ?? code}`);
}

function applyEdit(workdir: string, edit: FileEdit, editable: (path: string) => boolean): void {
  const path = safeRelativePath(edit.path);
  if (!editable(path)) throw new ChangeError(`'${path}' is not editable in this task (see the task's workspace.editable globs)`);
  const absolute = join(workdir, path);
  if (lstatSync(absolute, { throwIfNoEntry: false })?.isSymbolicLink()) throw new ChangeError(`'${path}' is a symbolic link; links cannot be edited`);
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
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw asChangeError(error, `reading the config file '${configFile}'`);
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new ChangeError(`the config file '${configFile}' is not valid JSON: ${(error as Error).message}`);
  }
  // null, an array, a string: the knobs and the seed have nowhere to go (and `null.seed = 1` would throw a TypeError).
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ChangeError(`the config file '${configFile}' must hold a JSON object, not ${config === null ? 'null' : Array.isArray(config) ? 'an array' : typeof config}`);
  }
  update(config as Record<string, unknown>);
  try {
    writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
  } catch (error) {
    throw asChangeError(error, `writing the config file '${configFile}'`);
  }
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

/**
 * Builds an experiment's workspace in `destination`: the task's files, the lineage's edits, then the knob values.
 * Throws ChangeError for anything the lineage makes go wrong, the lineage's size included.
 */
export function materialiseWorkspace(task: Task, lineage: Lineage, destination: string): void {
  checkLineageSize(lineage);
  removeTreeSync(destination); // a scratch folder a run shaped may be any depth
  copyWorkspace(task.workspaceDir, destination, task.file.workspace.ignore);
  const editable = workspaceMatcher(task.file.workspace.editable);
  for (const edit of lineage.edits) {
    try {
      applyEdit(destination, edit, editable);
    } catch (error) {
      throw asChangeError(error, `${edit.kind === 'replace' ? 'editing' : edit.kind === 'write' ? 'writing' : 'deleting'} '${edit.path.slice(0, 200)}'`);
    }
  }
  if (task.file.run.configFile && Object.keys(lineage.assignment).length > 0) {
    writeAssignment(destination, task.file.run.configFile, task.file.space, lineage.assignment);
  }
}

/**
 * The most text one change may write. Code changes are small; a bigger change is almost always data smuggled into
 * the workspace (precomputed weights, cached results), so it is refused before it runs.
 */
export const MAX_CHANGE_BYTES = 256 * 1024;

/**
 * What a whole lineage may carry. Each change is capped on its own, but a lineage concatenates every ancestor's
 * edits, so N proposals would carry N x MAX_CHANGE_BYTES: the edit list as a whole is capped (the text it holds),
 * and so is what its workspace adds to the task's own (new files, and the changed middle of changed files), so the
 * data a chain of changes smuggles in stays within twice what one change may write.
 */
export const MAX_LINEAGE_EDIT_BYTES = 4 * 2 ** 20;
export const MAX_WORKSPACE_GROWTH_BYTES = 2 * MAX_CHANGE_BYTES;

const writtenBytes = (edits: readonly FileEdit[]): number =>
  edits.reduce((sum, edit) => sum + (edit.kind === 'write' ? Buffer.byteLength(edit.content) : edit.kind === 'replace' ? Buffer.byteLength(edit.replace) : 0), 0);

/** All the text an edit list holds: paths, searches, replacements, contents. */
export function editListBytes(edits: readonly FileEdit[]): number {
  return edits.reduce((sum, edit) => sum + Buffer.byteLength(edit.path) + (edit.kind === 'write' ? Buffer.byteLength(edit.content) : edit.kind === 'replace' ? Buffer.byteLength(edit.search) + Buffer.byteLength(edit.replace) : 0), 0);
}

export function checkLineageSize(lineage: Lineage): void {
  const bytes = editListBytes(lineage.edits);
  if (bytes > MAX_LINEAGE_EDIT_BYTES) {
    throw new ChangeError(`the lineage's edits hold ${bytes} bytes with this change; at most ${MAX_LINEAGE_EDIT_BYTES} are allowed across a lineage (code, not data)`);
  }
}

/** Bytes a changed file brings in: the new middle left once the longest common prefix and suffix are taken off. */
function addedBytes(before: Buffer, after: Buffer): number {
  const limit = Math.min(before.length, after.length);
  let prefix = 0;
  while (prefix < limit && before[prefix] === after[prefix]) prefix += 1;
  let suffix = 0;
  while (suffix < limit - prefix && before[before.length - 1 - suffix] === after[after.length - 1 - suffix]) suffix += 1;
  return after.length - prefix - suffix;
}

/** Regular files below `dir`, nothing ignored (what a change writes under an ignored name counts too); iterative. */
function allFiles(dir: string): string[] {
  const files: string[] = [];
  const pending = [''];
  while (pending.length > 0) {
    const relativeDir = pending.pop()!;
    for (const entry of readdirSync(join(dir, relativeDir), { withFileTypes: true })) {
      const path = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile()) files.push(path);
    }
  }
  return files;
}

/** What a materialised workspace adds to the task's own: new files whole, changed files by their changed middle. */
export function workspaceGrowthBytes(task: Task, workdir: string): number {
  const original = new Set(listFiles(task.workspaceDir, task.file.workspace.ignore));
  let growth = 0;
  for (const path of allFiles(workdir)) {
    const after = readFileSync(join(workdir, path));
    growth += original.has(path) ? Math.max(0, addedBytes(readFileSync(join(task.workspaceDir, path)), after)) : after.length;
  }
  return growth;
}

/** Throws ChangeError when the workspace in `workdir` carries more than a lineage may. */
export function checkWorkspaceGrowth(task: Task, workdir: string): void {
  const growth = workspaceGrowthBytes(task, workdir);
  if (growth > MAX_WORKSPACE_GROWTH_BYTES) {
    throw new ChangeError(`the lineage adds ${growth} bytes to the task's workspace; at most ${MAX_WORKSPACE_GROWTH_BYTES} are allowed across a lineage (code, not data)`);
  }
}

/** Validates a change on its own (paths, knobs, size) before anything is run, so the researcher hears about it at once. */
export function checkChange(task: Task, base: Assignment, change: Change): Assignment {
  const editable = workspaceMatcher(task.file.workspace.editable);
  const bytes = writtenBytes(change.edits);
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
