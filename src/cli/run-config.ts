/**
 * `successor research --config FILE`: a run's options from a JSON or YAML file. This file only reads the text into a
 * plain object; what the keys mean and which are allowed is src/lab/options.ts (RunOptions, through
 * parseRunOptions), so a file, the flags and a stored run have one shape. Flags given on the command line win over
 * the file (research.ts merges them).
 * Is not: the schema, and not `.env` (env-file.ts).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UsageError } from './common.js';

/** The file's top-level object; `.json` is read as JSON, anything else as YAML (which JSON is a subset of). */
export function readRunConfig(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --config ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  let value: unknown;
  try {
    value = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new UsageError(`--config ${path} is not valid ${extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`--config ${path} must hold an object of run options (task, researcher, budgetSeconds, ...)`);
  return value as Record<string, unknown>;
}
