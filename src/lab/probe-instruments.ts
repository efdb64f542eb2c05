/**
 * What turns a probe of a change into something other than a plain capped run, as workspace data the harness runs
 * like any experiment (so a probe goes through the same executor, harness and sandbox as everything else):
 *  - `profile`: an edit of the trainer's backend factory (create-backend.ts in the project's GPT workspaces) that
 *    wraps every kernel with a timer and prints a table to stderr every two seconds and at exit;
 *  - `check`: a derived task folder (under the state dir) whose command runs the TypeScript compiler over the
 *    workspace (`tsc --noEmit`: types for .ts files, syntax for .js/.mjs) and whose scorer passes any run that exits 0.
 * Is not: the probe runner (probes.ts) nor part of any task's trusted harness.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { FileEdit } from '../task/change.js';
import type { Task } from '../task/loader.js';
import { PROJECT_ROOT } from '../task/trusted-script.js';

export const PROFILE_BEGIN = '--- successor profile: kernel wall time, cumulative ---';
export const PROFILE_END = '--- end of profile ---';

const BACKEND_FACTORY = 'create-backend.ts';
const FACTORY_ANCHOR = 'export async function createBackend(';

/** The timer the profile probe appends to the workspace's backend factory (it runs in the sandbox, untrusted). */
const PROFILER = `
/* Added by the lab for a profile probe (never part of a candidate): times every kernel call. */
export async function createBackend(...args: Parameters<typeof createBackendUntimed>): Promise<Backend> {
  const backend = await createBackendUntimed(...args);
  const totals = new Map<string, { calls: number; ms: number }>();
  const started = performance.now();
  const print = () => {
    const rows = [...totals.entries()].sort((left, right) => right[1].ms - left[1].ms);
    const kernelMs = rows.reduce((sum, [, total]) => sum + total.ms, 0);
    const wallMs = performance.now() - started;
    const lines = rows.map(([name, total]) => \`\${name.padEnd(22)} \${String(total.calls).padStart(7)} calls \${total.ms.toFixed(1).padStart(10)} ms \${(100 * total.ms / Math.max(wallMs, 1e-9)).toFixed(1).padStart(5)}%\`);
    process.stderr.write(\`${PROFILE_BEGIN}\\n\${lines.join('\\n')}\\nkernels \${kernelMs.toFixed(1)} ms of \${wallMs.toFixed(1)} ms since the backend started\\n${PROFILE_END}\\n\`);
  };
  const timer = setInterval(print, 2000);
  timer.unref();
  process.once('exit', print);
  return new Proxy(backend, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function' || typeof name !== 'string' || name === 'allocate' || name === 'dispose') return value;
      return (...callArgs: unknown[]) => {
        const begin = performance.now();
        try {
          return value.apply(target, callArgs);
        } finally {
          const total = totals.get(name) ?? { calls: 0, ms: 0 };
          total.calls += 1;
          total.ms += performance.now() - begin;
          totals.set(name, total);
        }
      };
    },
  });
}
`;

/**
 * The edit that makes a workspace print a kernel profile, given its materialised files; null when the workspace
 * has no backend factory to wrap (or the change rewrote it beyond recognition).
 */
export function profileInstrument(workspaceDir: string): FileEdit | null {
  const path = join(workspaceDir, BACKEND_FACTORY);
  if (!existsSync(path)) return null;
  const source = readFileSync(path, 'utf8');
  if (source.split(FACTORY_ANCHOR).length !== 2 || !/import type \{[^}]*\bBackend\b[^}]*\}/.test(source)) return null;
  return { kind: 'write', path: BACKEND_FACTORY, content: `${source.replace(FACTORY_ANCHOR, 'export async function createBackendUntimed(')}${PROFILER}` };
}

/** The table a profile probe printed last, or null. */
export function lastProfile(stderr: string): string | null {
  const begin = stderr.lastIndexOf(PROFILE_BEGIN);
  if (begin < 0) return null;
  const end = stderr.indexOf(PROFILE_END, begin);
  return (end < 0 ? stderr.slice(begin + PROFILE_BEGIN.length) : stderr.slice(begin + PROFILE_BEGIN.length, end)).trim() || null;
}

export const CHECK_CONFIG = 'successor-check.tsconfig.json';
const TSC = join(PROJECT_ROOT, 'node_modules', 'typescript', 'lib', 'tsc.js');

/** The lab's own compiler settings (tsconfig.json), plus plain JavaScript files checked for syntax only. */
const CHECK_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023'], types: ['node'], strict: true,
    noImplicitOverride: true, noFallthroughCasesInSwitch: true, esModuleInterop: true, resolveJsonModule: true, skipLibCheck: true,
    isolatedModules: true, verbatimModuleSyntax: true, noEmit: true, allowJs: true, checkJs: false, pretty: false,
  },
  include: ['**/*.ts', '**/*.mts', '**/*.js', '**/*.mjs'],
  exclude: ['node_modules', 'artifacts'],
};

/** The tsconfig the check probe writes into the staged workspace (the workspace's own is never used). */
export const checkConfigEdit = (): FileEdit => ({ kind: 'write', path: CHECK_CONFIG, content: `${JSON.stringify(CHECK_TSCONFIG, null, 2)}\n` });

/** Whether the lab can type-check at all here (the compiler is a development dependency). */
export const canCheckTypes = (): boolean => existsSync(TSC);

/**
 * The folder of the derived task a `check` probe runs: the task's own workspace, knobs and limits, with the type
 * checker as its command and a scorer that passes whatever exits 0. Written once per task folder (content-addressed).
 */
export function checkTaskDir(task: Task, stateDir: string, capSeconds: number): string {
  const limits = task.file.run.limits;
  const file = {
    name: `${task.file.name}-check`.slice(0, 60),
    version: task.file.version,
    title: `type check of ${task.file.name}'s workspace (a probe)`,
    instructions: '', // filled below, relative to the folder
    workspace: { ...task.file.workspace, editable: [...task.file.workspace.editable, CHECK_CONFIG] },
    harness: { dir: 'harness', score: 'score.mjs' },
    run: {
      command: ['{node}', '{workdir}/node_modules/typescript/lib/tsc.js', '--noEmit', '-p', CHECK_CONFIG],
      artifacts: task.file.run.artifacts,
      ...(task.file.run.configFile ? { configFile: task.file.run.configFile } : {}),
      limits: { ...limits, wallSeconds: capSeconds, memoryMb: Math.max(limits.memoryMb, 1536), processes: Math.max(limits.processes, 16), outputKb: Math.max(limits.outputKb, 256) },
    },
    metric: { name: 'seconds', direction: 'minimize', unit: 's', source: 'wall-seconds' },
    space: task.file.space,
  };
  const key = createHash('sha256').update(JSON.stringify([task.dir, file])).digest('hex').slice(0, 12);
  const dir = join(stateDir, 'probe-tasks', `${file.name}-${key}`);
  if (existsSync(join(dir, 'task.json'))) return dir;
  mkdirSync(join(dir, 'harness'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(dir, 'harness', 'score.mjs'), '// A check probe passes when the type checker exited 0.\nprocess.stdout.write(`${JSON.stringify({ passed: true, score: 0, metrics: {} })}\\n`);\n');
  const relativeTo = (path: string) => relative(dir, resolve(path)) || '.';
  const body = {
    ...file,
    instructions: relativeTo(join(task.dir, task.file.instructions)),
    workspace: { ...file.workspace, dir: relativeTo(task.workspaceDir) },
  };
  writeFileSync(join(dir, 'task.json'), `${JSON.stringify(body, null, 2)}\n`);
  return dir;
}
