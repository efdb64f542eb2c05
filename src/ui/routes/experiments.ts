/**
 * One experiment: its change as a unified diff, the tail of its logs, its metrics and outcome, what its model calls
 * cost and their transcript; and the approve and reject buttons, which call the same functions as the CLI
 * (src/lab/control.ts). What the researcher wrote (the diff, the description, the logs, the model's messages) is
 * untrusted text: it goes out as JSON strings and the page renders it as text.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { type ExperimentRow, NO_USAGE } from '../../journal/journal.js';
import { MODEL_CALL_EVENT } from '../../journal/model-usage.js';
import { ControlError, approveExperiment, rejectExperiment } from '../../lab/control.js';
import { prunedOf } from '../../lab/retention.js';
import { ExperimentId } from '../../task/ids.js';
import type { LabAccess } from '../lab-access.js';

const LOG_TAIL_BYTES = 32 * 1024;
const RejectBody = z.object({ why: z.string().trim().min(1, 'a rejection needs a reason').max(2000) }).strict();

/** The last `bytes` of a file, or null when it does not exist. */
function tail(path: string, bytes: number): { text: string; truncated: boolean } | null {
  if (!existsSync(path)) return null;
  const descriptor = openSync(path, 'r');
  try {
    const size = fstatSync(descriptor).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    readSync(descriptor, buffer, 0, length, size - length);
    return { text: buffer.toString('utf8'), truncated: size > length };
  } finally {
    closeSync(descriptor);
  }
}

function logsOf(experiment: ExperimentRow): Record<string, { text: string; truncated: boolean } | null> {
  if (!experiment.logPath) return {};
  return { stdout: tail(join(experiment.logPath, 'stdout.log'), LOG_TAIL_BYTES), stderr: tail(join(experiment.logPath, 'stderr.log'), LOG_TAIL_BYTES) };
}

/** Where the experiment's artifacts are, or that retention pruned them (src/lab/retention.ts), or that it left none. */
function artifactsOf(experiment: ExperimentRow): { state: 'kept' | 'pruned' | 'none'; path: string | null; prunedAt: string | null } {
  const pruned = prunedOf(experiment);
  if (pruned) return { state: 'pruned', path: experiment.artifactsPath, prunedAt: pruned.at };
  return { state: experiment.artifactsPath ? 'kept' : 'none', path: experiment.artifactsPath, prunedAt: null };
}

export function experimentRoutes(access: LabAccess): Hono {
  const app = new Hono();
  const find = (id: string): ExperimentRow | undefined => {
    const parsed = ExperimentId.safeParse(id);
    return parsed.success ? access.journal.getExperiment(parsed.data) : undefined;
  };

  app.get('/api/experiments/:id', (context) => {
    const experiment = find(context.req.param('id'));
    if (!experiment) return context.json({ error: 'no such experiment' }, 404);
    const parent = experiment.parentId ? access.journal.getExperiment(experiment.parentId) : undefined;
    return context.json({
      experiment,
      parent: parent ? { id: parent.id, seq: parent.seq, runId: parent.runId, description: parent.description } : null,
      logs: logsOf(experiment),
      metrics: experiment.outcome?.metrics ?? {},
      model: access.journal.modelUsage(experiment.runId).byExperiment.get(experiment.id) ?? NO_USAGE,
      artifacts: artifactsOf(experiment),
    });
  });

  // The transcript: the model calls that proposed this experiment (untrusted text, rendered as text by the page).
  app.get('/api/experiments/:id/calls', (context) => {
    const experiment = find(context.req.param('id'));
    if (!experiment) return context.json({ error: 'no such experiment' }, 404);
    const calls = access.journal.getEvents(experiment.metadata.transcript ?? [])
      .filter((event) => event.type === MODEL_CALL_EVENT && event.runId === experiment.runId)
      .map((event) => ({ id: event.id, at: event.at, call: event.payload }));
    return context.json({ experimentId: experiment.id, calls });
  });

  const control = (decide: (id: ExperimentId, body: unknown) => ExperimentRow) => async (context: Context) => {
    const experiment = find(context.req.param('id') ?? '');
    if (!experiment) return context.json({ error: 'no such experiment' }, 404);
    const body: unknown = await context.req.json().catch(() => ({}));
    try {
      const row = decide(experiment.id, body);
      return context.json({ ok: true, state: row.state, approval: row.metadata.approval ?? null });
    } catch (error) {
      if (error instanceof ControlError) return context.json({ error: error.message }, 409);
      if (error instanceof z.ZodError) return context.json({ error: error.issues[0]?.message ?? 'bad request body' }, 400);
      throw error;
    }
  };

  app.post('/api/experiments/:id/approve', control((id) => access.write((journal) => approveExperiment(journal, id, 'dashboard'))));
  app.post('/api/experiments/:id/reject', control((id, body) => {
    const { why } = RejectBody.parse(body);
    return access.write((journal) => rejectExperiment(journal, id, why, 'dashboard'));
  }));

  return app;
}
