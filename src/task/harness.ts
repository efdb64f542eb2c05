/**
 * The trusted harness: one experiment from files to outcome.
 *   materialise the workspace (and bound its lineage) -> stage this run's data -> hash the harness -> run the
 *   command in the sandbox (the harness owns the clock) -> hash again -> admit the artifacts (artifacts.ts: only
 *   files and folders, normalised, within caps) and move them out -> score them in a sandbox of the scorer's own
 *   (its limits; its CPU time counted into the experiment's) -> admit the artifacts again -> classify.
 * Every expected failure becomes an Outcome value; only infrastructure faults throw.
 */
import { lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { admitTree } from '../sandbox/admit-tree.js';
import { compareHashes, hashTree } from '../sandbox/integrity.js';
import { removeTree } from '../sandbox/remove-tree.js';
import type { Sandbox, SandboxResult } from '../sandbox/types.js';
import { artifactCaps, takeArtifacts } from './artifacts.js';
import { ChangeError } from './errors.js';
import { formatSeconds } from './format-number.js';
import type { Task } from './loader.js';
import type { Metrics, Outcome } from './outcome.js';
import { harnessProgram } from './harness-script.js';
import { environmentMounts, environmentOptions, harnessMounts, type PreparedTask, type RunData, stageRunData } from './prepare.js';
import { PROJECT_ROOT, runTrustedScript, type TrustedScriptResult } from './trusted-script.js';
import { checkWorkspaceGrowth, type Lineage, materialiseWorkspace, writeConfigValue } from './workspace.js';
import { ScorerReport } from './scorer-report.js';
import { type EarlyStop, type ProgressCurve, type ProgressWatch, watchProgress } from './progress.js';
import { availableParallelism } from 'node:os';

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
  /** Stop the run early when its progress lines fall behind the incumbent's curve (tasks with run.progress). */
  earlyStop?: EarlyStop;
  /** Each progress line as it comes (the run's claim), with the harness's elapsed seconds. */
  onProgress?: (line: string, elapsedSeconds: number) => void;
}

export interface ExperimentResult {
  outcome: Outcome;
  wallSeconds: number | null;
  logDir: string;
  artifactsDir: string | null;
  /** The run's progress curve (harness clock, the run's values), thinned; absent for tasks without run.progress. */
  progress?: ProgressCurve;
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
    case 'files':
      return { status: 'failed', reason: 'killed: file limit exceeded (too many files, or folders nested too deep)', metrics };
    case 'cpu':
      return { status: 'failed', reason: 'killed: CPU-time limit exceeded', metrics };
    case 'output':
      return { status: 'failed', reason: 'killed: output limit exceeded', metrics };
    case 'aborted':
      return { status: 'failed', reason: 'stopped by the lab', metrics };
    case 'stopped':
      return { status: 'timeout', reason: `stopped early: ${result.stopReason ?? 'behind the incumbent'}`, metrics: { ...metrics, stoppedEarly: true } };
    case 'signaled':
      return { status: 'failed', reason: `crashed with ${result.signal}: ${tail(result.stderr)}`, metrics };
    case 'exited':
      return result.exitCode === 0 ? null : { status: 'failed', reason: `exited with code ${result.exitCode}: ${tail(result.stderr)}`, metrics };
  }
}

