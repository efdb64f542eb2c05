// Predicts log(wage) for the test rows and writes artifacts/predictions.json = { logWages }.
// Models: `mean` (the training mean) or `ridge` (ridge regression on standardised features).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [inputs, artifacts] = process.argv.slice(2);
const config = JSON.parse(readFileSync('config.json', 'utf8'));
const train = JSON.parse(readFileSync(join(inputs, 'train.json'), 'utf8'));
const test = JSON.parse(readFileSync(join(inputs, 'test.json'), 'utf8'));
const targets = train.map((row) => Math.log(row.wage));

const NUMERIC = ['education', 'experience', 'age', 'south', 'union', 'married'];
// Reference: one-hot categorical fields and the experience curve (wages rise, then flatten, with experience).
const CATEGORIES = { gender: ['female'], race: ['hispanic', 'other'], occupation: ['management', 'sales', 'clerical', 'service', 'professional'], sector: ['manufacturing', 'construction'] };
const featuresOf = (row) => [
  ...NUMERIC.map((name) => Number(row[name])),
  Number(row.experience) ** 2,
  ...Object.entries(CATEGORIES).flatMap(([field, values]) => values.map((value) => (row[field] === value ? 1 : 0))),
];

function ridge(rowsX, y, lambda) {
  const F = rowsX[0].length;
  const means = Array.from({ length: F }, (_, f) => rowsX.reduce((s, x) => s + x[f], 0) / rowsX.length);
  const scales = Array.from({ length: F }, (_, f) => Math.sqrt(rowsX.reduce((s, x) => s + (x[f] - means[f]) ** 2, 0) / rowsX.length) || 1);
  const standardise = (x) => x.map((value, f) => (value - means[f]) / scales[f]);
  const Z = rowsX.map(standardise);
  const meanY = y.reduce((a, b) => a + b, 0) / y.length;
  // Normal equations (Z'Z + lambda I) w = Z'(y - mean), solved by Gaussian elimination.
  const A = Array.from({ length: F }, (_, i) => Array.from({ length: F + 1 }, (_, j) => (j < F ? Z.reduce((s, z) => s + z[i] * z[j], 0) + (i === j ? lambda : 0) : Z.reduce((s, z, n) => s + z[i] * (y[n] - meanY), 0))));
  for (let i = 0; i < F; i++) {
    const pivot = A[i][i];
    for (let k = i + 1; k < F; k++) {
      const factor = A[k][i] / pivot;
      for (let j = i; j <= F; j++) A[k][j] -= factor * A[i][j];
    }
  }
  const w = new Array(F).fill(0);
  for (let i = F - 1; i >= 0; i--) w[i] = (A[i][F] - A[i].slice(i + 1, F).reduce((s, a, k) => s + a * w[i + 1 + k], 0)) / A[i][i];
  return (x) => meanY + standardise(x).reduce((s, z, f) => s + z * w[f], 0);
}

let predict;
if (config.model === 'ridge') predict = ridge(train.map(featuresOf), targets, config.lambda);
else {
  const mean = targets.reduce((a, b) => a + b, 0) / targets.length;
  predict = () => mean;
}
mkdirSync(artifacts, { recursive: true });
writeFileSync(join(artifacts, 'predictions.json'), JSON.stringify({ logWages: test.map((row) => predict(featuresOf(row))) }));
console.log(`model: ${config.model}`);
