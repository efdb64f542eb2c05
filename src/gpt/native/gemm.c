/*
 * The matrix product (see gemm.h): packing, the micro-kernel and the loops around it.
 * Packed layouts: B as panels [panel][k][NR] (zero past column n), A as tiles [tile][k][MR] for one block of KC
 * (zero past row m and on the known-zero side of a triangle). The micro-kernel keeps an MR x NR tile of C in
 * registers (MR x 2 vectors) and walks k, one broadcast of A and two loads of B per step.
 */
#include "gemm.h"

static inline int minimum(int left, int right) {
  return left < right ? left : right;
}

static inline int maximum(int left, int right) {
  return left > right ? left : right;
}

static inline int panelsOf(int n) {
  return (n + NR - 1) / NR;
}

size_t gemmPackedBFloats(const Gemm *gemm) {
  return (size_t)panelsOf(gemm->n) * NR * (size_t)gemm->k;
}

size_t gemmScratchFloats(const Gemm *gemm, int packedBGiven) {
  size_t packedA = (size_t)MC * KC;
  return packedA + (packedBGiven ? 0 : gemmPackedBFloats(gemm)) + 16;
}

void gemmPackB(const Gemm *gemm, float *packedB, int firstPanel, int endPanel) {
  const int k = gemm->k, n = gemm->n;
  for (int panel = firstPanel; panel < endPanel; panel++) {
    float *target = packedB + (size_t)panel * k * NR;
    const int column0 = panel * NR;
    const int columns = minimum(NR, n - column0);
    const float *source = gemm->b + column0 * gemm->bColumn;
    if (gemm->bColumn == 1) {
      for (int kk = 0; kk < k; kk++) {
        const float *row = source + kk * gemm->bRow;
        float *packed = target + (size_t)kk * NR;
        if (columns == NR) {
          for (int lane = 0; lane < NR; lane += LANES) store(packed + lane, load(row + lane));
        } else {
          for (int column = 0; column < NR; column++) packed[column] = column < columns ? row[column] : 0.0f;
        }
      }
    } else if (gemm->bRow == 1 && columns == NR) {
      /* B's columns are contiguous in k (a transposed operand, as K^T in attention): LANES x LANES blocks,
       * transposed in registers */
      int kk = 0;
      for (; kk + LANES <= k; kk += LANES) {
        for (int group = 0; group < NR; group += LANES) {
          Vector block[LANES];
          for (int lane = 0; lane < LANES; lane++) block[lane] = load(source + (group + lane) * gemm->bColumn + kk);
          transposeLanes(block);
          for (int lane = 0; lane < LANES; lane++) store(target + (size_t)(kk + lane) * NR + group, block[lane]);
        }
      }
      for (; kk < k; kk++) {
        for (int column = 0; column < NR; column++) target[(size_t)kk * NR + column] = source[column * gemm->bColumn + kk];
      }
    } else {
      /* walk each column of B along k (contiguous when bRow == 1), writing with stride NR */
      for (int column = 0; column < NR; column++) {
        if (column >= columns) {
          for (int kk = 0; kk < k; kk++) target[(size_t)kk * NR + column] = 0.0f;
          continue;
        }
        const float *values = source + column * gemm->bColumn;
        for (int kk = 0; kk < k; kk++) target[(size_t)kk * NR + column] = values[kk * gemm->bRow];
      }
    }
  }
}

/*
 * Packs rows [row0, row0 + MR) x k [k0, k0 + kc) of A as one tile [kc][MR], rows from rowEnd on as zeros, and
 * zeros on the known-zero side of a triangle; adds each row's sum to rowSums.
 */
