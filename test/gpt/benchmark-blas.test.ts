/**
 * bench:train's verdict on PyTorch's BLAS (bench/train-runs.ts): a speed ratio is given only against a BLAS tuned
 * for the CPU at hand; a reference BLAS, or OpenBLAS running kernels narrower than the CPU's vectors, gets none.
 */
import { describe, expect, it } from 'vitest';
import { blasRefusal } from '../../bench/train-runs.js';

const avx2 = new Set(['sse4_2', 'avx', 'avx2', 'fma']);
const avx512 = new Set([...avx2, 'avx512f', 'avx512bw']);

describe('bench:train refuses ratios against an untuned BLAS', () => {
  it('accepts OpenBLAS with the widest kernels for the CPU, and MKL or BLIS', () => {
    expect(blasRefusal({ kind: 'openblas', core: 'Zen', config: 'OpenBLAS 0.3.21' }, avx2)).toBeNull();
    expect(blasRefusal({ kind: 'openblas', core: 'Haswell', config: 'OpenBLAS 0.3.21' }, avx2)).toBeNull();
    expect(blasRefusal({ kind: 'openblas', core: 'SkylakeX', config: 'OpenBLAS 0.3.21' }, avx512)).toBeNull();
    expect(blasRefusal({ kind: 'mkl', core: '', config: 'Intel MKL 2023' }, avx512)).toBeNull();
  });

  it('refuses a reference BLAS, an unknown one, and OpenBLAS on narrower kernels than the CPU has', () => {
    expect(blasRefusal({ kind: 'reference', core: '', config: 'a reference BLAS (/usr/lib/x86_64-linux-gnu/blas/libblas.so.3)' }, avx2))
      .toMatch(/reference \(unoptimised\) BLAS/);
    expect(blasRefusal({ kind: 'unknown', core: '', config: '' }, avx2)).toMatch(/unknown BLAS/);
    expect(blasRefusal({ kind: 'openblas', core: 'Haswell', config: 'OpenBLAS 0.3.21' }, avx512)).toMatch(/Haswell kernels, not ones for this CPU's AVX-512/);
    expect(blasRefusal({ kind: 'openblas', core: 'Sandybridge', config: 'OpenBLAS 0.3.21' }, avx2)).toMatch(/Sandybridge kernels/);
  });
});
