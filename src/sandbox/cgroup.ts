/**
 * Per-run cgroups: a fresh memory + pids (+ cpu accounting) group for each sandboxed run, on cgroup v1 or v2.
 *
 * Which version a controller lives on is detected from /proc/self/mountinfo, never assumed (hybrid machines mount
 * memory and pids on v1 while v2 has no controllers). Groups live under `<mount>/successor-sandbox/`; a run's group
 * is killed and removed after the run, and groups left by a dead lab process are pruned at detection.
 * This file is not the runner: it does not spawn anything; the runner writes its wrapper's pid into `procsFiles`.
 */
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';

type Controller = 'memory' | 'pids' | 'cpu';
interface Placement { version: 1 | 2; base: string }

export interface CgroupStats {
  oomKills: number;
  pidsLimitHits: number;
  peakMemoryBytes: number | null;
  cpuSeconds: number | null;
}

export interface RunCgroup {
  /** `cgroup.procs` files the runner must write its pid into before exec (one per hierarchy). */
  readonly procsFiles: string[];
  pids(): Promise<number[]>;
  stats(): Promise<CgroupStats>;
  /** SIGKILL every member until the group is empty (bounded: ~2 s). */
  killAll(): Promise<void>;
  remove(): Promise<void>;
}

export interface CgroupSupport {
  readonly memory: boolean;
  readonly pids: boolean;
  readonly cpu: boolean;
  create(limits: { memoryBytes: number; processes: number }): Promise<RunCgroup>;
}

const BASE_NAME = 'successor-sandbox';
let runCounter = 0;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const readText = (file: string) => readFile(file, 'utf8').catch(() => null);
const tryWrite = (file: string, value: string) => writeFile(file, value).then(() => true, () => false);

/** Finds usable cgroup controllers; null when none can be created here (not root, read-only cgroupfs, ...). */
export async function detectCgroups(): Promise<CgroupSupport | null> {
  const mountinfo = (await readText('/proc/self/mountinfo')) ?? '';
  const v1: Partial<Record<Controller, string>> = {};
  let v2Mount: string | null = null;
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mountPoint = left.split(' ')[4];
    const [fsType, , superOptions = ''] = right.split(' ');
    if (fsType === 'cgroup2') v2Mount ??= mountPoint;
    if (fsType !== 'cgroup') continue;
    const options = superOptions.split(',');
    if (options.includes('memory')) v1.memory = mountPoint;
    if (options.includes('pids')) v1.pids = mountPoint;
    if (options.includes('cpuacct')) v1.cpu = mountPoint;
  }
  const v2Controllers = v2Mount ? ((await readText(path.join(v2Mount, 'cgroup.controllers'))) ?? '').split(/\s+/) : [];

  const placements: Partial<Record<Controller, Placement>> = {};
  for (const controller of ['memory', 'pids', 'cpu'] as const) {
    const v1Mount = v1[controller];
    if (v1Mount && (await prepareBase(v1Mount, 1, []))) {
      placements[controller] = { version: 1, base: path.join(v1Mount, BASE_NAME) };
    } else if (v2Mount && (controller === 'cpu' || v2Controllers.includes(controller))) {
      const enable = controller === 'cpu' ? [] : [controller];
      if (await prepareBase(v2Mount, 2, enable)) placements[controller] = { version: 2, base: path.join(v2Mount, BASE_NAME) };
    }
  }
  if (!placements.memory && !placements.pids && !placements.cpu) return null;
  return {
    memory: placements.memory !== undefined,
    pids: placements.pids !== undefined,
    cpu: placements.cpu !== undefined,
    create: (limits) => createRunCgroup(placements, limits),
  };
}

/** Makes `<mount>/successor-sandbox` (v2: with the controllers enabled for its children) and prunes stale groups. */
async function prepareBase(mount: string, version: 1 | 2, enable: string[]): Promise<boolean> {
  const base = path.join(mount, BASE_NAME);
  try {
    await mkdir(base, { recursive: true });
    if (version === 2) {
      for (const controller of enable) {
        const line = `+${controller}`;
        if (!(await tryWrite(path.join(mount, 'cgroup.subtree_control'), line))) return false;
        if (!(await tryWrite(path.join(base, 'cgroup.subtree_control'), line))) return false;
      }
    }
    await pruneStale(base);
    const probe = path.join(base, `probe-${process.pid}-${runCounter++}`);
    await mkdir(probe);
    await rmdir(probe);
    return true;
  } catch {
    return false;
  }
}

/** Removes groups whose lab process (the pid in the name) is gone: a lab that crashed mid-run leaves them. */
async function pruneStale(base: string): Promise<void> {
  for (const name of await readdir(base).catch(() => [] as string[])) {
    const ownerPid = Number(/^run-(\d+)-/.exec(name)?.[1]);
    if (!ownerPid || existsSync(`/proc/${ownerPid}`)) continue;
    const dir = path.join(base, name);
    await killMembers([dir]);
    await rmdir(dir).catch(() => undefined);
  }
}

