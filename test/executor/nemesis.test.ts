/**
 * The nemesis: a research run on the queue executor while workers and the coordinator are killed with -9 at
 * random moments (seeded; the seed is printed). Killed workers are restarted, a killed coordinator resumes the run.
 * Afterwards every experiment must have ended exactly once in the journal, and the audit log must verify.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openJournal } from '../../src/journal/journal.js';
import type { RunId } from '../../src/task/ids.js';
import { RedisServer, SLEEPY_TASK, type Watched, describeWithRedis, startCli, startWorkerProcess } from './redis-processes.js';

/** mulberry32: a small seeded generator, so a failing schedule of kills can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value ^= value + Math.imul(value ^ (value >>> 7), 61 | value);
    return ((value ^ (value >>> 14)) >>> 0) / 2 ** 32;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithRedis('queue executor nemesis', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('records every experiment exactly once while workers and the coordinator are killed', async () => {
    const seed = Number(process.env.SUCCESSOR_NEMESIS_SEED ?? Date.now() % 100_000);
    process.stderr.write(`nemesis seed ${seed} (SUCCESSOR_NEMESIS_SEED=${seed} replays it)\n`);
    const random = seededRandom(seed);
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const workers: Watched[] = [];
    cleanups.push(async () => {
      for (const worker of workers) await worker.kill();
    });
    const startWorker = async () => workers.push(await startWorkerProcess(redis.url, { stallSeconds: 2, maxStalls: 5 }));
    await Promise.all([startWorker(), startWorker(), startWorker()]);
    const home = mkdtempSync(join(tmpdir(), 'successor-nemesis-'));
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));

    const common = ['--executor', redis.url, '--sandbox', 'off', '--json'];
    let coordinator = startCli(['research', '--task', SLEEPY_TASK, '--max-experiments', '4', '--repeats', '2', '--parallel', '3', '--seed', String(seed % 7), ...common], home);
    cleanups.push(() => coordinator.kill());
    const runId = (/run (run_[a-z0-9]+):/.exec(await coordinator.waitFor(/^run run_[a-z0-9]+:/, 60_000)) ?? [])[1] as RunId;
    let workerKills = 0;
    let coordinatorKills = 0;
    let exitCode: number | null = null;
    for (;;) {
      const outcome = await Promise.race([coordinator.exited.then((code) => ({ code })), sleep(1000 + random() * 2500).then(() => null)]);
      if (outcome) {
        exitCode = outcome.code;
        break;
      }
      const roll = random();
      if (roll < 0.35 && workerKills < 3) {
        const victim = workers.splice(Math.floor(random() * workers.length), 1)[0];
        await victim.kill('SIGKILL');
        workerKills += 1;
        await startWorker();
      } else if (roll < 0.6 && coordinatorKills < 2) {
        await coordinator.kill('SIGKILL');
        coordinatorKills += 1;
        coordinator = startCli(['research', '--resume', runId, ...common], home);
      }
    }
    process.stderr.write(`nemesis: ${workerKills} worker kill(s), ${coordinatorKills} coordinator kill(s)\n`);
    expect(exitCode, coordinator.lines.slice(-10).join('\n')).toBe(0);

    const journal = openJournal(join(home, 'successor.db'), { readonly: true });
    cleanups.push(() => journal.close());
    expect(journal.getRun(runId)?.status).toBe('completed');
    const experiments = journal.listExperiments(runId);
    expect(experiments.length).toBeGreaterThan(4);
    const finishedEvents = journal.listEvents(runId).filter((event) => event.type === 'experiment.finished');
    for (const experiment of experiments) {
      expect(experiment.state, `#${experiment.seq}`).toBe('finished');
      const recorded = finishedEvents.filter((event) => event.experimentId === experiment.id);
      // Candidates refused before running are finished at proposal, with no run and no event.
      expect(recorded.length, `#${experiment.seq} recorded ${recorded.length} times`).toBe(experiment.startedAt ? 1 : 0);
    }
    expect(journal.verifyAudit().ok).toBe(true);
  }, 240_000);
});
