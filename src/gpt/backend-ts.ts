/**
 * The plain TypeScript backend: the reference kernels of `kernels/` behind the `Backend` interface.
 * It is the readable definition of every layer, the oracle that faster backends are tested against, and the
 * last fallback where neither native nor wasm kernels start. Single-threaded; buffers are ordinary Float32Arrays,
 * so `dispose` has nothing to free.
 */
import type { Backend } from './backend.js';
import { adamwUpdate, scale, sumOfSquares } from './kernels/adamw.js';
import { attentionBackward, attentionForward } from './kernels/attention.js';
import { crossEntropyBackward, crossEntropyForward } from './kernels/cross-entropy.js';
import { encoderBackward, encoderForward } from './kernels/encoder.js';
import { geluBackward, geluForward } from './kernels/gelu.js';
import { layernormBackward, layernormForward } from './kernels/layernorm.js';
import { matmulBackward, matmulForward } from './kernels/matmul.js';
import { relu2Backward, relu2Forward } from './kernels/relu2.js';
import { residualBackward, residualForward } from './kernels/residual.js';
import { rmsnormBackward, rmsnormForward } from './kernels/rmsnorm.js';

export const tsBackend: Backend = {
  name: 'ts',
  description: 'TypeScript reference kernels (1 thread)',
  allocate: (length) => new Float32Array(length),
  dispose: async () => {},
  encoderForward,
  encoderBackward,
  layernormForward,
  layernormBackward,
  rmsnormForward,
  rmsnormBackward,
  matmulForward,
  matmulBackward,
  attentionForward,
  attentionBackward,
  geluForward,
  geluBackward,
  relu2Forward,
  relu2Backward,
  residualForward,
  residualBackward,
  crossEntropyForward,
  crossEntropyBackward,
  adamwUpdate,
  sumOfSquares,
  scale,
};
