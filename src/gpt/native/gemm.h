/*
 * The matrix product every matmul and attention kernel is made of: C (m, n) = alpha A (m, k) B (k, n)
 * [+ C] [+ bias], with A, B and C given by pointers and strides, so that a transposed operand is just other
 * strides. BLIS's structure: B is packed into panels NR columns wide, A into panels MR rows tall, k in blocks of
 * KC, and a register-blocked micro-kernel computes MR x NR tiles of C with fused multiply-adds. An A whose rows
 * are contiguous is read in place instead of packed (for the small inner sizes here a copy costs about as much as
 * the arithmetic it feeds).
 * Triangles (causal attention): only part of C may be needed, or A may be known zero on one side of its
 * diagonal; the product then skips the tiles and the k ranges that cannot matter.
 * Not here: threads (callers cut the rows of C into tasks), what the products mean.
 */
#ifndef SUCCESSOR_GEMM_H
#define SUCCESSOR_GEMM_H

#include <stddef.h>

#include "vector.h"

#define NR (2 * LANES)
#ifndef MR
#if VECTOR_BYTES == 64
#define MR 12 /* 24 accumulators of 32 zmm registers */
#else
#define MR 6 /* 12 accumulators of 16 ymm (or xmm) registers */
#endif
#endif
/* Block sizes, chosen by measurement (npm run bench:gemm): a B micro-panel (KC x NR floats) stays in L1, an A block
 * (MC x KC) in L2; one k block covers the model's usual inner sizes (C, 4C), so C is written once. */
#ifndef KC
#if VECTOR_BYTES == 64
#define KC 256
#else
#define KC 512
#endif
#endif
#ifndef MC
#define MC 96
#endif

typedef enum {
  TRIANGLE_NONE = 0,
  OUTPUT_LOWER, /* only C(i, j) with j <= i is needed; tiles wholly above the diagonal are not computed */
  A_LOWER, /* A(i, k) = 0 for k > i, whatever memory holds there */
  A_UPPER, /* A(i, k) = 0 for k < i, whatever memory holds there */
} Triangle;

typedef struct Gemm {
  int m, n, k;
  const float *a; ptrdiff_t aRow, aColumn; /* A(i, k) = a[i * aRow + k * aColumn] */
  const float *b; ptrdiff_t bRow, bColumn; /* B(k, j) = b[k * bRow + j * bColumn] */
  float *c; ptrdiff_t cRow; /* C(i, j) = c[i * cRow + j] */
  float alpha;
  int accumulate; /* C += product, else C = product (+ bias) */
  const float *bias; /* (n), added when not accumulating; may be NULL */
  Triangle triangle;
  /* A's memory holds zeros on the known-zero side of the triangle: the triangle only lets the product skip work,
   * and A may be read in place (no masking copy) */
  int triangleZeroInMemory;
} Gemm;

/* Floats of packed B for the whole product: ceil(n / NR) panels of k x NR. */
size_t gemmPackedBFloats(const Gemm *gemm);
/* Floats of scratch one call of gemmRows needs (its packed A block, and its packed B unless given). */
size_t gemmScratchFloats(const Gemm *gemm, int packedBGiven);
/* Packs panels [firstPanel, endPanel) of B (all of k) into packedB. */
void gemmPackB(const Gemm *gemm, float *packedB, int firstPanel, int endPanel);
/*
 * Rows [rowStart, rowEnd) of C over all of n and k. packedB: all of B packed by gemmPackB, or NULL to pack it
 * here into scratch. scratch: gemmScratchFloats floats, 64-byte aligned. rowSums, if not NULL, receives
 * sum_k A(i, k) for the rows (added to what it holds), read off the packed A for free.
 */
void gemmRows(const Gemm *gemm, int rowStart, int rowEnd, const float *packedB, float *scratch, float *rowSums);

#endif
