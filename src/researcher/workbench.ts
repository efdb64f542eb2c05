/**
 * The workbench of one proposal: a parent experiment's files, read-only, plus the edits staged against them.
 * Every tool a model or an MCP client calls lands here and answers with text the caller can act on: an edit
 * whose search text does not match exactly is refused at once with the reason, not discovered at run time.
 *
 * Edits to the task's config file are special: the harness writes knob values over that file, so a changed knob
 * key becomes a knob setting, and the rest of the file travels as a whole-file write (its formatting is the
 * harness's, not the original's, so a search block copied from it would not match when the lab re-applies it).
 * Is not: a sandbox (nothing here runs code) nor a judge of proposals (the lab checks every Change again).
 */
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import type { Change, FileEdit } from '../task/change.js';
import { ChangeError } from '../task/errors.js';
import type { ExperimentId } from '../task/ids.js';
import type { Assignment, KnobValue } from '../task/space.js';
import { listFiles, mergeAssignment, workspaceMatcher } from '../task/workspace.js';
import type { ExperimentSummary, ResearchContext, WorkspaceAccess } from './types.js';

/** A tool's answer was refused; the message is written for the model to act on. */
export class ToolError extends Error {
  override name = 'ToolError';
}

export const MAX_READ_CHARS = 24_000;

