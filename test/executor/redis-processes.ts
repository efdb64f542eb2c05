/**
 * Test plumbing for the queue executor: a real `redis-server` on a free loopback port, and `successor worker`
 * processes, each with its own state folder, whose stderr lines tests can wait for.
 * Without redis-server the suites are skipped, except under CI=true, where that is a failure.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe } from 'vitest';

export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((path) => existsSync(path));
const PROJECT_ROOT = resolve(import.meta.dirname, '../..');
export const SLEEPY_TASK = join(PROJECT_ROOT, 'test/fixtures/tasks/sleepy');

if (!REDIS_SERVER && process.env.CI === 'true') throw new Error('redis-server is not installed, and CI=true forbids skipping the queue tests (apt-get install redis-server)');
export const describeWithRedis = REDIS_SERVER ? describe : describe.skip;

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A child process whose output lines can be awaited. */
export class Watched {
  readonly lines: string[] = [];
  private readonly listeners = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess, readonly label: string) {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      this.lines.push(...parts);
      if (process.env.SUCCESSOR_TEST_VERBOSE) for (const line of parts) process.stderr.write(`[${label}] ${line}\n`);
      for (const listener of this.listeners) listener();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Resolves with the first line (already seen or yet to come) that matches. */
  waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    return new Promise((resolveLine, reject) => {
      const check = () => {
        const line = this.lines.find((candidate) => pattern.test(candidate));
        if (!line) return false;
        this.listeners.delete(listener);
        clearTimeout(timer);
        resolveLine(line);
        return true;
      };
      const listener = () => void check();
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`${this.label}: no line matching ${pattern} within ${timeoutMs} ms; last lines:\n${this.lines.slice(-10).join('\n')}`));
      }, timeoutMs);
      this.listeners.add(listener);
      check();
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}

export class RedisServer {
  private process: Watched | null = null;
  readonly dir = mkdtempSync(join(tmpdir(), 'successor-redis-'));

  private constructor(readonly port: number, private readonly persist: boolean) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** `persist`: append-only file fsynced on every write, so a restart keeps the queue (the restart test). */
  static async start(options: { persist?: boolean } = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), options.persist === true);
    await server.startProcess();
    return server;
  }

  async startProcess(): Promise<void> {
    const persistence = this.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const child = spawn(REDIS_SERVER ?? 'redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', this.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = new Watched(child, `redis:${this.port}`);
    await this.process.waitFor(/Ready to accept connections/, 10_000);
  }

  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.process?.kill(signal);
    this.process = null;
  }
}

export interface WorkerProcessOptions {
  concurrency?: number;
  stallSeconds?: number;
  maxStalls?: number;
  /** A script to run instead of the CLI (fault injection); it gets the Redis URL and its state folder. */
  script?: string;
}

/** Starts `successor worker` (or a fault-injecting script) in its own state folder; resolves once it is ready. */
export async function startWorkerProcess(redisUrl: string, options: WorkerProcessOptions = {}): Promise<Watched> {
  const home = mkdtempSync(join(tmpdir(), 'successor-worker-'));
  const flags = ['--concurrency', String(options.concurrency ?? 1), '--sandbox', 'off', '--stall-seconds', String(options.stallSeconds ?? 2), '--max-stalls', String(options.maxStalls ?? 2)];
  const args = options.script ? [join(PROJECT_ROOT, 'bin/run-ts.js'), options.script, redisUrl, ...flags] : [join(PROJECT_ROOT, 'bin/successor.js'), 'worker', '--redis', redisUrl, ...flags];
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env: { ...process.env, SUCCESSOR_HOME: home, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const watched = new Watched(child, `worker:${child.pid}`);
  await watched.waitFor(/^worker \S+: /, 90_000);
  return watched;
}

/** Runs `successor ...` with a state folder; the caller awaits `exited` or kills it. */
export function startCli(args: string[], home: string): Watched {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/successor.js'), ...args], { cwd: PROJECT_ROOT, env: { ...process.env, SUCCESSOR_HOME: home, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Watched(child, `cli:${child.pid}`);
}
