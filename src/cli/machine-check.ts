/**
 * What `successor doctor` looks at: the pieces of this machine the lab uses, each found or not, and what a missing
 * or limited one costs. Bubblewrap is checked the way the lab checks it before every run (src/sandbox: a probe that
 * the sandbox really isolates here), cgroups as the sandbox detects them, PyTorch by importing it and looking at the
 * BLAS library it loaded, contention by sampling /proc/stat. Read-only for the lab: it never creates a journal or
 * touches the state dir (the sandbox's probe uses a temporary folder and its own cgroup folder, as every run does).
 * Is not: the command's output (doctor.ts).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { loadNativeLibrary, nativeSettings } from '../gpt/native/library.js';
import { openJournal } from '../journal/journal.js';
import { journalPath, stateDir } from '../journal/paths.js';
import { createSandbox } from '../sandbox/create-sandbox.js';
import { detectEnforcement, findExecutable, type Enforcement } from '../sandbox/enforcement.js';
import { PROTECTION_DESCRIPTIONS, SandboxUnavailableError } from '../sandbox/types.js';
import { readEnvFile } from './env-file.js';

export type CheckStatus = 'ok' | 'limited' | 'missing' | 'info';

export interface Check {
  name: string;
  status: CheckStatus;
  /** What is here, in one line. */
  found: string;
  /** What the missing or limited piece costs (absent when nothing is lost). */
  cost?: string;
  details?: Record<string, unknown>;
}

const run = promisify(execFile);

/** A program's first output line, or null when it does not run. */
async function versionOf(path: string, args: string[] = ['--version']): Promise<string | null> {
  try {
    const { stdout, stderr } = await run(path, args, { timeout: 10_000 });
    return (stdout || stderr).trim().split('\n')[0] ?? '';
  } catch {
    return null;
  }
}

function checkNode(): Check {
  const [major, minor] = process.versions.node.split('.').map(Number);
  const ok = major > 20 || (major === 20 && minor >= 11);
  return ok
    ? { name: 'node', status: 'ok', found: `v${process.versions.node}` }
    : { name: 'node', status: 'missing', found: `v${process.versions.node}`, cost: 'successor needs Node 20.11 or later: commands may fail in ways this check cannot foresee' };
}

async function checkBubblewrap(): Promise<Check> {
  const path = findExecutable('bwrap');
  const fallback = '`--sandbox auto` runs experiments unsandboxed (a researcher\'s code can read your files, reach the network and see your processes), `--sandbox required` refuses to run, and the sandbox and red-team tests fail under CI=true';
  if (!path) return { name: 'bubblewrap', status: 'missing', found: 'bwrap not found (apt-get install bubblewrap)', cost: fallback };
  const version = await versionOf(path);
  try {
    const sandbox = await createSandbox('required');
    const missing = sandbox.missing.map((protection) => PROTECTION_DESCRIPTIONS[protection]);
    return {
      name: 'bubblewrap', status: missing.length ? 'limited' : 'ok',
      found: `${version ?? path}: isolates here (${sandbox.protections.length} protections${sandbox.protections.includes('syscall-filter') ? ', seccomp filter' : ''})`,
      ...(missing.length ? { cost: `not enforced: ${missing.join('; ')}` } : {}),
      details: { path, version, protections: sandbox.protections, missing: sandbox.missing, notes: sandbox.notes },
    };
  } catch (error) {
    const reason = error instanceof SandboxUnavailableError ? error.message : `the probe failed: ${(error as Error).message}`;
    return { name: 'bubblewrap', status: 'missing', found: `${version ?? path}, but ${reason}`, cost: fallback, details: { path, version, reason } };
  }
}

