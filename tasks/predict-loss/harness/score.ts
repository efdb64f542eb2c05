/**
 * Trusted: the run predicts one number, the test loss of the full-data trigram model; the score is the absolute
 * error against the hidden true value. The true value depends on text the sandbox never sees.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const report = (passed: boolean, score: number | undefined, reason: string | undefined, metrics: Record<string, number>) =>
  process.stdout.write(`${JSON.stringify({ passed, score, reason, metrics })}\n`);
const Prediction = z.object({ predictedLoss: z.number().finite().positive() }).passthrough();

const path = join(process.env.SUCCESSOR_ARTIFACTS ?? '', 'prediction.json');
const parsed = process.env.SUCCESSOR_ARTIFACTS && existsSync(path) ? Prediction.safeParse(JSON.parse(readFileSync(path, 'utf8'))) : null;
if (!parsed?.success) {
  report(false, undefined, parsed ? 'artifacts/prediction.json must be { "predictedLoss": a positive number }' : 'the run left no artifacts/prediction.json', {});
} else {
  const truth = (JSON.parse(readFileSync(join(process.env.SUCCESSOR_HIDDEN ?? '', 'truth.json'), 'utf8')) as { testLoss: number }).testLoss;
  const error = Math.abs(parsed.data.predictedLoss - truth);
  // The truth itself is not reported: a metric that printed it would hand it to the next proposal.
  report(true, error, undefined, { absoluteError: error, predictedLoss: parsed.data.predictedLoss });
}
