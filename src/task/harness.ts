/**
 * The trusted harness: one experiment from files to outcome.
 *   materialise the workspace -> stage this run's data -> hash the harness -> run the command in the sandbox (the harness owns the clock)
 *   -> hash again -> collect artifacts and logs -> score them in a separate trusted process -> classify.
 * Every expected failure becomes an Outcome value; only infrastructure faults throw.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Sandbox, SandboxResult } from '../sandbox/types.js';
import { compareHashes, hashTree } from '../sandbox/integrity.js';
import { ChangeError } from './errors.js';
import { formatSeconds } from './format-number.js';
import type { Task } from './loader.js';
import type { Metrics, Outcome } from './outcome.js';
import { type PreparedTask, type RunData, stageRunData } from './prepare.js';
import { PROJECT_ROOT, runTrustedScript } from './trusted-script.js';
import { type Lineage, materialiseWorkspace, writeConfigValue } from './workspace.js';
import { ScorerReport } from './scorer-report.js';

const SCORER_TIMEOUT_SECONDS = 300;

export interface ExperimentRequest {
  task: Task;
  prepared: PreparedTask;
  sandbox: Sandbox;
  lineage: Lineage;
  /** Folder that receives logs and artifacts; created if needed. */
  experimentDir: string;
  /** Scratch folder for the run; removed afterwards. */
  scratchDir: string;
  /**
   * Folder for this run's own data when the task has a stage script; removed afterwards. Its path is visible to the
   * run (it is mounted read-only), so keep it apart from other experiments' folders.
   */
  stagedDataDir: string;
  /** Overrides the task's wall-clock limit (the loop caps candidates near the incumbent's time). */
  wallSecondsCap?: number;
  /** The machine's FLOP/s bound (machine.ts), handed to the scorer for its physical bounds. */
  machineFlops?: number;
  /** Written to the task's run.seedKey: the harness, not the researcher, owns the seed. */
  seed?: number;
  signal?: AbortSignal;
}

export interface ExperimentResult {
  outcome: Outcome;
  wallSeconds: number | null;
  logDir: string;
  artifactsDir: string | null;
}

const NODE_BIN_DIR = dirname(process.execPath);
const NODE_MODULES = join(PROJECT_ROOT, 'node_modules');
const TSX_LOADER = join(NODE_MODULES, 'tsx/dist/loader.mjs');

function fillPlaceholders(argument: string, values: Record<string, string>): string {
  return argument.replace(/\{(node|tsx|inputs|artifacts|workdir)\}/g, (_, name: string) => values[name]);
}

/** The most telling part of a failed run's stderr: its last error line, else its last lines. */
function tail(text: string, lines = 6): string {
  const all = text.trim().split('\n');
  const error = all.findLast((line) => /\b\w*(Error|Exception)\b|error:/i.test(line) && !/^\s+at /.test(line));
  return (error?.trim() ?? all.slice(-lines).join(' | ')).slice(0, 1000);
}

function classifyRun(result: SandboxResult, wallSecondsLimit: number): Outcome | null {
  const metrics: Metrics = { wallSeconds: result.wallMs / 1000, exitCode: result.exitCode, cpuSeconds: result.cpuSeconds, peakMemoryBytes: result.peakMemoryBytes };
  switch (result.termination) {
    case 'timeout':
      return { status: 'timeout', reason: `killed at the ${formatSeconds(wallSecondsLimit)} wall-clock limit`, metrics };
    case 'memory':
      return { status: 'oom', reason: 'killed at the memory limit', metrics };
    case 'processes':
      return { status: 'failed', reason: 'killed: too many processes', metrics };
    case 'disk':
      return { status: 'failed', reason: 'killed: disk limit exceeded', metrics };
    case 'output':
      return { status: 'failed', reason: 'killed: output limit exceeded', metrics };
    case 'aborted':
      return { status: 'failed', reason: 'stopped by the lab', metrics };
    case 'signaled':
      return { status: 'failed', reason: `crashed with ${result.signal}: ${tail(result.stderr)}`, metrics };
    case 'exited':
      return result.exitCode === 0 ? null : { status: 'failed', reason: `exited with code ${result.exitCode}: ${tail(result.stderr)}`, metrics };
  }
}

