/**
 * The benchmark page's data: `successor bench` results from the journal (the cache entry `bench:latest`), each
 * row a researcher x task attempt with its normalised score and success, and the METR-style time-horizon plot of
 * those rows (src/stats: computeHorizons + horizonPlotSpec, rendered to SVG on the server, cached until the
 * journal changes). No results yet is an empty state, not an error.
 *
 * What `successor bench` stores (src/suites/run-suite.ts BenchResult), parsed leniently here so extra fields are
 * fine: cache key `bench:latest` = { suite, finishedAt, rows: [{ researcher, task, family, humanMinutes,
 * normalisation: { normalised } | null, success }] }.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { computeHorizons, defaultHorizonOptions } from '../../stats/horizon.js';
import { horizonPlotSpec } from '../../stats/plot-horizon.js';
import type { RunRecord } from '../../stats/records.js';
import { renderSvg } from '../../stats/render-svg.js';
import type { LabAccess } from '../lab-access.js';

export const BENCH_CACHE_KEY = 'bench:latest';

const BenchRow = z.object({
  researcher: z.string().min(1),
  task: z.string().min(1),
  family: z.string().optional(),
  humanMinutes: z.number().positive().nullable(),
  normalisation: z.object({ normalised: z.number().nullable() }).nullable().optional(),
  success: z.union([z.boolean(), z.number().min(0).max(1)]),
  runId: z.string().nullable().optional(),
}).transform((row) => ({ ...row, normalisedScore: row.normalisation?.normalised ?? null }));
type BenchRow = z.infer<typeof BenchRow>;
const BenchResults = z.object({ suite: z.string().optional(), finishedAt: z.string().optional(), rows: z.array(BenchRow) })
  .transform((result) => ({ suite: result.suite, createdAt: result.finishedAt, rows: result.rows }));

async function horizonSvg(rows: readonly BenchRow[]): Promise<string | null> {
  // A task without a human time has no place on the horizon axis.
  const timed = rows.filter((row): row is BenchRow & { humanMinutes: number } => row.humanMinutes !== null);
  if (timed.length === 0) return null;
  const records: RunRecord[] = timed.map((row, index) => ({
    line: index + 1, taskId: row.task, taskFamily: row.family ?? row.task, agent: row.researcher, humanMinutes: row.humanMinutes,
    success: typeof row.success === 'boolean' ? Number(row.success) : row.success,
  }));
  // 200 resamples instead of the CLI's 1000: the plot needs the fit, the page should not wait for the intervals.
  const horizons = computeHorizons(records, { ...defaultHorizonOptions, bootstrapCount: 200 });
  return renderSvg(horizonPlotSpec(records, horizons, 'Success against human task length (bench results)'));
}

export function benchRoutes(access: LabAccess): Hono {
  const app = new Hono();
  let cached: { auditSeq: number; body: unknown } | null = null;

  app.get('/api/bench', async (context) => {
    const auditSeq = access.views.auditSeq();
    if (cached && cached.auditSeq === auditSeq) return context.json(cached.body);
    const raw = access.journal.getCache(BENCH_CACHE_KEY);
    const hint = 'No benchmark results yet: run `successor bench` to measure researchers on the task suite.';
    let body: unknown;
    if (raw === undefined) {
      body = { results: null, horizonSvg: null, hint };
    } else {
      const parsed = BenchResults.safeParse(raw);
      body = parsed.success
        ? { results: parsed.data, horizonSvg: await horizonSvg(parsed.data.rows), hint: null }
        : { results: null, horizonSvg: null, hint: `The journal's ${BENCH_CACHE_KEY} entry is not in the expected shape: ${parsed.error.issues[0]?.message}` };
    }
    cached = { auditSeq, body };
    return context.json(body);
  });

  return app;
}
