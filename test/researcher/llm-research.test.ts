/**
 * The llm researcher doing research, over the real local OpenAI-protocol server and the real lab (loop, executor,
 * harness, bubblewrap sandbox) on the sleepy task: a probe of the staged change runs sandboxed, is journaled and is
 * never a sample the gate counts; the notebook it writes reaches the next run; a repeat is refused at submission;
 * two models share a run and the bandit's counts are journaled; a crossover episode stages both parents' edits.
 */

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/executor/local.js';
import { type Journal, openJournal } from '../../src/journal/journal.js';
import { readNotebook } from '../../src/lab/notebook.js';
import { parseRunOptions } from '../../src/lab/options.js';
import { research } from '../../src/lab/start.js';
import { createLlmResearcher, createModelResearcher } from '../../src/researcher/llm/create.js';
import { crossoverChange } from '../../src/researcher/population.js';
import type { ExperimentSummary, ResearchContext, Researcher } from '../../src/researcher/types.js';
import type { FileEdit } from '../../src/task/change.js';
import { ExperimentId, type RunId } from '../../src/task/ids.js';
import { loadTask } from '../../src/task/loader.js';
import { defaultAssignment } from '../../src/task/space.js';
import { materialiseWorkspace } from '../../src/task/workspace.js';
import { runCli, temporaryDir } from '../lab/fixtures.js';
import { SLEEPY } from './llm-context.js';
import { type RecordedRequest, type Reply, startModelServer } from './llm-server.js';

const SECRET = 'sk-lab-only-research-7d1e';
const home = temporaryDir('successor-llm-research-');
afterAll(() => home.remove());
const printLine = 'console.log(`delay_ms: ${config.delayMs}`);';
const tools = (...calls: { name: string; args: Record<string, unknown> }[]): Reply => ({ kind: 'tools', calls });

async function runLab(journal: Journal, researcher: Researcher, maxExperiments: number, extra: Record<string, unknown> = {}) {
  const executor = await LocalExecutor.create('auto', home.path);
  try {
    // Contention off, as for the CLI under vitest (vitest.config.ts): test files share the machine.
    const options = parseRunOptions({ task: SLEEPY, researcher: 'llm', maxExperiments, contentionLimit: null, ...extra });
    const result = await research({ journal, executor, researcher, stateDir: home.path, signal: new AbortController().signal, observe: () => {} }, { options, generations: 1 });
    return result.runs[0].runId as RunId;
  } finally {
    await executor.close();
  }
}

