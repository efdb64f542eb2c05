/**
 * Picks the kernel backend a training config asks for. The plain TypeScript backend is always available;
 * faster backends plug in here, so the trainer, the CLI and the sandboxed entry never name one directly.
 */
import type { Backend } from './backend.js';
import { tsBackend } from './backend-ts.js';
import { createWasmBackend } from './backend-wasm.js';
import type { TrainConfig } from './config.js';

export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

export async function createBackend(config: Pick<TrainConfig, 'kernels' | 'threads'>): Promise<Backend> {
  switch (config.kernels) {
    case 'ts':
      return tsBackend;
    case 'wasm':
      try {
        return await createWasmBackend({ threads: config.threads });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new BackendUnavailableError(`kernels 'wasm' could not start (${reason}); use kernels 'ts'`, { cause: error });
      }
  }
}