/** cgroup v1, v2 or both (hybrid), and which controllers each mounts: read from /proc/self/mountinfo. */
export function cgroupLayout(mountinfo: string, v2Controllers: (mount: string) => string[]): { version: 'v1' | 'v2' | 'hybrid' | 'none'; v1: string[]; v2: string[] } {
  const v1 = new Set<string>();
  let v2Mount: string | null = null;
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const [fsType, , superOptions = ''] = right.split(' ');
    if (fsType === 'cgroup2') v2Mount ??= left.split(' ')[4];
    if (fsType === 'cgroup') {
      for (const option of superOptions.split(',')) if (!['rw', 'ro'].includes(option) && !option.startsWith('name=') && !option.includes('=')) v1.add(option);
    }
  }
  const v2 = v2Mount ? v2Controllers(v2Mount) : [];
  const version = v1.size > 0 && v2Mount ? 'hybrid' : v1.size > 0 ? 'v1' : v2Mount ? 'v2' : 'none';
  return { version, v1: [...v1].sort(), v2 };
}

function checkCgroups(enforcement: Enforcement): Check[] {
  const mountinfo = existsSync('/proc/self/mountinfo') ? readFileSync('/proc/self/mountinfo', 'utf8') : '';
  const layout = cgroupLayout(mountinfo, (mount) => {
    try {
      return readFileSync(`${mount}/cgroup.controllers`, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      return [];
    }
  });
  const usable = enforcement.cgroups;
  const uses = usable ? (['memory', 'pids', 'cpu'] as const).filter((controller) => usable[controller]) : [];
  const costs: string[] = [];
  if (!usable?.memory) costs.push('memory is limited by polling RSS (a fast allocation can overshoot before the kill)');
  if (!usable?.pids) costs.push('a fork bomb is not stopped');
  if (!usable?.cpu) costs.push('runs\' CPU time is not measured, so a --max-cpu budget counts nothing');
  if (!usable) costs.push('a run\'s detached processes are killed only through the sandbox\'s pid namespace');
  const mounted = [layout.v1.length ? `v1: ${layout.v1.join(', ')}` : null, layout.version === 'v2' || layout.version === 'hybrid' ? `v2: ${layout.v2.join(', ') || 'no controllers'}` : null].filter(Boolean).join('; ');
  const cgroups: Check = {
    name: 'cgroups', status: costs.length === 0 ? 'ok' : uses.length ? 'limited' : 'missing',
    found: `${layout.version}${mounted ? ` (${mounted})` : ''}; the sandbox uses ${uses.length ? uses.join(', ') : 'none (not writable here: run as root, or delegate a cgroup)'}`,
    ...(costs.length ? { cost: costs.join('; ') } : {}),
    details: { ...layout, usable: { memory: usable?.memory ?? false, pids: usable?.pids ?? false, cpu: usable?.cpu ?? false } },
  };
  const prlimit: Check = enforcement.prlimitPath
    ? { name: 'prlimit', status: 'ok', found: enforcement.prlimitPath }
    : { name: 'prlimit', status: 'missing', found: 'not found (util-linux)', cost: 'a single file\'s size is not limited inside a run (the disk limit is still polled)' };
  return [cgroups, prlimit];
}

async function checkRedis(): Promise<Check> {
  const path = findExecutable('redis-server');
  const version = path ? await versionOf(path) : null;
  return path && version
    ? { name: 'redis', status: 'ok', found: version.replace(/\s+sha=.*$/, '') }
    : { name: 'redis', status: 'missing', found: 'redis-server not found (apt-get install redis-server)', cost: 'only for many machines: `--executor redis://` and `successor worker` need a Redis server somewhere; the queue tests fail under CI=true' };
}

function checkChromium(): Check {
  const path = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((candidate) => existsSync(candidate));
  return path
    ? { name: 'chromium', status: 'ok', found: path }
    : { name: 'chromium', status: 'missing', found: 'not found (apt-get install chromium)', cost: 'only the dashboard\'s browser test needs it (it fails under CI=true); the dashboard itself works in any browser' };
}

/** Imports torch in Debian's Python and reads which BLAS library the process actually mapped after a matmul. */
const TORCH_PROBE = `
import json, re, torch
(torch.ones(64, 64) @ torch.ones(64, 64)).sum().item()
libraries = sorted({line.split()[-1] for line in open('/proc/self/maps') if re.search(r'blas|mkl|blis|lapack', line.split()[-1] if line.split() else '')})
config = torch.__config__.show()
info = re.search(r'BLAS_INFO=([^,\\s]+)', config)
print(json.dumps({'version': torch.__version__, 'blasInfo': info.group(1) if info else None, 'libraries': libraries, 'threads': torch.get_num_threads()}))
`;

async function checkPython(): Promise<Check[]> {
  const python = '/usr/bin/python3';
  const benchCost = '`npm run bench:train` compares the trainer with PyTorch only when /usr/bin/python3 imports torch (apt-get install python3-torch); nothing else needs Python';
  if (!existsSync(python)) {
    return [{ name: 'python', status: 'missing', found: `${python} not found`, cost: benchCost }];
  }
  const version = await versionOf(python);
  const checks: Check[] = [{ name: 'python', status: 'ok', found: `${version ?? python} (${python})` }];
  try {
    const { stdout } = await run(python, ['-c', TORCH_PROBE], { timeout: 60_000 });
    const torch = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { version: string; blasInfo: string | null; libraries: string[]; threads: number };
    const library = torch.libraries.map((path) => path.split('/').at(-1)).join(', ') || 'none mapped';
    const reference = torch.libraries.length > 0 && torch.libraries.every((path) => /\/libblas\.so|\/blas\//.test(path) && !/openblas|mkl|blis/.test(path));
    checks.push({
      name: 'pytorch', status: reference ? 'limited' : 'ok',
      found: `torch ${torch.version}, BLAS ${torch.blasInfo ?? '?'} (loaded: ${library}), ${torch.threads} thread${torch.threads === 1 ? "" : "s"}`,
      ...(reference ? { cost: 'PyTorch runs on the reference BLAS: bench:train\'s comparison would flatter our kernels (apt-get install libopenblas0-pthread)' } : {}),
      details: torch,
    });
  } catch (error) {
    checks.push({ name: 'pytorch', status: 'missing', found: `${python} cannot import torch (${(error as Error).message.split('\n')[0]})`, cost: benchCost });
  }
  return checks;
}

function checkCpu(): Check {
  const info = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(info)?.[1] ?? '').split(/\s+/));
  const vector = ['avx512f', 'avx2', 'fma'].filter((flag) => flags.has(flag));
  const cores = availableParallelism();
  return {
    name: 'cores', status: 'info',
    found: `${cores} (${cpus()[0]?.model.trim() ?? 'unknown CPU'}${vector.length ? `; ${vector.join(', ')}` : ''})`,
    ...(cores < 2 ? { cost: 'one core: experiments, the lab and anything else share it; timings are noisier' } : {}),
    details: { cores, model: cpus()[0]?.model.trim() ?? null, vector },
  };
}

