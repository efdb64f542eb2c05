// Post-trains the pretrained character trigram model (inputs/base-model.json: logits (27*27, 27), row = the two
// previous characters) on the new domain, first names, by full-batch gradient descent on the mean cross-entropy
// of the training names, with an L2 pull towards the base weights. Writes artifacts/model.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [inputs, artifacts] = process.argv.slice(2);
const config = JSON.parse(readFileSync('config.json', 'utf8'));
const base = JSON.parse(readFileSync(join(inputs, 'base-model.json'), 'utf8')).logits;
const names = readFileSync(join(inputs, 'names-train.txt'), 'utf8').split('\n');
const symbol = (character) => (character === ' ' ? 26 : character.charCodeAt(0) - 97);
const C = 27 * 27; // contexts
const V = 27;

const counts = Array.from({ length: C }, () => new Float64Array(V)); // (C, V)
let characters = 0;
for (const name of names) {
  const text = `  ${name} `; // two spaces of start context, one space ends the name
  for (let index = 2; index < text.length; index++) {
    counts[symbol(text[index - 2]) * 27 + symbol(text[index - 1])][symbol(text[index])] += 1;
    characters += 1;
  }
}
const rowTotals = counts.map((row) => row.reduce((sum, count) => sum + count, 0)); // (C)
const logits = base.map((row) => Float64Array.from(row)); // (C, V)

for (let step = 0; step < config.steps; step++) {
  for (let context = 0; context < C; context++) {
    const row = logits[context];
    const top = Math.max(...row);
    let sum = 0;
    const probabilities = new Float64Array(V);
    for (let next = 0; next < V; next++) sum += probabilities[next] = Math.exp(row[next] - top);
    for (let next = 0; next < V; next++) {
      const dLogit = (rowTotals[context] * (probabilities[next] / sum) - counts[context][next]) / characters + config.anchor * (row[next] - base[context][next]);
      row[next] -= config.learningRate * dLogit;
    }
  }
}
mkdirSync(artifacts, { recursive: true });
writeFileSync(join(artifacts, 'model.json'), JSON.stringify({ logits: logits.map((row) => [...row]) }));
console.log(`steps: ${config.steps}, training characters: ${characters}`);
