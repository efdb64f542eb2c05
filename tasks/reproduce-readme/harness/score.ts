/**
 * Trusted: 1 when the reported number matches the hidden true value within the tolerance, else 0 (CORE-Bench
 * style: reproduced or not). The true value is never printed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const parameters = JSON.parse(process.env.SUCCESSOR_PARAMS ?? '{}') as { tolerance: number };
const report = (passed: boolean, score: number | undefined, reason: string | undefined, metrics: Record<string, number>) =>
  process.stdout.write(`${JSON.stringify({ passed, score, reason, metrics })}\n`);
const Answer = z.object({ value: z.number().finite() });

const path = join(process.env.SUCCESSOR_ARTIFACTS ?? '', 'answer.json');
const parsed = process.env.SUCCESSOR_ARTIFACTS && existsSync(path) ? Answer.safeParse(JSON.parse(readFileSync(path, 'utf8'))) : null;
if (!parsed?.success) {
  report(false, undefined, parsed ? 'artifacts/answer.json must be { "value": number }' : 'the run left no artifacts/answer.json', {});
} else {
  const truth = (JSON.parse(readFileSync(join(process.env.SUCCESSOR_HIDDEN ?? '', 'truth.json'), 'utf8')) as { value: number }).value;
  const reproduced = Math.abs(parsed.data.value - truth) <= parameters.tolerance ? 1 : 0;
  report(true, reproduced, undefined, { reproduced, reported: parsed.data.value });
}
