/**
 * Runs a trusted harness script (prepare, stage, score) through a Sandbox like any run: a TypeScript/JavaScript
 * module with the lab's loader, or a command in any language (harness-script.ts builds it). Trusted means written by the task author, not the researcher; it still reads what untrusted code left
 * (a checkpoint built to be costly, a FIFO, a crafted file), so it gets limits of its own (clock, memory, CPU time,
 * disk, entries), a clean environment (no API keys), no network, and read-only mounts of what it needs: the lab's
 * project root (its modules and dependencies; not the lab's state inside it), the harness folder and the data it names. Its workdir (its cwd) is
 * the only folder it may write. Its CPU time comes back measured, for the experiment's account.
 *
 * Without a sandbox given, the script runs unsandboxed (limits only) in a fresh temporary workdir: for tests and
 * tools outside the lab. Not here: what the script's output means (the harness, prepare.ts).
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectEnforcement } from '../sandbox/enforcement.js';
import { removeTree } from '../sandbox/remove-tree.js';
import type { Sandbox, Termination } from '../sandbox/types.js';
import { createUnsandboxedSandbox } from '../sandbox/unsandboxed.js';
import type { HarnessLimits } from './schema.js';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RUN_TS = resolve(PROJECT_ROOT, 'bin/run-ts.js');
const NODE_BIN_DIR = dirname(process.execPath);
const OUTPUT_LIMIT_BYTES = 1 << 20;
const PROCESS_LIMIT = 128;

export interface TrustedScriptResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** How it ended (a limit that stopped it, or 'exited'/'signaled'). */
  termination: Termination;
  /** CPU time of the script's whole tree, when the machine can measure it. */
  cpuSeconds: number | null;
}

/** What runs: a module (the lab's loader runs it; a bare string means the same), or a ready argv. */
export type TrustedProgram = { module: string } | { argv: string[] };

export interface TrustedScriptOptions {
  /** Runs it isolated; absent: unsandboxed, limits only. */
  sandbox?: Sandbox;
  /** Its cwd and the only folder it may write; absent: a fresh temporary folder, removed afterwards. */
  workdir?: string;
  /** Host paths it reads besides the project root and node (the harness folder, data folders, a log file). */
  readOnlyPaths?: string[];
  /** Its limits (the task's harness.limits); `timeoutSeconds` always sets the clock. */
  limits?: Partial<HarnessLimits>;
  args?: string[];
  /** Variables the task passes through (environment.variables), already read from the lab's environment. */
  variables?: Record<string, string>;
  /** Device nodes the task declares (environment.devices), bound with device access. */
  devices?: string[];
}

let unsandboxed: Promise<Sandbox> | null = null;
const defaultSandbox = (): Promise<Sandbox> => (unsandboxed ??= detectEnforcement().then((enforcement) => createUnsandboxedSandbox(enforcement)));

/** Paths that exist, once each, never the workdir (a nested read-only mount is harmless: bwrap binds shallow first). */
function mountList(paths: string[], workdir: string): string[] {
  return [...new Set(paths.map((path) => resolve(path)))].filter((path) => path !== resolve(workdir) && existsSync(path));
}

/**
 * The lab's checkout, read-only. When the workdir lies inside it (the lab's state in a clone's `.successor/`, the
 * default), the checkout goes in entry by entry, less the entry that holds the workdir: that entry's real folders
 * (the lab's 0700 staged and scratch folders) would stop the sandbox's uid on its way to its own workdir (a child
 * spawned there, such as tsx's esbuild, failed with EACCES), where bwrap otherwise makes searchable folders; and a
 * script has no business in the lab's state: what it needs there (its inputs) is mounted on its own.
 */
export function checkoutMounts(workdir: string, root: string = PROJECT_ROOT): string[] {
  const inside = relative(root, resolve(workdir));
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return [root];
  const holder = inside.split(sep)[0];
  return readdirSync(root).filter((name) => name !== holder).map((name) => join(root, name));
}

export async function runTrustedScript(script: string | TrustedProgram, env: Record<string, string>, timeoutSeconds: number, options: TrustedScriptOptions = {}): Promise<TrustedScriptResult> {
  const program: TrustedProgram = typeof script === 'string' ? { module: script } : script;
  const command = 'module' in program ? [process.execPath, RUN_TS, program.module, ...(options.args ?? [])] : [...program.argv, ...(options.args ?? [])];
  const sandbox = options.sandbox ?? (await defaultSandbox());
  const workdir = options.workdir ?? mkdtempSync(join(tmpdir(), 'successor-trusted-'));
  const limits = options.limits ?? {};
  const diskBytes = (limits.diskMb ?? 4096) * 2 ** 20;
  try {
    const result = await sandbox.run({
      command,
      workdir,
      readOnlyPaths: mountList([NODE_BIN_DIR, ...checkoutMounts(workdir), ...('module' in program ? [dirname(program.module)] : []), ...(options.readOnlyPaths ?? [])], workdir),
      // The lab's own variables come last: a task's pass-through cannot replace them. No bytecode caches: the
      // harness folder is read-only here, and unsandboxed a cache would change the harness's hash.
      env: { ...options.variables, PATH: `${NODE_BIN_DIR}:/usr/local/bin:/usr/bin:/bin`, HOME: workdir, LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1', SUCCESSOR_LAB_ROOT: PROJECT_ROOT, ...env },
      ...(options.devices?.length ? { devices: options.devices } : {}),
      limits: {
        wallSeconds: timeoutSeconds,
        memoryBytes: (limits.memoryMb ?? 4096) * 2 ** 20,
        processes: PROCESS_LIMIT,
        fileSizeBytes: diskBytes,
        diskBytes,
        ...(limits.files !== undefined ? { files: limits.files } : {}),
        ...(limits.cpuSeconds !== undefined ? { cpuSeconds: limits.cpuSeconds } : {}),
        outputBytes: OUTPUT_LIMIT_BYTES,
      },
    });
    return {
      exitCode: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
      timedOut: result.termination === 'timeout',
      termination: result.termination,
      cpuSeconds: result.cpuSeconds,
    };
  } finally {
    if (!options.workdir) await removeTree(workdir);
  }
}
