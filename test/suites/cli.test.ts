/**
 * `successor bench` end to end, as a user runs it: a two-task suite (test/suites/fixtures/mini), the search
 * researcher, one candidate per run and two runs per configuration, so it finishes in well under a minute.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openJournal } from '../../src/journal/journal.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const home = mkdtempSync(join(tmpdir(), 'bench-cli-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const bench = (args: string[]) =>
  run(process.execPath, [join(ROOT, 'bin/successor.js'), 'bench', ...args], { cwd: ROOT, env: { ...process.env, SUCCESSOR_HOME: home, NO_COLOR: '1' } })
    .then((result) => ({ code: 0, ...result }))
    .catch((error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }));

describe('successor bench', () => {
  it('runs a suite and prints scores, success and a horizon per researcher; journals the result', async () => {
    const suite = join(import.meta.dirname, 'fixtures/mini');
    const text = await bench(['--suite', suite, '--repeats', '2']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/suite mini: 2 runs, success = normalised >= 0.5/);
    expect(text.stdout).toMatch(/^reproduce-readme\s+search\s+1\s+15\s/m);
    expect(text.stdout).toMatch(/^tabular-wages\s+search\s+1\s+30\s/m);
    expect(text.stdout).toMatch(/^search\s+2\s+\S+\s+\d+%\s+\S+ min/m);

    const json = await bench(['--suite', suite, '--repeats', '2', '--tasks', 'reproduce-readme', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout) as { rows: { task: string; normalisation: { baselineSource: string } | null; runId: string }[]; researchersSummary: unknown[] };
    expect(result.rows).toHaveLength(1);
    expect(result.rows[0].normalisation?.baselineSource).toBe('measured');
    expect(result.researchersSummary).toHaveLength(1);

    const journal = openJournal(join(home, 'successor.db'), { readonly: true });
    try {
      const latest = journal.getCache('bench:latest') as { rows: { runId: string }[] };
      expect(latest.rows[0].runId).toBe(result.rows[0].runId);
      expect(journal.getRun(result.rows[0].runId as never)).toBeTruthy();
    } finally {
      journal.close();
    }
  }, 180_000);

  it('refuses an unknown researcher and an unknown task with exit 2', async () => {
    const researcher = await bench(['--researchers', 'llm:nonexistent-model-xyz', '--tasks', 'fix-training']);
    expect(researcher.code).toBe(2);
    expect(researcher.stderr).toMatch(/researcher/);
    const task = await bench(['--tasks', 'no-such-task']);
    expect(task.code).toBe(2);
    expect(task.stderr).toMatch(/not in suite builtin: no-such-task/);
  }, 60_000);
});
