/**
 * Runs: the list (with generations' parent links), one run's page data, its experiments a page at a time in tree
 * or seq order, its chart points as compact arrays, its audit status, and the stop button. The stop is the same
 * call as the CLI's (requestStop in src/lab/control.ts).
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { ControlError, requestStop } from '../../lab/control.js';
import type { RunRow } from '../../journal/journal.js';
import type { LabAccess } from '../lab-access.js';
import { chartPoints, runView, treeOrder, type RunView } from '../run-model.js';

const PageQuery = z.object({
  offset: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().positive().max(500).default(100),
  order: z.enum(['tree', 'seq']).default('tree'),
});

const StopBody = z.object({ reason: z.string().max(500).optional() }).strict();

/** The runs linked to `run` by generations: its ancestors (oldest first), itself, and its descendants. */
function lineageOf(runs: readonly RunRow[], run: RunRow): RunRow[] {
  const byId = new Map(runs.map((item) => [item.id, item]));
  const ancestors: RunRow[] = [];
  for (let parent = run.parentRunId ? byId.get(run.parentRunId) : undefined; parent; parent = parent.parentRunId ? byId.get(parent.parentRunId) : undefined) {
    if (ancestors.includes(parent)) break;
    ancestors.unshift(parent);
  }
  const descendants: RunRow[] = [];
  for (let child = runs.find((item) => item.parentRunId === run.id); child; child = runs.find((item) => item.parentRunId === child!.id)) {
    if (descendants.includes(child)) break;
    descendants.push(child);
  }
  return [...ancestors, run, ...descendants];
}

export function runRoutes(access: LabAccess): Hono {
  const app = new Hono();
  const view = (run: RunRow): RunView => runView(run, access.lines(run.id), Date.now(), access.modelUsage().get(run.id));

  app.get('/api/runs', (context) => context.json({ auditSeq: access.views.auditSeq(), runs: access.journal.listRuns().map(view) }));

  app.get('/api/runs/:id', (context) => {
    const run = access.findRun(context.req.param('id'));
    if (!run) return context.json({ error: 'no such run' }, 404);
    const auditSeq = access.views.auditSeq();
    const lines = access.lines(run.id);
    const events = access.views.recentEvents(run.id, 50);
    return context.json({
      auditSeq,
      lastEventId: events.at(-1)?.id ?? 0,
      run: runView(run, lines, Date.now(), access.modelUsage().get(run.id)),
      options: run.options,
      summary: run.summary,
      lineage: lineageOf(access.journal.listRuns(), run).map(view),
      // The same rule as pendingApprovals() in src/lab/control.ts, on the compact lines (its full rows cost seconds at 10k).
      pending: lines.filter((line) => line.state === 'awaiting-approval' || line.approval === 'pending').map((line) => ({
        id: line.id, seq: line.seq, role: line.role, description: line.description, state: line.state,
        kind: line.state === 'awaiting-approval' ? 'run' : 'promotion',
      })),
      events,
      audit: access.audit.status(run.id, auditSeq),
      points: chartPoints(lines),
    });
  });

  app.get('/api/runs/:id/experiments', (context) => {
    const run = access.findRun(context.req.param('id'));
    if (!run) return context.json({ error: 'no such run' }, 404);
    const query = PageQuery.safeParse(context.req.query());
    if (!query.success) return context.json({ error: query.error.issues[0]?.message ?? 'bad query' }, 400);
    const { offset, limit, order } = query.data;
    const lines = access.lines(run.id);
    const seqOf = new Map(lines.map((line) => [line.id, line.seq]));
    const ordered = order === 'tree' ? treeOrder(lines) : lines.map((line) => ({ line, depth: 0 }));
    const rows = ordered.slice(offset, offset + limit).map(({ line, depth }) => ({ ...line, depth, parentSeq: line.parentId ? (seqOf.get(line.parentId) ?? null) : null }));
    return context.json({ total: ordered.length, offset, limit, order, rows });
  });

  app.get('/api/runs/:id/points', (context) => {
    const run = access.findRun(context.req.param('id'));
    if (!run) return context.json({ error: 'no such run' }, 404);
    return context.json(chartPoints(access.lines(run.id)));
  });

  app.get('/api/runs/:id/audit', (context) => {
    const run = access.findRun(context.req.param('id'));
    if (!run) return context.json({ error: 'no such run' }, 404);
    return context.json(access.audit.status(run.id, access.views.auditSeq()));
  });

  app.post('/api/runs/:id/stop', async (context) => {
    const run = access.findRun(context.req.param('id'));
    if (!run) return context.json({ error: 'no such run' }, 404);
    const body = StopBody.safeParse(await context.req.json().catch(() => ({})));
    if (!body.success) return context.json({ error: 'bad request body' }, 400);
    try {
      const stopped = access.write((journal) => requestStop(journal, run.id, body.data.reason ?? 'stop requested from the dashboard'));
      return context.json({ ok: true, status: stopped.status });
    } catch (error) {
      if (error instanceof ControlError) return context.json({ error: error.message }, 409);
      throw error;
    }
  });

  return app;
}
