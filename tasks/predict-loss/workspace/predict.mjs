// Predicts the test loss of the trigram model trained on all `trainCharacters` characters, from runs on the
// prefix we are given. Writes artifacts/prediction.json = { predictedLoss }.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [inputs, artifacts] = process.argv.slice(2);
const config = JSON.parse(readFileSync('config.json', 'utf8'));
const prefix = readFileSync(join(inputs, 'train-prefix.txt'), 'utf8');
const val = readFileSync(join(inputs, 'val.txt'), 'utf8');
const { trainCharacters, smoothing } = JSON.parse(readFileSync(join(inputs, 'target.json'), 'utf8'));
const symbol = (character) => (character === ' ' ? 26 : character.charCodeAt(0) - 97);

/** Validation loss of the task's trigram model trained on `trainText`: P(c | a b) = (n(abc) + k) / (n(ab) + 27 k). */
export function trigramLoss(trainText, evalText, k) {
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
    total -= Math.log((triples[context * 27 + symbol(evalText[index])] + k) / (pairs[context] + 27 * k));
  }
  return total / (evalText.length - 2);
}

// Losses at a ladder of training sizes (each double the last) up to the whole prefix.
const sizes = [];
for (let size = prefix.length; size >= 2000; size = Math.floor(size / 2)) sizes.unshift(size);
const losses = sizes.map((size) => trigramLoss(prefix.slice(0, size), val, smoothing));
sizes.forEach((size, index) => console.log(`size ${size}: val loss ${losses[index].toFixed(4)}`));

let predictedLoss = losses.at(-1);
if (config.method === 'log-linear') {
  // A straight line in log(size) through the two largest sizes, continued to the full size.
  const slope = (losses.at(-1) - losses.at(-2)) / Math.log(sizes.at(-1) / sizes.at(-2));
  predictedLoss = losses.at(-1) + slope * Math.log(trainCharacters / sizes.at(-1));
}
mkdirSync(artifacts, { recursive: true });
writeFileSync(join(artifacts, 'prediction.json'), JSON.stringify({ predictedLoss, sizes, losses }));
console.log(`predicted: ${predictedLoss}`);
