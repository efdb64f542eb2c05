/**
 * `successor mcp` with the research tools, driven by the official SDK's MCP client over stdio: the client probes a
 * staged change (sandboxed, journaled, not a sample), submits two experiments that run at once (--parallel 2),
 * waits for both, keeps the task's notebook, reads the population, and is told when a submission repeats one
 * already tried. The approval policy is a flag of its own (--approval), reported by get_task.
 */
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, expect, it } from 'vitest';
import { openJournal } from '../../src/journal/journal.js';
import { temporaryDir } from '../lab/fixtures.js';

const root = join(import.meta.dirname, '..', '..');
const home = temporaryDir('successor-mcp-research-');
afterAll(() => home.remove());

type ToolResult = { content: { type: string; text: string }[]; isError?: boolean };
const textOf = (result: unknown): string => (result as ToolResult).content.map((part) => part.text).join('\n');
const long = { timeout: 180_000 };

it('an MCP client probes, keeps notes, and has two experiments in flight', async () => {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(root, 'bin', 'successor.js'), 'mcp', '--task', join(root, 'test', 'fixtures', 'tasks', 'sleepy'), '--max-experiments', '3',
      '--parallel', '2', '--probes', '2', '--probe-seconds', '15', '--approval', 'promote'],
    env: { ...process.env, SUCCESSOR_HOME: home.path, NO_COLOR: '1' } as Record<string, string>,
    cwd: root,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'successor-test', version: '1.0.0' });
  await client.connect(transport);
  const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args }, undefined, long)) as ToolResult;
  const json = async (name: string, args: Record<string, unknown> = {}) => JSON.parse(textOf(await call(name, args))) as Record<string, unknown>;
  try {
    const tools = (await client.listTools()).tools.map((tool) => tool.name);
    for (const name of ['probe', 'read_notebook', 'write_note', 'submit_experiment', 'wait_for_experiments', 'get_population', 'crossover', 'run_experiment']) expect(tools).toContain(name);
    expect((await json('get_task')).policies).toEqual({ approval: 'promote', parallel: 2, probesPerProposal: 2, probeCapSeconds: 15 });

    // A probe of the staged change: its output, from the sandbox.
    expect(textOf(await call('edit_file', { path: 'config.json', search: '"delayMs": 1500', replace: '"delayMs": 2900' }))).toContain('edited config.json');
    const probe = await json('probe', { kind: 'run' });
    expect(probe).toMatchObject({ kind: 'run', status: 'ok', probesLeft: 1 });
    expect(String(probe.stdout)).toContain('delay_ms: 2900');

    // Two experiments in flight: the second is submitted while the first runs.
    const first = await json('submit_experiment', { description: 'delay 2900' });
    expect(textOf(await call('edit_file', { path: 'config.json', search: '"delayMs": 1500', replace: '"delayMs": 2800' }))).toContain('edited');
    const second = await json('submit_experiment', { description: 'delay 2800' });
    const waited = await json('wait_for_experiments', { experiments: [first.id, second.id] });
    expect(waited.allDecided).toBe(true);
    expect((waited.experiments as { status: string }[]).map((experiment) => experiment.status)).toEqual(['ok', 'ok']);

    // A repeat is refused at submission, with the experiment it repeats.
    await call('edit_file', { path: 'config.json', search: '"delayMs": 1500', replace: '"delayMs": 2900' });
    const repeat = await call('submit_experiment', { description: 'delay 2900 again' });
    expect(repeat.isError).toBe(true);
    expect(textOf(repeat)).toMatch(new RegExp(`refused before running: the same workspace as #\\d+ ${first.id}`));

    // The notebook and the population.
    expect(textOf(await call('write_note', { text: 'Longer delays only cost time: go below 1500 ms.', experiment: first.id }))).toMatch(/^noted/);
    expect(textOf(await call('read_notebook'))).toContain('Longer delays only cost time');
    const population = await json('get_population');
    expect((population.cells as unknown[]).length).toBeGreaterThanOrEqual(1);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- server stderr ---\n${stderr}`);
  } finally {
    await client.close();
  }
  const journal = openJournal(join(home.path, 'successor.db'), { readonly: true });
  try {
    const [run] = journal.listRuns();
    const candidates = journal.listExperiments(run.id).filter((experiment) => experiment.role === 'candidate');
    expect(candidates).toHaveLength(2);
    // They ran at the same time.
    const [a, b] = candidates.map((experiment) => [Date.parse(String(experiment.startedAt)), Date.parse(String(experiment.finishedAt))]);
    expect(Math.max(a[0], b[0])).toBeLessThan(Math.min(a[1], b[1]));
    const events = journal.listEvents(run.id);
    expect(events.filter((event) => event.type === 'probe').map((event) => event.payload.sandbox)).toEqual(['bubblewrap']);
    expect(events.filter((event) => event.type === 'notebook.entry').map((event) => event.payload.author)).toEqual(['mcp']);
    expect(journal.verifyAudit().ok).toBe(true);
  } finally {
    journal.close();
  }
}, 300_000);
