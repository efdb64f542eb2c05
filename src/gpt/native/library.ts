/**
 * Finds, compiles, caches and loads the native kernel library (the .c files beside this one) as a Node-API addon.
 *
 * On first use on a machine the system's C compiler builds one shared library with the CPU's own instruction set
 * (-march=native); it is cached under a key that hashes the C sources, the compiler's version, the flags, Node's
 * API headers and the CPU (model and feature flags), so a change to any of them builds afresh and a cache shared by
 * machines never hands one CPU another's code. The file is written under a temporary name and renamed into place:
 * two processes compiling at once each load a whole library, never a half-written one. A cached file is loaded
 * only if this user owns it and no one else may write it.
 *
 * Everything that can go wrong here (no compiler, no Node headers, a failed compile, a CPU lacking what -march
 * asks for, a library that will not load) is a value with one line of reason, never an exception: the caller
 * falls back to another backend and says why.
 *
 * Settings (environment): SUCCESSOR_CC (the compiler; empty disables native kernels; unset: CC, else cc, gcc or
 * clang on PATH), SUCCESSOR_NATIVE_CACHE (the cache directory), SUCCESSOR_NATIVE_MARCH (default `native`),
 * SUCCESSOR_NATIVE_VECTOR_BYTES (compile the kernels for another vector width: tests use it to run the AVX-512 tile
 * shapes on an AVX2 machine).
 * Not here: the kernels' arithmetic (*.c) or the Backend built on them (../backend-native.ts).
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, homedir, tmpdir, userInfo } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeKernels } from './kernels.js';

export interface NativeLibrary {
  kernels: NativeKernels;
  path: string;
  /** e.g. "gcc (Debian 12.2.0-14) 12.2.0" */
  compiler: string;
  flags: string[];
  /** Whether this process compiled it (false: loaded from the cache). */
  compiled: boolean;
}

export type NativeLoad = { ok: true; library: NativeLibrary } | { ok: false; reason: string };

export interface NativeSettings {
  compiler: string | null; // a command name or path; null: native kernels disabled
  cacheDirectory: string;
  march: string;
  vectorBytes: number | null; // null: the widest the CPU has
}

const SOURCE_DIRECTORY = dirname(fileURLToPath(import.meta.url));
const COMPILE_TIMEOUT_MS = 180_000;
/** The kernels the library must export (a stale or foreign file lacking one is not loaded). */
const REQUIRED_EXPORTS = ['createPool', 'allocate', 'matmulForward', 'matmulBackward', 'attentionForward', 'adamwUpdate'] as const;

/** The settings from the environment, with defaults. */
export function nativeSettings(environment: NodeJS.ProcessEnv = process.env): NativeSettings {
  // SUCCESSOR_CC wins (empty: none); else the conventional CC when set; else the first of cc, gcc, clang on PATH
  const compiler = environment.SUCCESSOR_CC !== undefined ? environment.SUCCESSOR_CC.trim() || null
    : environment.CC?.trim() ? environment.CC.trim() : findOnPath(['cc', 'gcc', 'clang'], environment.PATH);
  const vectorBytes = environment.SUCCESSOR_NATIVE_VECTOR_BYTES ? Number(environment.SUCCESSOR_NATIVE_VECTOR_BYTES) : null;
  return {
    compiler,
    cacheDirectory: environment.SUCCESSOR_NATIVE_CACHE || defaultCacheDirectory(environment),
    march: environment.SUCCESSOR_NATIVE_MARCH || 'native',
    vectorBytes: vectorBytes !== null && [16, 32, 64].includes(vectorBytes) ? vectorBytes : null,
  };
}

const loaded = new Map<string, NativeLoad>();

/**
 * The native library for these settings: from this process's memory, else the cache, else compiled now (which
 * blocks for a few seconds, once per machine). Never throws.
 */
