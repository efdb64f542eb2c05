/**
 * Runs a trusted harness script (prepare, score) in its own process with the lab's TypeScript loader.
 * Trusted means written by the task author, not the researcher; it still gets a time limit and a clean
 * environment (no API keys), since it reads artifacts that untrusted code produced.
 */
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RUN_TS = resolve(PROJECT_ROOT, 'bin/run-ts.js');
const OUTPUT_LIMIT_BYTES = 1 << 20;

export interface TrustedScriptResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export function runTrustedScript(script: string, env: Record<string, string>, timeoutSeconds: number, args: string[] = []): Promise<TrustedScriptResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [RUN_TS, script, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', SUCCESSOR_LAB_ROOT: PROJECT_ROOT, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (stdout.length < OUTPUT_LIMIT_BYTES) stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < OUTPUT_LIMIT_BYTES) stderr += chunk.toString('utf8');
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutSeconds * 1000);
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolvePromise({ exitCode, stdout, stderr, timedOut });
    });
  });
}
