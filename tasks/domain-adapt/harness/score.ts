/**
 * Trusted: the run's model is a (27*27, 27) table of logits, row = the two previous characters. The score is its
 * mean cross-entropy per character on the hidden names, each read as "  name " (two spaces of start context, one
 * space to end it), computed here with a log-softmax of each row.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const report = (passed: boolean, score: number | undefined, reason: string | undefined, metrics: Record<string, number>) =>
  process.stdout.write(`${JSON.stringify({ passed, score, reason, metrics })}\n`);
const Model = z.object({ logits: z.array(z.array(z.number().finite()).length(27)).length(27 * 27) });
const symbol = (character: string) => (character === ' ' ? 26 : character.charCodeAt(0) - 97);

const modelPath = join(process.env.SUCCESSOR_ARTIFACTS ?? '', 'model.json');
const parsed = process.env.SUCCESSOR_ARTIFACTS && existsSync(modelPath) ? Model.safeParse(JSON.parse(readFileSync(modelPath, 'utf8'))) : null;
if (!parsed?.success) {
  report(false, undefined, parsed ? `artifacts/model.json must be { logits: 729 rows of 27 finite numbers }: ${parsed.error.issues[0]?.message}` : 'the run left no artifacts/model.json', {});
} else {
  const logProbabilities = parsed.data.logits.map((row) => {
    const top = Math.max(...row);
    const logSum = top + Math.log(row.reduce((sum, value) => sum + Math.exp(value - top), 0));
    return row.map((value) => value - logSum);
  });
  const names = readFileSync(join(process.env.SUCCESSOR_HIDDEN ?? '', 'names-test.txt'), 'utf8').split('\n');
  let total = 0;
  let characters = 0;
  for (const name of names) {
    const text = `  ${name} `;
    for (let index = 2; index < text.length; index++) {
      total -= logProbabilities[symbol(text[index - 2]) * 27 + symbol(text[index - 1])][symbol(text[index])];
      characters += 1;
    }
  }
  const loss = total / characters;
  report(true, loss, undefined, { testLoss: loss, testNames: names.length });
}
