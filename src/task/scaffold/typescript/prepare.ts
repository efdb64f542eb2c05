/**
 * Trusted, run once per task version: splits the data into what the run sees and what only the scorer sees.
 *
 *   inputs/train.csv   labelled rows for training          (the run reads it, read-only)
 *   inputs/test.csv    the held-out rows without the label  (the run predicts these)
 *   hidden/answers.csv the held-out labels                  (never mounted into the run's sandbox)
 *
 * With params.data (a CSV file in a folder of environment.harnessMounts, which only harness scripts see) and
 * params.label (its label column), that file is split; without, an example data set is generated. Replace this with
 * your own split; keep the answers out of inputs/. Protocol: docs/tasks.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatCsv, parseCsv } from './csv.js';

const params = JSON.parse(process.env.SUCCESSOR_PARAMS ?? '{}') as { data?: string; label?: string; seed?: number; testFraction?: number };
const inputs = process.env.SUCCESSOR_INPUTS ?? '';
const hidden = process.env.SUCCESSOR_HIDDEN ?? '';
const label = params.label ?? 'label';
let state = (params.seed ?? 1) >>> 0;
const random = (): number => {
  // mulberry32: a small seeded generator, so the split is the same on every machine
  state = (state + 0x6d2b79f5) >>> 0;
  let mixed = Math.imul(state ^ (state >>> 15), state | 1);
  mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
  return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
};

let rows: Array<Record<string, string>>;
if (params.data) {
  rows = parseCsv(readFileSync(params.data, 'utf8'));
  if (rows.length === 0 || !(label in rows[0])) throw new Error(`${params.data} has no rows, or no column '${label}'`);
} else {
  // An example: is a point inside the circle of radius 0.7? 10% of the labels are flipped.
  rows = Array.from({ length: 500 }, () => {
    const x = random() * 2 - 1;
    const y = random() * 2 - 1;
    const inside = Math.hypot(x, y) < 0.7 !== random() < 0.1;
    return { x: x.toFixed(4), y: y.toFixed(4), [label]: inside ? 'inside' : 'outside' };
  });
}
for (let index = rows.length - 1; index > 0; index--) {
  const other = Math.floor(random() * (index + 1));
  [rows[index], rows[other]] = [rows[other], rows[index]];
}
const heldOut = Math.max(1, Math.floor(rows.length * (params.testFraction ?? 0.2)));
const test = rows.slice(0, heldOut);
const train = rows.slice(heldOut);
const columns = Object.keys(rows[0]);
const features = columns.filter((column) => column !== label);
writeFileSync(join(inputs, 'train.csv'), formatCsv(train, columns));
writeFileSync(join(inputs, 'test.csv'), formatCsv(test.map((row, id) => ({ id, ...row })), ['id', ...features]));
writeFileSync(join(hidden, 'answers.csv'), formatCsv(test.map((row, id) => ({ id, [label]: row[label] })), ['id', label]));
