/**
 * The bubblewrap Sandbox: the command runs in fresh user, mount, pid, network, ipc, uts and cgroup namespaces with
 * every capability dropped and a seccomp denylist (`seccomp.ts`), sees a read-only system, its read-only paths, a
 * private /tmp and its workdir, and nothing else of the host. Limits are enforced by the shared parent (`supervise.ts`) and the run's cgroup.
 *
 * Running as root matters here: the command keeps host uid 0 (without capabilities), and uid 0 may write
 * /proc/sys files (kernel.core_pattern would be a full escape). bubblewrap only covers /proc/sys when it is not
 * writable, so we bind it read-only ourselves, and the probe at creation checks that it is.
 * Not here: the limits, the clock, the tree kill (`supervise.ts`), picking an implementation (`create-sandbox.ts`).
 */
import { execFile, spawn } from 'node:child_process';
import { lstatSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { enforcementNotes, findExecutable, limitProtections, missingFrom, type Enforcement } from './enforcement.js';
import { seccompProgram } from './seccomp.js';
import { superviseRun } from './supervise.js';
import { decodeShellStatus } from './termination.js';
import { SandboxUnavailableError, type Protection, type Sandbox, type SandboxRequest } from './types.js';
import { validateRequest } from './validate-request.js';

const SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** The part of /etc a dynamically linked program and Node need; not /etc as a whole (shadow, lab configs). */
const ETC_PATHS = [
  'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'alternatives', 'passwd', 'group', 'nsswitch.conf', 'hosts',
  'host.conf', 'localtime', 'ssl', 'ca-certificates',
].map((name) => `/etc/${name}`);

interface Features {
  /** bwrap 0.8+: no nested user namespaces, so no way to regain capabilities inside. */
  disableUserNamespaces: boolean;
  /** A seccomp program arrives on fd 4. */
  seccomp: boolean;
}

/** Argument list for bwrap, up to and including the command. */
export function bubblewrapArguments(request: SandboxRequest, features: Features): string[] {
  const args = ['--unshare-all', '--unshare-user', '--die-with-parent', '--new-session', '--cap-drop', 'ALL'];
  if (features.disableUserNamespaces) args.push('--disable-userns');
  if (features.seccomp) args.push('--seccomp', '4');
  args.push('--clearenv');
  for (const [key, value] of Object.entries(request.env)) args.push('--setenv', key, value);
  for (const systemPath of SYSTEM_PATHS) {
    const stats = lstatSync(systemPath, { throwIfNoEntry: false });
    if (stats?.isSymbolicLink()) args.push('--symlink', readlinkSync(systemPath), systemPath); // /lib -> usr/lib
    else if (stats?.isDirectory()) args.push('--ro-bind', systemPath, systemPath);
  }
  for (const etcPath of ETC_PATHS) args.push('--ro-bind-try', etcPath, etcPath);
  args.push('--proc', '/proc', '--ro-bind', '/proc/sys', '/proc/sys', '--ro-bind-try', '/proc/sysrq-trigger', '/proc/sysrq-trigger');
  args.push('--dev', '/dev', '--size', String(request.limits.diskBytes), '--tmpfs', '/tmp');
  // Shallow paths first, so a path inside another keeps its own mode (a read-only dir inside the workdir stays so).
  const binds = [
    ...request.readOnlyPaths.map((hostPath) => ({ hostPath, writable: false })),
    { hostPath: request.workdir, writable: true },
  ].sort((left, right) => left.hostPath.split('/').length - right.hostPath.split('/').length);
  for (const { hostPath, writable } of binds) args.push(writable ? '--bind' : '--ro-bind', hostPath, hostPath);
  args.push('--remount-ro', '/', '--chdir', request.workdir, '--json-status-fd', '3', '--', ...request.command);
  return args;
}

const ISOLATION: Protection[] = ['network-isolation', 'filesystem-isolation', 'no-capabilities', 'pid-isolation', 'private-tmp', 'whole-tree-kill'];

/** Throws `SandboxUnavailableError` (with the reason) when bubblewrap is missing or does not isolate here. */
export async function createBubblewrapSandbox(enforcement: Enforcement): Promise<Sandbox> {
  const bwrapPath = findExecutable('bwrap');
  if (!bwrapPath) throw new SandboxUnavailableError('bubblewrap (bwrap) is not installed');
  const help = await promisify(execFile)(bwrapPath, ['--help']).then(({ stdout }) => stdout, () => '');
  const seccompFilter = seccompProgram();
  const features: Features = { disableUserNamespaces: help.includes('--disable-userns'), seccomp: seccompFilter !== null };
  await probe(bwrapPath, features, seccompFilter);

  const protections = [...new Set([...limitProtections(enforcement), ...ISOLATION, ...(seccompFilter ? ['syscall-filter' as const] : [])])];
  const notes = enforcementNotes(enforcement);
  if (!seccompFilter) notes.push(`no seccomp filter for architecture ${process.arch}`);
  return {
    kind: 'bubblewrap',
    protections,
    missing: missingFrom(protections),
    notes,
    async run(request, signal) {
      const valid = validateRequest(request);
      const launch = {
        argv: [bwrapPath, ...bubblewrapArguments(valid, features)],
        env: {},
        reportsChildPid: true,
        seccompFilter,
        decodeExit: decodeShellStatus,
      };
      return superviseRun(launch, valid, enforcement, signal);
    },
  };
}

/**
 * Runs a shell inside the sandbox that checks the isolation from the inside: no capabilities, a user namespace,
 * /proc/sys and / read-only, only a loopback interface. Opening for append writes nothing even where it succeeds.
 */
const PROBE_SCRIPT = `
while read -r key value; do [ "$key" = CapEff: ] && caps=$value; done < /proc/self/status
[ "$caps" = 0000000000000000 ] || { echo "capabilities kept: $caps"; exit 1; }
read -r inside outside count < /proc/self/uid_map
[ "$count" != 4294967295 ] || { echo 'no user namespace'; exit 1; }
if (exec 4>>/proc/sys/vm/swappiness) 2>/dev/null; then echo '/proc/sys is writable'; exit 1; fi
if (exec 4>>/successor-probe) 2>/dev/null; then echo '/ is writable'; exit 1; fi
interfaces=0; while read -r line; do interfaces=$((interfaces + 1)); done < /proc/net/dev
[ "$interfaces" = 3 ] || { echo "network interfaces besides loopback: $((interfaces - 2))"; exit 1; }
echo isolated`;

async function probe(bwrapPath: string, features: Features, seccompFilter: Buffer | null): Promise<void> {
  const workdir = await mkdtemp(path.join(tmpdir(), 'successor-sandbox-probe-'));
  try {
    const request = validateRequest({
      command: ['/bin/sh', '-c', PROBE_SCRIPT], workdir, readOnlyPaths: [], env: {},
      limits: { wallSeconds: 10, memoryBytes: 1 << 28, processes: 64, fileSizeBytes: 1 << 20, diskBytes: 1 << 20, outputBytes: 1 << 16 },
    });
    const args = bubblewrapArguments(request, features).filter((arg, index, all) => arg !== '--json-status-fd' && all[index - 1] !== '--json-status-fd');
    const child = spawn(bwrapPath, args, { env: {}, stdio: ['ignore', 'pipe', 'pipe', 'ignore', seccompFilter ? 'pipe' : 'ignore'], timeout: 10_000 });
    if (seccompFilter) (child.stdio[4] as Writable).on('error', () => undefined).end(seccompFilter);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
    await new Promise<void>((resolve) => { child.once('close', () => resolve()); child.once('error', (error) => { output += error.message; resolve(); }); });
    if (output.trim() !== 'isolated') throw new SandboxUnavailableError(`bubblewrap does not isolate here: ${output.trim().slice(0, 500)}`);
  } finally {
    await rm(workdir, { recursive: true, force: true });
  }
}
