/**
 * Prepares a task's trusted data once per task version: runs the harness's `prepare` script, which writes
 * `inputs/` (mounted read-only into every sandbox) and `hidden/` (never mounted: held-out splits, true answers).
 * A task with a `stage` script also gets a per-run copy of both (stageRunData), and its runs see only that.
 * Both scripts run in the lab's sandbox (trusted-script.ts) with the task's harness limits; what they write is
 * admitted like any tree that leaves a sandbox (admit-tree.ts) before a run or the scorer reads it. The task's
 * declared environment is checked against this machine first (environment.ts), every time, before the cache.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { admitTree } from '../sandbox/admit-tree.js';
import { removeTree } from '../sandbox/remove-tree.js';
import type { Sandbox } from '../sandbox/types.js';
import { TaskError } from './errors.js';
import { type HostEnvironment, resolveEnvironment } from './environment.js';
import { harnessProgram } from './harness-script.js';
import { nearestManifest, type Task } from './loader.js';
import { runTrustedScript, type TrustedScriptOptions, type TrustedScriptResult } from './trusted-script.js';
import { listFiles } from './workspace.js';

/** What the trusted scripts read besides the project root: the harness folder and the manifest that makes it ESM. */
export function harnessMounts(task: Task): string[] {
  const manifest = nearestManifest(task.harnessDir);
  return [task.harnessDir, ...(manifest ? [manifest] : [])];
}

/** What a trusted script gets of the task's declared environment besides its mounts: variables and devices. */
export function environmentOptions(environment: HostEnvironment): Pick<TrustedScriptOptions, 'variables' | 'devices'> {
  return { variables: environment.variables, devices: environment.devices };
}

/** Host paths a trusted script reads besides the harness and its data: every mount, the harness-only ones too. */
export function environmentMounts(environment: HostEnvironment): string[] {
  return [...environment.readOnlyPaths, ...environment.harnessReadOnlyPaths];
}

/** Data the harness's own scripts write: generous caps, only against a script gone wrong. */
const DATA_CAPS = { maxDepth: 32, maxEntries: 1_000_000, maxBytes: 2 ** 40 };

export interface PreparedTask {
  dir: string;
  inputsDir: string;
  hiddenDir: string;
  /** Hash of the harness folder's files: a task whose harness changed gets new data and new calibrations. */
  harnessHash: string;
  /** The task's declared environment as this machine provides it. */
  environment: HostEnvironment;
}

export function hashFolder(dir: string, ignore: string[] = []): string {
  const hash = createHash('sha256');
  for (const path of listFiles(dir, ignore)) {
    hash.update(path).update('\0').update(readFileSync(join(dir, path))).update('\0');
  }
  return hash.digest('hex');
}

/** `sandbox` runs the prepare script; absent, it runs unsandboxed with its limits (tests, tools). */
export async function prepareTask(task: Task, stateDir: string, sandbox?: Sandbox): Promise<PreparedTask> {
  const environment = resolveEnvironment(task, stateDir);
  const harnessHash = hashFolder(task.harnessDir);
  const dir = join(stateDir, 'tasks', `${task.file.name}-${task.file.version}-${harnessHash.slice(0, 12)}`);
  const prepared = { dir, inputsDir: join(dir, 'inputs'), hiddenDir: join(dir, 'hidden'), harnessHash, environment };
  if (existsSync(join(dir, 'ready'))) return prepared;
  const staging = `${dir}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'inputs'), { recursive: true });
  mkdirSync(join(staging, 'hidden'), { recursive: true });
  if (task.file.harness.prepare) {
    const limits = task.file.harness.limits;
    const folders = { inputs: join(staging, 'inputs'), hidden: join(staging, 'hidden'), workdir: staging };
    const result = await runTrustedScript(harnessProgram(task.harnessDir, task.file.harness.prepare, folders), {
      SUCCESSOR_INPUTS: folders.inputs,
      SUCCESSOR_HIDDEN: folders.hidden,
      SUCCESSOR_PARAMS: JSON.stringify(task.file.harness.params),
    }, 2 * limits.wallSeconds, {
      sandbox, workdir: staging, limits: { ...limits, cpuSeconds: 2 * limits.cpuSeconds },
      ...environmentOptions(environment), readOnlyPaths: [...harnessMounts(task), ...environmentMounts(environment)],
    });
    const admitted = result.exitCode === 0 && result.termination === 'exited' ? await admitTree(staging, DATA_CAPS) : null;
    if (!admitted?.admitted) {
      await removeTree(staging);
      const why = admitted && !admitted.admitted ? `it left ${admitted.reason}` : scriptFailure(result);
      throw new TaskError(`${task.file.name}: the harness's prepare script failed: ${why}`);
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
  /** CPU time the stage script spent for this run (counted into the experiment's), when measured. */
  cpuSeconds?: number | null;
}

/**
 * Runs the task's `stage` script for one experiment: it reads the prepared `inputs/` and `hidden/` and writes this
 * run's own copies, given a fresh random key that only trusted scripts see. A stage failure is the harness's fault,
 * not the candidate's, so it throws.
 */
export async function stageRunData(task: Task, prepared: PreparedTask, dir: string, sandbox?: Sandbox): Promise<RunData> {
  if (!task.file.harness.stage) return { inputsDir: prepared.inputsDir, hiddenDir: prepared.hiddenDir };
  const staged: Required<Omit<RunData, 'cpuSeconds'>> = { inputsDir: join(dir, 'inputs'), hiddenDir: join(dir, 'hidden'), key: randomBytes(32).toString('hex'), stagedDir: dir };
  await removeTree(dir);
  mkdirSync(staged.inputsDir, { recursive: true });
  mkdirSync(staged.hiddenDir, { recursive: true });
  const program = harnessProgram(task.harnessDir, task.file.harness.stage, { inputs: prepared.inputsDir, hidden: prepared.hiddenDir, workdir: dir });
  const result = await runTrustedScript(program, {
    SUCCESSOR_INPUTS: prepared.inputsDir,
    SUCCESSOR_HIDDEN: prepared.hiddenDir,
    SUCCESSOR_RUN_INPUTS: staged.inputsDir,
    SUCCESSOR_RUN_HIDDEN: staged.hiddenDir,
    SUCCESSOR_RUN_KEY: staged.key,
    SUCCESSOR_PARAMS: JSON.stringify(task.file.harness.params),
  }, task.file.harness.limits.wallSeconds, {
    sandbox, workdir: dir, limits: task.file.harness.limits,
    ...environmentOptions(prepared.environment), readOnlyPaths: [...harnessMounts(task), prepared.inputsDir, prepared.hiddenDir, ...environmentMounts(prepared.environment)],
  });
  const admitted = result.exitCode === 0 && result.termination === 'exited' ? await admitTree(dir, DATA_CAPS) : null;
  if (!admitted?.admitted) {
    await removeTree(dir);
    const why = admitted && !admitted.admitted ? `it left ${admitted.reason}` : scriptFailure(result);
    throw new TaskError(`${task.file.name}: the harness's stage script failed: ${why}`);
  }
  return { ...staged, cpuSeconds: result.cpuSeconds };
}

/** Why a trusted script failed: the limit that stopped it, else its first error line. */
export function scriptFailure(result: TrustedScriptResult): string {
  if (result.termination !== 'exited' && result.termination !== 'signaled') return `stopped at its ${result.termination} limit`;
  const lines = result.stderr.trim().split('\n');
  return (lines.find((line) => /Error|error:/.test(line)) ?? lines.at(-1) ?? `exit code ${result.exitCode}`).trim();
}
