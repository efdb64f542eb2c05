/**
 * The dashboard's JSON API through Hono's app.request: runs, run pages, experiment pages in tree order, details,
 * approve/reject/stop through src/lab/control.ts (journaled, audited), the write and host guards, the token,
 * and the live update feed's catch-up.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createDashboard, type Dashboard } from '../../src/ui/server.js';
import { addExperiment, createRun, fillRun, openTemporaryJournal, removeTemporaryStateDirs } from './fixtures.js';

const opened: Dashboard[] = [];
afterEach(() => { for (const dashboard of opened.splice(0)) dashboard.close(); });
afterAll(removeTemporaryStateDirs);

const WRITE = { 'x-successor-dashboard': '1', 'content-type': 'application/json' };

function setup(token: string | null = null) {
  const { journal, stateDir, path } = openTemporaryJournal();
  const dashboard = createDashboard({ journalPath: path, stateDir, token });
  opened.push(dashboard);
  const get = async (url: string, headers: Record<string, string> = {}) => {
    const response = await dashboard.app.request(url, { headers: { host: '127.0.0.1:4173', ...headers } });
    return { status: response.status, body: await response.json().catch(() => null) as any };
  };
  const post = async (url: string, body: unknown, headers: Record<string, string> = WRITE) => {
    const response = await dashboard.app.request(url, { method: 'POST', headers: { host: '127.0.0.1:4173', ...headers }, body: JSON.stringify(body) });
    return { status: response.status, body: await response.json().catch(() => null) as any };
  };
  return { journal, dashboard, get, post };
}

describe('dashboard API', () => {
  it('says what model calls cost per run and per experiment, and serves an experiment\'s transcript', async () => {
    const { journal, get } = setup();
    const idle = fillRun(journal, 3);
    const run = createRun(journal);
    const base = addExperiment(journal, run, { role: 'baseline' });
    const call = (input: number, output: number, text: string) => journal.appendEvent(run.id, 'llm.call', {
      model: 'openai:gpt-5', step: 0, prompt: [{ role: 'user', content: text }], response: [{ role: 'assistant', content: [{ type: 'text', text: `re: ${text}` }] }],
      usage: { inputTokens: input, outputTokens: output }, costDollars: (input * 1.25 + output * 10) / 1e6,
    }).id;
    const first = call(1000, 100, 'first');
    const second = call(2000, 300, 'second');
    const proposed = addExperiment(journal, run, { parentId: base.id, metadata: { transcript: [first, second] } });
    call(400, 40, 'gave up'); // an episode that proposed nothing: the run pays, no experiment does
    const runs = (await get('/api/runs')).body.runs as any[];
    expect(runs.find((item) => item.id === idle.id).model).toEqual({ calls: 0, inputTokens: 0, outputTokens: 0, dollars: 0 });
    const total = runs.find((item) => item.id === run.id).model;
    expect(total).toMatchObject({ calls: 3, inputTokens: 3400, outputTokens: 440 });
    expect(total.dollars).toBeCloseTo((3400 * 1.25 + 440 * 10) / 1e6, 12);
    expect((await get(`/api/runs/${run.id}`)).body.run.model).toEqual(total);
    // Counted incrementally between polls: a call made since the last look is added, none counted twice.
    call(100, 10, 'later');
    const later = ((await get('/api/runs')).body.runs as any[]).find((item) => item.id === run.id).model;
    expect(later).toMatchObject({ calls: 4, inputTokens: 3500, outputTokens: 450 });
    expect((await get(`/api/runs/${run.id}`)).body.run.model).toEqual(later);
    const detail = (await get(`/api/experiments/${proposed.id}`)).body;
    expect(detail.model).toMatchObject({ calls: 2, inputTokens: 3000, outputTokens: 400 });
    expect((await get(`/api/experiments/${base.id}`)).body.model.calls).toBe(0);
    const transcript = (await get(`/api/experiments/${proposed.id}/calls`)).body;
    expect(transcript.calls.map((item: any) => item.id)).toEqual([first, second]);
    expect(transcript.calls[1].call.prompt[0].content).toBe('second');
    expect((await get('/api/experiments/exp_000000000000/calls')).status).toBe(404);
  });

  it('lists runs with best score, gain and budget, and pages the experiment tree', async () => {
    const { journal, get } = setup();
    const run = fillRun(journal, 120);
    const runs = await get('/api/runs');
    expect(runs.status).toBe(200);
    expect(runs.body.runs).toHaveLength(1);
    const view = runs.body.runs[0];
    // Independently from the full rows: the baseline's samples are its own score and its repeats'.
    const rows = journal.listExperiments(run.id);
    const baseline = rows.find((row) => row.role === 'baseline')!;
    const samples = rows.filter((row) => row.id === baseline.id || (row.role === 'repeat' && row.parentId === baseline.id))
      .flatMap((row) => (row.outcome?.status === 'ok' ? [row.outcome.score] : []));
    const baselineMean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
    expect(view).toMatchObject({ id: run.id, task: 'sleepy', experiments: 120 });
    expect(view.baselineScore).toBeCloseTo(baselineMean, 9);
    expect(view.bestScore).toBeLessThan(baselineMean);
    expect(view.gain).toBeCloseTo(baselineMean / view.bestScore, 6);
    const page = await get(`/api/runs/${run.id}/experiments?offset=0&limit=30`);
    expect(page.body.total).toBe(120);
    expect(page.body.rows).toHaveLength(30);
    // Tree order: every row's parent comes before it on the page or is an earlier row of the tree.
    const seen = new Set<string>();
    for (const row of page.body.rows) {
      if (row.parentId) expect(seen.has(row.parentId)).toBe(true);
      seen.add(row.id);
    }
    const points = await get(`/api/runs/${run.id}/points`);
    expect(points.body.seq.length).toBe(points.body.kind.length);
    expect(points.body.seq.length).toBe(120);
    expect((await get('/api/runs/run_doesnotexist/experiments')).status).toBe(404);
    expect((await get(`/api/runs/${run.id}/experiments?limit=100000`)).status).toBe(400);
  });

  it('approves through the control functions: the state leaves awaiting-approval and an approval event is journaled', async () => {
    const { journal, get, post } = setup();
    const run = createRun(journal);
    const baseline = addExperiment(journal, run, { role: 'baseline', description: 'baseline', diff: '' });
    const waiting = addExperiment(journal, run, { parentId: baseline.id, state: 'awaiting-approval', outcome: null });
    const detail = await get(`/api/runs/${run.id}`);
    expect(detail.body.pending.map((item: { id: string }) => item.id)).toEqual([waiting.id]);
    expect((await post(`/api/experiments/${waiting.id}/approve`, {}, { 'content-type': 'application/json' })).status).toBe(403);
    const approved = await post(`/api/experiments/${waiting.id}/approve`, {});
    expect(approved).toEqual({ status: 200, body: { ok: true, state: 'proposed', approval: 'approved' } });
    expect(journal.getExperiment(waiting.id)?.state).toBe('proposed');
    expect(journal.listEvents(run.id).map((event) => event.type)).toContain('approval');
    expect((await post(`/api/experiments/${waiting.id}/approve`, {})).status).toBe(409);
    expect(journal.verifyAudit().ok).toBe(true);
  });

  it('rejects with a reason, and stops a running run', async () => {
    const { journal, post, get } = setup();
    const run = createRun(journal);
    const waiting = addExperiment(journal, run, { state: 'awaiting-approval', outcome: null });
    expect((await post(`/api/experiments/${waiting.id}/reject`, { why: ' ' })).status).toBe(400);
    expect((await post(`/api/experiments/${waiting.id}/reject`, { why: 'too risky' })).status).toBe(200);
    expect(journal.getExperiment(waiting.id)?.outcome).toEqual({ status: 'rejected', reason: 'too risky', metrics: {} });
    expect((await post(`/api/runs/${run.id}/stop`, {})).status).toBe(200);
    expect(journal.listEvents(run.id).filter((event) => event.type === 'stop.requested')).toHaveLength(1);
    const detail = await get(`/api/experiments/${waiting.id}`);
    expect(detail.body.experiment.diff).toContain('+++ b/config.json');
  });

  it('feeds live updates after the cursors a page loaded with', async () => {
    const { journal, get, dashboard } = setup();
    const run = createRun(journal);
    addExperiment(journal, run, { role: 'baseline', description: 'baseline', diff: '' });
    const detail = await get(`/api/runs/${run.id}`);
    expect(dashboard.hub.updateSince(run.id, detail.body.auditSeq, detail.body.lastEventId)).toBeNull();
    const added = addExperiment(journal, run, { state: 'running', outcome: null });
    journal.appendEvent(run.id, 'experiment.finished', { status: 'ok', score: 1 }, added.id);
    const update = dashboard.hub.updateSince(run.id, detail.body.auditSeq, detail.body.lastEventId);
    expect(update?.experiments.map((line) => line.id)).toEqual([added.id]);
    expect(update?.events.map((event) => event.type)).toEqual(['experiment.finished']);
    expect(update?.run.experiments).toBe(2);
  });

  it('verifies the audit log in a worker and reports it', async () => {
    const { journal, get, dashboard } = setup();
    const run = fillRun(journal, 20);
    await get(`/api/runs/${run.id}/audit`);
    await dashboard.access.audit.settled(run.id);
    const status = await get(`/api/runs/${run.id}/audit`);
    expect(status.body).toMatchObject({ state: 'verified', stale: false, report: { ok: true } });
  });

  it('answers loopback names only without a token, and requires the token when one is set', async () => {
    const open = setup();
    expect((await open.get('/api/runs', { host: 'evil.example:4173' })).status).toBe(403);
    const guarded = setup('a-token-of-enough-length');
    expect((await guarded.get('/api/runs')).status).toBe(401);
    expect((await guarded.get('/api/runs', { authorization: 'Bearer a-token-of-enough-length' })).status).toBe(200);
    expect((await guarded.get('/api/runs?token=a-token-of-enough-length')).status).toBe(200);
  });

  it('shows an empty benchmark state, then bench results with a horizon plot', async () => {
    const { journal, get } = setup();
    expect((await get('/api/bench')).body).toMatchObject({ results: null, hint: expect.stringContaining('successor bench') });
    const rows = [1, 2, 4, 8, 16, 32].flatMap((minutes, index) => ['search', 'llm'].map((researcher) => ({
      researcher, task: `t${index}`, humanMinutes: minutes, normalisation: { normalised: researcher === 'llm' ? 1 - index / 6 : 0.5 }, success: researcher === 'llm' ? index < 4 : index % 2 === 0,
    })));
    journal.setCache('bench:latest', { suite: 'mini', finishedAt: '2026-01-01T00:00:00.000Z', rows });
    const body = (await get('/api/bench')).body;
    expect(body.results.rows).toHaveLength(12);
    expect(body.results.rows.map((row: { normalisedScore: number }) => row.normalisedScore).slice(0, 2)).toEqual([0.5, 1]);
    expect(body.horizonSvg).toMatch(/^<svg/);
  });
});
