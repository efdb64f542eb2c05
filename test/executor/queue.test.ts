// The Executor contract against the queue executor: a real redis-server and a real `successor worker` process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { QueueExecutor } from '../../src/executor/queue.js';
import { executorContract } from './executor-contract.js';
import { RedisServer, type Watched, describeWithRedis, startWorkerProcess } from './redis-processes.js';

describeWithRedis('QueueExecutor', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'successor-queue-executor-'));
  let redis: RedisServer;
  let worker: Watched;
  let executor: QueueExecutor;
  beforeAll(async () => {
    redis = await RedisServer.start();
    worker = await startWorkerProcess(redis.url, { concurrency: 2 });
    executor = await QueueExecutor.create({ redisUrl: redis.url, stateDir, pollMs: 200 });
  }, 60_000);
  afterAll(async () => {
    await executor?.close();
    await worker?.kill();
    await redis?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });
  executorContract(() => ({ executor }));
});