static void packATile(const Gemm *gemm, float *target, int row0, int rowEnd, int k0, int kc, float *rowSums) {
  const int rows = minimum(MR, rowEnd - row0);
  const Triangle triangle = gemm->triangle;
  if (gemm->aRow == 1 && rows == MR) {
    /* A's columns are contiguous in i (a transposed operand): copy MR values per k */
    const float *source = gemm->a + row0 + (ptrdiff_t)k0 * gemm->aColumn;
    /* whole vectors: each step also writes a few floats past its MR, which the next step overwrites (and reads a
     * few past row0 + MR, still inside A: the next row); the last step copies exactly MR */
    enum { COPY_VECTORS = (MR + LANES - 1) / LANES };
    int kk = 0;
    for (; kk + 1 < kc; kk++) {
      const float *values = source + kk * gemm->aColumn;
      for (int vector = 0; vector < COPY_VECTORS; vector++) store(target + kk * MR + vector * LANES, load(values + vector * LANES));
    }
    for (; kk < kc; kk++) {
      for (int r = 0; r < MR; r++) target[kk * MR + r] = source[kk * gemm->aColumn + r];
    }
    /* then zero the known-zero side, which only the k steps near the tile's diagonal can reach */
    if (triangle == A_LOWER) {
      for (int kk = maximum(0, row0 - k0 + 1); kk < minimum(kc, row0 + MR - k0); kk++) {
        for (int r = 0; r < MR; r++) if (k0 + kk > row0 + r) target[kk * MR + r] = 0.0f;
      }
    } else if (triangle == A_UPPER) {
      for (int kk = maximum(0, row0 - k0); kk < minimum(kc, row0 + MR - 1 - k0); kk++) {
        for (int r = 0; r < MR; r++) if (k0 + kk < row0 + r) target[kk * MR + r] = 0.0f;
      }
    }
  } else {
    for (int r = 0; r < MR; r++) {
      const int row = row0 + r;
      if (r >= rows) {
        for (int kk = 0; kk < kc; kk++) target[kk * MR + r] = 0.0f;
        continue;
      }
      const float *values = gemm->a + row * gemm->aRow + (ptrdiff_t)k0 * gemm->aColumn;
      /* the k range [from, to) of this row that may be nonzero */
      int from = 0, to = kc;
      if (triangle == A_LOWER) to = minimum(kc, maximum(0, row - k0 + 1));
      if (triangle == A_UPPER) from = minimum(kc, maximum(0, row - k0));
      for (int kk = 0; kk < from; kk++) target[kk * MR + r] = 0.0f;
      if (gemm->aColumn == 1) {
        for (int kk = from; kk < to; kk++) target[kk * MR + r] = values[kk];
      } else {
        for (int kk = from; kk < to; kk++) target[kk * MR + r] = values[kk * gemm->aColumn];
      }
      for (int kk = to; kk < kc; kk++) target[kk * MR + r] = 0.0f;
    }
  }
  if (rowSums) {
    float sums[MR] = {0}; /* MR independent chains (one sum per row would wait on each add's latency) */
    for (int kk = 0; kk < kc; kk++) {
      for (int r = 0; r < MR; r++) sums[r] += target[kk * MR + r];
    }
    for (int r = 0; r < rows; r++) rowSums[row0 + r] += sums[r];
  }
}

/* Whether a full tile of A can be read in place: rows contiguous, and nothing to mask. */
static inline int readsAInPlace(const Gemm *gemm, int rows, const float *rowSums) {
  const Triangle triangle = gemm->triangle;
  return gemm->aColumn == 1 && rows == MR && !rowSums &&
         (triangle == TRIANGLE_NONE || triangle == OUTPUT_LOWER || gemm->triangleZeroInMemory);
}

typedef enum { STORE, ADD } Write;

/*
 * C tile (rows x columns of MR x NR) = or += alpha * A (MR x kc) packedB (kc x NR) [+ bias], where
 * A(r, kk) = a[r * aRowStride + kk * aStepStride]: a packed tile (strides 1, MR) or rows read in place (aRow, 1).
 * Always inlined with constant strides, so each use compiles to its own tight loop.
 * The full-tile path writes C straight from registers; an edge tile goes through a small buffer.
 */
static inline __attribute__((always_inline)) void microKernel(int kc, const float *restrict a, ptrdiff_t aRowStride,
                                                              ptrdiff_t aStepStride, const float *restrict packedB,
                                                              float *restrict c, ptrdiff_t cRow, int rows, int columns,
                                                              float alpha, Write write, const float *bias) {
  Vector accumulators[MR][2];
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++) accumulators[r][0] = accumulators[r][1] = (Vector){0};
  for (int kk = 0; kk < kc; kk++) {
    const Vector b0 = load(packedB + kk * NR), b1 = load(packedB + kk * NR + LANES);
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      const Vector value = broadcast(a[r * aRowStride + kk * aStepStride]);
      accumulators[r][0] += value * b0;
      accumulators[r][1] += value * b1;
    }
  }
  Vector bias0 = {0}, bias1 = {0};
  if (bias && write == STORE) {
    if (columns == NR) {
      bias0 = load(bias);
      bias1 = load(bias + LANES);
    } else {
      float padded[NR] = {0};
      for (int column = 0; column < columns; column++) padded[column] = bias[column];
      bias0 = load(padded);
      bias1 = load(padded + LANES);
    }
  }
  if (rows == MR && columns == NR) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      float *row = c + r * cRow;
      Vector value0 = accumulators[r][0] * alpha, value1 = accumulators[r][1] * alpha;
      if (write == ADD) {
        value0 += load(row);
        value1 += load(row + LANES);
      } else {
        value0 += bias0;
        value1 += bias1;
      }
      store(row, value0);
      store(row + LANES, value1);
    }
    return;
  }
  float tile[MR * NR] __attribute__((aligned(64)));
  for (int r = 0; r < MR; r++) {
    store(tile + r * NR, accumulators[r][0] * alpha + bias0);
    store(tile + r * NR + LANES, accumulators[r][1] * alpha + bias1);
  }
  for (int r = 0; r < rows; r++) {
    float *row = c + r * cRow;
    if (write == ADD) {
      for (int column = 0; column < columns; column++) row[column] += tile[r * NR + column];
    } else {
      for (int column = 0; column < columns; column++) row[column] = tile[r * NR + column];
    }
  }
}

