// Trains a character bigram language model: a (V, V) table of next-character logits, V = 27 (a-z, space),
// by full-batch gradient descent on the mean cross-entropy of the training text. Writes artifacts/model.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [inputs, artifacts] = process.argv.slice(2);
const config = JSON.parse(readFileSync('config.json', 'utf8'));
const text = readFileSync(join(inputs, 'train.txt'), 'utf8');
const V = 27;
const symbol = (character) => (character === ' ' ? 26 : character.charCodeAt(0) - 97);

// Full-batch statistics: counts[a][b] = how often b follows a; the gradient needs nothing else.
const counts = Array.from({ length: V }, () => new Float64Array(V)); // (V, V)
for (let index = 1; index < text.length; index++) counts[symbol(text[index - 1])][symbol(text[index])] += 1;
const pairs = text.length - 1;
const rowTotals = counts.map((row) => row.reduce((sum, count) => sum + count, 0)); // (V)

const logits = Array.from({ length: V }, () => new Float64Array(V)); // (V, V)
const softmax = (row) => {
  const top = Math.max(...row);
  const exps = row.map((value) => Math.exp(value - top));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((value) => value / sum);
};
for (let step = 0; step < config.steps; step++) {
  for (let a = 0; a < V; a++) {
    const probabilities = softmax(logits[a]);
    for (let b = 0; b < V; b++) {
      // d(mean loss)/d logit[a][b]
      const dLogit = (rowTotals[a] * probabilities[b]) / pairs;
      logits[a][b] -= config.learningRate * dLogit;
    }
  }
}
mkdirSync(artifacts, { recursive: true });
writeFileSync(join(artifacts, 'model.json'), JSON.stringify({ logits: logits.map((row) => [...row]) }));
console.log(`steps: ${config.steps}`);
