/**
 * Probes through the real executor, harness and sandbox, on the trainer workspace of test/fixtures/tasks/trainer-tiny:
 * a type check that catches a type error in the staged change (and passes the pristine workspace), a profiled run
 * that returns a per-kernel table, the per-proposal limit, a change that does not apply; each journaled as a `probe`
 * event, none an experiment row, and none left on disk.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/executor/local.js';
import { type Journal, type RunRow, openJournal } from '../../src/journal/journal.js';
import type { LabContext } from '../../src/lab/context.js';
import { lineageOf, unchangedExperiment } from '../../src/lab/lineage.js';
import { parseRunOptions } from '../../src/lab/options.js';
import { type ProbeSession, runProbe } from '../../src/lab/probes.js';
import type { FileEdit } from '../../src/task/change.js';
import { loadTask } from '../../src/task/loader.js';
import { FIXTURE_TASKS, temporaryDir } from './fixtures.js';

const home = temporaryDir('successor-probes-');
const task = loadTask(join(FIXTURE_TASKS, 'trainer-tiny'));
const recipe: FileEdit = { kind: 'write', path: 'recipe.json', content: readFileSync(join(FIXTURE_TASKS, 'trainer-tiny', 'recipe.json'), 'utf8') };
let journal: Journal;
let executor: LocalExecutor;
let context: LabContext;
let run: RunRow;
let cpuSeconds = 0;

beforeAll(async () => {
  journal = openJournal(join(home.path, 'successor.db'));
  executor = await LocalExecutor.create('auto', home.path);
  const options = parseRunOptions({ task: task.dir, researcher: 'test', maxExperiments: 1, probes: { perProposal: 3, capSeconds: 30 } });
  run = journal.createRun({ task: task.file.name, taskDir: task.dir, researcher: 'test', options, status: 'running', generation: 0, parentRunId: null, stopReason: null, summary: null });
  context = { journal, task, executor, researcher: { name: 'test', propose: async () => null }, stateDir: home.path, observe: () => {} };
}, 60_000);
afterAll(async () => {
  await executor.close();
  journal.close();
  home.remove();
});

const session = (): ProbeSession => ({
  run, options: parseRunOptions({ task: task.dir, researcher: 'test', probes: { perProposal: 3, capSeconds: 30 } }), signal: new AbortController().signal,
  lineage: (experiment) => lineageOf(journal, task, experiment), used: 0, onCpuSeconds: (seconds) => (cpuSeconds += seconds),
});

it('type-checks, profiles and runs a staged change in the sandbox; journals each probe, never as an experiment', async () => {
  const baseline = journal.createExperiment(unchangedExperiment(run.id, null, 'baseline', 'baseline'));
  const probes = session();
  const broken: FileEdit = { kind: 'replace', path: 'train.ts', search: 'export async function train(', replace: 'export async function train(oops: number, ' };
  const failedCheck = await runProbe(context, probes, { kind: 'check', parentId: baseline.id, change: { knobs: {}, edits: [recipe, broken] } });
  expect(failedCheck.status).toBe('failed');
  expect(failedCheck.stdout).toMatch(/run\.ts\(\d+,\d+\): error TS2345/);
  const check = await runProbe(context, probes, { kind: 'check', parentId: baseline.id, change: { knobs: {}, edits: [recipe] } });
  expect(check.status, check.stdout).toBe('ok');
  const profile = await runProbe(context, probes, { kind: 'profile', parentId: baseline.id, change: { knobs: {}, edits: [recipe] } });
  expect(profile.status, profile.stderr).toBe('ok');
  expect(profile.profile).toMatch(/matmulForward\s+\d+ calls\s+[\d.]+ ms/);
  expect(profile.probesLeft).toBe(0);
  const refused = await runProbe(context, probes, { kind: 'run', parentId: baseline.id, change: { knobs: {}, edits: [recipe] } });
  expect(refused).toMatchObject({ status: 'refused', summary: 'no probes left: 3 per proposal' });
  const unapplied = await runProbe(context, session(), { kind: 'run', parentId: baseline.id, change: { knobs: {}, edits: [{ kind: 'replace', path: 'train.ts', search: 'not in the file', replace: 'x' }] } });
  expect(unapplied.status).toBe('refused');

  const events = journal.listEvents(run.id).filter((event) => event.type === 'probe');
  expect(events.map((event) => [event.payload.kind, event.payload.status])).toEqual([['check', 'failed'], ['check', 'ok'], ['profile', 'ok']]);
  expect(events.every((event) => event.payload.sandbox === 'bubblewrap')).toBe(true);
  expect(cpuSeconds).toBeCloseTo(events.reduce((sum, event) => sum + Number(event.payload.cpuSeconds), 0), 9);
  expect(journal.listExperiments(run.id).map((experiment) => experiment.role)).toEqual(['baseline']);
  const experimentsDir = join(home.path, 'experiments');
  expect(existsSync(experimentsDir) ? readdirSync(experimentsDir).filter((name) => name.startsWith('probe_')) : []).toEqual([]);
}, 300_000);
