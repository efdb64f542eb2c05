/** What a task's scorer prints as its last stdout line: one JSON object, parsed here at the boundary. */
import { z } from 'zod';
import { Metrics } from './outcome.js';

export const ScorerReport = z
  .object({
    passed: z.boolean(),
    score: z.number().finite().optional(),
    reason: z.string().optional(),
    metrics: Metrics.default({}),
    /** A passed run whose result breaks a physical bound: held as `suspect`, never accepted on its own. */
    suspect: z.object({ bound: z.enum(['flops', 'tokens', 'entropy']), reason: z.string() }).strict().optional(),
  })
  .strict();
export type ScorerReport = z.infer<typeof ScorerReport>;

/** For scorer scripts: print the verdict in the expected form. */
export function printScorerReport(report: ScorerReport): void {
  process.stdout.write(`${JSON.stringify(ScorerReport.parse(report))}\n`);
}
