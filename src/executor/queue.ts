/**
 * The queue executor: sends each experiment as a BullMQ job to workers on any number of machines and waits for its
 * result, then fetches the logs and artifacts into this machine's state folder (the journal stores paths).
 *
 * One job per experiment, under a deterministic id: a coordinator that was killed and resumes asks for the same
 * experiment again and finds the job it had sent (waiting, running or finished) instead of sending a second one.
 * A job the queue gave up on (a poisoned job, a worker that crashed on it every time) resolves as a `failed`
 * outcome with the queue's reason, never as an exception. While Redis is away, commands wait (ioredis queues them)
 * and a poll every second notices the answer once it is back; completion events only make the common case fast.
 * This is not a scheduler: which worker runs what is BullMQ's business.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { ExperimentResult } from '../task/harness.js';
import { loadTask } from '../task/loader.js';
import { hashFolder } from '../task/prepare.js';
import { QUEUE_NAME, type QueueJobPayload, QueueJobResult, WORKER_KEY_PREFIX, WorkerHeartbeat, jobIdOf, redisOptionsOf } from './queue-protocol.js';
import { type BlobRef, RefusedTreeError, Transfer, TransferError } from './transfer.js';
import type { Executor, ExperimentJob } from './types.js';

export interface QueueExecutorOptions {
  redisUrl: string;
  /** The coordinator's state folder: logs and artifacts land in experiments/<id>/ as with the local executor. */
  stateDir: string;
  sharedDir?: string;
  maxTransferBytes?: number;
  /** Tries per job for ordinary errors on a worker (a crash of the worker itself counts through the stall limit). */
  attempts?: number;
  /** How long finished jobs stay in Redis for a resuming coordinator to find. */
  keepSeconds?: number;
  pollMs?: number;
  connectTimeoutMs?: number;
}

export class QueueConnectionError extends Error {
  override name = 'QueueConnectionError';
}

type Settled = { state: 'completed'; value: unknown } | { state: 'failed'; reason: string; attempts: number };

export class QueueExecutor implements Executor {
  readonly kind = 'queue';
  private readonly taskPacks = new Map<string, Promise<QueueJobPayload['task']>>();
  private readonly waiters = new Map<string, Set<() => void>>();

  private constructor(
    private readonly options: QueueExecutorOptions,
    private readonly redis: Redis,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly transfer: Transfer,
  ) {
    const wake = ({ jobId }: { jobId: string }) => this.waiters.get(jobId)?.forEach((wakeUp) => wakeUp());
    events.on('completed', wake);
    events.on('failed', wake);
    events.on('error', () => {});
    queue.on('error', () => {});
  }

