/**
 * Picks the kernel backend a training config asks for, so the trainer, the CLI, the evaluator and the sandboxed
 * entry never name one directly. `auto` (the default) takes the fastest that works on this machine: native C
 * kernels, else WebAssembly, else the TypeScript reference; the backend's `description` says which, and why not a
 * faster one. Threads default to every core (fastest-backend.ts).
 */
import type { Backend } from './backend.js';
import { createNativeBackend } from './backend-native.js';
import { tsBackend } from './backend-ts.js';
import { createWasmBackend } from './backend-wasm.js';
import type { TrainConfig } from './config.js';
import { defaultThreads, described } from './fastest-backend.js';

export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
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
