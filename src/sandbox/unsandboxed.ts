/**
 * The unsandboxed fallback: the command runs as the lab's own user with the lab's view of the machine. It gets
 * only the environment it is given and every limit the parent can enforce (clock, tree kill through a cgroup when
 * there is one, memory, processes, file size, disk, output), but no isolation: it can read the host's files,
 * reach the network, see and signal host processes and read their environments under /proc. `missing` says so; the lab
 * must say it loudly. Use it only for trusted code or on machines without bubblewrap.
 */
import { enforcementNotes, limitProtections, missingFrom, type Enforcement } from './enforcement.js';
import { superviseRun } from './supervise.js';
import type { Sandbox } from './types.js';
import { validateRequest } from './validate-request.js';

export function createUnsandboxedSandbox(enforcement: Enforcement, notes: string[] = []): Sandbox {
  const protections = limitProtections(enforcement);
  return {
    kind: 'unsandboxed',
    protections,
    missing: missingFrom(protections),
    notes: [...notes, ...enforcementNotes(enforcement)],
    async run(request, signal) {
      const valid = validateRequest(request);
      const launch = {
        argv: valid.command,
        env: valid.env,
        reportsChildPid: false,
        seccompFilter: null,
        decodeExit: (code: number | null, signal: NodeJS.Signals | null) => ({ exitCode: code, signal }),
      };
      return superviseRun(launch, valid, enforcement, signal);
    },
  };
}