/**
 * The trainer's kernels: `kernels=auto` (the default) trains on native C kernels compiled for this CPU, so this
 * loads them as train does (compiling once per machine into the user's cache, never the lab's state).
 */
function checkKernels(): Check {
  const settings = nativeSettings();
  const native = loadNativeLibrary(settings);
  if (native.ok) {
    const { library } = native;
    return {
      name: 'kernels', status: 'ok',
      found: `native C kernels ${library.compiled ? 'compiled now' : 'cached'} with ${library.compiler} (${library.path})`,
      details: { native: true, compiler: library.compiler, path: library.path, compiled: library.compiled },
    };
  }
  return {
    name: 'kernels', status: 'limited', found: `no native kernels: ${native.reason}`,
    cost: '`successor train` and the built-in tasks\' runs use the WebAssembly SIMD kernels, a few times slower (install a C compiler, e.g. apt-get install gcc, and Node\'s headers; docs/native-kernels.md)',
    details: { native: false, reason: native.reason, compiler: settings.compiler },
  };
}

/** CPU time counters of all cores (/proc/stat's first line): total and the steal and idle parts. */
function cpuCounters(): { total: number; idle: number; steal: number } | null {
  if (!existsSync('/proc/stat')) return null;
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
  return { total: user + nice + system + idle + iowait + irq + softirq + (steal ?? 0), idle: idle + iowait, steal: steal ?? 0 };
}

