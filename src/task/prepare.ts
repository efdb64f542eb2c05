/**
 * Prepares a task's trusted data once per task version: runs the harness's `prepare` script, which writes
 * `inputs/` (mounted read-only into every sandbox) and `hidden/` (never mounted: held-out splits, true answers).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TaskError } from './errors.js';
import type { Task } from './loader.js';
import { runTrustedScript } from './trusted-script.js';
import { listFiles } from './workspace.js';

export interface PreparedTask {
  dir: string;
  inputsDir: string;
  hiddenDir: string;
  /** Hash of the harness folder's files: a task whose harness changed gets new data and new calibrations. */
  harnessHash: string;
}

export function hashFolder(dir: string, ignore: string[] = []): string {
  const hash = createHash('sha256');
  for (const path of listFiles(dir, ignore)) {
    hash.update(path).update('\0').update(readFileSync(join(dir, path))).update('\0');
  }
  return hash.digest('hex');
}

export async function prepareTask(task: Task, stateDir: string): Promise<PreparedTask> {
  const harnessHash = hashFolder(task.harnessDir);
  const dir = join(stateDir, 'tasks', `${task.file.name}-${task.file.version}-${harnessHash.slice(0, 12)}`);
  const prepared = { dir, inputsDir: join(dir, 'inputs'), hiddenDir: join(dir, 'hidden'), harnessHash };
  if (existsSync(join(dir, 'ready'))) return prepared;
  const staging = `${dir}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'inputs'), { recursive: true });
  mkdirSync(join(staging, 'hidden'), { recursive: true });
  if (task.file.harness.prepare) {
    const result = await runTrustedScript(join(task.harnessDir, task.file.harness.prepare), {
      SUCCESSOR_INPUTS: join(staging, 'inputs'),
      SUCCESSOR_HIDDEN: join(staging, 'hidden'),
      SUCCESSOR_PARAMS: JSON.stringify(task.file.harness.params),
    }, 600);
    if (result.exitCode !== 0) {
      rmSync(staging, { recursive: true, force: true });
      const lines = result.stderr.trim().split('\n');
      const error = lines.find((line) => /Error|error:/.test(line)) ?? lines.at(-1) ?? `exit code ${result.exitCode}`;
      throw new TaskError(`${task.file.name}: the harness's prepare script failed: ${error.trim()}`);
    }
  }
  writeFileSync(join(staging, 'ready'), `${new Date().toISOString()}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  return prepared;
}
