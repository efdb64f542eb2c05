/**
 * The machine's measured FLOP/s, for the physical bounds of scorers (a run cannot have processed more arithmetic
 * than the machine can do in the time it took). Measured once per machine with the lab's own WebAssembly SIMD
 * matmul on one thread, kept in the state dir, and scaled to an upper bound on what any code can do here:
 * PEAK_FACTOR x the measured rate per core, x the cores.
 *
 * Why a factor: our kernels use 128-bit SIMD and a multiply then an add; the widest x86 cores do 512-bit fused
 * multiply-adds, 4 x wider and 2 x the work per instruction. On the reference machine (AVX-512, 2 cores) the kernel
 * measures 33–35 GFLOP/s per core (three calls of measureKernelFlops), so the bound is about 270 GFLOP/s per core,
 * above its theoretical 186.
 * Is not: a benchmark (`npm run bench:train` is).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

export const PEAK_FACTOR = 8;
const CACHE_FILE = 'machine.json';

const Measurement = z.object({ machine: z.string(), kernelFlopsPerCore: z.number().positive(), measuredAt: z.string() });
type Measurement = z.infer<typeof Measurement>;

export interface MachineFlops {
  /** What the lab's kernel did on one core, FLOP/s. */
  kernelFlopsPerCore: number;
  /** The bound scorers use: PEAK_FACTOR x kernelFlopsPerCore x cores, FLOP/s. */
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
        measurement = { machine: machineKey(), kernelFlopsPerCore: await measureKernelFlops(), measuredAt: new Date().toISOString() };
        mkdirSync(stateDir, { recursive: true });
        writeFileSync(`${path}.tmp-${process.pid}`, `${JSON.stringify(measurement, null, 2)}\n`);
        renameSync(`${path}.tmp-${process.pid}`, path);
      }
      return { kernelFlopsPerCore: measurement.kernelFlopsPerCore, peakFlops: PEAK_FACTOR * measurement.kernelFlopsPerCore * cpus().length };
    })();
    memo.set(stateDir, entry);
  }
  return entry;
}
