/**
 * The process tree of a run, found from /proc: the fallback for machines without cgroups.
 *
 * A run's tree is every descendant of its root process (by parent pid) plus every member of its process group.
 * A descendant that both double-forks (reparenting to init) and leaves the process group (setsid) escapes this
 * view: only a cgroup or a pid namespace catches it, which is why `whole-tree-kill` needs one of those.
 * Reads are synchronous on purpose: /proc is in memory, and a scan of a few hundred tiny files through the
 * libuv thread pool took 300-1000 ms on a loaded 2-core machine against ~2 ms synchronously.
 */
import { readdirSync, readFileSync } from 'node:fs';

interface ProcessEntry { pid: number; parentPid: number; processGroup: number }

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null; // the process exited between readdir and read
  }
}

function listProcesses(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readOrNull(`/proc/${name}/stat`);
    if (!stat) continue;
    // "pid (comm) state ppid pgrp ..." — comm may contain spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    entries.push({ pid: Number(name), parentPid: Number(fields[1]), processGroup: Number(fields[2]) });
  }
  return entries;
}

/** Pids of the tree rooted at `rootPid` (itself included while alive) and of process group `processGroup`. */
export function treePids(rootPid: number, processGroup: number): number[] {
  const processes = listProcesses();
  const members = new Set<number>();
  for (const entry of processes) if (entry.pid === rootPid || entry.processGroup === processGroup) members.add(entry.pid);
  // Grow by parent pid until nothing new joins (children can be listed before their parents).
  for (let grew = true; grew;) {
    grew = false;
    for (const entry of processes) {
      if (!members.has(entry.pid) && members.has(entry.parentPid)) {
        members.add(entry.pid);
        grew = true;
      }
    }
  }
  return [...members];
}

/** Summed resident memory of the given pids (VmRSS; threads share their process's memory, so pids suffice). */
export function residentBytes(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    const status = readOrNull(`/proc/${pid}/status`) ?? '';
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    if (match) total += Number(match[1]) * 1024;
  }
  return total;
}

export function killPids(pids: number[]): void {
  for (const pid of pids) {
    if (pid <= 1 || pid === process.pid) continue; // never init, never the lab itself
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}
