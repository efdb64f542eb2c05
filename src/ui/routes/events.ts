/**
 * Server-sent events of one run: `update` messages (experiments changed, the run's new view, journal events) from
 * the shared poller in event-hub.ts, after a catch-up from the cursors the page loaded with (`auditSeq`,
 * `lastEventId`), and a comment every 15 s so proxies keep the stream open.
 */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { EventHub, RunUpdate } from '../event-hub.js';
import type { LabAccess } from '../lab-access.js';

const Cursor = z.object({
  auditSeq: z.coerce.number().int().nonnegative().default(0),
  lastEventId: z.coerce.number().int().nonnegative().default(0),
});

export function eventRoutes(access: LabAccess, hub: EventHub): Hono {
  const app = new Hono();
  app.get('/api/runs/:id/events', (context) => {
    const run = access.findRun(context.req.param('id'));
    if (!run) return context.json({ error: 'no such run' }, 404);
    const cursor = Cursor.safeParse(context.req.query());
    if (!cursor.success) return context.json({ error: 'bad cursor' }, 400);
    return streamSSE(context, async (stream) => {
      const queue: RunUpdate[] = [];
      let wake: (() => void) | null = null;
      const unsubscribe = hub.subscribe(run.id, cursor.data, (update) => {
        queue.push(update);
        wake?.();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      try {
        await stream.writeSSE({ event: 'ready', data: JSON.stringify({ runId: run.id }) });
        while (!stream.aborted) {
          const update = queue.shift();
          if (update) {
            await stream.writeSSE({ event: 'update', data: JSON.stringify(update), id: String(update.auditSeq) });
            continue;
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 15_000);
            wake = () => { clearTimeout(timer); resolve(); };
          });
          wake = null;
          if (queue.length === 0 && !stream.aborted) await stream.write(': keep-alive\n\n');
        }
      } finally {
        unsubscribe();
      }
    });
  });
  return app;
}