/** The first symbolic link at or below `path` (not followed), or null. */
function findSymbolicLink(path: string): string | null {
  if (!existsSync(path) && !isLink(path)) return null;
  const stats = lstatSync(path);
  if (stats.isSymbolicLink()) return path;
  if (!stats.isDirectory()) return null;
  for (const name of readdirSync(path)) {
    const found = findSymbolicLink(join(path, name));
    if (found) return found;
  }
  return null;
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

export async function runExperiment(request: ExperimentRequest): Promise<ExperimentResult> {
  const { task, prepared } = request;
  const logDir = join(request.experimentDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const workdir = request.scratchDir;
  try {
    materialiseWorkspace(task, request.lineage, workdir);
    if (task.file.run.seedKey && task.file.run.configFile && request.seed !== undefined) {
      writeConfigValue(workdir, task.file.run.configFile, task.file.run.seedKey, request.seed);
    }
  } catch (error) {
    if (error instanceof ChangeError) return { outcome: { status: 'failed', reason: `change did not apply: ${error.message}`, metrics: {} }, wallSeconds: null, logDir, artifactsDir: null };
    throw error;
  }
  // The workspace's imports resolve through this link to the lab's dependencies, mounted read-only.
  if (!existsSync(join(workdir, 'node_modules'))) symlinkSync(NODE_MODULES, join(workdir, 'node_modules'));

  const data = await stageRunData(task, prepared, request.stagedDataDir);
  try {
    return await runStaged(request, data, logDir);
  } finally {
    if (data.stagedDir) rmSync(data.stagedDir, { recursive: true, force: true });
  }
}

async function runStaged(request: ExperimentRequest, data: RunData, logDir: string): Promise<ExperimentResult> {
  const { task, prepared, sandbox } = request;
  const workdir = request.scratchDir;
  const artifactsInWorkdir = join(workdir, task.file.run.artifacts);
  const values = { node: process.execPath, tsx: TSX_LOADER, inputs: data.inputsDir, artifacts: artifactsInWorkdir, workdir };
  const command = task.file.run.command.map((argument) => fillPlaceholders(argument, values));
  const limits = task.file.run.limits;
  const wallSecondsLimit = Math.min(limits.wallSeconds, request.wallSecondsCap ?? Number.POSITIVE_INFINITY);
  const trustedPaths = [task.harnessDir, prepared.dir, ...(data.stagedDir ? [data.stagedDir] : [])];

  const before = await hashTree(trustedPaths);
  const result = await sandbox.run(
    {
      command,
      workdir,
      readOnlyPaths: [NODE_BIN_DIR, NODE_MODULES, data.inputsDir],
      env: {
        PATH: `${NODE_BIN_DIR}:/usr/local/bin:/usr/bin:/bin`,
        HOME: workdir,
        TMPDIR: '/tmp',
        LANG: 'C.UTF-8',
        SUCCESSOR_THREADS: String(limits.threads),
        UV_THREADPOOL_SIZE: String(limits.threads),
      },
      limits: {
        wallSeconds: wallSecondsLimit,
        memoryBytes: limits.memoryMb * 2 ** 20,
        processes: limits.processes,
        fileSizeBytes: limits.fileSizeMb * 2 ** 20,
        diskBytes: limits.diskMb * 2 ** 20,
        outputBytes: limits.outputKb * 1024,
      },
    },
    request.signal,
  );
  const after = await hashTree(trustedPaths);
  writeFileSync(join(logDir, 'stdout.log'), result.stdout);
  writeFileSync(join(logDir, 'stderr.log'), result.stderr);
  const wallSeconds = result.wallMs / 1000;

  const integrity = compareHashes(before, after);
  const tampered = [...integrity.changed.map((path) => `changed ${path}`), ...integrity.added.map((path) => `added ${path}`), ...integrity.removed.map((path) => `removed ${path}`)];
  if (!integrity.intact) {
    return { outcome: { status: 'invalid', reason: `harness files changed during the run: ${tampered.slice(0, 5).join(', ')}`, metrics: { wallSeconds } }, wallSeconds, logDir, artifactsDir: null };
  }
  const runFailure = classifyRun(result, wallSecondsLimit);
  if (runFailure) return { outcome: runFailure, wallSeconds, logDir, artifactsDir: null };

  // The scorer runs outside the sandbox: a link among the artifacts would make it read host files (a trained
  // checkpoint elsewhere, the hidden split) as if the run had produced them.
  const link = findSymbolicLink(artifactsInWorkdir);
  if (link) {
    return { outcome: { status: 'invalid', reason: `the artifacts contain a symbolic link (${relative(workdir, link)}); artifacts must be files the run wrote`, metrics: { wallSeconds } }, wallSeconds, logDir, artifactsDir: null };
  }
  let artifactsDir: string | null = null;
  if (existsSync(artifactsInWorkdir)) {
    artifactsDir = join(request.experimentDir, 'artifacts');
    rmSync(artifactsDir, { recursive: true, force: true });
    renameSync(artifactsInWorkdir, artifactsDir);
  }
  const outcome = await score(task, data, artifactsDir, wallSeconds, join(logDir, 'stdout.log'), request.machineFlops);
  outcome.metrics = { ...outcome.metrics, cpuSeconds: result.cpuSeconds, peakMemoryBytes: result.peakMemoryBytes };
  return { outcome, wallSeconds, logDir, artifactsDir };
}

async function score(task: Task, data: RunData, artifactsDir: string | null, wallSeconds: number, stdoutPath: string, machineFlops?: number): Promise<Outcome> {
  const scorer = join(task.harnessDir, task.file.harness.score);
  const result = await runTrustedScript(scorer, {
    SUCCESSOR_ARTIFACTS: artifactsDir ?? '',
    SUCCESSOR_INPUTS: data.inputsDir,
    SUCCESSOR_HIDDEN: data.hiddenDir,
    ...(data.key ? { SUCCESSOR_RUN_KEY: data.key } : {}),
    ...(machineFlops ? { SUCCESSOR_MACHINE_FLOPS: String(machineFlops) } : {}),
    SUCCESSOR_PARAMS: JSON.stringify(task.file.harness.params),
    SUCCESSOR_WALL_SECONDS: String(wallSeconds),
    SUCCESSOR_STDOUT: stdoutPath,
  }, SCORER_TIMEOUT_SECONDS);
  const base: Metrics = { wallSeconds };
  if (result.timedOut) return { status: 'failed', reason: 'the scorer timed out', metrics: base };
  const lastLine = result.stdout.trim().split('\n').pop() ?? '';
  let report: ScorerReport;
  try {
    report = ScorerReport.parse(JSON.parse(lastLine));
  } catch {
    return { status: 'failed', reason: `the scorer gave no verdict (exit ${result.exitCode}): ${tail(result.stderr)}`, metrics: base };
  }
  const metrics = { ...report.metrics, ...base };
  if (!report.passed) return { status: 'failed', reason: report.reason ?? 'did not pass the scorer', metrics };
  const score = task.file.metric.source === 'wall-seconds' ? wallSeconds : report.score;
  if (score === undefined) return { status: 'failed', reason: 'the scorer passed the run but gave no score', metrics };
  if (report.suspect) return { status: 'suspect', score, reason: `${report.suspect.bound} bound: ${report.suspect.reason}`, metrics: { ...metrics, bound: report.suspect.bound } };
  return { status: 'ok', score, metrics };
}
