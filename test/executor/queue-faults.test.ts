/**
 * The queue executor under faults, with a real redis-server and real worker processes: a worker killed with -9
 * mid-experiment, a job asked for twice (a resumed coordinator), Redis restarting mid-run, a poisoned job that
 * kills its worker every time, and a payload no worker can read.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterEach, expect, it } from 'vitest';
import { QueueExecutor } from '../../src/executor/queue.js';
import { QUEUE_NAME, redisOptionsOf } from '../../src/executor/queue-protocol.js';
import { sleepyJob } from './executor-contract.js';
import { RedisServer, type Watched, describeWithRedis, startWorkerProcess } from './redis-processes.js';

const never = new AbortController().signal;
const CRASH_WORKER = join(import.meta.dirname, 'fixtures/crash-worker.ts');

describeWithRedis('QueueExecutor faults', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  async function setup(options: { persist?: boolean; workers?: number; script?: string; maxStalls?: number } = {}) {
    const redis = await RedisServer.start({ persist: options.persist });
    cleanups.push(() => redis.stop());
    const workers: Watched[] = [];
    cleanups.push(async () => {
      for (const worker of workers) await worker.kill();
    });
    for (let index = 0; index < (options.workers ?? 2); index++) workers.push(await startWorkerProcess(redis.url, { script: options.script, maxStalls: options.maxStalls }));
    const stateDir = mkdtempSync(join(tmpdir(), 'successor-queue-faults-'));
    const executor = await QueueExecutor.create({ redisUrl: redis.url, stateDir, pollMs: 200 });
    cleanups.push(async () => {
      await executor.close();
      rmSync(stateDir, { recursive: true, force: true });
    });
    return { redis, workers, executor };
  }

  const startedOn = (workers: Watched[], experimentId: string): Watched[] => workers.filter((worker) => worker.lines.some((line) => line.startsWith(`started ${experimentId}`)));

  it('hands the job of a worker killed with -9 to another worker', async () => {
    const { workers, executor } = await setup();
    const job = sleepyJob({ assignment: { delayMs: 2500 } });
    const running = executor.run(job, never);
    const victim = await Promise.any(workers.map((worker) => worker.waitFor(new RegExp(`^started ${job.experimentId}`)).then(() => worker)));
    await victim.kill('SIGKILL');
    const result = await running;
    expect(result.outcome.status).toBe('ok');
    const survivor = workers.find((worker) => worker !== victim);
    expect(readFileSync(join(result.logDir, 'worker.log'), 'utf8')).toContain(`-${survivor?.pid} `);
  });

  it('runs an experiment asked for twice once, and gives a resumed coordinator the finished result', async () => {
    const { workers, executor } = await setup();
    const job = sleepyJob();
    const [first, second] = await Promise.all([executor.run(job, never), executor.run(job, never)]);
    expect(first.outcome).toEqual(second.outcome);
    const again = await executor.run(job, never);
    expect(again.outcome).toEqual(first.outcome);
    expect(workers.flatMap((worker) => worker.lines).filter((line) => line.startsWith(`started ${job.experimentId}`))).toHaveLength(1);
  });

  it('waits out a Redis restart and goes on', async () => {
    const { redis, workers, executor } = await setup({ persist: true, workers: 1 });
    const job = sleepyJob({ assignment: { delayMs: 1500 } });
    const running = executor.run(job, never);
    await workers[0].waitFor(new RegExp(`^started ${job.experimentId}`));
    await redis.stop('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await redis.startProcess();
    const result = await running;
    expect(result.outcome.status).toBe('ok');
  });

  it('fails a job that kills its worker every time, with the reason, after the allowed stalls', async () => {
    const { redis, workers, executor } = await setup({ script: CRASH_WORKER, workers: 1, maxStalls: 1 });
    // A supervisor (systemd, Kubernetes) restarts crashed workers; so does this test.
    let stopped = false;
    const supervise = async (worker: Watched): Promise<void> => {
      await worker.exited;
      if (stopped) return;
      const next = await startWorkerProcess(redis.url, { script: CRASH_WORKER, maxStalls: 1 });
      workers.push(next);
      void supervise(next);
    };
    void supervise(workers[0]);
    cleanups.push(() => {
      stopped = true;
    });
    const result = await executor.run(sleepyJob({}, { seed: 666 }), never);
    expect(result.outcome.status).toBe('failed');
    expect(result.outcome.status === 'failed' && result.outcome.reason).toMatch(/the queue gave up after \d+ attempt\(s\): .*stalled/);
    expect(readFileSync(join(result.logDir, 'queue.log'), 'utf8')).toMatch(/stalled/);
  });

  it('fails a payload no worker can read at once, without retries', async () => {
    const { redis } = await setup({ workers: 1 });
    const queue = new Queue(QUEUE_NAME, { connection: redisOptionsOf(redis.url) });
    cleanups.push(() => queue.close());
    const job = await queue.add('experiment', { protocol: 99 }, { jobId: 'experiment-garbage', attempts: 3 });
    for (let waited = 0; waited < 100 && (await job.getState()) !== 'failed'; waited++) await new Promise((resolve) => setTimeout(resolve, 100));
    const failed = await queue.getJob('experiment-garbage');
    expect(await failed?.getState()).toBe('failed');
    expect(failed?.failedReason).toMatch(/invalid job payload/);
    expect(failed?.attemptsMade).toBe(1);
  });
});
