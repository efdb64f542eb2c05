/** Trusted: root-mean-square error of the run's predicted log wages against the hidden ones. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const report = (passed: boolean, score: number | undefined, reason: string | undefined, metrics: Record<string, number>) =>
  process.stdout.write(`${JSON.stringify({ passed, score, reason, metrics })}\n`);
const truth = JSON.parse(readFileSync(join(process.env.SUCCESSOR_HIDDEN ?? '', 'test-log-wages.json'), 'utf8')) as number[];
const Predictions = z.object({ logWages: z.array(z.number().finite()).length(truth.length) });

const path = join(process.env.SUCCESSOR_ARTIFACTS ?? '', 'predictions.json');
const parsed = process.env.SUCCESSOR_ARTIFACTS && existsSync(path) ? Predictions.safeParse(JSON.parse(readFileSync(path, 'utf8'))) : null;
if (!parsed?.success) {
  report(false, undefined, parsed ? `artifacts/predictions.json must be { logWages: ${truth.length} finite numbers }` : 'the run left no artifacts/predictions.json', {});
} else {
  const squared = parsed.data.logWages.reduce((sum, value, index) => sum + (value - truth[index]) ** 2, 0);
  const rmse = Math.sqrt(squared / truth.length);
  report(true, rmse, undefined, { rmse, testRows: truth.length });
}
