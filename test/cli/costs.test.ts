/**
 * What a run's model calls cost, through the real CLI: `show RUN|EXP` (text and --json), `show EXP --calls` (the
 * transcript), `runs --json`, and the tables for spreadsheets (`runs --format tsv|csv`, `show RUN --format tsv`).
 * The lab: an llm run whose candidate came from two calls (2,500 in + 300 out tokens at Opus 4.5's $5/$25 per
 * million: $0.02) and a third call that proposed nothing (500 + 50: $0.00375), so the run spent $0.02375.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LlmLab, llmLab, removeTemporaryDirs, runCli, temporaryDir } from './fixtures.js';

afterAll(removeTemporaryDirs);

let home: string;
let lab: LlmLab;
beforeAll(() => {
  home = temporaryDir();
  lab = llmLab(home);
  lab.journal.close();
});

const cli = (...args: string[]) => {
  const result = runCli(args, home);
  expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
};

describe('model spend', () => {
  it('per run and per experiment in show --json', () => {
    const run = JSON.parse(cli('show', lab.runId, '--json'));
    expect(run.usage).toMatchObject({ calls: 3, inputTokens: 3000, outputTokens: 350 });
    expect(run.usage.dollars).toBeCloseTo(0.02375, 12);
    const byId = Object.fromEntries(run.experiments.map((experiment: { id: string; usage: unknown }) => [experiment.id, experiment.usage]));
    expect(byId[lab.proposedId]).toMatchObject({ calls: 2, inputTokens: 2500, outputTokens: 300 });
    expect((byId[lab.proposedId] as { dollars: number }).dollars).toBeCloseTo(0.02, 12);
    expect(byId[lab.baselineId]).toEqual({ calls: 0, inputTokens: 0, outputTokens: 0, dollars: 0 });
    expect(JSON.parse(cli('show', lab.proposedId, '--json')).usage).toMatchObject({ calls: 2, inputTokens: 2500 });
    const runs = JSON.parse(cli('runs', '--json'));
    expect(runs[0]).toMatchObject({ runId: lab.runId, modelCalls: 3, inputTokens: 3000, outputTokens: 350 });
  });

  it('for people in show and runs', () => {
    expect(cli('show', lab.runId)).toMatch(/^model: 3 model calls, 3,000 in \+ 350 out tokens, \$0\.0238$/m);
    expect(cli('show', lab.runId)).toMatch(new RegExp(`^# {2}2 ${lab.proposedId} .*\\[2 calls \\$0\\.0200\\]$`, 'm'));
    expect(cli('show', lab.proposedId)).toMatch(/^model: 2 model calls, 2,500 in \+ 300 out tokens, \$0\.0200 \(successor show exp_\w+ --calls for the transcript\)$/m);
    expect(cli('runs')).toMatch(/ 3 calls \$0\.0238 /);
  });

  it('the transcript of an experiment\'s calls, with what a model wrote escaped', () => {
    const text = cli('show', lab.proposedId, '--calls');
    expect(text).toMatch(/^=== call 1 \(event \d+, .*\), anthropic:claude-opus-4-5, step 0 \(improve episode\), 1,000 in \+ 200 out tokens, \$0\.0100, 1\.23s, finished: tool-calls$/m);
    expect(text).toContain('assistant -> read_file({"path":"config.json"})');
    expect(text).toContain('tool <- read_file: {"delayMs": 1500}\\x1b[31m');
    expect(text).not.toContain('\u001b');
    expect(text).toContain('assistant -> run_experiment({"description":"halve the delay"})');
    expect(text).not.toContain('I give up'); // the third call proposed nothing: the run's cost, not this experiment's
    const json = JSON.parse(cli('show', lab.proposedId, '--calls', '--json'));
    expect(json.calls.map((event: { id: number }) => event.id)).toEqual(lab.callIds.slice(0, 2));
    expect(cli('show', lab.baselineId, '--calls')).toMatch(/^no model calls/);
  });
});

describe('tables for spreadsheets', () => {
  it('show RUN --format tsv: a header and one row per experiment, exact numbers, tabs in text flattened', () => {
    const lines = cli('show', lab.runId, '--format', 'tsv').trimEnd().split('\n');
    const header = lines[0].split('\t');
    expect(header).toEqual(['seq', 'experiment', 'parent', 'role', 'state', 'status', 'score', 'accepted', 'wall_seconds', 'peak_memory_mb',
      'model_calls', 'input_tokens', 'output_tokens', 'dollars', 'reason', 'description']);
    expect(lines).toHaveLength(3);
    const row = Object.fromEntries(header.map((name, index) => [name, lines[2].split('\t')[index]]));
    expect(row).toMatchObject({ seq: '2', experiment: lab.proposedId, parent: lab.baselineId, role: 'candidate', status: 'ok', score: '0.8', accepted: 'false',
      model_calls: '2', input_tokens: '2500', output_tokens: '300', dollars: '0.02', description: 'improve: halve the delay, "quoted", with a tab' });
    const baseline = Object.fromEntries(header.map((name, index) => [name, lines[1].split('\t')[index]]));
    expect(baseline).toMatchObject({ score: '1.52', peak_memory_mb: '50', model_calls: '0' });
  });

  it('runs --format tsv|csv: one row per run; csv quotes as RFC 4180 does', () => {
    const tsv = cli('runs', '--format', 'tsv').trimEnd().split('\n');
    expect(tsv[0]).toBe('run\tstatus\ttask\tresearcher\tgeneration\texperiments\tbest_score\tgain\telapsed_seconds\tmodel_calls\tinput_tokens\toutput_tokens\tdollars\tcreated');
    expect(tsv[1].split('\t').slice(0, 6)).toEqual([lab.runId, 'completed', 'sleepy', 'llm', '0', '2']);
    expect(tsv[1].split('\t')[12]).toBe('0.02375');
    const csv = cli('show', lab.runId, '--format', 'csv').trimEnd().split('\n');
    expect(csv[2].endsWith(',"improve: halve the delay, ""quoted"", with\ta tab"')).toBe(true);
  });

  it('refuses a format it does not have, --calls on a run and --format on an experiment (exit 2)', () => {
    for (const args of [['runs', '--format', 'xml'], ['show', lab.runId, '--calls'], ['show', lab.proposedId, '--format', 'tsv']]) {
      const result = runCli(args, home);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });
});
