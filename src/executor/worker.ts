/**
 * The queue worker: takes experiment jobs from the BullMQ queue and runs each through the same trusted harness and
 * sandbox as the local executor, on this machine, in its own state folder; uploads logs and artifacts as
 * content-addressed blobs and returns the outcome as the job's result. The worker never touches the journal:
 * the coordinator is its only writer.
 *
 * Faults, sorted the BullMQ way: a bad payload, an unknown task or a failed transfer cannot get better on another
 * try (UnrecoverableError: the job fails at once, with the reason); anything else is retried up to the job's
 * attempts; a worker that dies mid-job (kill -9) loses its lock and the stalled-job check hands the job to another
 * worker, until maxStalledCount is spent and the job fails as "stalled more than allowable limit".
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createSandbox } from '../sandbox/create-sandbox.js';
import { removeTree } from '../sandbox/remove-tree.js';
import { privateFolder } from '../sandbox/sandbox-user.js';
import { PROTECTION_DESCRIPTIONS, type SandboxMode } from '../sandbox/types.js';
import { TaskError } from '../task/errors.js';
import { runExperiment } from '../task/harness.js';
import { type Task, loadTask, loadTaskDir } from '../task/loader.js';
import { machineFlops } from '../task/machine.js';
import { type PreparedTask, hashFolder, prepareTask } from '../task/prepare.js';
import { QUEUE_NAME, QueueJobPayload, type QueueJobResult, WORKER_HEARTBEAT_SECONDS, WORKER_KEY_PREFIX, type WorkerHeartbeat, redisOptionsOf } from './queue-protocol.js';
import { type BlobRef, Transfer, TransferError } from './transfer.js';

export interface WorkerOptions {
  redisUrl: string;
  stateDir: string;
  concurrency: number;
  sandboxMode: SandboxMode;
  sharedDir?: string;
  maxTransferBytes?: number;
  /** A job whose lock is not renewed for this long is taken to be lost with its worker and handed on. */
  stallSeconds?: number;
  /** How often a job may lose its worker before it fails for good. */
  maxStalls?: number;
  log?: (line: string) => void;
  /** Fault injection for tests: called with each parsed payload before it runs. */
  beforeRun?: (payload: QueueJobPayload) => void;
}