export function safePath(path: string): string {
  const normalized = normalize(path.trim()).split(sep).join('/').replace(/^\.\//, '');
  if (normalized.startsWith('/') || normalized === '..' || normalized.startsWith('../') || normalized === '.' || normalized === '') {
    throw new ToolError(`'${path}' is outside the workspace; paths are relative to the workspace root (see list_files)`);
  }
  return normalized;
}

function getDotted(config: unknown, dottedKey: string): unknown {
  let node = config;
  for (const key of dottedKey.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Line-level hint for a search block that did not match: the first line of it that is missing from the file. */
function mismatchHint(content: string, search: string): string {
  const lines = new Set(content.split('\n'));
  const missing = search.split('\n').find((line) => !lines.has(line));
  if (missing === undefined) return ' (every line exists, but not in this order or not adjacent)';
  const squeeze = (text: string) => text.replace(/\s+/g, ' ').trim();
  const loose = squeeze(missing) === '' ? undefined : content.split('\n').find((line) => squeeze(line).includes(squeeze(missing)));
  return loose !== undefined
    ? ` (the line ${JSON.stringify(missing)} exists with different whitespace: ${JSON.stringify(loose)})`
    : ` (no line of the file is ${JSON.stringify(missing.slice(0, 200))})`;
}

export class Workbench {
  readonly access: WorkspaceAccess;
  private readonly parentDir: string;
  private readonly baseFiles: string[];
  /** Staged file contents by path; null: deleted. */
  private readonly staged = new Map<string, string | null>();
  private readonly edits: FileEdit[] = [];
  private readonly knobs: Record<string, KnobValue> = {};
  private readonly editable: (path: string) => boolean;

  constructor(private readonly context: ResearchContext, readonly parent: ExperimentSummary) {
    if (!context.workspace) throw new Error('this researcher needs the lab\'s workspace access (ResearchContext.workspace)');
    this.access = context.workspace;
    this.parentDir = this.access.materialise(parent.id);
    this.baseFiles = listFiles(this.parentDir);
    this.editable = workspaceMatcher([...this.access.editable]);
  }

  get editCount(): number {
    return this.edits.length + Object.keys(this.knobs).length;
  }

  listFiles(experimentId?: string): string[] {
    if (experimentId && experimentId !== this.parent.id) return listFiles(this.access.materialise(this.experiment(experimentId).id));
    const files = new Set(this.baseFiles);
    for (const [path, content] of this.staged) {
      if (content === null) files.delete(path);
      else files.add(path);
    }
    return [...files].sort();
  }

  /** A file of the staged workspace (or of another experiment's), with a note when it is cut. */
  readFile(path: string, experimentId?: string): string {
    const relative = safePath(path);
    if (!experimentId || experimentId === this.parent.id) {
      const content = this.current(relative);
      if (content === null) throw new ToolError(`'${relative}' does not exist; list_files shows the workspace`);
      return cut(content);
    }
    const dir = this.access.materialise(this.experiment(experimentId).id);
    return cut(readWorkspaceFile(dir, relative) ?? raise(`'${relative}' does not exist in ${experimentId}`));
  }

  /** Applies one exact search/replace block to the staged copy. An empty search creates a new file. */
  editFile(path: string, search: string, replace: string): string {
    const relative = safePath(path);
    if (!this.editable(relative)) throw new ToolError(`'${relative}' is not editable in this task; editable: ${this.access.editable.join(', ')}`);
    const content = this.current(relative);
    let next: string;
    if (search === '') {
      if (content !== null) throw new ToolError(`'${relative}' exists; an empty search text only creates new files — give the exact text to replace`);
      next = replace;
    } else {
      if (content === null) throw new ToolError(`'${relative}' does not exist; to create it, use an empty search text`);
      const first = content.indexOf(search);
      if (first < 0) throw new ToolError(`the search text was not found in '${relative}'; it must match the file exactly, whitespace included${mismatchHint(content, search)}. Read the file again and copy the lines exactly.`);
      if (content.indexOf(search, first + 1) >= 0) throw new ToolError(`the search text occurs more than once in '${relative}'; include more surrounding lines so it matches exactly once`);
      next = content.slice(0, first) + replace + content.slice(first + search.length);
    }
    if (relative === this.access.configFile) {
      this.stageConfig(relative, next);
    } else {
      this.edits.push(search === '' ? { kind: 'write', path: relative, content: next } : { kind: 'replace', path: relative, search, replace });
      this.staged.set(relative, next);
    }
    return `edited ${relative}; ${this.editCount} change(s) staged`;
  }

  private stageConfig(path: string, next: string): void {
    let config: unknown;
    try {
      config = JSON.parse(next);
    } catch (error) {
      throw new ToolError(`'${path}' must stay valid JSON: ${(error as Error).message}`);
    }
    const base = this.parent.assignment;
    const knobs: Record<string, KnobValue> = {};
    for (const [name, knob] of Object.entries(this.context.task.space)) {
      const value = getDotted(config, knob.key ?? name);
      if (value !== undefined && value !== base[name]) knobs[name] = value as KnobValue;
    }
    try {
      mergeAssignment(this.context.task.space, base, knobs);
    } catch (error) {
      if (error instanceof ChangeError) throw new ToolError(`${error.message} (${path} holds the task's knobs)`);
      throw error;
    }
    for (const name of Object.keys(this.knobs)) delete this.knobs[name];
    Object.assign(this.knobs, knobs);
    const index = this.edits.findIndex((edit) => edit.path === path);
    if (index >= 0) this.edits.splice(index, 1);
    const original = readWorkspaceFile(this.parentDir, path);
    if (!sameJsonOutsideKnobs(original, config, Object.keys(knobs).map((name) => this.context.task.space[name].key ?? name))) {
      this.edits.push({ kind: 'write', path, content: next });
    }
    this.staged.set(path, next);
  }

  /** Undoes every staged edit. */
  reset(): void {
    this.staged.clear();
    this.edits.length = 0;
    for (const name of Object.keys(this.knobs)) delete this.knobs[name];
  }

  change(): Change {
    return { knobs: { ...this.knobs }, edits: this.edits.map((edit) => ({ ...edit })) };
  }

  /** The staged change as a readable summary (for the model and for descriptions). */
  describeChange(): string {
    const knobs = Object.entries(this.knobs).map(([name, value]) => `${name}=${JSON.stringify(value)}`);
    const files = [...new Set(this.edits.map((edit) => edit.path))];
    return [...knobs, ...files.map((path) => `edit ${path}`)].join(', ') || 'nothing staged';
  }

  readLog(experimentId: string, stream: 'stdout' | 'stderr', tailChars = 8000): string {
    const log = this.access.readLog(this.experiment(experimentId).id, stream);
    if (log === null) return `(no ${stream} captured for ${experimentId})`;
    return log.length > tailChars ? `[... ${log.length - tailChars} earlier characters cut]\n${log.slice(-tailChars)}` : log || `(${stream} is empty)`;
  }

  experiment(id: string): ExperimentSummary {
    const found = this.context.history.find((experiment) => experiment.id === id);
    if (!found) throw new ToolError(`no experiment '${id}' in this run; get_history lists them`);
    return found;
  }

  private current(path: string): string | null {
    if (this.staged.has(path)) return this.staged.get(path) ?? null;
    return readWorkspaceFile(this.parentDir, path);
  }

  /** The assignment the staged change would run with. */
  assignment(): Assignment {
    return { ...this.parent.assignment, ...this.knobs };
  }
}

function raise(message: string): never {
  throw new ToolError(message);
}

function cut(content: string): string {
  return content.length > MAX_READ_CHARS ? `${content.slice(0, MAX_READ_CHARS)}\n[... ${content.length - MAX_READ_CHARS} more characters cut]` : content;
}

/** Reads a regular file of a workspace; links and anything outside are refused (a link could point at secrets). */
function readWorkspaceFile(dir: string, relative: string): string | null {
  const absolute = join(dir, relative);
  if (!existsSync(absolute)) return null;
  const stat = lstatSync(absolute);
  if (stat.isSymbolicLink()) throw new ToolError(`'${relative}' is a symbolic link; links are not read`);
  if (!stat.isFile()) throw new ToolError(`'${relative}' is not a file`);
  return readFileSync(absolute, 'utf8');
}

/** Whether two config documents differ only at the given (knob) keys. */
function sameJsonOutsideKnobs(original: string | null, next: unknown, knobKeys: string[]): boolean {
  if (original === null) return false;
  const strip = (value: unknown): unknown => {
    const copy = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
    for (const dotted of knobKeys) {
      const keys = dotted.split('.');
      let node: Record<string, unknown> | undefined = copy;
      for (const key of keys.slice(0, -1)) node = node && typeof node[key] === 'object' ? (node[key] as Record<string, unknown>) : undefined;
      if (node) delete node[keys[keys.length - 1]];
    }
    return copy;
  };
  try {
    return JSON.stringify(strip(JSON.parse(original))) === JSON.stringify(strip(next));
  } catch {
    return false;
  }
}
