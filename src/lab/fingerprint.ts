/**
 * What makes two proposals the same: the workspace they would run. A fingerprint hashes every file of a
 * materialised workspace after normalising it (line ends, blanks between tokens, empty lines; the config
 * file as canonical JSON, so knob values count by value, not by how they were written), so an edit that only
 * re-words whitespace, or reaches the same files by another sequence of edits, or sets a knob back to the value it
 * had, is recognised as one already tried.
 * Is not: a judge of whether two different programs behave the same (only equal texts are equal here).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../journal/canonical-json.js';
import type { Task } from '../task/loader.js';
import { type Lineage, listFiles, materialiseWorkspace } from '../task/workspace.js';

/**
 * Text with the differences a program does not see removed: CRLF, empty lines, and blanks, except one between two
 * word characters (`return x`). Blanks inside string literals go too: two proposals that differ only there are taken
 * for one (rare, and only ever refuses a repeat it should have run, never runs one it should have refused).
 */
export function normaliseSource(text: string): string {
  return text.replace(/\r\n?/g, '\n').split('\n')
    .map((line) => line.replace(/[ \t]+/g, ' ').trim().replace(/ (?=[^\w$])|(?<=[^\w$]) /g, ''))
    .filter((line) => line !== '')
    .join('\n');
}

function normaliseConfig(text: string): string {
  try {
    return canonicalJson(JSON.parse(text));
  } catch {
    return normaliseSource(text);
  }
}

/** The fingerprint of a materialised workspace folder (the task's ignored paths left out). */
export function fingerprintWorkspace(task: Task, dir: string): string {
  const hash = createHash('sha256');
  const configFile = task.file.run.configFile;
  for (const path of listFiles(dir, task.file.workspace.ignore)) {
    const bytes = readFileSync(join(dir, path));
    const isText = !bytes.subarray(0, 8000).includes(0);
    const content = !isText ? bytes.toString('base64') : path === configFile ? normaliseConfig(bytes.toString('utf8')) : normaliseSource(bytes.toString('utf8'));
    hash.update(path).update('\0').update(content).update('\0');
  }
  return hash.digest('hex').slice(0, 32);
}

/** The fingerprint of the workspace a lineage runs (materialised once in the state dir's scratch). */
export function workspaceFingerprint(task: Task, lineage: Lineage, stateDir: string): string {
  const scratch = join(stateDir, 'scratch');
  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(join(scratch, 'fingerprint-'));
  try {
    materialiseWorkspace(task, lineage, join(dir, 'workspace'));
    return fingerprintWorkspace(task, join(dir, 'workspace'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
