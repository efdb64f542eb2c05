/**
 * Compiles the hand-written WebAssembly kernels (the .wat files beside this one) into one WebAssembly.Module.
 * The text is assembled in memory with the `wabt` package (SIMD, threads and bulk memory enabled) once per
 * process; nothing is written to disk, so this works on a read-only file system. Workers receive the compiled
 * Module by message, so they never compile again. The machine code is V8's optimizing tier from the start.
 * Not here: instantiation (each thread instantiates the module against the shared memory) or scheduling.
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import wabtFactory from 'wabt';

/** The .wat files, in the order they are joined: helpers first, then the kernels that call them. */
const SOURCES = [
  'common.wat', 'gemm.wat', 'matmul.wat', 'attention.wat', 'norm.wat', 'activations.wat', 'encoder.wat', 'cross-entropy.wat', 'optimizer.wat',
];

/** Exported kernels; every one takes (thread, start, end, ...arguments). The pool refers to them by index. */
export const KERNEL_NAMES = [
  'transposeWeight', 'matmulForward', 'matmulBackwardInput', 'matmulBackwardWeight',
  'attentionForward', 'attentionBackward',
  'layernormForward', 'layernormBackward', 'rmsnormForward', 'rmsnormBackward',
  'geluForward', 'geluBackward', 'relu2Forward', 'relu2Backward', 'residualForward', 'residualBackward',
  'encoderForward', 'encoderBackward', 'softmaxForward', 'crossEntropyBackward',
  'adamwUpdate', 'sumOfSquares', 'scale',
] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];

/** The most 64 KiB pages the shared memory may grow to (4 GiB, the wasm32 limit). */
export const MAXIMUM_PAGES = 65536;

let compiled: Promise<WebAssembly.Module> | null = null;

/** The kernels' module, compiled on the first call and shared by every later one in this process. */
export function kernelModule(): Promise<WebAssembly.Module> {
  compiled ??= compile().catch((error: unknown) => {
    compiled = null; // let a later call retry instead of caching the failure
    throw error;
  });
  return compiled;
}

/** The whole module as text: the shared memory import, then every source file's functions. */
export function kernelSource(): string {
  const parts = SOURCES.map((name) => `;; ---- ${name}\n` + readFileSync(new URL(`./${name}`, import.meta.url), 'utf8'));
  return `(module\n(import "env" "memory" (memory 1 ${MAXIMUM_PAGES} shared))\n${parts.join('\n')}\n)\n`;
}

async function compile(): Promise<WebAssembly.Module> {
  const wabt = await wabtFactory();
  const parsed = wabt.parseWat('kernels.wat', kernelSource(), { simd: true, threads: true, bulk_memory: true, multi_value: true });
  try {
    const { buffer } = parsed.toBinary({});
    // Compile with the optimizing tier up front. By default V8 starts wasm in its baseline compiler and tiers a
    // function up only after it ran a while, and a kernel cannot switch tiers in the middle of a call: the first
    // call of each big kernel ran 5-15x slower, seconds of the first training step. The flag is set for this one
    // compilation only (the Module keeps its code; workers share it).
    v8.setFlagsFromString('--no-liftoff');
    try {
      return new WebAssembly.Module(buffer);
    } finally {
      v8.setFlagsFromString('--liftoff');
    }
  } finally {
    parsed.destroy();
  }
}
