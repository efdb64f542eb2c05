/**
 * What the model researchers spent, read from the journal: every model call is an `llm.call` event whose payload
 * holds its `usage` (input and output tokens) and `costDollars` (priced when the call was made), and an experiment's
 * metadata lists the events (`transcript`) that produced it. Per run, per experiment and for every run at once, as
 * SQL aggregates over the payloads (the prompts they also hold are never parsed in JavaScript here), so the runs
 * list and the dashboard stay fast. Calls that produced no experiment (an episode that gave up, a budget stop) count
 * in the run's total only.
 * Is not: the prices (src/researcher/llm/prices.ts) nor the budget that stops a researcher (budget.ts there).
 */
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { prepared } from './sqlite.js';

/** The journal event type of one model call (src/researcher/llm/researcher.ts records it). */
export const MODEL_CALL_EVENT = 'llm.call';

export const ModelUsage = z.object({
  calls: z.number().int().nonnegative(),
  inputTokens: z.number().nonnegative(),
  outputTokens: z.number().nonnegative(),
  dollars: z.number().nonnegative(),
});
export type ModelUsage = z.infer<typeof ModelUsage>;

export const NO_USAGE: ModelUsage = Object.freeze({ calls: 0, inputTokens: 0, outputTokens: 0, dollars: 0 });

const SUMS = `COUNT(e.id) AS calls,
  COALESCE(SUM(json_extract(e.payload, '$.usage.inputTokens')), 0) AS inputTokens,
  COALESCE(SUM(json_extract(e.payload, '$.usage.outputTokens')), 0) AS outputTokens,
  COALESCE(SUM(json_extract(e.payload, '$.costDollars')), 0) AS dollars`;

const Keyed = ModelUsage.extend({ key: z.string() });

const usageOf = (raw: unknown): ModelUsage => ModelUsage.parse(raw);

/** One run's model calls, all of them. */
export function runUsage(db: Database.Database, runId: string): ModelUsage {
  return usageOf(prepared(db, `SELECT ${SUMS} FROM events e WHERE e.run_id = ? AND e.type = '${MODEL_CALL_EVENT}'`).get(runId));
}

/** Each experiment of a run that model calls produced, with what they cost (experiments without calls are absent). */
export function usageByExperiment(db: Database.Database, runId: string): Map<string, ModelUsage> {
  const rows = prepared(db, `SELECT x.id AS key, ${SUMS}
    FROM experiments x, json_each(x.metadata, '$.transcript') t JOIN events e ON e.id = t.value AND e.type = '${MODEL_CALL_EVENT}'
    WHERE x.run_id = ? GROUP BY x.id`).all(runId);
  return new Map(rows.map((raw) => {
    const { key, ...usage } = Keyed.parse(raw);
    return [key, usage];
  }));
}

export interface UsageByRun { byRun: Map<string, ModelUsage>; lastEventId: number }

/**
 * Every run that made model calls after event `afterEventId` (0: all of them), with what those calls cost, and the
 * last event id this read covered. Event ids only grow, so a reader that polls (the dashboard) adds what is new to
 * what it has instead of summing every payload again.
 */
export function usageByRun(db: Database.Database, afterEventId = 0): UsageByRun {
  return db.transaction((): UsageByRun => {
    const last = prepared(db, 'SELECT COALESCE(MAX(id), 0) AS id FROM events').get() as { id: number };
    const rows = prepared(db, `SELECT e.run_id AS key, ${SUMS} FROM events e WHERE e.id > ? AND e.id <= ? AND e.type = '${MODEL_CALL_EVENT}' GROUP BY e.run_id`)
      .all(afterEventId, last.id);
    return {
      lastEventId: Math.max(afterEventId, last.id),
      byRun: new Map(rows.map((raw) => {
        const { key, ...usage } = Keyed.parse(raw);
        return [key, usage];
      })),
    };
  }).deferred();
}

/** The sum of two usages. */
export const addUsage = (left: ModelUsage, right: ModelUsage): ModelUsage => ({
  calls: left.calls + right.calls, inputTokens: left.inputTokens + right.inputTokens, outputTokens: left.outputTokens + right.outputTokens, dollars: left.dollars + right.dollars,
});

/** `$0.0123` for people: cents when it is dollars, four decimals below a dollar (a model call costs fractions of a cent). */
export function formatDollars(dollars: number): string {
  return dollars >= 1 ? `$${dollars.toFixed(2)}` : `$${dollars.toFixed(4)}`;
}

/** One line for people: `12 calls, 45,000 in + 3,200 out tokens, $0.0123`. */
export function describeUsage(usage: ModelUsage): string {
  const count = (value: number) => Math.round(value).toLocaleString('en-US');
  return `${usage.calls} model call${usage.calls === 1 ? '' : 's'}, ${count(usage.inputTokens)} in + ${count(usage.outputTokens)} out tokens, ${formatDollars(usage.dollars)}`;
}
