/**
 * Helpers for the CLI's tests: the real `successor` in a child process with its own lab home (and, when asked, its
 * own HOME and key dir), and a journal with an llm run in it (model calls journaled as the llm researcher does).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { type Journal, openJournal } from '../../src/journal/journal.js';
import type { ExperimentId, RunId } from '../../src/task/ids.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'bin/successor.js');

export interface CliResult { code: number | null; stdout: string; stderr: string }

const scratch: string[] = [];

export function temporaryDir(prefix = 'successor-cli-'): string {
  const path = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(path);
  return path;
}

export function removeTemporaryDirs(): void {
  for (const path of scratch.splice(0)) rmSync(path, { recursive: true, force: true });
}

/** Runs the CLI; `environment` replaces variables (undefined removes one), `cwd` defaults to the lab home. */
export function runCli(args: string[], home: string, options: { cwd?: string; environment?: Record<string, string | undefined>; timeoutMs?: number } = {}): CliResult {
  const environment: Record<string, string | undefined> = { ...process.env, SUCCESSOR_HOME: home, NO_COLOR: '1', ...options.environment };
  for (const [key, value] of Object.entries(environment)) if (value === undefined) delete environment[key];
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? home, env: environment as NodeJS.ProcessEnv, encoding: 'utf8', timeout: options.timeoutMs ?? 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every file under `directory` with its sha256: what "nothing changed" is checked against. */
export function snapshot(directory: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (path: string): void => {
    for (const name of readdirSync(path)) {
      const child = join(path, name);
      if (statSync(child).isDirectory()) walk(child);
      else files[relative(directory, child)] = createHash('sha256').update(readFileSync(child)).digest('hex');
    }
  };
  walk(directory);
  return files;
}

export interface LlmLab { journal: Journal; runId: RunId; baselineId: ExperimentId; proposedId: ExperimentId; callIds: number[] }

/**
 * A lab home with one finished llm run: a baseline, a candidate proposed by two model calls (one tool call, then the
 * submission), and a third call in an episode that gave up (the run's cost, no experiment's).
 */
export function llmLab(home: string): LlmLab {
  const journal = openJournal(join(home, 'successor.db'));
  const run = journal.createRun({
    task: 'sleepy', taskDir: join(ROOT, 'test/fixtures/tasks/sleepy'), researcher: 'llm', status: 'completed', generation: 0, parentRunId: null,
    options: { task: 'sleepy', researcher: 'llm', researcherSettings: { model: 'anthropic:claude-opus-4-5' } }, stopReason: 'experiment budget spent', summary: null,
  });
  const baseline = journal.createExperiment({
    runId: run.id, parentId: null, role: 'baseline', description: 'baseline', change: { knobs: {}, edits: [] }, diff: '', state: 'finished',
    outcome: { status: 'ok', score: 1.52, metrics: { wallSeconds: 1.52, peakMemoryBytes: 52428800 } }, fidelity: 1, accepted: true, logPath: null, artifactsPath: null, metadata: {},
  });
  const call = (step: number, input: number, output: number, response: unknown[]) => journal.appendEvent(run.id, 'llm.call', {
    model: 'anthropic:claude-opus-4-5', mode: 'improve', parentId: baseline.id, step, prompt: [{ role: 'user', content: step === 0 ? 'Make it faster.\tPlease.' : 'go on' }],
    response, finishReason: 'tool-calls', usage: { inputTokens: input, outputTokens: output }, costDollars: (input * 5 + output * 25) / 1e6, durationMs: 1234, retries: [],
  }).id;
  const first = call(0, 1000, 200, [{ role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'a', toolName: 'read_file', input: { path: 'config.json' } }] },
    { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'a', toolName: 'read_file', output: { type: 'text', value: '{"delayMs": 1500}\u001b[31m' } }] }]);
  const second = call(1, 1500, 100, [{ role: 'assistant', content: [{ type: 'text', text: 'Halving the delay.' }, { type: 'tool-call', toolCallId: 'b', toolName: 'run_experiment', input: { description: 'halve the delay' } }] }]);
  const proposed = journal.createExperiment({
    runId: run.id, parentId: baseline.id, role: 'candidate', description: 'improve: halve the delay, "quoted", with\ta tab', change: { knobs: { delayMs: 750 }, edits: [] },
    diff: '', state: 'finished', outcome: { status: 'ok', score: 0.8, metrics: { wallSeconds: 0.8 } }, fidelity: 1, accepted: false, logPath: null, artifactsPath: null,
    metadata: { transcript: [first, second] },
  });
  const third = call(0, 500, 50, [{ role: 'assistant', content: 'I give up.' }]);
  return { journal, runId: run.id, baselineId: baseline.id, proposedId: proposed.id, callIds: [first, second, third] };
}