export async function runExperiment(request: ExperimentRequest): Promise<ExperimentResult> {
  const { task, prepared } = request;
  const logDir = join(request.experimentDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const workdir = request.scratchDir;
  try {
    materialiseWorkspace(task, request.lineage, workdir);
    // Checked again here, not only when proposed: a lineage is whatever its ancestors left, whoever proposed them.
    checkWorkspaceGrowth(task, workdir);
    if (task.file.run.seedKey && task.file.run.configFile && request.seed !== undefined) {
      writeConfigValue(workdir, task.file.run.configFile, task.file.run.seedKey, request.seed);
    }
  } catch (error) {
    if (error instanceof ChangeError) return { outcome: { status: 'failed', reason: `change did not apply: ${error.message}`, metrics: {} }, wallSeconds: null, logDir, artifactsDir: null };
    throw error;
  }
  // The workspace's imports resolve through this link to the lab's dependencies, mounted read-only.
  if (!lstatSync(join(workdir, 'node_modules'), { throwIfNoEntry: false })) symlinkSync(NODE_MODULES, join(workdir, 'node_modules'));

  const data = await stageRunData(task, prepared, request.stagedDataDir, request.sandbox);
  try {
    return await runStaged(request, data, logDir);
  } finally {
    if (data.stagedDir) await removeTree(data.stagedDir);
  }
}

/** The run's progress lines are watched while it runs; whatever the outcome, its curve comes back with it. */
async function runStaged(request: ExperimentRequest, data: RunData, logDir: string): Promise<ExperimentResult> {
  const spec = request.task.file.run.progress;
  const progress = spec ? watchProgress(spec, request.earlyStop, request.onProgress) : null;
  const result = await runWatched(request, data, logDir, progress);
  return progress ? { ...result, progress: progress.curve() } : result;
}

async function runWatched(request: ExperimentRequest, data: RunData, logDir: string, progress: ProgressWatch | null): Promise<ExperimentResult> {
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
      readOnlyPaths: [NODE_BIN_DIR, NODE_MODULES, data.inputsDir, ...prepared.environment.readOnlyPaths],
      ...(prepared.environment.devices.length ? { devices: prepared.environment.devices } : {}),
      env: {
        ...prepared.environment.variables, // the task's pass-through first: the harness's own values win
        SUCCESSOR_INPUTS: data.inputsDir,
        SUCCESSOR_ARTIFACTS: artifactsInWorkdir,
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
        files: limits.files,
        outputBytes: limits.outputKb * 1024,
      },
    },
    request.signal,
    progress?.watch,
  );
  const after = await hashTree(trustedPaths);
  writeFileSync(join(logDir, 'stdout.log'), result.stdout);
  writeFileSync(join(logDir, 'stderr.log'), result.stderr);
  const wallSeconds = result.wallMs / 1000;
  const cpu = { runCpuSeconds: result.cpuSeconds, stageCpuSeconds: data.cpuSeconds ?? null, ...contentionOf(result, limits.threads) };
  const failed = (status: 'invalid', reason: string): ExperimentResult => ({
    outcome: { status, reason, metrics: { wallSeconds, cpuSeconds: sumCpu(cpu.runCpuSeconds, cpu.stageCpuSeconds), ...cpu } }, wallSeconds, logDir, artifactsDir: null,
  });

  const integrity = compareHashes(before, after);
  const tampered = [...integrity.changed.map((path) => `changed ${path}`), ...integrity.added.map((path) => `added ${path}`), ...integrity.removed.map((path) => `removed ${path}`)];
  if (!integrity.intact) return failed('invalid', `harness files changed during the run: ${tampered.slice(0, 5).join(', ')}`);
  const runFailure = classifyRun(result, wallSecondsLimit);
  if (runFailure) {
    runFailure.metrics = { ...runFailure.metrics, cpuSeconds: sumCpu(cpu.runCpuSeconds, cpu.stageCpuSeconds), ...cpu };
    return { outcome: runFailure, wallSeconds, logDir, artifactsDir: null };
  }

  // The run's processes are dead: what it left is checked, normalised and moved out before anything trusted reads it.
  const caps = artifactCaps(task);
  const taken = await takeArtifacts(workdir, task.file.run.artifacts, join(request.experimentDir, 'artifacts'), caps);
  if ('refused' in taken) return failed('invalid', `the artifacts were refused: ${taken.refused}`);
  const artifactsDir = taken.artifactsDir;
  const scored = await score(request, data, artifactsDir, wallSeconds, join(logDir, 'stdout.log'), result.cpuSeconds);
  const metrics = { ...scored.outcome.metrics, ...cpu, scorerCpuSeconds: scored.cpuSeconds, cpuSeconds: sumCpu(cpu.runCpuSeconds, cpu.stageCpuSeconds, scored.cpuSeconds), peakMemoryBytes: result.peakMemoryBytes };
  if (artifactsDir) {
    // The scorer wrote there too (a deciphered copy, say), and it read a checkpoint the run built: checked again.
    const again = await admitTree(artifactsDir, { ...caps, maxEntries: 2 * caps.maxEntries, maxBytes: 2 * caps.maxBytes });
    if (!again.admitted) {
      await removeTree(artifactsDir);
      return { outcome: { status: 'invalid', reason: `the artifacts were refused after scoring: ${again.reason}`, metrics }, wallSeconds, logDir, artifactsDir: null };
    }
  }
  scored.outcome.metrics = metrics;
  return { outcome: scored.outcome, wallSeconds, logDir, artifactsDir };
}

