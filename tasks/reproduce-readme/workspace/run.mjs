// Runs the experiment and writes the number it produced to artifacts/answer.json = { value }.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validationAccuracy } from './experiment.mjs';

const [inputs, artifacts] = process.argv.slice(2);
const config = JSON.parse(readFileSync('config.json', 'utf8'));
const rows = JSON.parse(readFileSync(join(inputs, 'wages.json'), 'utf8'));
const seeds = [1];
const accuracies = seeds.map((seed) => validationAccuracy(rows, { k: config.k, distance: config.distance, standardise: config.standardise, seed }));
const value = accuracies.reduce((a, b) => a + b, 0) / accuracies.length;
mkdirSync(artifacts, { recursive: true });
writeFileSync(join(artifacts, 'answer.json'), JSON.stringify({ value }));
console.log(`value: ${value}`);
