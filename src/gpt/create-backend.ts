/**
 * Picks the kernel backend a training config asks for, so the trainer, the CLI, the evaluator and the sandboxed
 * entry never name one directly. `auto` (the default) takes the fastest that works on this machine: native C
 * kernels, else WebAssembly, else the TypeScript reference; the backend's `description` says which, and why not a
 * faster one. Threads default to every core (SUCCESSOR_THREADS, which the lab's harness sets for a run, else the
 * machine's available parallelism).
 */
import { availableParallelism } from 'node:os';
import type { Backend } from './backend.js';
import { createNativeBackend } from './backend-native.js';
import { tsBackend } from './backend-ts.js';
import { createWasmBackend } from './backend-wasm.js';
import type { TrainConfig } from './config.js';

export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

/** Every core this process may use: SUCCESSOR_THREADS when set (a sandboxed run's allowance), else all. */
export function defaultThreads(): number {
  const allowed = Number(process.env.SUCCESSOR_THREADS);
  return Number.isInteger(allowed) && allowed >= 1 && allowed <= 256 ? allowed : Math.min(256, availableParallelism());
}

/** The same backend, described differently (the description of a fallback says what it falls back from). */
function described(backend: Backend, description: string): Backend {
  return { ...backend, description };
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function createBackend(config: Pick<TrainConfig, 'kernels' | 'threads'>): Promise<Backend> {
  const threads = config.threads ?? defaultThreads();
  switch (config.kernels) {
    case 'ts':
      return tsBackend;
    case 'native': {
      const native = createNativeBackend({ threads });
      if (!native.ok) throw new BackendUnavailableError(`kernels 'native' are not available here: ${native.reason}; use kernels 'auto' or 'wasm'`);
      return native.backend;
    }
    case 'wasm':
      try {
        return await createWasmBackend({ threads });
      } catch (error) {
        throw new BackendUnavailableError(`kernels 'wasm' could not start (${reasonOf(error)}); use kernels 'ts'`, { cause: error });
      }
    case 'auto': {
      const native = createNativeBackend({ threads });
      if (native.ok) return native.backend;
      try {
        const wasm = await createWasmBackend({ threads });
        return described(wasm, `${wasm.description}, because native kernels are unavailable: ${native.reason}`);
      } catch (error) {
        return described(tsBackend, `${tsBackend.description}, because native kernels are unavailable (${native.reason}) and wasm could not start (${reasonOf(error)})`);
      }
    }
  }
}

/**
 * The fastest backend that starts synchronously (native, else the reference), for code that cannot await: the
 * evaluator. Created once per process and thread count, and kept (its idle threads sleep and never hold the
 * process open).
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

const synchronousBackends = new Map<number, Backend>();
