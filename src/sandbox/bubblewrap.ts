/**
 * The bubblewrap Sandbox: the command runs in fresh mount, pid, network, ipc, uts and cgroup namespaces with every
 * capability dropped and a seccomp denylist (`seccomp.ts`), sees a read-only system, its read-only paths, a
 * private /tmp, its workdir and the device nodes it is given (a GPU's), and nothing else of the host. Limits are enforced by the shared parent
 * (`supervise.ts`) and the run's cgroup.
 *
 * Who the command is on the host (`sandbox-user.ts`): a lab running as root has bwrap set up the namespaces as
 * root (so it can bind any path, however deep in root-only folders), then `setpriv` drops to a dedicated
 * unprivileged uid and gid with no groups, an empty bounding set and no_new_privs before the command starts. There
 * is no user namespace then, so the seccomp filter refuses the clone flags that would make one. A lab running as an
 * ordinary user gets bwrap's user namespace, as before, with nested user namespaces disabled. /proc/sys is bound
 * read-only either way (bubblewrap only covers it when it is not writable), and the probe at creation checks the
 * isolation from the inside.
 *
 * The private /tmp is a fresh folder inside the workdir (run-tmp.ts), so what the command keeps there counts
 * against its disk and file limits like everything else; it is made before the run and removed after it.
 * Not here: the limits, the clock, the tree kill (`supervise.ts`), picking an implementation (`create-sandbox.ts`).
 */
import { execFile, spawn } from 'node:child_process';
import { lstatSync, readlinkSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { enforcementNotes, findExecutable, limitProtections, missingFrom, type Enforcement } from './enforcement.js';
import { removeTree } from './remove-tree.js';
import { makeRunTmp } from './run-tmp.js';
import { handOverTree, sandboxOwner, type HostOwner } from './sandbox-user.js';
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
  /** A seccomp program arrives on the first input fd (4). */
  seccomp: boolean;
  /** A root lab: the host uid/gid the command runs as, and the setpriv that drops to them; null keeps bwrap's user namespace. */
  runAs: { owner: HostOwner; setprivPath: string } | null;
}

/**
 * What bwrap keeps past its setup, only until setpriv drops to the sandbox's uid (a change of uid empties the
 * permitted set; setpriv empties the bounding set too): the calls setpriv makes, and searching folders on the way
 * to --chdir (the workdir belongs to the sandbox's uid by then, and may be mode 0700).
 */
