/**
 * The kernel defaults that need no await: every core this process may use, and the fastest backend that starts
 * synchronously (native, else the TypeScript reference; wasm needs its worker threads to start first). The
 * evaluator and sampling use it; so it imports neither wasm nor the training config. Not here: the full choice
 * by a config's `kernels` (create-backend.ts).
 */
import { availableParallelism } from 'node:os';
import type { Backend } from './backend.js';
import { createNativeBackend } from './backend-native.js';
import { tsBackend } from './backend-ts.js';

/** Every core this process may use: SUCCESSOR_THREADS when set (a sandboxed run's allowance), else all. */
export function defaultThreads(): number {
  const allowed = Number(process.env.SUCCESSOR_THREADS);
  return Number.isInteger(allowed) && allowed >= 1 && allowed <= 256 ? allowed : Math.min(256, availableParallelism());
}

/** The same backend, described differently (the description of a fallback says what it falls back from). */
export function described(backend: Backend, description: string): Backend {
  return { ...backend, description };
}

const synchronousBackends = new Map<number, Backend>();

/**
 * The native backend, else the reference, created once per process and thread count and kept (its idle threads
 * sleep and never hold the process open).
 */
export function fastestSynchronousBackend(threads = defaultThreads()): Backend {
  let backend = synchronousBackends.get(threads);
  if (!backend) {
    const native = createNativeBackend({ threads });
    backend = native.ok ? native.backend : described(tsBackend, `${tsBackend.description}, because native kernels are unavailable: ${native.reason}`);
    synchronousBackends.set(threads, backend);
  }
  return backend;
}
