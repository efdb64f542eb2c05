/**
 * Trusted: gives one run its own data. Reads the prepared splits and writes them enciphered with this run's secret
 * permutation (cipher.ts): train.txt and val.txt to the run's inputs (read-only in its sandbox), test.txt to the
 * run's hidden folder (read by the scorer only).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asciiPermutation, encipher } from './cipher.js';
import { requireEnvironment } from './lab.js';

const permutation = asciiPermutation(requireEnvironment('SUCCESSOR_RUN_KEY'));
const copy = (from: string, to: string, name: string) =>
  writeFileSync(join(requireEnvironment(to), name), encipher(readFileSync(join(requireEnvironment(from), name)), permutation));
copy('SUCCESSOR_INPUTS', 'SUCCESSOR_RUN_INPUTS', 'train.txt');
copy('SUCCESSOR_INPUTS', 'SUCCESSOR_RUN_INPUTS', 'val.txt');
copy('SUCCESSOR_HIDDEN', 'SUCCESSOR_RUN_HIDDEN', 'test.txt');