async function createRunCgroup(
  placements: Partial<Record<Controller, Placement>>,
  limits: { memoryBytes: number; processes: number },
): Promise<RunCgroup> {
  const name = `run-${process.pid}-${runCounter++}-${Math.random().toString(36).slice(2, 8)}`;
  const dirOf = (controller: Controller) => {
    const placement = placements[controller];
    return placement ? path.join(placement.base, name) : null;
  };
  const dirs = [...new Set((['memory', 'pids', 'cpu'] as const).map(dirOf).filter((dir): dir is string => dir !== null))];
  for (const dir of dirs) await mkdir(dir);

  const memoryDir = dirOf('memory');
  if (memoryDir && placements.memory?.version === 1) {
    await writeFile(path.join(memoryDir, 'memory.limit_in_bytes'), String(limits.memoryBytes));
    await tryWrite(path.join(memoryDir, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes)); // only with swap accounting
  } else if (memoryDir) {
    await writeFile(path.join(memoryDir, 'memory.max'), String(limits.memoryBytes));
    await tryWrite(path.join(memoryDir, 'memory.swap.max'), '0');
    await tryWrite(path.join(memoryDir, 'memory.oom.group'), '1'); // an OOM kill takes the whole run, not one helper
  }
  const pidsDir = dirOf('pids');
  if (pidsDir) await writeFile(path.join(pidsDir, 'pids.max'), String(limits.processes));

  return {
    procsFiles: dirs.map((dir) => path.join(dir, 'cgroup.procs')),
    pids: () => memberPids(dirs),
    stats: () => readStats(placements, dirOf),
    killAll: () => killMembers(dirs),
    async remove() {
      await killMembers(dirs);
      for (const dir of dirs) {
        // rmdir is refused (EBUSY) until the kernel has finished reaping the last member.
        for (let attempt = 0; attempt < 100; attempt++) {
          if (await rmdir(dir).then(() => true, (error) => error.code === 'ENOENT')) break;
          await sleep(20);
        }
      }
    },
  };
}

async function memberPids(dirs: string[]): Promise<number[]> {
  const pids = new Set<number>();
  for (const dir of dirs) {
    const text = (await readText(path.join(dir, 'cgroup.procs'))) ?? '';
    for (const line of text.split('\n')) if (line) pids.add(Number(line));
  }
  return [...pids];
}

async function killMembers(dirs: string[]): Promise<void> {
  for (const dir of dirs) await tryWrite(path.join(dir, 'cgroup.kill'), '1'); // v2, Linux 5.14+: atomic
  for (let round = 0; round < 200; round++) {
    const pids = await memberPids(dirs);
    if (pids.length === 0) return;
    for (const pid of pids) {
      if (pid <= 1 || pid === process.pid) continue; // a group holding init or the lab is not ours to empty
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    await sleep(10);
  }
}

/** `key value` lines (memory.events, pids.events, cpu.stat, memory.oom_control). */
function field(text: string | null, key: string): number | null {
  const match = text ? new RegExp(`^${key} (\\d+)$`, 'm').exec(text) : null;
  return match ? Number(match[1]) : null;
}

async function readStats(
  placements: Partial<Record<Controller, Placement>>,
  dirOf: (controller: Controller) => string | null,
): Promise<CgroupStats> {
  const stats: CgroupStats = { oomKills: 0, pidsLimitHits: 0, peakMemoryBytes: null, cpuSeconds: null };
  const memoryDir = dirOf('memory');
  if (memoryDir && placements.memory?.version === 1) {
    const oomControl = await readText(path.join(memoryDir, 'memory.oom_control'));
    // Not memory.failcnt: it also counts page-cache reclaims at the limit, which are harmless (Linux 4.13+ has oom_kill).
    stats.oomKills = field(oomControl, 'oom_kill') ?? 0;
    const peak = await readText(path.join(memoryDir, 'memory.max_usage_in_bytes'));
    stats.peakMemoryBytes = peak ? Number(peak) : null;
  } else if (memoryDir) {
    stats.oomKills = field(await readText(path.join(memoryDir, 'memory.events')), 'oom_kill') ?? 0;
    const peak = await readText(path.join(memoryDir, 'memory.peak')); // Linux 5.19+
    stats.peakMemoryBytes = peak ? Number(peak) : null;
  }
  const pidsDir = dirOf('pids');
  if (pidsDir) stats.pidsLimitHits = field(await readText(path.join(pidsDir, 'pids.events')), 'max') ?? 0;
  const cpuDir = dirOf('cpu');
  if (cpuDir && placements.cpu?.version === 1) {
    const usage = await readText(path.join(cpuDir, 'cpuacct.usage'));
    stats.cpuSeconds = usage ? Number(usage) / 1e9 : null;
  } else if (cpuDir) {
    const usageMicroseconds = field(await readText(path.join(cpuDir, 'cpu.stat')), 'usage_usec');
    stats.cpuSeconds = usageMicroseconds === null ? null : usageMicroseconds / 1e6;
  }
  return stats;
}
