/**
 * The machine's measured FLOP/s, for the physical bounds of scorers (a run cannot have processed more arithmetic
 * than the machine can do in the time it took). Measured once per machine, kept in the state dir, and scaled to an
 * upper bound on what any code can do here, per core, times the cores: the larger of
 * - PEAK_FACTOR x the lab's WebAssembly SIMD matmul on one thread. Our wasm kernels use 128-bit SIMD and a multiply
 *   then an add; the widest x86 cores do 512-bit fused multiply-adds, 4 x wider and 2 x the work per instruction.
 *   On the reference machine (AVX-512, 2 cores) the kernel measures 33-35 GFLOP/s per core, so this is about
 *   270 GFLOP/s per core, above its theoretical 186;
 * - FMA_PEAK_FACTOR x the core's fused multiply-add peak, measured by the native library (src/gpt/native/peak.c,
 *   the widest vectors -march=native gives) as the best of 100 windows of 1 ms, when a C compiler is there.
 * Why both: the native kernels run at up to 90% of the FMA peak, about 5-6x the wasm matmul (on this 2-core AVX2
 * EPYC at a load average of 12: wasm 15-19 GFLOP/s, native matmul 64-94, FMA peak 103), so a wasm measurement taken
 * on a busy machine alone could put the bound under what a quiet native run does. The FMA peak's short windows read
 * true under load (103 there in about 0.2 s, against 102 quiet); the factor 2 covers what they miss.
 * Is not: a bound on arithmetic in narrower types (bf16 or int8 matrix units can beat the fp32 FMA peak several
 * times over), nor a benchmark (`npm run bench:train` is).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { loadNativeLibrary } from '../gpt/native/library.js';

export const PEAK_FACTOR = 8;
export const FMA_PEAK_FACTOR = 2;
const CACHE_FILE = 'machine.json';

const Measurement = z.object({ machine: z.string(), kernelFlopsPerCore: z.number().positive(), fmaPeakFlopsPerCore: z.number().positive().nullable(), measuredAt: z.string() });
type Measurement = z.infer<typeof Measurement>;

export interface MachineFlops {
  /** What the lab's wasm kernel did on one core, FLOP/s. */
  kernelFlopsPerCore: number;
  /** One core's measured FMA peak, FLOP/s; null without the native library. */
  fmaPeakFlopsPerCore: number | null;
  /** The bound scorers use: max(PEAK_FACTOR x kernelFlopsPerCore, FMA_PEAK_FACTOR x fmaPeakFlopsPerCore) x cores, FLOP/s. */
  peakFlops: number;
}

const machineKey = (): string => `${hostname()}|${cpus()[0]?.model ?? 'cpu'}|${cpus().length}`;

/** Single-thread matmul FLOP/s of the lab's WebAssembly kernel: the best of a few timed repetitions. */
export async function measureKernelFlops(): Promise<number> {
  const { createWasmBackend } = await import('../gpt/backend-wasm.js');
  const backend = await createWasmBackend({ threads: 1 });
  try {
    const [BT, C, OC] = [256, 256, 512];
    const inp = backend.allocate(BT * C).fill(0.5);
    const weight = backend.allocate(OC * C).fill(0.25);
    const out = backend.allocate(BT * OC);
    const flops = 2 * BT * C * OC;
    backend.matmulForward(out, inp, weight, null, BT, C, OC); // warm-up: compile tiers, page in
    let best = 0;
    const until = performance.now() + 300;
    for (let repetition = 0; repetition < 40 && (repetition < 5 || performance.now() < until); repetition++) {
      const started = performance.now();
      backend.matmulForward(out, inp, weight, null, BT, C, OC);
      const seconds = (performance.now() - started) / 1000;
      if (seconds > 0) best = Math.max(best, flops / seconds);
    }
    if (!(best > 0)) throw new Error('the FLOP/s measurement took no time');
    return best;
  } finally {
    await backend.dispose();
  }
}

/** One core's fused multiply-add peak, FLOP/s: the best of 100 windows of 1 ms; null without the native library. */
export function measureFmaPeakFlops(): number | null {
  const load = loadNativeLibrary();
  if (!load.ok) return null;
  let best = 0;
  for (let repetition = 0; repetition < 100; repetition++) best = Math.max(best, load.library.kernels.measureFmaPeak(0.001));
  return best > 0 ? best : null;
}

/** The bound of a measurement, FLOP/s for the whole machine. */
export function peakFlopsOf(measurement: { kernelFlopsPerCore: number; fmaPeakFlopsPerCore: number | null }, cores = cpus().length): number {
  return Math.max(PEAK_FACTOR * measurement.kernelFlopsPerCore, FMA_PEAK_FACTOR * (measurement.fmaPeakFlopsPerCore ?? 0)) * cores;
}

/** A cache file's JSON, or undefined when it is missing or unreadable (then the lab measures again). */
function readJson(path: string): unknown {
  try {
    return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
  } catch {
    return undefined;
  }
}

const memo = new Map<string, Promise<MachineFlops>>();

/** The machine's FLOP/s bound: measured on first use on a machine, then read from `stateDir/machine.json`. */
export function machineFlops(stateDir: string): Promise<MachineFlops> {
  let entry = memo.get(stateDir);
  if (!entry) {
    entry = (async () => {
      const path = join(stateDir, CACHE_FILE);
      let measurement: Measurement | undefined;
      const parsed = Measurement.safeParse(readJson(path));
      if (parsed.success && parsed.data.machine === machineKey()) measurement = parsed.data;
      if (!measurement) {
        measurement = { machine: machineKey(), kernelFlopsPerCore: await measureKernelFlops(), fmaPeakFlopsPerCore: measureFmaPeakFlops(), measuredAt: new Date().toISOString() };
        mkdirSync(stateDir, { recursive: true });
        writeFileSync(`${path}.tmp-${process.pid}`, `${JSON.stringify(measurement, null, 2)}\n`);
        renameSync(`${path}.tmp-${process.pid}`, path);
      }
      return { kernelFlopsPerCore: measurement.kernelFlopsPerCore, fmaPeakFlopsPerCore: measurement.fmaPeakFlopsPerCore, peakFlops: peakFlopsOf(measurement) };
    })();
    memo.set(stateDir, entry);
  }
  return entry;
}
