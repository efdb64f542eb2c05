/** Helpers for the lab's tests: temporary lab homes, copies of fixture tasks, and the CLI as a user runs it. */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'bin/successor.js');
export const FIXTURE_TASKS = join(ROOT, 'test/fixtures/tasks');

export function temporaryDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A private copy of a fixture task, so a test may edit (or let a run tamper with) its files. */
export function copyTask(name: string, into: string): string {
  const destination = join(into, name);
  cpSync(join(FIXTURE_TASKS, name), destination, { recursive: true });
  return destination;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], home: string, options: { timeoutMs?: number; cwd?: string; environment?: Record<string, string> } = {}): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.environment, SUCCESSOR_HOME: home, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function startCli(args: string[], home: string) {
  return spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, SUCCESSOR_HOME: home, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
}
