/**
 * The unsandboxed fallback: the command runs as the lab's own user with the lab's view of the machine. It gets
 * only the environment it is given and every limit the parent can enforce (clock, tree kill through a cgroup when
 * there is one, memory, processes, file size, disk, output), but no isolation: it can read the host's files,
 * reach the network, see and signal host processes and read their environments under /proc. `missing` says so; the lab
 * must say it loudly. Use it only for trusted code or on machines without bubblewrap. Its TMPDIR is a folder in the
 * workdir (run-tmp.ts), so what it keeps there is counted; /tmp itself is the host's.
 */
import { enforcementNotes, limitProtections, missingFrom, type Enforcement } from './enforcement.js';
import { removeTree } from './remove-tree.js';
import { makeRunTmp } from './run-tmp.js';
import { superviseRun } from './supervise.js';
import type { Sandbox } from './types.js';
import { validateRequest } from './validate-request.js';

export function createUnsandboxedSandbox(enforcement: Enforcement, notes: string[] = []): Sandbox {
  // A lab that is not root runs the command as its own, unprivileged, user; a root lab runs it as root.
  const protections = [...limitProtections(enforcement), ...((process.getuid?.() ?? 0) !== 0 ? ['unprivileged-user' as const] : [])];
  return {
    kind: 'unsandboxed',
    protections,
    missing: missingFrom(protections),
    notes: [...notes, ...enforcementNotes(enforcement)],
    async run(request, signal, watch) {
      const valid = validateRequest(request);
      const runTmp = await makeRunTmp(valid.workdir);
      const launch = {
        argv: valid.command,
        env: { ...valid.env, TMPDIR: runTmp },
        reportsChildPid: false,
        inputs: [],
        decodeExit: (code: number | null, signal: NodeJS.Signals | null) => ({ exitCode: code, signal }),
      };
      try {
        return await superviseRun(launch, valid, enforcement, signal, watch);
      } finally {
        await removeTree(runTmp);
      }
    },
  };
}
