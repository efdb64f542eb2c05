/**
 * `successor task new DIR --command "python3 train.py" --metric NAME --maximize`: a new task folder from a
 * user's files (src/task/scaffold.ts writes it). Flags that are missing are asked for when stdin is a terminal;
 * otherwise a missing one is a usage error naming it. The folder it writes loads, and `task check` passes it.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { resolveEnvironment } from '../task/environment.js';
import { SuccessorError } from '../task/errors.js';
import { type Task, loadTask } from '../task/loader.js';
import { type ScorerLanguage, type Skeleton, taskNameFrom, writeTaskSkeleton } from '../task/scaffold.js';
import { UsageError, action, collect, parseNumber, printResult } from './common.js';
import { stateDir } from '../journal/paths.js';

interface NewFlags {
  command?: string;
  metric?: string;
  maximize?: boolean;
  minimize?: boolean;
  scorer?: string;
  from?: string;
  data?: string;
  label: string;
  mount: string[];
  variable: string[];
  allowSecret: string[];
  device: string[];
  name?: string;
  wallSeconds: string;
  json?: boolean;
}

/** Splits a command line into argv as a shell would for plain words and '...' or "..." quoting (no expansion). */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: '"' | "'" | null = null;
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (quote) {
      if (character === quote) quote = null;
      else if (character === '\\' && quote === '"' && /["\\$`]/.test(text[index + 1] ?? '')) word = (word ?? '') + text[++index];
      else word = (word ?? '') + character;
    } else if (character === '"' || character === "'") {
      quote = character;
      word ??= '';
    } else if (/\s/.test(character)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (character === '\\' && index + 1 < text.length) word = (word ?? '') + text[++index];
    else word = (word ?? '') + character;
  }
  if (quote) throw new UsageError(`--command: an unclosed ${quote} quote in '${text}'`);
  if (word !== null) words.push(word);
  if (words.length === 0) throw new UsageError('--command is empty');
  return words;
}

/** Asks for what the flags left out, when a person is at the terminal; otherwise names the first missing flag. */
async function completeFlags(flags: NewFlags): Promise<Required<Pick<NewFlags, 'command' | 'metric' | 'scorer'>> & { direction: 'maximize' | 'minimize' }> {
  if (flags.maximize && flags.minimize) throw new UsageError('--maximize and --minimize: give one');
  const direction = flags.maximize ? 'maximize' : flags.minimize ? 'minimize' : undefined;
  const missing = !flags.command ? '--command' : !flags.metric ? '--metric' : !direction ? '--maximize or --minimize' : null;
  if (missing && !process.stdin.isTTY) throw new UsageError(`${missing} is required (or run in a terminal to be asked)`);
  const prompt = missing || (!flags.scorer && process.stdin.isTTY) ? createInterface({ input: process.stdin, output: process.stderr }) : null;
  try {
    const ask = async (question: string, fallback?: string): Promise<string> => {
      const answer = (await prompt!.question(`${question}${fallback ? ` [${fallback}]` : ''}: `)).trim();
      return answer || fallback || ask(question, fallback);
    };
    const command = flags.command ?? (await ask('command that trains (run in the workspace)', 'python3 train.py'));
    const metric = flags.metric ?? (await ask('metric name', 'accuracy'));
    const chosen = direction ?? ((await ask('maximize or minimize', 'maximize')).startsWith('min') ? 'minimize' : 'maximize');
    const scorer = flags.scorer ?? (prompt ? await ask('scorer language (python or typescript)', 'python') : 'python');
    return { command, metric, direction: chosen, scorer };
  } finally {
    prompt?.close();
  }
}

/** The task.json fields the flags write, by the flag that wrote them. */
const FIELD_FLAGS: Array<[RegExp, string]> = [
  [/^environment\.mounts\.\d+$/, '--mount'], [/^environment\.harnessMounts\.\d+$/, '--data'], [/^environment\.devices\.\d+$/, '--device'],
  [/^environment\.variables\.\d+$/, '--variable'], [/^environment\.allowSecrets\.\d+$/, '--allow-secret'], [/^run\.command$/, '--command'], [/^name$/, '--name'],
];

/**
 * A problem the loader or the environment check found in the task.json the flags wrote, said in terms of the flag
 * (the file is gone by then): `--mount: '/x' does not exist on this machine`. Others pass unchanged.
 */
export function inFlagTerms(error: unknown, taskPath: string): unknown {
  if (!(error instanceof SuccessorError) || !error.message.startsWith(`${taskPath}: `)) return error;
  const [field, ...rest] = error.message.slice(taskPath.length + 2).split(': ');
  const flag = FIELD_FLAGS.find(([pattern]) => pattern.test(field))?.[1];
  if (!flag) return error;
  return new UsageError(`${flag}: ${rest.join(': ').replace('name it in environment.allowSecrets too', 'give --allow-secret too')}`);
}

/**
 * Writes the skeleton, loads it and checks its environment against this machine (what it wrote must load, and
 * what --mount, --device and --command name must be here), so a bad flag is named then; on any error the folder is
 * left as it was found, missing or empty.
 */
async function writeOrRemove(destination: string, created: boolean, write: () => Skeleton): Promise<Skeleton & { task: Task }> {
  try {
    const skeleton = write();
    const task = loadTask(destination);
    resolveEnvironment(task, stateDir());
    return { ...skeleton, task };
  } catch (error) {
    if (created) rmSync(destination, { recursive: true, force: true });
    else for (const entry of readdirSync(destination)) rmSync(join(destination, entry), { recursive: true, force: true });
    throw inFlagTerms(error, join(destination, 'task.json'));
  }
}

export function registerTaskNew(task: Command): void {
  task
    .command('new')
    .description('write a new task folder around your training code: workspace, trusted harness, task.json')
    .argument('<dir>', 'an empty or missing folder')
    .option('--command <line>', "the run's command, in the workspace (e.g. \"python3 train.py\")")
    .option('--metric <name>', 'what the scorer measures')
    .option('--maximize', 'higher is better')
    .option('--minimize', 'lower is better')
    .option('--scorer <language>', 'python or typescript (the harness scripts)')
    .option('--from <folder>', 'your files: copied into the workspace')
    .option('--data <csv>', 'a CSV with a label column for the harness to split (its folder is mounted for the harness only)')
    .option('--label <column>', "the label column of --data", 'label')
    .option('--mount <path>', 'a folder the run reads, mounted read-only (repeatable)', collect, [])
    .option('--variable <name>', 'an environment variable passed through to the run (repeatable)', collect, [])
    .option('--allow-secret <name>', 'pass a --variable whose name looks like a secret anyway (repeatable)', collect, [])
    .option('--device <device>', "'gpu' or a device node under /dev (repeatable)", collect, [])
    .option('--name <name>', 'the task name (default: from the folder)')
    .option('--wall-seconds <n>', "the run's wall-clock limit", '300')
    .option('--json', 'print {task, dir, files, exampleRun}')
    .action(
      action(async (dir: string, flags: NewFlags) => {
        const destination = resolve(dir);
        if (existsSync(destination) && readdirSync(destination).length > 0) throw new UsageError(`${destination} is not empty`);
        if (flags.data && !existsSync(flags.data)) throw new UsageError(`--data: ${resolve(flags.data)} does not exist`);
        const given = await completeFlags(flags);
        const language = given.scorer.toLowerCase().replace(/^ts$/, 'typescript').replace(/^py$/, 'python');
        if (language !== 'python' && language !== 'typescript') throw new UsageError(`--scorer must be python or typescript, got '${given.scorer}'`);
        const created = !existsSync(destination);
        const skeleton = await writeOrRemove(destination, created, () => writeTaskSkeleton({
          dir: destination, name: flags.name ?? taskNameFrom(destination), command: splitCommand(given.command),
          metric: { name: given.metric, direction: given.direction }, language: language as ScorerLanguage,
          from: flags.from, data: flags.data ? { file: flags.data, label: flags.label } : undefined,
          mounts: flags.mount, variables: flags.variable, allowSecrets: flags.allowSecret, devices: flags.device,
          wallSeconds: parseNumber('wall-seconds', flags.wallSeconds, { min: 1, max: 24 * 3600 }),
        }));
        const loaded = skeleton.task;
        if (!flags.json) {
          process.stderr.write(`wrote ${destination}: ${skeleton.files.join(', ')}${skeleton.exampleRun ? ', workspace/ with an example run' : ', workspace/ with your files'}\n`);
          process.stderr.write(`next: successor task check ${dir}   (docs/tasks.md, "Your own train.py", says what to adapt)\n`);
        }
        printResult({ task: loaded.file.name, dir: destination, files: skeleton.files, exampleRun: skeleton.exampleRun }, flags.json === true);
      }),
    );
}
