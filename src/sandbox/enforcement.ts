/**
 * What this machine lets the parent enforce whatever the isolation: cgroups (memory, pids, cpu accounting) and
 * RLIMIT_FSIZE through util-linux `prlimit`. Detected once per `createSandbox`, then shared by every run.
 * Also the bookkeeping of which `Protection`s that adds up to, so both implementations report them the same way.
 */
import { accessSync, constants } from 'node:fs';
import { detectCgroups, type CgroupSupport } from './cgroup.js';
import { ALL_PROTECTIONS, type Protection } from './types.js';

export interface Enforcement {
  cgroups: CgroupSupport | null;
  /** util-linux `prlimit`, for RLIMIT_FSIZE; null where it is missing. */
  prlimitPath: string | null;
}

export async function detectEnforcement(): Promise<Enforcement> {
  return { cgroups: await detectCgroups(), prlimitPath: findExecutable('prlimit') };
}

/** Looks in fixed system directories, not the caller's PATH: what we exec as root must not be planted. */
export function findExecutable(name: string): string | null {
  for (const directory of ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin']) {
    const candidate = `${directory}/${name}`;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch { /* next */ }
  }
  return null;
}

/** The limits every implementation enforces through `superviseRun`, given this machine. */
export function limitProtections(enforcement: Enforcement): Protection[] {
  const protections: Protection[] = ['clean-environment', 'wall-clock-limit', 'disk-polling', 'file-count-limit', 'output-cap'];
  protections.push(enforcement.cgroups?.memory ? 'memory-cgroup' : 'memory-polling');
  if (enforcement.cgroups?.pids) protections.push('process-limit');
  if (enforcement.prlimitPath) protections.push('file-size-limit');
  if (enforcement.cgroups) protections.push('whole-tree-kill');
  if (enforcement.cgroups?.cpu) protections.push('cpu-limit');
  return protections;
}

/** Every protection not enforced; RSS polling is not "missing" where the memory cgroup does the job. */
export function missingFrom(protections: readonly Protection[]): Protection[] {
  return ALL_PROTECTIONS.filter((protection) =>
    !protections.includes(protection) && !(protection === 'memory-polling' && protections.includes('memory-cgroup')));
}

export function enforcementNotes(enforcement: Enforcement): string[] {
  const notes: string[] = [];
  if (!enforcement.cgroups) notes.push('no writable cgroup: memory is limited by polling RSS, processes are not limited');
  else {
    if (!enforcement.cgroups.memory) notes.push('no memory cgroup: memory is limited by polling RSS');
    if (!enforcement.cgroups.pids) notes.push('no pids cgroup: a fork bomb is not stopped');
    if (!enforcement.cgroups.cpu) notes.push('no cpu accounting cgroup: CPU time is neither measured nor limited');
  }
  if (!enforcement.prlimitPath) notes.push('no prlimit (util-linux): single-file size is not limited');
  return notes;
}
