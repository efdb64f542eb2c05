/**
 * The llm researcher through the real lab loop on the sleepy task: a scripted model edits the config and the
 * code (which prints its environment), the lab runs, repeats and gates it, transcripts are journaled and linked
 * to the experiment, and the API key that lives in the lab process never reaches an experiment. Then the CLI:
 * a resumed llm run keeps its stored settings and its spent budget.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/executor/local.js';
import { openJournal } from '../../src/journal/journal.js';
import { parseRunOptions } from '../../src/lab/options.js';
import { research } from '../../src/lab/start.js';
import { createLlmResearcher } from '../../src/researcher/llm/create.js';
import type { RunId } from '../../src/task/ids.js';
import { CLI, ROOT } from '../lab/fixtures.js';
import { SLEEPY } from './llm-context.js';
import { startModelServer } from './llm-server.js';

const SECRET = 'sk-lab-only-4f1c9e77d2';
const home = mkdtempSync(join(tmpdir(), 'successor-llm-loop-'));
const previousKey = process.env.OPENAI_API_KEY;
afterAll(() => {
  if (previousKey === undefined) delete process.env.OPENAI_API_KEY;
  else process.env.OPENAI_API_KEY = previousKey;
  rmSync(home, { recursive: true, force: true });
});

it('runs a model-proposed experiment through the loop; the key stays in the lab process', async () => {
  process.env.OPENAI_API_KEY = SECRET;
  const printLine = 'console.log(`delay_ms: ${config.delayMs}`);';
  const server = await startModelServer([
    { kind: 'tools', calls: [{ name: 'read_file', args: { path: 'work.mjs' } }] },
    { kind: 'tools', calls: [
      { name: 'edit_file', args: { path: 'config.json', search: '"delayMs": 1500', replace: '"delayMs": 100' } },
      { name: 'edit_file', args: { path: 'work.mjs', search: printLine, replace: `${printLine}\nconsole.log('env: ' + JSON.stringify(process.env));` } },
    ] },
    { kind: 'tools', calls: [{ name: 'run_experiment', args: { description: 'shorter delay, and show the environment' } }] },
  ]);
  const researcher = createLlmResearcher({ model: 'openai:scripted', baseUrl: server.baseUrl, priceInput: 0, priceOutput: 0 });
  const journal = openJournal(join(home, 'successor.db'));
  const executor = await LocalExecutor.create('auto', home);
  try {
    const options = parseRunOptions({ task: SLEEPY, researcher: 'llm', maxExperiments: 1 });
    const result = await research({ journal, executor, researcher, stateDir: home, signal: new AbortController().signal, observe: () => {} }, { options, generations: 1 });
    const runId = result.runs[0].runId as RunId;
    const experiments = journal.listExperiments(runId);
    const candidate = experiments.find((experiment) => experiment.role === 'candidate');
    expect(candidate?.change.knobs).toEqual({ delayMs: 100 });
    expect(candidate?.outcome?.status).toBe('ok');
    expect(candidate?.accepted).toBe(true);
    // Every model call is a journal event, linked from the experiment it produced.
    const calls = journal.listEvents(runId).filter((event) => event.type === 'llm.call');
    expect(calls).toHaveLength(3);
    expect(candidate?.metadata.transcript).toEqual(calls.map((event) => event.id));
    // The experiment printed its whole environment: the key is not in it, nor in any log.
    const candidateOut = readFileSync(join(candidate?.logPath ?? '', 'stdout.log'), 'utf8');
    expect(candidateOut).toContain('env: {');
    for (const experiment of experiments) {
      for (const stream of ['stdout.log', 'stderr.log']) {
        const path = join(experiment.logPath ?? '', stream);
        if (experiment.logPath && existsSync(path)) expect(readFileSync(path, 'utf8')).not.toContain(SECRET);
      }
    }
    expect(journal.verifyAudit({ runId }).ok).toBe(true);
  } finally {
    await executor.close();
    journal.close();
    await server.close();
  }
}, 120_000);

/** The CLI as a user runs it, without blocking this process (the model server lives here). */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

it('a resumed llm run needs no flags: it keeps its model and counts its token budget on from what it spent', async () => {
  const server = await startModelServer([
    { kind: 'tools', calls: [{ name: 'edit_file', args: { path: 'config.json', search: '"delayMs": 1500', replace: '"delayMs": 200' } }] },
    { kind: 'tools', calls: [{ name: 'run_experiment', args: { description: 'shorter delay' } }] },
  ]);
  const env = { SUCCESSOR_HOME: join(home, 'resume'), OPENAI_API_KEY: SECRET };
  try {
    // Two calls of 150 tokens each spend the whole budget of 300.
    const first = await cli(['research', '--task', SLEEPY, '--researcher', 'llm', '--model', 'openai:scripted', '--base-url', server.baseUrl,
      '--price-input', '0', '--price-output', '0', '--max-tokens', '300', '--max-experiments', '1', '--json'], env);
    expect(first.code, first.stderr).toBe(0);
    const runId = JSON.parse(first.stdout).runId as RunId;
    expect(server.requests).toHaveLength(2);

    const resumed = await cli(['research', '--resume', runId, '--max-experiments', '1', '--json'], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(server.requests).toHaveLength(2); // no call past the budget
    const journal = openJournal(join(home, 'resume', 'successor.db'), { readonly: true });
    try {
      const run = journal.getRun(runId);
      expect(run?.options.researcherSettings).toMatchObject({ model: 'openai:scripted', baseUrl: server.baseUrl, maxTokens: 300 });
      expect(JSON.stringify(run?.options)).not.toContain(SECRET);
      const budget = journal.listEvents(runId).filter((event) => event.type === 'llm.budget');
      expect(budget.at(-1)?.payload).toMatchObject({ reason: 'token budget spent (300 of 300)', calls: 2 });
    } finally {
      journal.close();
    }
  } finally {
    await server.close();
  }
}, 120_000);