/**
 * How much of the run's cores other work took while it ran: the machine's busy CPU time less the run's own, less
 * what the cores the run was not given could absorb, over the run's share (threads x wall time). 0 on a quiet
 * machine; 0.5 means others took half of what the run was given. Null where the machine's CPU time is unknown.
 */
function contentionOf(result: SandboxResult, threads: number): { contention?: number; stealSeconds?: number } {
  if (result.machineBusySeconds === null || result.cpuSeconds === null || result.wallMs <= 0) return {};
  const wall = result.wallMs / 1000;
  const given = Math.min(threads, availableParallelism());
  const others = result.machineBusySeconds - result.cpuSeconds;
  const spare = (availableParallelism() - given) * wall;
  const contention = Math.max(0, others - spare) / (given * wall);
  return { contention: Math.round(contention * 1000) / 1000, ...(result.machineStealSeconds !== null ? { stealSeconds: Math.round(result.machineStealSeconds * 100) / 100 } : {}) };
}

const sumCpu = (...parts: (number | null | undefined)[]): number | null =>
  parts.some((part) => typeof part === 'number') ? parts.reduce<number>((sum, part) => sum + (part ?? 0), 0) : null;

async function score(request: ExperimentRequest, data: RunData, artifactsDir: string | null, wallSeconds: number, stdoutPath: string, runCpuSeconds: number | null): Promise<{ outcome: Outcome; cpuSeconds: number | null }> {
  const { task, machineFlops } = request;
  const limits = task.file.harness.limits;
  // The scorer writes only in the artifacts folder (or, when the run left none, an empty one of its own).
  const workdir = artifactsDir ?? (await mkdtemp(join(request.experimentDir, 'score-')));
  let result: TrustedScriptResult;
  try {
    const scorer = harnessProgram(task.harnessDir, task.file.harness.score, { inputs: data.inputsDir, hidden: data.hiddenDir, workdir, artifacts: artifactsDir ?? '' });
    result = await runTrustedScript(scorer, {
      SUCCESSOR_ARTIFACTS: artifactsDir ?? '',
      SUCCESSOR_INPUTS: data.inputsDir,
      SUCCESSOR_HIDDEN: data.hiddenDir,
      ...(data.key ? { SUCCESSOR_RUN_KEY: data.key } : {}),
      ...(machineFlops ? { SUCCESSOR_MACHINE_FLOPS: String(machineFlops) } : {}),
      ...(runCpuSeconds !== null ? { SUCCESSOR_CPU_SECONDS: String(runCpuSeconds) } : {}),
      SUCCESSOR_PARAMS: JSON.stringify(task.file.harness.params),
      SUCCESSOR_WALL_SECONDS: String(wallSeconds),
      SUCCESSOR_STDOUT: stdoutPath,
    }, limits.wallSeconds, {
      sandbox: request.sandbox, workdir, limits,
      ...environmentOptions(request.prepared.environment), readOnlyPaths: [...harnessMounts(task), data.inputsDir, data.hiddenDir, stdoutPath, ...environmentMounts(request.prepared.environment)],
    });
  } finally {
    if (!artifactsDir) await removeTree(workdir);
  }
  return { outcome: verdictOf(task, result, wallSeconds), cpuSeconds: result.cpuSeconds };
}

function verdictOf(task: Task, result: TrustedScriptResult, wallSeconds: number): Outcome {
  const base: Metrics = { wallSeconds };
  if (result.timedOut) return { status: 'failed', reason: 'the scorer timed out', metrics: base };
  if (result.termination !== 'exited' && result.termination !== 'signaled') return { status: 'failed', reason: `the scorer was stopped at its ${result.termination} limit`, metrics: base };
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