static void packedTile(int kc, const float *packedA, const float *packedB, float *c, ptrdiff_t cRow, int rows, int columns,
                       float alpha, Write write, const float *bias) {
  microKernel(kc, packedA, 1, MR, packedB, c, cRow, rows, columns, alpha, write, bias);
}

static void inPlaceTile(int kc, const float *a, ptrdiff_t aRow, const float *packedB, float *c, ptrdiff_t cRow, int columns,
                        float alpha, Write write, const float *bias) {
  microKernel(kc, a, aRow, 1, packedB, c, cRow, MR, columns, alpha, write, bias);
}

void gemmRows(const Gemm *gemm, int rowStart, int rowEnd, const float *packedB, float *scratch, float *rowSums) {
  const int n = gemm->n, k = gemm->k;
  float *packedA = scratch;
  if (!packedB) {
    float *privateB = scratch + (size_t)MC * KC;
    gemmPackB(gemm, privateB, 0, panelsOf(n));
    packedB = privateB;
  }
  const Triangle triangle = gemm->triangle;
  const int panels = panelsOf(n);
  /* k == 0: the product is zero; still one pass, so that C is written (or left alone when accumulating) */
  for (int k0 = 0; k0 < k || (k0 == 0 && k == 0); k0 += KC) {
    const int kc = minimum(KC, k - k0);
    const Write write = (k0 == 0 && !gemm->accumulate) ? STORE : ADD;
    if (write == ADD && kc <= 0) break;
    for (int blockRow = rowStart; blockRow < rowEnd; blockRow += MC) {
      const int blockRows = minimum(MC, rowEnd - blockRow);
      const int tiles = (blockRows + MR - 1) / MR;
      for (int tile = 0; tile < tiles; tile++) {
        const int row0 = blockRow + tile * MR;
        if (!readsAInPlace(gemm, minimum(MR, rowEnd - row0), rowSums)) {
          packATile(gemm, packedA + (size_t)tile * MR * KC, row0, rowEnd, k0, maximum(kc, 0), rowSums);
        }
      }
      for (int panel = 0; panel < panels; panel++) {
        const int column0 = panel * NR;
        const int columns = minimum(NR, n - column0);
        const float *panelB = packedB + (size_t)panel * k * NR + (size_t)k0 * NR;
        const float *bias = gemm->bias ? gemm->bias + column0 : NULL;
        for (int tile = 0; tile < tiles; tile++) {
          const int row0 = blockRow + tile * MR;
          const int rows = minimum(MR, rowEnd - row0);
          if (triangle == OUTPUT_LOWER && column0 > row0 + rows - 1) continue;
          /* the part of this k block where the tile's A may be nonzero */
          int from = 0, to = maximum(kc, 0);
          if (triangle == A_LOWER) to = minimum(to, maximum(0, row0 + rows - k0));
          if (triangle == A_UPPER) from = minimum(to, maximum(0, row0 - k0));
          if (write == ADD && to <= from) continue;
          float *cTile = gemm->c + (ptrdiff_t)row0 * gemm->cRow + column0;
          if (readsAInPlace(gemm, rows, rowSums)) {
            inPlaceTile(to - from, gemm->a + (ptrdiff_t)row0 * gemm->aRow + k0 + from, gemm->aRow, panelB + (size_t)from * NR,
                        cTile, gemm->cRow, columns, gemm->alpha, write, bias);
          } else {
            packedTile(to - from, packedA + (size_t)tile * MR * KC + (size_t)from * MR, panelB + (size_t)from * NR, cTile,
                       gemm->cRow, rows, columns, gemm->alpha, write, bias);
          }
        }
      }
    }
  }
}
