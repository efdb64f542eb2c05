/**
 * `successor mcp` driven by the official SDK's own MCP client over stdio, as Claude Code or Codex would drive it:
 * read the task, edit the config through a search/replace block, run the experiment through the real loop
 * (harness, sandbox, repeats, gate, journal), read the results and logs, and find the run over at its budget.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, expect, it } from 'vitest';
import { openJournal } from '../../src/journal/journal.js';

const root = join(import.meta.dirname, '..', '..');
const home = mkdtempSync(join(tmpdir(), 'successor-mcp-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

type ToolResult = { content: { type: string; text: string }[]; isError?: boolean };
const textOf = (result: unknown): string => (result as ToolResult).content.map((part) => part.text).join('\n');

it('an MCP client runs a whole experiment through the lab', async () => {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(root, 'bin', 'successor.js'), 'mcp', '--task', join(root, 'test', 'fixtures', 'tasks', 'sleepy'), '--max-experiments', '1'],
    env: { ...process.env, SUCCESSOR_HOME: home, NO_COLOR: '1' } as Record<string, string>,
    cwd: root,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'successor-test', version: '1.0.0' });
  await client.connect(transport);
  try {
    const tools = (await client.listTools()).tools.map((tool) => tool.name).sort();
    expect(tools).toEqual(['edit_file', 'get_history', 'get_results', 'get_task', 'list_files', 'read_file', 'read_logs', 'reset_edits', 'run_experiment']);
    const task = JSON.parse(textOf(await client.callTool({ name: 'get_task', arguments: {} }))) as { name: string; configFile: string };
    expect(task).toMatchObject({ name: 'sleepy', configFile: 'config.json' });

    // The file tools wait for the lab to calibrate the baseline, then show the incumbent's workspace.
    const long = { timeout: 120_000 };
    expect(textOf(await client.callTool({ name: 'list_files', arguments: {} }, undefined, long)).split('\n')).toEqual(['config.json', 'work.mjs']);
    const config = textOf(await client.callTool({ name: 'read_file', arguments: { path: 'config.json' } }, undefined, long));
    expect(config).toContain('"delayMs": 1500');

    const refused = (await client.callTool({ name: 'edit_file', arguments: { path: 'config.json', search: '"delayMs":1500', replace: '"delayMs": 100' } })) as ToolResult;
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain('the search text was not found');
    const outside = (await client.callTool({ name: 'read_file', arguments: { path: '../../../etc/passwd' } })) as ToolResult;
    expect(outside.isError).toBe(true);
    expect(textOf(await client.callTool({ name: 'edit_file', arguments: { path: 'config.json', search: '"delayMs": 1500', replace: '"delayMs": 100' } }))).toContain('edited config.json');

    const progress: string[] = [];
    const ran = await client.callTool({ name: 'run_experiment', arguments: { description: 'delay 1500ms -> 100ms' } }, undefined, {
      timeout: 120_000,
      resetTimeoutOnProgress: true,
      onprogress: (event) => progress.push(event.message ?? ''),
    });
    const result = JSON.parse(textOf(ran)) as { experiment: Record<string, unknown>; repeats: unknown[]; runOver: string | null };
    expect(result.experiment).toMatchObject({ role: 'candidate', status: 'ok', claimedWin: true, accepted: true, description: 'delay 1500ms -> 100ms' });
    expect((result.experiment.gate as { accepted: boolean }).accepted).toBe(true);
    expect(result.repeats).toHaveLength(2);
    expect(result.runOver).toMatch(/experiment budget spent/);
    expect(progress.some((message) => message.includes('gate'))).toBe(true);

    const id = result.experiment.id as string;
    expect(textOf(await client.callTool({ name: 'read_logs', arguments: { experiment: id, stream: 'stdout' } }))).toContain('delay_ms: 100');
    const details = JSON.parse(textOf(await client.callTool({ name: 'get_results', arguments: { experiment: id } }))) as { change: unknown; diff: string };
    expect(details.change).toEqual({ knobs: { delayMs: 100 }, edits: [] });
    const history = JSON.parse(textOf(await client.callTool({ name: 'get_history', arguments: {} }))) as { experiments: { role: string }[] };
    // Baseline and its calibration repeats, the candidate, then its confirmation pairs (incumbent and candidate, alternating).
    const roles = history.experiments.map((experiment) => experiment.role);
    expect(roles.slice(0, 4)).toEqual(['baseline', 'repeat', 'repeat', 'candidate']);
    const pairs = roles.slice(4);
    expect(pairs.length % 2).toBe(0);
    expect(pairs.length).toBeGreaterThanOrEqual(4);
    expect(new Set(pairs)).toEqual(new Set(['repeat']));

    // The budget is spent: the lab says so instead of waiting forever.
    const over = (await client.callTool({ name: 'edit_file', arguments: { path: 'work.mjs', search: '', replace: 'x' } })) as ToolResult;
    expect(over.isError).toBe(true);
    expect(textOf(over)).toContain('the run is over');
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- server stderr ---\n${stderr}`);
  } finally {
    await client.close();
  }
  const journal = openJournal(join(home, 'successor.db'), { readonly: true });
  try {
    const [run] = journal.listRuns();
    expect(run.researcher).toBe('mcp');
    expect(journal.verifyAudit().ok).toBe(true);
  } finally {
    journal.close();
  }
}, 180_000);
