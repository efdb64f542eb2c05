/**
 * Trusted: the run's model is a (27, 27) table of next-character logits. The score is its mean cross-entropy
 * (nats per character) on the hidden test text, computed here with a log-softmax of each row: a table cannot
 * score below the test text's true bigram entropy, and the test text is never mounted into the sandbox.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const V = 27;
const report = (passed: boolean, score: number | undefined, reason: string | undefined, metrics: Record<string, number>) =>
  process.stdout.write(`${JSON.stringify({ passed, score, reason, metrics })}\n`);
const Model = z.object({ logits: z.array(z.array(z.number().finite()).length(V)).length(V) });
const symbol = (character: string) => (character === ' ' ? 26 : character.charCodeAt(0) - 97);

const modelPath = join(process.env.SUCCESSOR_ARTIFACTS ?? '', 'model.json');
const parsed = process.env.SUCCESSOR_ARTIFACTS && existsSync(modelPath) ? Model.safeParse(JSON.parse(readFileSync(modelPath, 'utf8'))) : null;
if (!parsed?.success) {
  report(false, undefined, parsed ? `artifacts/model.json must be { logits: 27 rows of 27 finite numbers }: ${parsed.error.issues[0]?.message}` : 'the run left no artifacts/model.json', {});
} else {
  const logProbabilities = parsed.data.logits.map((row) => {
    const top = Math.max(...row);
    const logSum = top + Math.log(row.reduce((sum, value) => sum + Math.exp(value - top), 0));
    return row.map((value) => value - logSum);
  });
  const test = readFileSync(join(process.env.SUCCESSOR_HIDDEN ?? '', 'test.txt'), 'utf8');
  let total = 0;
  for (let index = 1; index < test.length; index++) total -= logProbabilities[symbol(test[index - 1])][symbol(test[index])];
  const loss = total / (test.length - 1);
  report(true, loss, undefined, { testLoss: loss, testCharacters: test.length });
}
