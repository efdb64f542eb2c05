// Reads A and B, computes C = (A·B)·B with matmul.mjs, writes C. The harness times the whole process.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { matmul } from './matmul.mjs';

const [inputs, artifacts] = process.argv.slice(2);
const config = JSON.parse(readFileSync('config.json', 'utf8'));
const { size } = JSON.parse(readFileSync(join(inputs, 'shape.json'), 'utf8'));
const load = (name) => {
  const bytes = readFileSync(join(inputs, name));
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};
const b = load('b.bin');
const c = matmul(matmul(load('a.bin'), b, size, config.order), b, size, config.order);
mkdirSync(artifacts, { recursive: true });
writeFileSync(join(artifacts, 'c.bin'), new Uint8Array(c.buffer));
console.log(`size: ${size}`);
