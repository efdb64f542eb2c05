/**
 * A new task from nothing (`successor task new`): writes a task folder that `successor task check` passes — the
 * user's files as the workspace, a trusted harness in the language they pick (prepare splits the data so the
 * answers stay out of the run's reach, score computes the metric from what the run leaves), instructions, and a
 * task.json with the declared environment. The harness templates are real files beside this one
 * (scaffold/python, scaffold/typescript); their contract is documented in docs/tasks.md ("Your own train.py").
 * Not here: flags and prompts (src/cli/task-new.ts), validating the result (the loader does).
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BadInputError } from './errors.js';
import type { TaskFile } from './schema.js';

const TEMPLATES = resolve(dirname(fileURLToPath(import.meta.url)), 'scaffold');

/** What never belongs in a workspace copied from a user's project. */
const SKIPPED = new Set(['.git', '.hg', '.svn', '__pycache__', 'node_modules', '.venv', 'venv', '.successor', '.mypy_cache', '.pytest_cache', '.ipynb_checkpoints']);

export type ScorerLanguage = 'python' | 'typescript';

export interface SkeletonOptions {
  dir: string;
  name: string;
  /** The run's argv. */
  command: string[];
  metric: { name: string; direction: 'maximize' | 'minimize' };
  language: ScorerLanguage;
  /** The user's files, copied into the workspace. */
  from?: string;
  /** A CSV with a label column that prepare splits; its folder is mounted for the harness only. */
  data?: { file: string; label: string };
  mounts?: string[];
  variables?: string[];
  allowSecrets?: string[];
  devices?: string[];
  wallSeconds?: number;
}

export interface Skeleton {
  dir: string;
  files: string[];
  /** Whether the example run (a k-nearest-neighbours train.py) was written because the command's script was missing. */
  exampleRun: boolean;
}

/** The workspace file the command runs (its first argument that looks like a script), if any. */
function commandScript(command: string[]): string | null {
  return command.slice(1).find((argument) => !argument.startsWith('-') && extname(argument) !== '' && !argument.includes('{')) ?? null;
}

export function taskNameFrom(dir: string): string {
  const name = basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return /^[a-z0-9]/.test(name) ? name : `task-${name || 'new'}`;
}

export function writeTaskSkeleton(options: SkeletonOptions): Skeleton {
  const dir = resolve(options.dir);
  const workspace = join(dir, 'workspace');
  const harness = join(dir, 'harness');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(harness, { recursive: true });
  if (options.from) {
    const from = resolve(options.from);
    if (!existsSync(from)) throw new BadInputError(`--from: ${from} does not exist`);
    if (!relative(from, dir).startsWith('..') && relative(from, dir) !== '') throw new BadInputError(`--from: the new task folder ${dir} is inside ${from}`);
    cpSync(from, workspace, { recursive: true, verbatimSymlinks: true, filter: (path) => !relative(from, path).split(sep).some((part) => SKIPPED.has(part)) && !path.endsWith('.pyc') });
  }

  const script = commandScript(options.command);
  let exampleRun = false;
  let space: TaskFile['space'] = {};
  if (script && !existsSync(join(workspace, script))) {
    if (!/^python3?$/.test(basename(options.command[0])) || extname(script) !== '.py') {
      throw new BadInputError(`--command: '${script}' is not among the workspace's files${options.from ? ` (${resolve(options.from)})` : ''}: give --from with your files`);
    }
    // No training code yet: an example that follows the contract, with one knob, so the task runs at once.
    mkdirSync(dirname(join(workspace, script)), { recursive: true });
    copyFileSync(join(TEMPLATES, 'python/train.py'), join(workspace, script));
    if (!existsSync(join(workspace, 'config.json'))) writeFileSync(join(workspace, 'config.json'), `${JSON.stringify({ neighbours: 5, label: options.data?.label ?? 'label' }, null, 2)}\n`);
    space = { neighbours: { type: 'int', scale: 'log', min: 1, max: 100, default: 5, weight: 1 } };
    exampleRun = true;
  }

  const harnessFiles = options.language === 'python' ? ['prepare.py', 'score.py'] : ['prepare.ts', 'score.ts', 'csv.ts'];
  for (const name of harnessFiles) copyFileSync(join(TEMPLATES, options.language, name), join(harness, name));
  if (options.language === 'typescript') writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ private: true, type: 'module' }, null, 2)}\n`);

  const data = options.data ? { file: resolve(options.data.file), label: options.data.label } : null;
  const file: TaskFile = {
    name: options.name,
    version: '1',
    title: `Improve ${options.metric.name} of ${options.command.join(' ')}`,
    instructions: 'instructions.md',
    workspace: { dir: 'workspace', editable: ['**'], ignore: ['artifacts/**'] },
    harness: {
      dir: 'harness',
      prepare: options.language === 'python' ? ['python3', 'prepare.py'] : 'prepare.ts',
      score: options.language === 'python' ? ['python3', 'score.py'] : 'score.ts',
      params: {
        label: data?.label ?? 'label', score: options.metric.direction === 'maximize' ? 'accuracy' : 'errorRate', seed: 1, testFraction: 0.2,
        ...(data ? { data: data.file } : {}),
      },
      limits: { wallSeconds: 300, cpuSeconds: 600, memoryMb: 4096, diskMb: 4096, files: 100_000 },
    },
    run: {
      command: options.command,
      artifacts: 'artifacts',
      ...(exampleRun ? { configFile: 'config.json' } : {}),
      limits: { wallSeconds: options.wallSeconds ?? 300, memoryMb: 4096, processes: 256, fileSizeMb: 512, diskMb: 1024, files: 10_000, outputKb: 1024, threads: 2 },
    },
    metric: { name: options.metric.name, direction: options.metric.direction, source: 'scorer' },
    environment: {
      mounts: (options.mounts ?? []).map((path) => resolve(path)),
      harnessMounts: data ? [dirname(data.file)] : [],
      variables: options.variables ?? [],
      allowSecrets: options.allowSecrets ?? [],
      devices: options.devices ?? [],
    },
    space,
  };
  writeFileSync(join(dir, 'task.json'), `${JSON.stringify(file, null, 2)}\n`);
  writeFileSync(join(dir, 'instructions.md'), instructions(options, exampleRun));
  return { dir, files: ['task.json', 'instructions.md', ...(options.language === 'typescript' ? ['package.json'] : []), ...harnessFiles.map((name) => `harness/${name}`)], exampleRun };
}

function instructions(options: SkeletonOptions, exampleRun: boolean): string {
  const goal = options.metric.direction === 'maximize' ? 'Raise' : 'Lower';
  return `# ${options.name}

${goal} **${options.metric.name}**. The harness runs \`${options.command.join(' ')}\` in a copy of this workspace, in
a sandbox without network, then its own scorer computes ${options.metric.name} on held-out rows that the run never sees.

- The run reads its data from the folder in \`$SUCCESSOR_INPUTS\` (read-only): \`train.csv\` (labelled rows) and
  \`test.csv\` (rows to predict, with an \`id\` column).
- It must leave \`artifacts/predictions.csv\` (the folder is \`$SUCCESSOR_ARTIFACTS\`) with columns \`id\` and
  \`prediction\`, one row per row of \`test.csv\`. A run without it fails.
- What the run prints about its own score does not count: only the scorer's number does.
${exampleRun ? '- `config.json` holds the settings of the example k-nearest-neighbours model in `train.py`.\n' : ''}`;
}