export function loadNativeLibrary(settings: NativeSettings = nativeSettings()): NativeLoad {
  const memoKey = JSON.stringify(settings);
  let result = loaded.get(memoKey);
  if (!result) {
    try {
      result = load(settings);
    } catch (error) {
      result = { ok: false, reason: `native kernels failed to load: ${firstLine(error instanceof Error ? error.message : String(error))}` };
    }
    loaded.set(memoKey, result);
  }
  return result;
}

function load(settings: NativeSettings): NativeLoad {
  if (settings.compiler === null) return { ok: false, reason: 'no C compiler (cc, gcc or clang on PATH; SUCCESSOR_CC overrides)' };
  const version = spawnSync(settings.compiler, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (version.status !== 0 || version.error) return { ok: false, reason: `the C compiler '${settings.compiler}' does not run` };
  const compiler = firstLine(version.stdout);
  const include = nodeIncludeDirectory();
  if (!include) return { ok: false, reason: "Node's C headers (node_api.h) are not installed" };

  const sources = readdirSync(SOURCE_DIRECTORY).filter((name) => name.endsWith('.c') || name.endsWith('.h')).sort();
  const flags = [...kernelFlags(settings), '-fPIC', '-shared', '-fvisibility=hidden'];
  const hash = createHash('sha256');
  for (const name of sources) hash.update(`${name}\0`).update(readFileSync(join(SOURCE_DIRECTORY, name))).update('\0');
  for (const header of ['node_api.h', 'js_native_api.h', 'js_native_api_types.h', 'node_api_types.h']) {
    const path = join(include, header);
    if (existsSync(path)) hash.update(readFileSync(path));
  }
  hash.update(`${compiler}\0${flags.join(' ')}\0${cpuIdentity()}\0${arch()}`);
  const key = hash.digest('hex').slice(0, 32);
  const directory = usableCacheDirectory(settings.cacheDirectory);
  if (!directory) return { ok: false, reason: `no writable cache directory for the native kernels (${settings.cacheDirectory})` };
  const path = join(directory, `kernels-${key}.node`);

  let compiled = false;
  if (!existsSync(path)) {
    const unsupported = unsupportedTarget(settings.compiler, settings.march);
    if (unsupported) return { ok: false, reason: unsupported };
    const temporary = join(directory, `.kernels-${key}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const result = spawnSync(settings.compiler, [...flags, `-I${include}`, '-o', temporary, ...kernelSources(), '-lm'], {
      encoding: 'utf8', timeout: COMPILE_TIMEOUT_MS,
    });
    if (result.status !== 0 || result.error) {
      rmSync(temporary, { force: true });
      const detail = result.error ? result.error.message : (result.stderr.split('\n').find((line) => line.includes('error')) ?? result.stderr);
      return { ok: false, reason: `compiling the native kernels failed: ${firstLine(detail)}` };
    }
    renameSync(temporary, path); // atomic: a concurrent reader sees no file or a whole one
    compiled = true;
  } else if (!ownedAndPrivate(path)) {
    return { ok: false, reason: `the cached native library ${path} is not this user's alone to write; remove it` };
  }
  const kernels = createRequire(import.meta.url)(path) as NativeKernels;
  const missingExports = REQUIRED_EXPORTS.filter((name) => typeof kernels[name] !== 'function');
  if (missingExports.length > 0) return { ok: false, reason: `${path} lacks ${missingExports.join(', ')}: remove it` };
  return { ok: true, library: { kernels, path, compiler, flags, compiled } };
}

/** The flags the kernels are compiled with (the library adds those of a shared object); bench/native-gemm.ts uses them too. */
export function kernelFlags(settings: NativeSettings): string[] {
  return [
    '-O3', `-march=${settings.march}`, '-std=gnu11', '-fno-math-errno', '-pthread',
    ...(settings.vectorBytes ? [`-DVECTOR_BYTES=${settings.vectorBytes}`] : []),
  ];
}

/** The C sources of the kernels, absolute paths; `withBindings` false leaves out the Node-API file. */
export function kernelSources(withBindings = true): string[] {
  return readdirSync(SOURCE_DIRECTORY).filter((name) => name.endsWith('.c') && (withBindings || name !== 'addon.c')).sort().map((name) => join(SOURCE_DIRECTORY, name));
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.trim() ?? '';
}

function findOnPath(names: string[], path: string | undefined): string | null {
  for (const name of names) {
    for (const directory of (path ?? '').split(delimiter)) {
      if (!directory) continue;
      const candidate = join(directory, name);
      try {
        accessSync(candidate, constants.X_OK);
        if (statSync(candidate).isFile()) return candidate;
      } catch { /* next */ }
    }
  }
  return null;
}

/** Node's headers: beside this Node (official builds, nvm, Homebrew), else the system's. */
function nodeIncludeDirectory(): string | null {
  const candidates = [resolve(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'];
  return candidates.find((directory) => existsSync(join(directory, 'node_api.h'))) ?? null;
}

function defaultCacheDirectory(environment: NodeJS.ProcessEnv): string {
  const base = environment.XDG_CACHE_HOME || join(environment.HOME || homedir(), '.cache');
  return join(base, 'successor', 'native');
}

/** The directory, created if need be, or a per-user one under the temporary directory when it cannot be written. */
function usableCacheDirectory(preferred: string): string | null {
  for (const directory of [preferred, join(tmpdir(), `successor-native-${userInfo().uid}`)]) {
    try {
      mkdirSync(directory, { recursive: true, mode: 0o700 });
      accessSync(directory, constants.W_OK);
      if (ownedAndPrivate(directory)) return directory;
    } catch { /* next */ }
  }
  return null;
}

/** Owned by this user and writable by no one else: nobody else can have planted or changed it. */
function ownedAndPrivate(path: string): boolean {
  const stats = statSync(path);
  const uid = process.getuid?.();
  return (uid === undefined || stats.uid === uid) && (stats.mode & 0o022) === 0;
}

/** The CPU's model name and feature flags (Linux); elsewhere what Node knows. */
function cpuIdentity(): string {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1] ?? '';
    return `${field('vendor_id')}|${field('model name')}|${field('flags') || field('Features')}`;
  } catch {
    return `${process.platform}|${process.arch}`;
  }
}

/** x86 instruction sets the compiler would use for -march, as compiler macro -> /proc/cpuinfo flag. */
const X86_FEATURES: Record<string, string> = {
  __SSE4_2__: 'sse4_2', __AVX__: 'avx', __AVX2__: 'avx2', __FMA__: 'fma', __F16C__: 'f16c', __BMI2__: 'bmi2',
  __AVX512F__: 'avx512f', __AVX512BW__: 'avx512bw', __AVX512DQ__: 'avx512dq', __AVX512VL__: 'avx512vl',
};

/**
 * Why code built for -march would not run here (features it enables that /proc/cpuinfo does not list: it would
 * die of SIGILL), or why the compiler rejects the target; null when it is fine. -march=native asks the CPU
 * itself, so this only bites when SUCCESSOR_NATIVE_MARCH names another target.
 */
function unsupportedTarget(compiler: string, march: string): string | null {
  const macros = spawnSync(compiler, [`-march=${march}`, '-dM', '-E', '-x', 'c', '-'], { input: '', encoding: 'utf8', timeout: 10_000 });
  if (macros.status !== 0 || macros.error) return `the C compiler rejects -march=${march}: ${firstLine(macros.stderr ?? macros.error?.message ?? '')}`;
  if (!['x64', 'ia32'].includes(arch())) return null;
  let flags: Set<string>;
  try {
    flags = new Set(/^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].split(/\s+/) ?? []);
  } catch {
    return null;
  }
  if (flags.size === 0) return null;
  const missing = Object.entries(X86_FEATURES)
    .filter(([macro, flag]) => new RegExp(`#define ${macro} 1`).test(macros.stdout) && !flags.has(flag))
    .map(([, flag]) => flag);
  return missing.length > 0 ? `-march=${march} needs ${missing.join(', ')}, which this CPU lacks` : null;
}