  /** Connects (failing within connectTimeoutMs with a clear message when Redis is not there). */
  static async create(options: QueueExecutorOptions): Promise<QueueExecutor> {
    const connection = redisOptionsOf(options.redisUrl);
    const redis = new Redis({ ...connection, lazyConnect: true });
    redis.on('error', () => {});
    const timeoutMs = options.connectTimeoutMs ?? 5000;
    try {
      await Promise.race([
        redis.connect().then(() => redis.ping()),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000}s`)), timeoutMs).unref()),
      ]);
    } catch (error) {
      redis.disconnect();
      throw new QueueConnectionError(`cannot reach Redis at ${options.redisUrl}: ${(error as Error).message}`);
    }
    const queue = new Queue(QUEUE_NAME, { connection });
    const events = new QueueEvents(QUEUE_NAME, { connection });
    await events.waitUntilReady();
    return new QueueExecutor(options, redis, queue, events, new Transfer({ redis, sharedDir: options.sharedDir, maxBytes: options.maxTransferBytes }));
  }

  async describe(): Promise<{ sandbox: string; missing: string[]; notes: string[] }> {
    const workers = await this.workers();
    const kinds = [...new Set(workers.map((worker) => worker.sandbox))].sort();
    const missing = [...new Set(workers.flatMap((worker) => worker.missing))];
    const notes = [
      `queue ${QUEUE_NAME} at ${this.options.redisUrl}: ${workers.length} worker(s) now` +
        (workers.length ? ` (${workers.map((worker) => `${worker.id} x${worker.concurrency}`).join(', ')})` : '; experiments wait until one starts'),
    ];
    return { sandbox: `queue:${kinds.join('+') || 'unknown'}`, missing, notes };
  }

  /** The workers that sent a heartbeat lately. */
  async workers(): Promise<WorkerHeartbeat[]> {
    const keys = await this.redis.keys(`${WORKER_KEY_PREFIX}*`);
    const values = keys.length ? await this.redis.mget(...keys) : [];
    return values.flatMap((value) => {
      const parsed = value ? WorkerHeartbeat.safeParse(JSON.parse(value)) : undefined;
      return parsed?.success ? [parsed.data] : [];
    });
  }

  /** The task folder goes once per coordinator, content-addressed; a folder over the limit is resolved by name. */
  private taskOf(job: ExperimentJob): Promise<QueueJobPayload['task']> {
    let entry = this.taskPacks.get(job.taskDir);
    if (!entry) {
      entry = (async () => {
        const hash = hashFolder(job.taskDir);
        try {
          return { hash, pack: await this.transfer.putFolder(job.taskDir) };
        } catch (error) {
          if (!(error instanceof TransferError) || !loadTask(job.taskName).builtin) throw error;
          return { hash, pack: null };
        }
      })();
      entry.catch(() => this.taskPacks.delete(job.taskDir));
      this.taskPacks.set(job.taskDir, entry);
    }
    return entry;
  }

  async run(job: ExperimentJob, signal: AbortSignal): Promise<ExperimentResult> {
    const experimentDir = join(this.options.stateDir, 'experiments', job.experimentId);
    const logDir = join(experimentDir, 'logs');
    const payload: QueueJobPayload = {
      protocol: 1,
      job: {
        runId: job.runId, experimentId: job.experimentId, taskName: job.taskName, taskVersion: job.taskVersion, lineage: job.lineage, capSeconds: job.capSeconds, seed: job.seed,
        ...(job.earlyStop ? { earlyStop: job.earlyStop } : {}),
      },
      task: await this.taskOf(job),
    };
    const jobId = jobIdOf(job.experimentId);
    const settled = await this.settle(jobId, payload, signal);
    if (!settled) return failedResult(logDir, 'stopped by the lab');
    if (settled.state === 'failed') {
      const reason = `the queue gave up after ${settled.attempts} attempt(s): ${settled.reason}`;
      return failedResult(logDir, reason);
    }
    const result = QueueJobResult.safeParse(settled.value);
    if (!result.success) return failedResult(logDir, `the worker's result is malformed: ${result.error.message.slice(0, 300)}`);
    const { outcome, wallSeconds, logs, artifacts, worker, progress } = result.data;
    try {
      await this.fetch(logs, logDir);
      const artifactsDir = artifacts ? join(experimentDir, 'artifacts') : null;
      if (artifacts && artifactsDir) await this.fetch(artifacts, artifactsDir);
      writeFileSync(join(logDir, 'worker.log'), `ran on ${worker.id} (${worker.host})\n`);
      return { outcome, wallSeconds, logDir, artifactsDir, ...(progress ? { progress } : {}) };
    } catch (error) {
      if (!(error instanceof TransferError)) throw error;
      if (error instanceof RefusedTreeError) return failedResult(logDir, `the results of ${worker.id} were refused: ${error.message}`, 'invalid');
      return failedResult(logDir, `the results of ${worker.id} could not be fetched: ${error.message}`);
    }
  }

  private async fetch(ref: BlobRef | null, destination: string): Promise<void> {
    if (ref) await this.transfer.getFolder(ref, destination);
    else mkdirSync(destination, { recursive: true });
  }

  /**
   * Sends the job unless one with this id exists, then waits until the queue settles it (null when `signal` stops
   * the wait first). A job that vanished (Redis restarted without its data) is sent again.
   */
  private async settle(jobId: string, payload: QueueJobPayload, signal: AbortSignal): Promise<Settled | null> {
    let woken = false;
    let wakeUp: () => void = () => {};
    const wake = () => {
      woken = true;
      wakeUp();
    };
    const waiters = this.waiters.get(jobId) ?? new Set();
    waiters.add(wake);
    this.waiters.set(jobId, waiters);
    signal.addEventListener('abort', wake);
    try {
      for (;;) {
        woken = false;
        try {
          if (signal.aborted) {
            // A job no worker took yet is withdrawn; a running one is left to finish for a later resume to collect.
            if (['waiting', 'delayed', 'prioritized'].includes(await this.queue.getJobState(jobId))) await this.queue.remove(jobId).catch(() => {});
            return null;
          }
          const settled = await this.check(jobId, payload);
          if (settled) return settled;
        } catch (error) {
          // Redis went away mid-command (a restart): wait and ask again; ioredis reconnects on its own.
          if (signal.aborted) return null;
          void error;
        }
        if (woken) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.pollMs ?? 1000);
          wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      signal.removeEventListener('abort', wake);
      waiters.delete(wake);
      if (waiters.size === 0) this.waiters.delete(jobId);
    }
  }

  /** One look at the job: its settled state, or null while it waits or runs (sending it when it is not there). */
  private async check(jobId: string, payload: QueueJobPayload): Promise<Settled | null> {
    const state = await this.queue.getJobState(jobId);
    if (state === 'unknown') {
      const keepSeconds = this.options.keepSeconds ?? 7 * 24 * 3600;
      await this.queue.add('experiment', payload, {
        jobId,
        attempts: this.options.attempts ?? 3,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: { age: keepSeconds },
        removeOnFail: { age: keepSeconds },
      });
      return null;
    }
    if (state !== 'completed' && state !== 'failed') return null;
    const found = await Job.fromId(this.queue, jobId);
    if (!found) return null;
    if (state === 'completed') return { state, value: found.returnvalue };
    return { state, reason: found.failedReason ?? 'unknown', attempts: Math.max(found.attemptsMade, found.attemptsStarted ?? 0) };
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
    this.redis.disconnect();
  }
}

function failedResult(logDir: string, reason: string, status: 'failed' | 'invalid' = 'failed'): ExperimentResult {
  mkdirSync(logDir, { recursive: true });
  writeFileSync(join(logDir, 'queue.log'), `${reason}\n`);
  return { outcome: { status, reason, metrics: {} }, wallSeconds: null, logDir, artifactsDir: null };
}
