/**
 * `npm run bench:gemm`: compiles bench/native-gemm.c with the native kernels' own flags (native/library.ts) and
 * runs it: our GEMM against the machine's OpenBLAS on the benchmark model's matmul shapes, one thread each.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelFlags, kernelSources, nativeSettings } from '../src/gpt/native/library.js';

const settings = nativeSettings();
if (!settings.compiler) {
  console.error('bench:gemm needs a C compiler (cc, gcc or clang on PATH; SUCCESSOR_CC overrides)');
  process.exit(1);
}
const program = join(mkdtempSync(join(tmpdir(), 'successor-gemm-')), 'native-gemm');
const source = fileURLToPath(new URL('./native-gemm.c', import.meta.url));
const build = spawnSync(settings.compiler, [...kernelFlags(settings), '-o', program, source, ...kernelSources(false), '-lm', '-ldl'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(1);
process.exit(spawnSync(program, [], { stdio: 'inherit', env: { ...process.env, OMP_NUM_THREADS: '1' } }).status ?? 1);
