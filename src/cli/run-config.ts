/**
 * `successor research --config FILE`: a run's options from a JSON or YAML file. This file only reads the text into a
 * plain object, and lays the flags over it (`layerFlags`); what the keys mean and which are allowed is
 * src/lab/options.ts (RunOptions, through parseRunOptions), so a file, the flags and a stored run have one shape.
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

/**
 * A new run's options from a config file and the flags: a flag typed on the command line (`typed`, by dotted key)
 * wins over the file; the file wins over a flag's default; a flag's default fills what the file leaves out. One
 * level of nesting (`gate.alpha`), as the run options have.
 */
export function layerFlags(file: Record<string, unknown>, flags: Record<string, unknown>, typed: Record<string, boolean>): Record<string, unknown> {
  const layered: Record<string, unknown> = { ...file };
  for (const [key, value] of Object.entries(flags)) {
    const fileValue = file[key];
    if (isObject(value) && (isObject(fileValue) || fileValue === undefined)) {
      const inner: Record<string, unknown> = { ...(fileValue ?? {}) };
      for (const [innerKey, innerValue] of Object.entries(value)) {
        if (typed[`${key}.${innerKey}`] || !(innerKey in inner)) inner[innerKey] = innerValue;
      }
      layered[key] = inner;
    } else if (typed[key] || !(key in file)) {
      layered[key] = value;
    }
  }
  return layered;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
