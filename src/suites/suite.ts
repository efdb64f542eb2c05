/**
 * A benchmark suite: a folder with a `suite.json` listing tasks (built-in names or folders relative to the suite),
 * the success threshold on normalised score, and the default budget per task. Parsed here at the boundary.
 * Is not: running anything (run-suite.ts) or scoring (normalise.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { TaskError, describeZodError } from '../task/errors.js';

export const BUILTIN_SUITES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../suites');

export const SuiteTask = z
  .object({
    /** A built-in task name (`tasks/<name>`) or a task folder relative to the suite folder. */
    task: z.string().min(1),
    /** Tasks of one family share a weight in the horizon fit (METR's families); default the task itself. */
    family: z.string().min(1).optional(),
    /** For wall-seconds tasks without a declared reference score: the reference solution's speedup over the baseline. */
    referenceSpeedup: z.number().gt(1).optional(),
    /** Why the task is in the suite, or a caveat (e.g. slow). */
    note: z.string().optional(),
  })
  .strict();
export type SuiteTask = z.infer<typeof SuiteTask>;

export const SuiteFile = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    description: z.string().optional(),
    /** A run succeeds when its normalised score reaches this (RE-Bench reports normalised scores; 0.5 = half way to the reference). */
    successThreshold: z.number().positive().max(2).default(0.5),
    /** Wall-clock research budget per (task, researcher, seed), seconds. */
    budgetSeconds: z.number().positive().default(300),
    /** Candidates per run; null: only the time budget stops a run. */
    maxExperiments: z.number().int().positive().nullable().default(null),
    tasks: z.array(z.union([z.string().min(1).transform((task) => ({ task })), SuiteTask])).min(1),
  })
  .strict();
export type SuiteFile = z.infer<typeof SuiteFile>;

export interface Suite {
  dir: string;
  file: SuiteFile;
  /** Each task with the reference `loadTask` understands: a built-in name or an absolute folder. */
  tasks: (SuiteTask & { ref: string })[];
}

/** `nameOrDir`: a built-in suite's name (`suites/<name>`) or a folder holding a suite.json. */
export function loadSuite(nameOrDir: string): Suite {
  const builtin = join(BUILTIN_SUITES_DIR, nameOrDir);
  const dir = /^[a-z0-9-]+$/.test(nameOrDir) && existsSync(join(builtin, 'suite.json')) ? builtin : resolve(nameOrDir);
  const path = join(dir, 'suite.json');
  if (!existsSync(path)) throw new TaskError(`no suite '${nameOrDir}': not a built-in suite and no ${path}`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new TaskError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = SuiteFile.safeParse(raw);
  if (!parsed.success) throw new TaskError(`${path}: ${describeZodError(parsed.error)}`);
  const tasks = parsed.data.tasks.map((entry) => ({
    ...entry,
    ref: /^[a-z0-9-]+$/.test(entry.task) && !existsSync(join(dir, entry.task, 'task.json')) ? entry.task : resolve(dir, entry.task),
  }));
  return { dir, file: parsed.data, tasks };
}
