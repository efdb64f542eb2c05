/**
 * How this task's trusted scripts reach the lab's own code (its data splits and reference evaluator): through
 * SUCCESSOR_LAB_ROOT, set by the lab, so a copy of this task made with `successor task init` works anywhere.
 * Never the workspace's copy of the trainer: that one is untrusted.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export function labModule<Module>(relativePath: string): Promise<Module> {
  const root = process.env.SUCCESSOR_LAB_ROOT;
  if (!root) throw new Error('SUCCESSOR_LAB_ROOT is not set: harness scripts are run by the lab');
  return import(pathToFileURL(join(root, relativePath)).href) as Promise<Module>;
}

export function requireEnvironment(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set: harness scripts are run by the lab`);
  return value;
}

export function taskParameters(): Record<string, unknown> {
  return JSON.parse(process.env.SUCCESSOR_PARAMS ?? '{}') as Record<string, unknown>;
}