const KEPT_FOR_SETPRIV = ['CAP_SETUID', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_DAC_READ_SEARCH'];

/** /etc/passwd and /etc/group as the command sees them when it runs as the sandbox's uid (tsx asks for its name). */
export function identityFiles(owner: HostOwner): { passwd: Buffer; group: Buffer } {
  return {
    passwd: Buffer.from(`root:x:0:0:root:/root:/usr/sbin/nologin\nsuccessor:x:${owner.uid}:${owner.gid}:successor sandbox:/nonexistent:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`),
    group: Buffer.from(`root:x:0:\nsuccessor:x:${owner.gid}:\nnogroup:x:65534:\n`),
  };
}

/** The buffers bwrap reads from fds 4, 5, ... in the order `bubblewrapArguments` names them. */
function launchInputs(features: Features, seccompFilter: Buffer | null): Buffer[] {
  const inputs: Buffer[] = [];
  if (features.seccomp && seccompFilter) inputs.push(seccompFilter);
  if (features.runAs) {
    const files = identityFiles(features.runAs.owner);
    inputs.push(files.passwd, files.group);
  }
  return inputs;
}

/** Argument list for bwrap, up to and including the command; `runTmp` (in the workdir) becomes /tmp. */
export function bubblewrapArguments(request: SandboxRequest, features: Features, runTmp: string): string[] {
  const { runAs } = features;
  const args = runAs
    ? ['--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try', '--die-with-parent', '--new-session',
      '--cap-drop', 'ALL', ...KEPT_FOR_SETPRIV.flatMap((capability) => ['--cap-add', capability])]
    : ['--unshare-all', '--unshare-user', '--die-with-parent', '--new-session', '--cap-drop', 'ALL'];
  if (features.disableUserNamespaces && !runAs) args.push('--disable-userns');
  let inputFd = 4;
  if (features.seccomp) args.push('--seccomp', String(inputFd++));
  args.push('--clearenv');
  for (const [key, value] of Object.entries(request.env)) args.push('--setenv', key, value);
  for (const systemPath of SYSTEM_PATHS) {
    const stats = lstatSync(systemPath, { throwIfNoEntry: false });
    if (stats?.isSymbolicLink()) args.push('--symlink', readlinkSync(systemPath), systemPath); // /lib -> usr/lib
    else if (stats?.isDirectory()) args.push('--ro-bind', systemPath, systemPath);
  }
  args.push('--perms', '0755', '--dir', '/etc'); // made readable before anything lands in it (bwrap would make it 0700 for --ro-bind-data)
  for (const etcPath of ETC_PATHS) {
    if (runAs && (etcPath === '/etc/passwd' || etcPath === '/etc/group')) continue;
    args.push('--ro-bind-try', etcPath, etcPath);
  }
  if (runAs) args.push('--perms', '0644', '--ro-bind-data', String(inputFd++), '/etc/passwd', '--perms', '0644', '--ro-bind-data', String(inputFd++), '/etc/group');
  args.push('--proc', '/proc', '--ro-bind', '/proc/sys', '/proc/sys', '--ro-bind-try', '/proc/sysrq-trigger', '/proc/sysrq-trigger');
  args.push('--dev', '/dev');
  // Shallow destinations first, so a path inside another keeps its own mode (a read-only dir inside the workdir
  // stays so) and /tmp is in place before anything is bound below it.
  const binds: Array<{ hostPath: string; destination: string; mode: '--bind' | '--ro-bind' | '--dev-bind' }> = [
    ...request.readOnlyPaths.map((hostPath) => ({ hostPath, destination: hostPath, mode: '--ro-bind' as const })),
    // A declared device (a GPU's nodes) keeps device access; everything else under /dev stays bwrap's minimal set.
    ...(request.devices ?? []).map((device) => ({ hostPath: device, destination: device, mode: '--dev-bind' as const })),
    { hostPath: request.workdir, destination: request.workdir, mode: '--bind' as const },
    { hostPath: runTmp, destination: '/tmp', mode: '--bind' as const },
  ].sort((left, right) => left.destination.split('/').length - right.destination.split('/').length);
  // The folders on the way to a mount point are made searchable first (bwrap run as root would make them 0700);
  // /dev is bwrap's own, made above.
  const madeFolders = new Set<string>(['/dev']);
  for (const { hostPath, destination, mode } of binds) {
    const ancestors: string[] = [];
    for (let folder = path.dirname(destination); folder !== '/' && !madeFolders.has(folder); folder = path.dirname(folder)) ancestors.unshift(folder);
    for (const folder of ancestors) {
      madeFolders.add(folder);
      args.push('--perms', '0755', '--dir', folder);
    }
    args.push(mode, hostPath, destination);
  }
  args.push('--remount-ro', '/', '--chdir', request.workdir, '--json-status-fd', '3', '--');
  if (runAs) {
    const { uid, gid } = runAs.owner;
    args.push(runAs.setprivPath, `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--');
  }
  args.push(...request.command);
  return args;
}

/** Makes the workdir the command's: its private /tmp inside, everything handed to its uid. Returns the /tmp folder. */
async function prepareWorkdir(workdir: string, features: Features): Promise<string> {
  const runTmp = await makeRunTmp(workdir);
  if (features.runAs) await handOverTree(workdir, features.runAs.owner);
  return runTmp;
}

const ISOLATION: Protection[] = ['network-isolation', 'filesystem-isolation', 'no-capabilities', 'pid-isolation', 'private-tmp', 'whole-tree-kill'];

/** Root labs drop to the sandbox's uid through util-linux setpriv; without it the command would stay host root. */
function runAsFor(owner: HostOwner | null): Features['runAs'] {
  if (!owner) return null;
  const setprivPath = findExecutable('setpriv');
  if (!setprivPath) throw new SandboxUnavailableError('the lab runs as root and util-linux setpriv is missing: the sandbox cannot drop to an unprivileged uid');
  return { owner, setprivPath };
}

/** Throws `SandboxUnavailableError` (with the reason) when bubblewrap is missing or does not isolate here. */
export async function createBubblewrapSandbox(enforcement: Enforcement): Promise<Sandbox> {
  const bwrapPath = findExecutable('bwrap');
  if (!bwrapPath) throw new SandboxUnavailableError('bubblewrap (bwrap) is not installed');
  const help = await promisify(execFile)(bwrapPath, ['--help']).then(({ stdout }) => stdout, () => '');
  const seccompFilter = seccompProgram();
  const owner = sandboxOwner();
  const features: Features = { disableUserNamespaces: help.includes('--disable-userns'), seccomp: seccompFilter !== null, runAs: runAsFor(owner) };
  await probe(bwrapPath, features, seccompFilter);

  const privilege: Protection[] = owner || (process.getuid?.() ?? 0) !== 0 ? ['unprivileged-user'] : [];
  const protections = [...new Set([...limitProtections(enforcement), ...ISOLATION, ...privilege, ...(seccompFilter ? ['syscall-filter' as const] : [])])];
  const notes = enforcementNotes(enforcement);
  if (!seccompFilter) notes.push(`no seccomp filter for architecture ${process.arch}`);
  if (features.runAs && !seccompFilter) notes.push('no seccomp filter: the command, outside any user namespace, can make one of its own');
  return {
    kind: 'bubblewrap',
    protections,
    missing: missingFrom(protections),
    notes,
    async run(request, signal, watch) {
      const valid = validateRequest(request);
      const runTmp = await prepareWorkdir(valid.workdir, features);
      const launch = {
        argv: [bwrapPath, ...bubblewrapArguments(valid, features, runTmp)],
        env: {},
        reportsChildPid: true,
        inputs: launchInputs(features, seccompFilter),
        decodeExit: decodeShellStatus,
      };
      try {
        return await superviseRun(launch, valid, enforcement, signal, watch);
      } finally {
        await removeTree(runTmp);
      }
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
if [ "$count" = 4294967295 ]; then
  uid=$(id -u)
  [ "$uid" != 0 ] || { echo 'host root, with no user namespace'; exit 1; }
  [ -z "$EXPECTED_UID" ] || [ "$uid" = "$EXPECTED_UID" ] || { echo "runs as uid $uid, not $EXPECTED_UID"; exit 1; }
fi
if (exec 4>>/proc/sys/vm/swappiness) 2>/dev/null; then echo '/proc/sys is writable'; exit 1; fi
if (exec 4>>/successor-probe) 2>/dev/null; then echo '/ is writable'; exit 1; fi
interfaces=0; while read -r line; do interfaces=$((interfaces + 1)); done < /proc/net/dev
[ "$interfaces" = 3 ] || { echo "network interfaces besides loopback: $((interfaces - 2))"; exit 1; }
echo isolated`;

async function probe(bwrapPath: string, features: Features, seccompFilter: Buffer | null): Promise<void> {
  const workdir = await mkdtemp(path.join(tmpdir(), 'successor-sandbox-probe-'));
  try {
    const request = validateRequest({
      command: ['/bin/sh', '-c', PROBE_SCRIPT], workdir, readOnlyPaths: [],
      env: features.runAs ? { EXPECTED_UID: String(features.runAs.owner.uid) } : {},
      limits: { wallSeconds: 10, memoryBytes: 1 << 28, processes: 64, fileSizeBytes: 1 << 20, diskBytes: 1 << 20, outputBytes: 1 << 16 },
    });
    const runTmp = await prepareWorkdir(workdir, features);
    const args = bubblewrapArguments(request, features, runTmp).filter((arg, index, all) => arg !== '--json-status-fd' && all[index - 1] !== '--json-status-fd');
    const inputs = launchInputs(features, seccompFilter);
    const child = spawn(bwrapPath, args, { env: {}, stdio: ['ignore', 'pipe', 'pipe', 'ignore', ...inputs.map(() => 'pipe' as const)], timeout: 10_000 });
    inputs.forEach((bytes, index) => (child.stdio[4 + index] as Writable).on('error', () => undefined).end(bytes));
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
    await new Promise<void>((resolve) => { child.once('close', () => resolve()); child.once('error', (error) => { output += error.message; resolve(); }); });
    if (output.trim() !== 'isolated') throw new SandboxUnavailableError(`bubblewrap does not isolate here: ${output.trim().slice(0, 500)}`);
  } finally {
    await removeTree(workdir);
  }
}