export interface QueueWorker {
  readonly id: string;
  close(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<QueueWorker> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const id = `${hostname()}-${process.pid}`;
  const sandbox = await createSandbox(options.sandboxMode);
  const redis = new Redis(redisOptionsOf(options.redisUrl));
  redis.on('error', () => {}); // reconnects on its own; the worker's own error handler reports outages once
  await Promise.race([
    redis.ping(),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer from Redis at ${options.redisUrl} within 10s`)), 10_000).unref()),
  ]).catch((error: Error) => {
    redis.disconnect();
    throw error;
  });
  const transfer = new Transfer({ redis, sharedDir: options.sharedDir, maxBytes: options.maxTransferBytes });
  const tasks = new Map<string, Promise<{ task: Task; prepared: PreparedTask }>>();

  const taskFor = (payload: QueueJobPayload): Promise<{ task: Task; prepared: PreparedTask }> => {
    let entry = tasks.get(payload.task.hash);
    if (!entry) {
      entry = resolveTask(payload, transfer, options.stateDir).then(async (task) => ({ task, prepared: await prepareTask(task, options.stateDir, sandbox) }));
      entry.catch(() => tasks.delete(payload.task.hash));
      tasks.set(payload.task.hash, entry);
    }
    return entry;
  };

  const processor = async (job: Job): Promise<QueueJobResult> => {
    const parsed = QueueJobPayload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid job payload (coordinator and worker versions differ?): ${parsed.error.message.slice(0, 300)}`);
    const payload = parsed.data;
    options.beforeRun?.(payload);
    const { experimentId } = payload.job;
    log(`started ${experimentId} (attempt ${job.attemptsStarted})`);
    let resolved: { task: Task; prepared: PreparedTask };
    try {
      resolved = await taskFor(payload);
    } catch (error) {
      if (error instanceof TaskError || error instanceof TransferError) throw new UnrecoverableError(error.message);
      throw error;
    }
    const experimentDir = join(options.stateDir, 'queue-experiments', `${experimentId}-${job.attemptsStarted}`);
    const scratchDir = join(privateFolder(join(options.stateDir, 'scratch')), `${experimentId}-${job.attemptsStarted}`);
    try {
      const result = await runExperiment({
        task: resolved.task,
        prepared: resolved.prepared,
        sandbox,
        lineage: payload.job.lineage,
        experimentDir,
        scratchDir,
        stagedDataDir: join(privateFolder(join(options.stateDir, 'staged')), `${experimentId}-${job.attemptsStarted}`),
        machineFlops: (await machineFlops(options.stateDir)).peakFlops,
        wallSecondsCap: payload.job.capSeconds,
        seed: payload.job.seed,
        earlyStop: payload.job.earlyStop,
      });
      let outcome = result.outcome;
      const upload = async (dir: string | null, what: string): Promise<BlobRef | null> => {
        if (!dir) return null;
        try {
          return await transfer.putFolder(dir);
        } catch (error) {
          if (!(error instanceof TransferError)) throw error;
          // A result that cannot travel cannot be checked by anyone: it is a failure, and says why.
          outcome = { status: 'failed', reason: `the ${what} could not be sent back: ${error.message}`, metrics: outcome.metrics };
          return null;
        }
      };
      const logs = await upload(result.logDir, 'logs');
      const artifacts = await upload(result.artifactsDir, 'artifacts');
      log(`finished ${experimentId}: ${outcome.status}`);
      return { outcome, wallSeconds: result.wallSeconds, ...(result.progress ? { progress: result.progress } : {}), logs, artifacts, worker: { id, host: hostname() } };
    } finally {
      await removeTree(scratchDir); // the run shaped it: any depth, any width
      await removeTree(experimentDir);
    }
  };

  const stallMs = (options.stallSeconds ?? 30) * 1000;
  const worker = new Worker(QUEUE_NAME, processor, {
    connection: redisOptionsOf(options.redisUrl),
    concurrency: options.concurrency,
    lockDuration: stallMs,
    stalledInterval: Math.max(500, stallMs / 2),
    maxStalledCount: options.maxStalls ?? 2,
  });
  let outage = false;
  worker.on('error', (error) => {
    if (!outage) log(`redis: ${error.message}; retrying`);
    outage = true;
  });
  worker.on('ready', () => {
    if (outage) log('redis: connected again');
    outage = false;
  });
  worker.on('failed', (job, error) => log(`failed ${job?.id ?? '?'}: ${error.message}`));

  const heartbeat: WorkerHeartbeat = {
    id, host: hostname(), concurrency: options.concurrency, sandbox: sandbox.kind,
    missing: sandbox.missing.map((protection) => PROTECTION_DESCRIPTIONS[protection]), startedAt: new Date().toISOString(),
  };
  const beat = () => redis.set(WORKER_KEY_PREFIX + id, JSON.stringify(heartbeat), 'EX', WORKER_HEARTBEAT_SECONDS * 3).catch(() => {});
  await worker.waitUntilReady();
  await beat();
  const timer = setInterval(beat, WORKER_HEARTBEAT_SECONDS * 1000);
  timer.unref();
  log(`worker ${id}: ${options.concurrency} at once, sandbox ${sandbox.kind}, queue ${QUEUE_NAME} at ${options.redisUrl}`);

  return {
    id,
    async close() {
      clearInterval(timer);
      await worker.close();
      await redis.del(WORKER_KEY_PREFIX + id).catch(() => {});
      redis.disconnect();
    },
  };
}

/** The task folder the payload names: its pack (cached by content hash), or a built-in task with the same hash. */
async function resolveTask(payload: QueueJobPayload, transfer: Transfer, stateDir: string): Promise<Task> {
  const { hash, pack } = payload.task;
  const { taskName, taskVersion } = payload.job;
  if (!pack) {
    const task = loadTask(taskName);
    if (!task.builtin || task.file.version !== taskVersion || hashFolder(task.dir) !== hash) {
      throw new TaskError(`task ${taskName}@${taskVersion} was not sent with the job and this worker's copy differs from the coordinator's; update the worker or raise --max-transfer-mb`);
    }
    return task;
  }
  const tasksDir = join(stateDir, 'queue-tasks');
  const dir = join(tasksDir, `${taskName}-${hash.slice(0, 16)}`);
  // Harness scripts are ES modules as in the project; outside it, Node needs to be told so.
  mkdirSync(tasksDir, { recursive: true });
  writeFileSync(join(tasksDir, 'package.json'), '{ "type": "module" }\n');
  if (!existsSync(join(dir, 'task.json'))) {
    const staging = `${dir}.staging-${process.pid}`;
    await transfer.getFolder(pack, staging);
    if (hashFolder(staging) !== hash) throw new TaskError(`task ${taskName}: the unpacked folder does not match the coordinator's hash`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  }
  return loadTaskDir(dir);
}