describe('the llm researcher in the lab', () => {
  const journal = openJournal(join(home.path, 'successor.db'));
  afterAll(() => journal.close());

  it('probes its staged change in the sandbox (journaled, never a sample), writes a note, and the note reaches the next run', async () => {
    process.env.OPENAI_API_KEY = SECRET;
    const server = await startModelServer([
      tools(
        { name: 'edit_file', args: { path: 'config.json', search: '"delayMs": 1500', replace: '"delayMs": 100' } },
        { name: 'edit_file', args: { path: 'work.mjs', search: printLine, replace: `${printLine}\nconsole.log('env: ' + JSON.stringify(process.env));` } },
      ),
      tools({ name: 'probe', args: { kind: 'run', seconds: 10 } }),
      tools({ name: 'probe', args: { kind: 'check' } }),
      tools({ name: 'write_note', args: { text: 'A delay of 100 ms runs fine in a probe; the delay is the only cost here.' } }),
      tools({ name: 'run_experiment', args: { description: 'delay 1500 -> 100 ms' } }),
    ]);
    try {
      const researcher = createLlmResearcher({ model: 'openai:scripted', baseUrl: server.baseUrl, priceInput: 0, priceOutput: 0 });
      const runId = await runLab(journal, researcher, 1);
      // The probe ran the staged change, in the sandbox, and its output came back to the model.
      const probes = journal.listEvents(runId).filter((event) => event.type === 'probe');
      expect(probes.map((event) => [event.payload.kind, event.payload.status])).toEqual([['run', 'ok'], ['check', 'ok']]);
      expect(probes[0].payload).toMatchObject({ sandbox: 'bubblewrap', change: 'delayMs=100, edit work.mjs' });
      expect(String(probes[0].payload.stdout)).toContain('delay_ms: 100');
      expect(String(probes[1].payload.summary)).toContain('type check');
      expect(Number(probes[0].payload.cpuSeconds)).toBeGreaterThan(0);
      expect(server.requests[2].text).toContain('delay_ms: 100');
      for (const event of probes) expect(JSON.stringify(event.payload)).not.toContain(SECRET);
      // Never a sample: the experiments are the baseline's calibration, the candidate and its confirmation pairs only.
      const experiments = journal.listExperiments(runId);
      const candidate = experiments.find((experiment) => experiment.role === 'candidate');
      expect(candidate?.accepted).toBe(true);
      const pairs = candidate?.metadata.gate?.pairs ?? 0;
      expect(experiments.filter((experiment) => experiment.role === 'repeat')).toHaveLength(2 + 2 * pairs);
      expect(candidate?.metadata.gate?.candidateSamples ?? []).toHaveLength(pairs);
      expect(journal.verifyAudit({ runId }).ok).toBe(true);
      expect(readNotebook(journal, 'sleepy').map((entry) => entry.text)).toEqual(['A delay of 100 ms runs fine in a probe; the delay is the only cost here.']);
    } finally {
      await server.close();
    }

    // The next run on the task: its first prompt carries the notebook; `successor notes` shows it.
    const next = await startModelServer([tools({ name: 'edit_file', args: { path: 'config.json', search: '"delayMs": 1500', replace: '"delayMs": 1600' } }), tools({ name: 'run_experiment', args: { description: 'delay 1600' } })]);
    try {
      await runLab(journal, createLlmResearcher({ model: 'openai:scripted', baseUrl: next.baseUrl, priceInput: 0, priceOutput: 0 }), 1, { usePrior: false });
      expect(next.requests[0].text).toContain('A delay of 100 ms runs fine in a probe');
      const notes = runCli(['notes', 'sleepy'], home.path);
      expect(notes.code, notes.stderr).toBe(0);
      expect(notes.stdout).toContain('A delay of 100 ms runs fine in a probe');
    } finally {
      await next.close();
    }
  }, 240_000);

  it('hears at submission that a change repeats one already tried, and proposes something new instead', async () => {
    const same = tools({ name: 'edit_file', args: { path: 'config.json', search: '"delayMs": 1500', replace: '"delayMs": 1700' } });
    const server = await startModelServer([
      same, tools({ name: 'run_experiment', args: { description: 'delay 1700' } }),
      same, tools({ name: 'run_experiment', args: { description: 'delay 1700 again' } }),
      tools({ name: 'reset_edits', args: {} }),
      tools({ name: 'edit_file', args: { path: 'config.json', search: '"delayMs": 1500', replace: '"delayMs": 1800' } }),
      tools({ name: 'run_experiment', args: { description: 'delay 1800' } }),
    ]);
    try {
      const runId = await runLab(journal, createLlmResearcher({ model: 'openai:scripted', baseUrl: server.baseUrl, priceInput: 0, priceOutput: 0 }), 2, { usePrior: false });
      const candidates = journal.listExperiments(runId).filter((experiment) => experiment.role === 'candidate');
      expect(candidates.map((experiment) => experiment.change.knobs)).toEqual([{ delayMs: 1700 }, { delayMs: 1800 }]);
      expect(server.requests[4].text).toMatch(/the lab would not run this: refused before running: the same workspace as #\d+/);
    } finally {
      await server.close();
    }
  }, 240_000);

  it('shares a run between two models, a bandit picking one per proposal, its counts journaled', async () => {
    const delays: Record<string, number[]> = { 'model-a': [1600, 1700], 'model-b': [1650, 1750] };
    const server = await startModelServer((request: RecordedRequest) => {
      const model = String(request.body.model);
      const messages = request.body.messages as { role: string }[];
      if (messages.some((message) => message.role === 'tool')) return tools({ name: 'run_experiment', args: { description: `${model}'s idea` } });
      const delay = delays[model].shift();
      return tools({ name: 'edit_file', args: { path: 'config.json', search: '"delayMs": 1500', replace: `"delayMs": ${delay}` } });
    });
    try {
      const ensemble = createModelResearcher({ model: 'compatible:model-a', models: ['compatible:model-b'], baseUrl: server.baseUrl, priceInput: 0, priceOutput: 0, maxTokens: 100_000 });
      const runId = await runLab(journal, ensemble, 3, { usePrior: false });
      const candidates = journal.listExperiments(runId).filter((experiment) => experiment.role === 'candidate');
      expect(candidates.map((experiment) => experiment.metadata.origin?.model), `stopped: ${journal.getRun(runId)?.stopReason}`).toEqual(['compatible:model-a', 'compatible:model-b', 'compatible:model-a']);
      const bandit = journal.listEvents(runId).filter((event) => event.type === 'bandit').map((event) => event.payload);
      expect(bandit.map((payload) => payload.chosen)).toEqual(['compatible:model-a', 'compatible:model-b', 'compatible:model-a']);
      expect(bandit.map((payload) => (payload.arms as { pulls: number }[]).map((arm) => arm.pulls))).toEqual([[0, 0], [1, 0], [1, 1]]);
      // One budget for both: every call counted once, whoever made it.
      expect(journal.listEvents(runId).filter((event) => event.type === 'llm.call').map((event) => event.payload.model)).toEqual(
        ['compatible:model-a', 'compatible:model-a', 'compatible:model-b', 'compatible:model-b', 'compatible:model-a', 'compatible:model-a']);
    } finally {
      await server.close();
    }
  }, 240_000);
});

it('a bad ensemble is refused: a dollar budget needs prices for every model', () => {
  expect(() => createModelResearcher({ model: 'openai:gpt-4.1-mini', models: ['compatible:unknown'], baseUrl: 'http://127.0.0.1:9/v1', maxDollars: 1, environment: { OPENAI_API_KEY: 'x' } }))
    .toThrow(/no known prices for compatible:unknown/);
});

it('crosses two accepted branches: the episode starts with the donor\'s edits staged on the incumbent, and the proposal carries both', async () => {
  const task = loadTask(SLEEPY);
  const root = temporaryDir('successor-crossover-');
  const id = (name: string) => ExperimentId.parse(`exp_${name.padEnd(8, '0')}`);
  const ok = (score: number) => ({ status: 'ok' as const, score, metrics: {} });
  const base = defaultAssignment(task.file.space);
  const lineEdit = { kind: 'replace' as const, path: 'work.mjs', search: printLine, replace: `${printLine}\nconsole.log('branch a');` };
  const history: ExperimentSummary[] = [
    { id: id('base'), parentId: null, role: 'baseline', description: 'baseline', change: { knobs: {}, edits: [] }, assignment: base, outcome: ok(1.6), accepted: false },
    { id: id('a'), parentId: id('base'), role: 'candidate', description: 'branch a: a log line', change: { knobs: {}, edits: [lineEdit] }, assignment: base, outcome: ok(1.5), accepted: true },
    { id: id('b'), parentId: id('base'), role: 'candidate', description: 'branch b: shorter delay', change: { knobs: { delayMs: 900 }, edits: [] }, assignment: { ...base, delayMs: 900 }, outcome: ok(1.0), accepted: true },
  ];
  const chainEdits = (experiment: ExperimentSummary): FileEdit[] => (experiment.parentId ? chainEdits(history.find((entry) => entry.id === experiment.parentId)!) : []).concat(experiment.change.edits);
  const context: ResearchContext = {
    task: { name: task.file.name, instructions: task.instructions, metric: task.file.metric, space: task.file.space },
    history, incumbent: history[2], budget: { fractionUsed: 0.5, experimentsLeft: 5, secondsLeft: null }, seed: 1, signal: new AbortController().signal,
    workspace: {
      editable: task.file.workspace.editable, configFile: task.file.run.configFile ?? null,
      materialise: (experimentId) => {
        const experiment = history.find((entry) => entry.id === experimentId)!;
        const dir = join(root.path, experimentId);
        materialiseWorkspace(task, { edits: chainEdits(experiment), assignment: experiment.assignment }, dir);
        return dir;
      },
      readLog: () => null, readDiff: () => null,
    },
  };
  const server = await startModelServer([tools({ name: 'read_file', args: { path: 'work.mjs' } }), tools({ name: 'run_experiment', args: { description: 'a and b together' } })]);
  try {
    const researcher = createLlmResearcher({ model: 'openai:scripted', baseUrl: server.baseUrl, priceInput: 0, priceOutput: 0, environment: { OPENAI_API_KEY: 'x' } });
    const proposal = await researcher.propose(context);
    expect(server.requests[0].text).toContain('cross two accepted branches');
    // The workspace the model read already had branch a's line on top of branch b.
    expect(server.requests[1].text).toContain("console.log('branch a');");
    expect(proposal).toMatchObject({ parentId: id('b'), change: { knobs: {}, edits: [lineEdit] }, origin: { strategy: 'crossover', parents: [id('b'), id('a')] } });
    // Its lineage holds both parents' changes: b's delay (its parent) and a's edit (its own change).
    const lineage = { edits: [...chainEdits(history[2]), ...(proposal?.change.edits ?? [])], assignment: { ...history[2].assignment, ...proposal?.change.knobs } };
    expect(lineage.assignment.delayMs).toBe(900);
    expect(lineage.edits).toEqual([lineEdit]);
    expect(crossoverChange(history, history[2], history[1])).toEqual({ knobs: {}, edits: [lineEdit] });
    expect(crossoverChange(history, history[1], history[2])).toEqual({ knobs: { delayMs: 900 }, edits: [] });
  } finally {
    await server.close();
    root.remove();
  }
}, 60_000);
