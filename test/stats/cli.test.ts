/**
 * `successor horizon` and `successor trend` as a user runs them: the real CLI in a child process, on a synthetic
 * run file and on the shipped trend example. Checks the --json shapes, the SVG and HTML files, and exit code 2
 * with a one-line message for bad input.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { syntheticRuns } from './synthetic-runs.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'successor-horizon-cli-'));

function successor(...args: string[]) {
  const result = spawnSync(process.execPath, [join(root, 'bin/successor.js'), ...args], { cwd: directory, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('successor horizon', () => {
  const records = syntheticRuns(
    [{ agent: 'Model <A>', slope: -0.6, intercept: 2 }, { agent: 'Model B', slope: -0.5, intercept: 3 }],
    { families: 12, tasksPerFamily: 3, runsPerTask: 2, seed: 4 },
  );
  const runsFile = join(directory, 'runs.jsonl');
  writeFileSync(runsFile, records.map(({ line, ...record }) => JSON.stringify({ task_id: record.taskId, task_family: record.taskFamily, alias: record.agent, human_minutes: record.humanMinutes, score_binarized: record.success })).join('\n'));

  it('prints one JSON object per agent and writes the plot and the report', () => {
    const { code, stdout, stderr } = successor('horizon', runsFile, '--json', '--bootstrap', '40', '--seed', '3', '--plot', 'plot.svg', '--report', 'report.html');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as Record<string, unknown>[];
    expect(result.map((agent) => agent.agent)).toEqual(['Model <A>', 'Model B']);
    for (const agent of result) {
      expect(agent).toMatchObject({ runs: 72, tasks: 36, status: 'ok', weightSource: 'computed' });
      for (const key of ['slope', 'intercept', 'p50Minutes', 'p80Minutes']) expect(typeof agent[key]).toBe('number');
      const [low, high] = agent.p50Ci95 as number[];
      expect(low).toBeLessThanOrEqual(agent.p50Minutes as number);
      expect(high).toBeGreaterThanOrEqual(agent.p50Minutes as number);
      expect((agent.p80Ci95 as number[]).length).toBe(2);
    }
    const svg = readFileSync(join(directory, 'plot.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Model B');
    const html = readFileSync(join(directory, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('Model &#60;A&#62;'); // escaped in the table
    expect(html).not.toContain('<script');
  });

  it('exits 2 with one line naming the file and line for bad input or flags', () => {
    const badFile = join(directory, 'bad.jsonl');
    writeFileSync(badFile, '{"task_id":"f/t","task_family":"f","alias":"a","human_minutes":5,"score_binarized":1}\n{"task_id":"f/u","task_family":"f","alias":"a","human_minutes":"soon","score_binarized":0}\n');
    const bad = successor('horizon', badFile);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(`successor: ${badFile}:2: human_minutes must be a number, got "soon"`);
    const flag = successor('horizon', runsFile, '--weights', 'sqrt');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--weights must be one of invsqrt, equal, none/);
  });
});

describe('successor trend', () => {
  it('fits the shipped example and writes the plot', () => {
    const example = join(root, 'examples/trend-public-record.json');
    const { code, stdout } = successor('trend', example, '--json', '--bootstrap', '200', '--plot', 'trend.svg');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ points: 5, targetHours: 167, bootstrap: 200 });
    expect(result.doublingDays as number).toBeGreaterThan(90);
    expect(result.doublingDays as number).toBeLessThan(210);
    expect(result.forecastDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect((result.forecastDateCi95 as string[]).every((date) => /^\d{4}-\d{2}-\d{2}$/.test(date))).toBe(true);
    expect(readFileSync(join(directory, 'trend.svg'), 'utf8')).toContain('Claude Opus 4.6');
  });
});
