/**
 * Prepares a task's trusted data once per task version: runs the harness's `prepare` script, which writes
 * `inputs/` (mounted read-only into every sandbox) and `hidden/` (never mounted: held-out splits, true answers).
 * A task with a `stage` script also gets a per-run copy of both (stageRunData), and its runs see only that.
 */
import { createHash, randomBytes } from 'node:crypto';
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
      throw new TaskError(`${task.file.name}: the harness's prepare script failed: ${firstError(result.stderr, result.exitCode)}`);
    }
  }
  writeFileSync(join(staging, 'ready'), `${new Date().toISOString()}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  return prepared;
}

/** The data one experiment sees: its own staged copy when the task has a `stage` script, else the prepared folders. */
export interface RunData {
  inputsDir: string;
  hiddenDir: string;
  /** The per-run secret handed to the stage and score scripts (never to the run), or absent without a stage. */
  key?: string;
  /** The staged folder to remove once the run is scored, or absent without a stage. */
  stagedDir?: string;
}

/**
 * Runs the task's `stage` script for one experiment: it reads the prepared `inputs/` and `hidden/` and writes this
 * run's own copies, given a fresh random key that only trusted scripts see. A stage failure is the harness's fault,
 * not the candidate's, so it throws.
 */
export async function stageRunData(task: Task, prepared: PreparedTask, dir: string): Promise<RunData> {
  if (!task.file.harness.stage) return { inputsDir: prepared.inputsDir, hiddenDir: prepared.hiddenDir };
  const staged: Required<RunData> = { inputsDir: join(dir, 'inputs'), hiddenDir: join(dir, 'hidden'), key: randomBytes(32).toString('hex'), stagedDir: dir };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(staged.inputsDir, { recursive: true });
  mkdirSync(staged.hiddenDir, { recursive: true });
  const result = await runTrustedScript(join(task.harnessDir, task.file.harness.stage), {
    SUCCESSOR_INPUTS: prepared.inputsDir,
    SUCCESSOR_HIDDEN: prepared.hiddenDir,
    SUCCESSOR_RUN_INPUTS: staged.inputsDir,
    SUCCESSOR_RUN_HIDDEN: staged.hiddenDir,
    SUCCESSOR_RUN_KEY: staged.key,
    SUCCESSOR_PARAMS: JSON.stringify(task.file.harness.params),
  }, 300);
  if (result.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new TaskError(`${task.file.name}: the harness's stage script failed: ${firstError(result.stderr, result.exitCode)}`);
  }
  return staged;
}

function firstError(stderr: string, exitCode: number | null): string {
  const lines = stderr.trim().split('\n');
  return (lines.find((line) => /Error|error:/.test(line)) ?? lines.at(-1) ?? `exit code ${exitCode}`).trim();
}