async function checkContention(sampleMs = 1000): Promise<Check> {
  const before = cpuCounters();
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const after = cpuCounters();
  const cores = availableParallelism();
  const [load1, load5] = loadavg();
  const span = before && after ? after.total - before.total : 0;
  const busy = span > 0 ? (span - (after!.idle - before!.idle)) / span : null;
  const steal = span > 0 ? (after!.steal - before!.steal) / span : null;
  const percent = (value: number | null) => (value === null ? '?' : `${Math.round(value * 100)}%`);
  const contended = load1 > cores * 0.5 || (busy ?? 0) > 0.3 || (steal ?? 0) > 0.05;
  return {
    name: 'contention', status: contended ? 'limited' : 'ok',
    found: `load ${load1.toFixed(2)} (5 min ${load5.toFixed(2)}) on ${cores} cores; CPUs ${percent(busy)} busy and ${percent(steal)} stolen by the hypervisor over ${sampleMs / 1000} s`,
    ...(contended ? { cost: 'other work shares the CPUs: timings are noisier and slower, so the gate accepts fewer real gains and more candidates hit their caps; measure results you will publish on a quiet machine' } : {}),
    details: { load1, load5, busy, steal, sampleSeconds: sampleMs / 1000 },
  };
}

const KEY_VARIABLES = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GOOGLE_GENERATIVE_AI_API_KEY', 'GEMINI_API_KEY', 'OPENROUTER_API_KEY'];

function checkModelKeys(): Check {
  const fromFile = readEnvFile();
  const set = KEY_VARIABLES.filter((name) => process.env[name]);
  const described = set.map((name) => (name in fromFile ? `${name} (from .env)` : name));
  return set.length
    ? { name: 'model keys', status: 'ok', found: described.join(', '), details: { set } }
    : { name: 'model keys', status: 'info', found: 'none set (in the environment or ./.env)', cost: '`--researcher llm` needs a provider key or a local server (ollama:, llamacpp:, lmstudio:, vllm:); the default search researcher needs none', details: { set } };
}

function checkLabState(): Check {
  const path = journalPath();
  const home = stateDir();
  let nearest = home;
  while (!existsSync(nearest) && dirname(nearest) !== nearest) nearest = dirname(nearest);
  let free = '';
  try {
    const stats = statfsSync(nearest);
    free = `, ${Math.round((stats.bavail * stats.bsize) / 2 ** 30)} GiB free`;
  } catch { /* no statfs here */ }
  if (!existsSync(path)) return { name: 'lab state', status: 'info', found: `${home}: no journal yet (the first \`successor research\` creates it)${free}` };
  try {
    const journal = openJournal(path, { readonly: true });
    try {
      return { name: 'lab state', status: 'ok', found: `${path}: ${journal.listRuns().length} runs${free}` };
    } finally {
      journal.close();
    }
  } catch (error) {
    return { name: 'lab state', status: 'missing', found: (error as Error).message, cost: 'every command that reads the lab refuses this file: point SUCCESSOR_HOME elsewhere or move the file away' };
  }
}

/** Every check, the slow ones (sandbox probe, torch import, CPU sample) at once. */
export async function checkMachine(options: { sampleMs?: number } = {}): Promise<Check[]> {
  const enforcement = await detectEnforcement();
  const [bubblewrap, redis, python, contention] = await Promise.all([checkBubblewrap(), checkRedis(), checkPython(), checkContention(options.sampleMs)]);
  return [checkNode(), bubblewrap, ...checkCgroups(enforcement), checkCpu(), checkKernels(), contention, redis, checkChromium(), ...python, checkModelKeys(), checkLabState()];
}
