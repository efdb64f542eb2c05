/**
 * The outcome of an experiment: always a value, never an exception (STYLE.md 5).
 * `suspect` holds a result that breaks a physical bound until a re-run confirms it.
 */
import { z } from 'zod';

export const Metrics = z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()]));
export type Metrics = z.infer<typeof Metrics>;

export const Outcome = z.discriminatedUnion('status', [
  z.object({ status: z.literal('ok'), score: z.number(), metrics: Metrics }).strict(),
  z.object({ status: z.literal('failed'), reason: z.string(), metrics: Metrics.default({}) }).strict(),
  z.object({ status: z.literal('timeout'), reason: z.string(), metrics: Metrics.default({}) }).strict(),
  z.object({ status: z.literal('oom'), reason: z.string(), metrics: Metrics.default({}) }).strict(),
  z.object({ status: z.literal('invalid'), reason: z.string(), metrics: Metrics.default({}) }).strict(),
  z.object({ status: z.literal('rejected'), reason: z.string(), metrics: Metrics.default({}) }).strict(),
  z.object({ status: z.literal('suspect'), score: z.number(), reason: z.string(), metrics: Metrics }).strict(),
]);
export type Outcome = z.infer<typeof Outcome>;
export type OutcomeStatus = Outcome['status'];

/** Statuses that carry a score: ok, and suspect (scored, but held until a re-run confirms it). */
export const isScoredStatus = (status: string | null): boolean => status === 'ok' || status === 'suspect';

export const isScored = (outcome: Outcome): outcome is Extract<Outcome, { score: number }> => isScoredStatus(outcome.status);
