/**
 * A task's research notebook for the dashboard: the lessons researchers wrote down across the task's runs (the
 * `notebook.entry` events, read by src/lab/notebook.ts), newest `limit` of them, oldest first. Read-only.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { readNotebook } from '../../lab/notebook.js';
import type { LabAccess } from '../lab-access.js';

const NotesQuery = z.object({ limit: z.coerce.number().int().positive().max(1000).default(50) });

export function noteRoutes(access: LabAccess): Hono {
  const app = new Hono();
  app.get('/api/tasks/:task/notes', (context) => {
    const task = context.req.param('task');
    const query = NotesQuery.safeParse(context.req.query());
    if (!query.success) return context.json({ error: query.error.issues[0]?.message ?? 'bad query' }, 400);
    return context.json({ task, entries: readNotebook(access.journal, task, { entries: query.data.limit, chars: Number.POSITIVE_INFINITY }) });
  });
  return app;
}
