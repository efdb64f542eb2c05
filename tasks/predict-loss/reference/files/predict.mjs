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

// Reference: a saturating power law L(D) = E + A D^-alpha, least squares in E and A for each alpha on a grid,
// fitted to the sizes from 8,000 up (the smallest are dominated by unseen contexts), extrapolated to the full size.
const fitted = sizes.map((size, index) => [size, losses[index]]).filter(([size]) => size >= 8000);
let best = { error: Infinity, predictedLoss: losses.at(-1) };
for (let alpha = 0.02; alpha <= 2; alpha += 0.005) {
  const xs = fitted.map(([size]) => size ** -alpha);
  const ys = fitted.map(([, loss]) => loss);
  const meanX = xs.reduce((a, b) => a + b, 0) / xs.length;
  const meanY = ys.reduce((a, b) => a + b, 0) / ys.length;
  let covariance = 0;
  let variance = 0;
  xs.forEach((x, index) => {
    covariance += (x - meanX) * (ys[index] - meanY);
    variance += (x - meanX) ** 2;
  });
  const amplitude = covariance / variance;
  const floor = meanY - amplitude * meanX;
  const error = xs.reduce((sum, x, index) => sum + (floor + amplitude * x - ys[index]) ** 2, 0);
  if (error < best.error) best = { error, predictedLoss: floor + amplitude * trainCharacters ** -alpha };
}
const predictedLoss = best.predictedLoss;
mkdirSync(artifacts, { recursive: true });
writeFileSync(join(artifacts, 'prediction.json'), JSON.stringify({ predictedLoss, sizes, losses }));
console.log(`predicted: ${predictedLoss}`);
