/**
 * What travels through the BullMQ queue between the coordinator and its workers: the job payload, the result, the
 * workers' heartbeats, and the names both sides must agree on. Parsed with zod on arrival on either side.
 * The payload is self-contained (task by content hash, lineage, seed, cap): a worker needs nothing else.
 */
import { EarlyStop, ProgressCurve } from '../task/progress.js';
import type { RedisOptions } from 'ioredis';
import { z } from 'zod';
import { FileEdit } from '../task/change.js';
import { Outcome } from '../task/outcome.js';
import { BlobRef } from './transfer.js';

export const QUEUE_NAME = 'successor-experiments';
export const WORKER_KEY_PREFIX = 'successor:worker:';
export const WORKER_HEARTBEAT_SECONDS = 10;

/** One BullMQ job per experiment: re-enqueueing after a coordinator crash finds the same job instead of a new one. */
export const jobIdOf = (experimentId: string): string => `experiment-${experimentId}`;

export const QueueJobPayload = z
  .object({
    protocol: z.literal(1),
    job: z.object({
      runId: z.string(),
      experimentId: z.string(),
      taskName: z.string(),
      taskVersion: z.string(),
      lineage: z.object({ edits: z.array(FileEdit), assignment: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])) }),
      capSeconds: z.number().positive(),
      seed: z.number().int(),
      earlyStop: EarlyStop.optional(),
    }),
    /** hashFolder() of the coordinator's task folder; `pack` carries the folder itself when it was small enough. */
    task: z.object({ hash: z.string(), pack: BlobRef.nullable() }),
  })
  .strict();
export type QueueJobPayload = z.infer<typeof QueueJobPayload>;

export const QueueJobResult = z
  .object({
    outcome: Outcome,
    wallSeconds: z.number().nullable(),
    progress: ProgressCurve.optional(),
    logs: BlobRef.nullable(),
    artifacts: BlobRef.nullable(),
    worker: z.object({ id: z.string(), host: z.string() }),
  })
  .strict();
export type QueueJobResult = z.infer<typeof QueueJobResult>;

export const WorkerHeartbeat = z.object({
  id: z.string(),
  host: z.string(),
  concurrency: z.number().int(),
  sandbox: z.string(),
  missing: z.array(z.string()),
  startedAt: z.string(),
});
export type WorkerHeartbeat = z.infer<typeof WorkerHeartbeat>;

/** Only redis:// URLs; `maxRetriesPerRequest: null` makes commands wait out a Redis restart instead of failing. */
export function redisOptionsOf(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`not a Redis URL: '${url}' (expected redis://HOST:PORT)`);
  }
  if (parsed.protocol !== 'redis:') throw new Error(`not a Redis URL: '${url}' (expected redis://HOST:PORT)`);
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0,
    maxRetriesPerRequest: null,
    // Reconnect quickly at first, then every second: a restarting Redis is back within seconds.
    retryStrategy: (times: number) => Math.min(50 * times, 1000),
  };
}
