/**
 * Trusted: evaluates the run's MLP weights on the hidden points with its own forward pass (the run's code never
 * runs here) and scores test accuracy. Malformed or non-finite weights fail the run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const report = (passed: boolean, score: number | undefined, reason: string | undefined, metrics: Record<string, number>) =>
  process.stdout.write(`${JSON.stringify({ passed, score, reason, metrics })}\n`);
const finite = z.number().finite();
const Model = z.object({ hidden: z.number().int().min(1).max(1024), w1: z.array(finite), b1: z.array(finite), w2: z.array(finite), b2: z.array(finite).length(2) });

const modelPath = join(process.env.SUCCESSOR_ARTIFACTS ?? '', 'model.json');
const parsed = process.env.SUCCESSOR_ARTIFACTS && existsSync(modelPath) ? Model.safeParse(JSON.parse(readFileSync(modelPath, 'utf8'))) : null;
if (!parsed?.success) {
  report(false, undefined, parsed ? `artifacts/model.json is malformed: ${parsed.error.issues[0]?.message}` : 'the run left no artifacts/model.json', {});
} else {
  const { hidden: H, w1, b1, w2, b2 } = parsed.data;
  if (w1.length !== 2 * H || b1.length !== H || w2.length !== 2 * H) {
    report(false, undefined, 'weight shapes do not match hidden', {});
  } else {
    const test = JSON.parse(readFileSync(join(process.env.SUCCESSOR_HIDDEN ?? '', 'test.json'), 'utf8')) as { points: [number, number][]; labels: number[] };
    let correct = 0;
    test.points.forEach(([x, y], index) => {
      const logits = [b2[0], b2[1]];
      for (let h = 0; h < H; h++) {
        const activation = Math.tanh(w1[h * 2] * x + w1[h * 2 + 1] * y + b1[h]);
        logits[0] += w2[h] * activation;
        logits[1] += w2[H + h] * activation;
      }
      if ((logits[1] > logits[0] ? 1 : 0) === test.labels[index]) correct += 1;
    });
    const accuracy = correct / test.points.length;
    report(true, accuracy, undefined, { accuracy, testPoints: test.points.length });
  }
}
