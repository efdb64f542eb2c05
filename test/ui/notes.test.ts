/**
 * The dashboard's notebook route (the run page's "Research notebook" card reads it): a task's notes across its
 * runs, oldest first, the newest `limit`, another task's never.
 */
import { afterAll, afterEach, expect, it } from 'vitest';
import { appendNote } from '../../src/lab/notebook.js';
import { createDashboard, type Dashboard } from '../../src/ui/server.js';
import { createRun, openTemporaryJournal, removeTemporaryStateDirs } from './fixtures.js';

const opened: Dashboard[] = [];
afterEach(() => { for (const dashboard of opened.splice(0)) dashboard.close(); });
afterAll(removeTemporaryStateDirs);

it('serves a task\'s notebook across its runs, newest entries first cut by the limit, and no other task\'s', async () => {
  const { journal, stateDir, path } = openTemporaryJournal();
  const first = createRun(journal);
  const second = createRun(journal);
  const other = createRun(journal, { task: 'kernel-matmul' });
  appendNote(journal, first, 'llm', 'one: the delay is the only cost');
  appendNote(journal, other, 'search', 'not about sleepy');
  appendNote(journal, second, 'mcp', 'two: below 200 ms the gain flattens');
  appendNote(journal, second, 'person', 'three: try the crash mode never');
  const dashboard = createDashboard({ journalPath: path, stateDir, token: null });
  opened.push(dashboard);
  const get = async (url: string) => (await dashboard.app.request(url, { headers: { host: '127.0.0.1:4173' } })).json() as Promise<{ task: string; entries: { text: string; author: string; runId: string }[] }>;
  const all = await get(`/api/tasks/${first.task}/notes`);
  expect(all.entries.map((entry) => entry.text)).toEqual(['one: the delay is the only cost', 'two: below 200 ms the gain flattens', 'three: try the crash mode never']);
  expect(all.entries.map((entry) => entry.runId)).toEqual([first.id, second.id, second.id]);
  const newest = await get(`/api/tasks/${first.task}/notes?limit=2`);
  expect(newest.entries.map((entry) => entry.author)).toEqual(['mcp', 'person']);
  expect((await get('/api/tasks/kernel-matmul/notes')).entries.map((entry) => entry.text)).toEqual(['not about sleepy']);
  const bad = await dashboard.app.request(`/api/tasks/${first.task}/notes?limit=0`, { headers: { host: '127.0.0.1:4173' } });
  expect(bad.status).toBe(400);
  journal.close();
});
