/**
 * A task's declared environment (task.json `environment`: read-only mounts, variables passed through by name,
 * devices) checked against the machine where its runs happen, and its commands' programs found there: what the
 * run and the harness scripts will see besides the sandbox's defaults. Every problem is one TaskError line that
 * names the field. It runs where the runs run (prepareTask, `successor task check`), never in the loader, so a
 * coordinator without a GPU or Python can still hand a task to workers that have them.
 * Not here: the declaration's syntax (schema.ts), binding the paths and devices (the sandbox).
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { TaskError } from './errors.js';
import { HARNESS_ROLES } from './harness-script.js';
import type { Task } from './loader.js';
import { PROJECT_ROOT } from './trusted-script.js';

/** Folders every sandbox shows read-only (bubblewrap.ts binds them), and the PATH a run and a harness script get. */
const SYSTEM_FOLDERS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
export const NODE_BIN_DIR = dirname(process.execPath);
export const SANDBOX_PATH = [NODE_BIN_DIR, '/usr/local/bin', '/usr/bin', '/bin'];

export interface DeviceGrant {
  declared: string;
  /** Device nodes (or folders of them) bound with device access. */
  nodes: string[];
  /** Driver folders bound read-only because the sandbox's system folders do not hold them. */
  readOnlyPaths: string[];
}

export interface HostEnvironment {
  /** Every host path bound read-only for the run and the harness scripts: its mounts and its devices' driver folders. */
  readOnlyPaths: string[];
  /** Host paths bound read-only for the harness scripts alone (environment.harnessMounts). */
  harnessReadOnlyPaths: string[];
  /** Every device node bound with device access. */
  devices: string[];
  /** The declared variables the lab's environment sets, with their values. */
  variables: Record<string, string>;
  /** Declared variables the lab's environment does not set: not passed. */
  unsetVariables: string[];
  mounts: Array<{ declared: string; path: string; harnessOnly: boolean }>;
  grants: DeviceGrant[];
  /** What a person should know (a device others may not open). */
  notes: string[];
}

/** The parts of the machine the GPU lookup reads; tests stand in for a machine with a GPU. */
export interface DeviceHost {
  /** Names in /dev. */
  deviceNames(): string[];
  /** `ldconfig -p`'s listing of the shared libraries the loader knows. */
  libraryListing(): string;
}

const realHost: DeviceHost = {
  deviceNames: () => readdirSync('/dev'),
  libraryListing: () => {
    try {
      return execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    } catch {
      return '';
    }
  },
};

const within = (path: string, folder: string): boolean => path === folder || path.startsWith(folder.endsWith(sep) ? folder : `${folder}${sep}`);
const realOrResolved = (path: string): string => (existsSync(path) ? realpathSync(path) : resolve(path));

/**
 * `gpu`: NVIDIA's device nodes (nvidiactl, nvidia0.., nvidia-uvm, nvidia-modeset, nvidia-caps/) and the folders of
 * its driver libraries (libcuda, libnvidia-*) that lie outside the system folders, plus /sys read-only (the driver's
 * libraries read the PCI topology there, as in any container). Null when the machine has no NVIDIA GPU.
 */
export function gpuGrant(host: DeviceHost = realHost): Omit<DeviceGrant, 'declared'> | null {
  const names = host.deviceNames().filter((name) => /^nvidia/.test(name)).sort();
  if (!names.includes('nvidiactl') || !names.some((name) => /^nvidia\d+$/.test(name))) return null;
  const libraryFolders = new Set<string>();
  for (const line of host.libraryListing().split('\n')) {
    const match = /^\s*(libcuda\.so|libnvidia-[\w.-]+\.so)\S*\s.*=>\s*(\/\S+)$/.exec(line);
    if (match && !SYSTEM_FOLDERS.some((folder) => within(match[2], folder))) libraryFolders.add(dirname(match[2]));
  }
  return { nodes: names.map((name) => `/dev/${name}`), readOnlyPaths: [...libraryFolders].sort().concat('/sys') };
}

