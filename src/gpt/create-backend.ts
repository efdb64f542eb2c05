/**
 * Picks the kernel backend a training config asks for. The plain TypeScript backend is always available;
 * faster backends plug in here, so the trainer, the CLI and the sandboxed entry never name one directly.
 */
import type { Backend } from './backend.js';
import { tsBackend } from './backend-ts.js';
import type { TrainConfig } from './config.js';

export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

export async function createBackend(config: Pick<TrainConfig, 'kernels' | 'threads'>): Promise<Backend> {
  switch (config.kernels) {
    case 'ts':
      return tsBackend;
    case 'wasm':
      throw new BackendUnavailableError("kernels 'wasm' are not available yet; use kernels 'ts'");
  }
}
