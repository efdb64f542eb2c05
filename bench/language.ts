/**
 * lm-speedrun's per-run languages, measured: for a few run keys, the exact entropy rate (the floor no model beats),
 * and what byte statistics alone give on a sample of text, as exact cross-entropies of count models fitted on the
 * sample itself (so slightly optimistic): letter frequencies (order 0), bigrams (order 1) and trigrams (order 2).
 * A target must sit below the order-1 level, or a run that only counts bytes passes it.
 *
 *   node bin/run-ts.js bench/language.ts [--keys 6] [--bytes 4194304]
 *
 * Is not: a measure of how long training takes (`successor task check lm-speedrun` runs the baseline).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createLanguage, generateText } from '../tasks/lm-speedrun/harness/language.js';
import { entropyRate } from '../tasks/lm-speedrun/harness/likelihood.js';

const { values } = parseArgs({ options: { keys: { type: 'string', default: '6' }, bytes: { type: 'string', default: String(4 << 20) } } });
const keyCount = Number(values.keys);
const sampleBytes = Number(values.bytes);

/** Cross-entropy, nats per byte, of the text under its own order-`order` byte counts (contexts of `order` bytes). */
function countModelNats(text: Uint8Array, order: number): number {
  const counts = new Map<number, Map<number, number>>();
  for (let index = order; index < text.length; index++) {
    let context = 0;
    for (let back = 1; back <= order; back++) context = context * 256 + text[index - back];
    let row = counts.get(context);
    if (!row) counts.set(context, (row = new Map()));
    row.set(text[index], (row.get(text[index]) ?? 0) + 1);
  }
  let nats = 0;
  let total = 0;
  for (const row of counts.values()) {
    let rowTotal = 0;
    for (const count of row.values()) rowTotal += count;
    for (const count of row.values()) nats -= count * Math.log(count / rowTotal);
    total += rowTotal;
  }
  return nats / total;
}

interface Row {
  key: string;
  entropyRate: number;
  order0: number;
  order1: number;
  order2: number;
}

const rows: Row[] = [];
for (let index = 0; index < keyCount; index++) {
  const key = randomBytes(32).toString('hex');
  const language = createLanguage(key);
  const text = generateText(language, key, 'train', sampleBytes);
  rows.push({
    key: key.slice(0, 8),
    entropyRate: entropyRate(language).natsPerByte,
    order0: countModelNats(text, 0),
    order1: countModelNats(text, 1),
    order2: countModelNats(text, 2),
  });
}
const fixed = (value: number) => value.toFixed(3);
console.log('key       entropy rate  letters (order 0)  bigrams (order 1)  trigrams (order 2)   nats/byte');
for (const row of rows) console.log(`${row.key}  ${fixed(row.entropyRate).padStart(12)}  ${fixed(row.order0).padStart(17)}  ${fixed(row.order1).padStart(17)}  ${fixed(row.order2).padStart(18)}`);
const spread = (pick: (row: Row) => number) => {
  const values = rows.map(pick);
  return `${fixed(Math.min(...values))}-${fixed(Math.max(...values))}`;
};
console.log(`range     ${spread((row) => row.entropyRate).padStart(12)}  ${spread((row) => row.order0).padStart(17)}  ${spread((row) => row.order1).padStart(17)}  ${spread((row) => row.order2).padStart(18)}`);