/** Resolves the task's declared environment on this machine; throws one TaskError line naming the field. */
export function resolveEnvironment(task: Task, stateDir: string, host: DeviceHost = realHost): HostEnvironment {
  const declared = task.file.environment;
  const taskPath = join(task.dir, 'task.json');
  const fail = (field: string, message: string): never => {
    throw new TaskError(`${taskPath}: environment.${field}: ${message}`);
  };
  const notes: string[] = [];

  const protectedFolders = [
    { path: realOrResolved(stateDir), why: "the lab's state dir: a run must never read the journal, other runs' artifacts or the hidden data" },
    { path: realOrResolved(task.harnessDir), why: 'the harness folder: a run never sees the harness' },
  ];
  const mount = (field: 'mounts' | 'harnessMounts', entry: string, index: number) => {
    const path = resolve(task.dir, entry);
    if (!existsSync(path)) fail(`${field}.${index}`, `'${entry}' does not exist on this machine${isAbsolute(entry) ? '' : ` (relative paths are inside the task folder: ${path})`}`);
    const real = realpathSync(path);
    if (real === '/') fail(`${field}.${index}`, `'${entry}' is the whole file system: mount only the folders the run needs`);
    for (const folder of protectedFolders) {
      if (within(real, folder.path)) fail(`${field}.${index}`, `'${entry}' is inside ${folder.why} (${folder.path})`);
      if (within(folder.path, real)) fail(`${field}.${index}`, `'${entry}' holds ${folder.why} (${folder.path}): mount a folder beside it`);
    }
    const stats = statSync(real);
    if ((stats.mode & (stats.isDirectory() ? 0o005 : 0o004)) !== (stats.isDirectory() ? 0o005 : 0o004)) {
      notes.push(`${entry} (mode ${(stats.mode & 0o777).toString(8)}) is not readable by every user: a sandboxed run, an unprivileged user, may be refused it`);
    }
    return { declared: entry, path, harnessOnly: field === 'harnessMounts' };
  };
  const mounts = [
    ...declared.mounts.map((entry, index) => mount('mounts', entry, index)),
    ...declared.harnessMounts.map((entry, index) => mount('harnessMounts', entry, index)),
  ];

  const variables: Record<string, string> = {};
  const unsetVariables: string[] = [];
  for (const name of declared.variables) {
    const value = process.env[name];
    if (value === undefined) unsetVariables.push(name);
    else variables[name] = value;
  }

  const grants = declared.devices.map((device, index): DeviceGrant => {
    if (device === 'gpu') {
      const grant = gpuGrant(host);
      if (!grant) fail(`devices.${index}`, "'gpu' needs NVIDIA's device nodes (/dev/nvidiactl, /dev/nvidia0, ...) and this machine has none: is the driver loaded (nvidia-smi)?");
      return { declared: device, ...grant! };
    }
    const stats = statSync(device, { throwIfNoEntry: false });
    if (!stats) fail(`devices.${index}`, `'${device}' does not exist on this machine`);
    if (stats!.isBlockDevice()) fail(`devices.${index}`, `'${device}' is a block device (a disk): a run may not bypass the file system`);
    if (!stats!.isCharacterDevice() && !stats!.isDirectory()) fail(`devices.${index}`, `'${device}' is not a device node`);
    if ((stats!.mode & 0o006) !== 0o006) notes.push(`${device} (mode ${(stats!.mode & 0o777).toString(8)}) is not open to every user: a sandboxed run, an unprivileged user, may be refused it`);
    return { declared: device, nodes: [device], readOnlyPaths: [] };
  });

  const environment: HostEnvironment = {
    readOnlyPaths: [...new Set([...mounts.filter((entry) => !entry.harnessOnly).map((entry) => entry.path), ...grants.flatMap((grant) => grant.readOnlyPaths)])],
    harnessReadOnlyPaths: [...new Set(mounts.filter((entry) => entry.harnessOnly).map((entry) => entry.path))],
    devices: [...new Set(grants.flatMap((grant) => grant.nodes))],
    variables, unsetVariables, mounts, grants, notes,
  };
  checkPrograms(task, environment);
  return environment;
}

/** Where a program named without a folder is found inside a sandbox, or null. */
function onSandboxPath(program: string): string | null {
  for (const folder of SANDBOX_PATH) {
    const path = join(folder, program);
    if (isExecutableFile(path)) return path;
  }
  return null;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The program of the run's command and of each harness command exists here and is visible in its sandbox (a
 * system folder, a mount, the workspace for the run, the harness folder or the lab for a harness script): a
 * misspelt interpreter, or a virtualenv's python outside every mount, is one line before anything runs.
 */
function checkPrograms(task: Task, environment: HostEnvironment): void {
  const taskPath = join(task.dir, 'task.json');
  const runMounts = environment.readOnlyPaths.map(realOrResolved);
  const harnessMounts = [...runMounts, ...environment.harnessReadOnlyPaths.map(realOrResolved)];
  const check = (field: string, program: string, base: string, visible: string[]): void => {
    const mountsField = field === 'run.command' ? 'environment.mounts' : 'environment.mounts (or harnessMounts)';
    if (program.startsWith('{')) return; // {node}, {tsx}: the lab's own
    if (!program.includes('/')) {
      if (!onSandboxPath(program)) throw new TaskError(`${taskPath}: ${field}: '${program}' is not on the sandbox's PATH (${SANDBOX_PATH.slice(1).join(':')}): install it, or name it by its absolute path in a folder of ${mountsField}`);
      return;
    }
    const path = resolve(base, program);
    if (!isExecutableFile(path)) throw new TaskError(`${taskPath}: ${field}: '${program}' is not an executable file on this machine`);
    const real = realpathSync(path);
    if (![...SYSTEM_FOLDERS, NODE_BIN_DIR, ...visible].some((folder) => within(real, realOrResolved(folder)))) {
      throw new TaskError(`${taskPath}: ${field}: '${program}' (${real}) is outside everything the sandbox shows: add its folder to ${mountsField}`);
    }
  };
  check('run.command', task.file.run.command[0], task.workspaceDir, [task.workspaceDir, ...runMounts]);
  for (const role of HARNESS_ROLES) {
    const script = task.file.harness[role];
    if (Array.isArray(script)) check(`harness.${role}`, script[0], task.harnessDir, [task.harnessDir, PROJECT_ROOT, ...harnessMounts]);
  }
}
