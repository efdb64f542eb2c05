/**
 * Picks the kernel backend a training config asks for. This workspace has one: the plain TypeScript reference
 * backend (backend-ts.ts), on the main thread. A faster backend plugs in here, so the trainer, the CLI and the
 * sandboxed entry never name one directly.
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
    default:
      throw new BackendUnavailableError(`kernels '${config.kernels}' are not in this workspace; use kernels 'ts'`);
  }
}
