/**
 * Queue benchmark (`npm run bench:queue -- [flags]`): experiments that only sleep (the sleepy test task with a fixed
 * delay), sent through the Redis queue to 1, 2, 4 and 8 `successor worker` processes on this machine, against a
 * private redis-server on a free loopback port. Prints experiments per second and the overhead per experiment, each
 * as a ratio to the ideal (every worker sleeping back to back), and the local executor's cost for the same
 * experiment, so the queue's share of the overhead can be told from the harness's (node start, scorer).
 * A benchmark, not a test: on a machine with fewer cores than workers the harness's CPU time is the limit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalExecutor } from '../src/executor/local.js';
import { QueueExecutor } from '../src/executor/queue.js';
import type { Executor, ExperimentJob } from '../src/executor/types.js';
import { newExperimentId, newRunId } from '../src/task/ids.js';

const PROJECT_ROOT = resolve(import.meta.dirname, '..');
const SLEEPY_TASK = join(PROJECT_ROOT, 'test/fixtures/tasks/sleepy');

const { values: flags } = parseArgs({
  options: {
    'sleep-ms': { type: 'string', default: '500' },
    workers: { type: 'string', default: '1,2,4,8' },
    'jobs-per-worker': { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
  },
});
const sleepMs = Number(flags['sleep-ms']);
const workerCounts = (flags.workers ?? '1,2,4,8').split(',').map(Number);
const jobsPerWorker = Number(flags['jobs-per-worker']);
const progress = (line: string) => process.stderr.write(`${line}\n`);
const never = new AbortController().signal;

const job = (): ExperimentJob => ({
  runId: newRunId(), experimentId: newExperimentId(), taskDir: SLEEPY_TASK, taskName: 'sleepy', taskVersion: '1',
  lineage: { edits: [], assignment: { delayMs: sleepMs } }, capSeconds: 60, seed: 0,
});

async function runBatch(executor: Executor, count: number): Promise<number> {
  const startedMs = performance.now();
  const results = await Promise.all(Array.from({ length: count }, () => executor.run(job(), never)));
  const failed = results.find((result) => result.outcome.status !== 'ok');
  if (failed) throw new Error(`an experiment did not succeed: ${JSON.stringify(failed.outcome)}`);
  return (performance.now() - startedMs) / 1000;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function startProcess(command: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = process.env): Promise<ChildProcess> {
  return new Promise((resolveChild, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (ready.test(output)) resolveChild(child);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${command} exited (${code}) before it was ready:\n${output.slice(-2000)}`)));
  });
}

const stop = (child: ChildProcess) => new Promise<void>((resolveStop) => {
  if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
  child.once('exit', () => resolveStop());
  child.kill('SIGKILL');
});

const home = mkdtempSync(join(tmpdir(), 'successor-bench-queue-'));
const port = await freePort();
const redis = await startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], /Ready to accept connections/);
const redisUrl = `redis://127.0.0.1:${port}`;
const rows: Record<string, number>[] = [];
try {
  progress(`local executor: ${jobsPerWorker} experiments of ${sleepMs} ms, one at a time ...`);
  const local = await LocalExecutor.create('off', join(home, 'local'));
  await runBatch(local, 1);
  let localSeconds = 0;
  for (let index = 0; index < jobsPerWorker; index++) localSeconds += await runBatch(local, 1);
  const localPerExperiment = localSeconds / jobsPerWorker;
  progress(`local: ${localPerExperiment.toFixed(3)} s per experiment (sleep ${sleepMs / 1000} s + harness ${(localPerExperiment - sleepMs / 1000).toFixed(3)} s)`);

  const executor = await QueueExecutor.create({ redisUrl, stateDir: join(home, 'coordinator'), pollMs: 500 });
  const workers: ChildProcess[] = [];
  for (const count of workerCounts) {
    while (workers.length < count) {
      const workerHome = join(home, `worker-${workers.length}`);
      const args = [join(PROJECT_ROOT, 'bin/successor.js'), 'worker', '--redis', redisUrl, '--sandbox', 'off'];
      workers.push(await startProcess(process.execPath, args, /worker \S+: /, { ...process.env, SUCCESSOR_HOME: workerHome }));
    }
    await runBatch(executor, count * 2); // warm-up: every worker unpacks and prepares the task once
    const jobs = count * jobsPerWorker;
    progress(`${count} worker(s): ${jobs} experiments ...`);
    const seconds = await runBatch(executor, jobs);
    const perSecond = jobs / seconds;
    const idealPerSecond = count / (sleepMs / 1000);
    const overheadSeconds = (seconds * count) / jobs - sleepMs / 1000;
    rows.push({
      workers: count, experiments: jobs, seconds, experimentsPerSecond: perSecond, idealPerSecond, ratioToIdeal: perSecond / idealPerSecond,
      overheadSecondsPerExperiment: overheadSeconds, harnessSecondsPerExperiment: localPerExperiment - sleepMs / 1000,
      queueSecondsPerExperiment: overheadSeconds - (localPerExperiment - sleepMs / 1000),
    });
  }
  await executor.close();
  await local.close();
  for (const worker of workers) await stop(worker);
} finally {
  await stop(redis);
  rmSync(home, { recursive: true, force: true });
}

if (flags.json) {
  process.stdout.write(`${JSON.stringify({ sleepMs, rows })}\n`);
} else {
  process.stdout.write(`sleep per experiment: ${sleepMs} ms; ideal = workers / sleep\n`);
  process.stdout.write('workers  exp/s   ideal   ratio  overhead/exp  harness/exp  queue/exp\n');
  for (const row of rows) {
    process.stdout.write(
      `${String(row.workers).padStart(7)}  ${row.experimentsPerSecond.toFixed(2).padStart(5)}  ${row.idealPerSecond.toFixed(2).padStart(6)}  ${row.ratioToIdeal.toFixed(2).padStart(6)}  ` +
        `${row.overheadSecondsPerExperiment.toFixed(3).padStart(10)} s  ${row.harnessSecondsPerExperiment.toFixed(3).padStart(9)} s  ${row.queueSecondsPerExperiment.toFixed(3).padStart(7)} s\n`,
    );
  }
}
