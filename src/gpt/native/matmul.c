/*
 * Matmul (a linear layer) on the pool: out (BT,OC) = inp (BT,C) @ weight^T (OC,C) + bias, and its backward pass,
 * all as products of gemm.c by strides alone (no transposed copies).
 * - forward and dInp: rows of BT in tasks of MC rows, B (the weight) packed once for all of them;
 * - dWeight (OC,C) += dOut^T (OC,BT) @ inp (BT,C): a sum over BT, cut into slices of SLICE_ROWS rows; each task
 *   takes one slice, all weight rows, into its own partial sum, and the partials are added in slice order,
 *   so the result depends on the sizes alone. dBias comes free from the packing of dOut (row sums of A).
 * GELU can run in the epilogue of a task, on rows still in cache: the forward's activation, and the backward's
 * gelu'(pre) factor on dInp (so the activation's gradient is never written out).
 */
#include "kernels.h"

#include <stdlib.h>

#define SLICE_ROWS 512

static inline int minimum(int left, int right) {
  return left < right ? left : right;
}

typedef struct GemmJob {
  const Gemm *gemm;
  float *packedB;
  Pool *pool;
  Epilogue epilogue;
  float *epilogueOut;
  const float *epilogueIn;
} GemmJob;

static void packTask(void *context, int task, int thread) {
  (void)thread;
  GemmJob *job = context;
  gemmPackB(job->gemm, job->packedB, task, task + 1);
}

static void rowsTask(void *context, int task, int thread) {
  GemmJob *job = context;
  const Gemm *gemm = job->gemm;
  const int rowStart = task * MC, rowEnd = minimum(gemm->m, rowStart + MC);
  gemmRows(gemm, rowStart, rowEnd, job->packedB, poolScratch(job->pool, thread), NULL);
  const long offset = (long)rowStart * gemm->cRow, count = (long)(rowEnd - rowStart) * gemm->cRow;
  if (job->epilogue == EPILOGUE_GELU) geluValues(job->epilogueOut + offset, gemm->c + offset, count);
  if (job->epilogue == EPILOGUE_GELU_BACKWARD) geluGradientValues(gemm->c + offset, job->epilogueIn + offset, count);
}

int parallelGemm(Pool *pool, const Gemm *gemm, Epilogue epilogue, float *epilogueOut, const float *epilogueIn) {
  if (poolReserveShared(pool, gemmPackedBFloats(gemm) * sizeof(float)) != 0) return KERNEL_OUT_OF_MEMORY;
  if (poolReserveScratch(pool, gemmScratchFloats(gemm, 1) * sizeof(float)) != 0) return KERNEL_OUT_OF_MEMORY;
  GemmJob job = {gemm, poolShared(pool), pool, epilogue, epilogueOut, epilogueIn};
  poolRun(pool, packTask, &job, (gemm->n + NR - 1) / NR);
  poolRun(pool, rowsTask, &job, (gemm->m + MC - 1) / MC);
  return 0;
}

int matmulForward(Pool *pool, float *out, const float *inp, const float *weight, const float *bias, int BT, int C, int OC,
                  Epilogue epilogue, float *activated) {
  /* A = inp (BT,C); B(c, o) = weight[o][c] */
  Gemm gemm = {.m = BT, .n = OC, .k = C, .a = inp, .aRow = C, .aColumn = 1, .b = weight, .bRow = 1, .bColumn = C,
               .c = out, .cRow = OC, .alpha = 1.0f, .bias = bias};
  return parallelGemm(pool, &gemm, epilogue, activated, NULL);
}

typedef struct WeightGradientJob {
  Gemm gemm; /* the whole product dOut^T @ inp, with k = BT */
  Pool *pool;
  float *partials; /* (slices, OC, C) */
  float *biasPartials; /* (slices, OC), or NULL */
  int slices, rowBlocks, rowBlockSize;
  float *dWeight, *dBias;
} WeightGradientJob;

static void weightSliceTask(void *context, int task, int thread) {
  WeightGradientJob *job = context;
  const int slice = task / job->rowBlocks, rowBlock = task % job->rowBlocks;
  const int k0 = slice * SLICE_ROWS;
  Gemm part = job->gemm;
  part.k = minimum(SLICE_ROWS, job->gemm.k - k0);
  part.a += (ptrdiff_t)k0 * part.aColumn;
  part.b += (ptrdiff_t)k0 * part.bRow;
  part.c = job->partials + (size_t)slice * part.m * part.n;
  part.cRow = part.n;
  part.accumulate = 0;
  float *rowSums = NULL;
  const int rowStart = rowBlock * job->rowBlockSize, rowEnd = minimum(part.m, rowStart + job->rowBlockSize);
  if (job->biasPartials) {
    rowSums = job->biasPartials + (size_t)slice * part.m;
    for (int row = rowStart; row < rowEnd; row++) rowSums[row] = 0.0f;
  }
  gemmRows(&part, rowStart, rowEnd, NULL, poolScratch(job->pool, thread), rowSums);
}

/* dWeight rows [row0, row0 + 1) += the partials, slice by slice (tasks are rows of OC). */
static void weightReduceTask(void *context, int task, int thread) {
  (void)thread;
  WeightGradientJob *job = context;
  const int OC = job->gemm.m, C = job->gemm.n;
  float *target = job->dWeight + (size_t)task * C;
  for (int slice = 0; slice < job->slices; slice++) {
    const float *partial = job->partials + ((size_t)slice * OC + task) * C;
    int column = 0;
    for (; column + LANES <= C; column += LANES) store(target + column, load(target + column) + load(partial + column));
    for (; column < C; column++) target[column] += partial[column];
    if (job->dBias) job->dBias[task] += job->biasPartials[(size_t)slice * OC + task];
  }
}

int matmulBackward(Pool *pool, float *dInp, float *dWeight, float *dBias, const float *dOut, const float *inp,
                   const float *weight, int BT, int C, int OC, Epilogue epilogue, const float *pre) {
  /* dInp (BT,C) = dOut (BT,OC) @ weight (OC,C), overwritten */
  Gemm input = {.m = BT, .n = C, .k = OC, .a = dOut, .aRow = OC, .aColumn = 1, .b = weight, .bRow = C, .bColumn = 1,
                .c = dInp, .cRow = C, .alpha = 1.0f};
  int status = parallelGemm(pool, &input, epilogue, NULL, pre);
  if (status != 0) return status;
  /* dWeight (OC,C) += dOut^T (OC,BT) @ inp (BT,C): A(o, row) = dOut[row][o] */
  WeightGradientJob job = {
      .gemm = {.m = OC, .n = C, .k = BT, .a = dOut, .aRow = 1, .aColumn = OC, .b = inp, .bRow = C, .bColumn = 1,
               .alpha = 1.0f},
      .pool = pool, .dWeight = dWeight, .dBias = dBias};
  job.slices = (BT + SLICE_ROWS - 1) / SLICE_ROWS;
  /* one task per slice, all of OC: the slice of inp is packed once (row blocks would each pack it again) */
  job.rowBlockSize = OC > 0 ? OC : 1;
  job.rowBlocks = 1;
  const size_t partialFloats = (size_t)job.slices * OC * C, biasFloats = dBias ? (size_t)job.slices * OC : 0;
  if (poolReserveShared(pool, (partialFloats + biasFloats + 16) * sizeof(float)) != 0) return KERNEL_OUT_OF_MEMORY;
  if (poolReserveScratch(pool, gemmScratchFloats(&(Gemm){.n = C, .k = minimum(BT, SLICE_ROWS)}, 0) * sizeof(float)) != 0) {
    return KERNEL_OUT_OF_MEMORY;
  }
  job.partials = poolShared(pool);
  job.biasPartials = dBias ? job.partials + partialFloats : NULL;
  poolRun(pool, weightSliceTask, &job, job.slices * job.rowBlocks);
  poolRun(pool, weightReduceTask, &job, OC);
  return 0;
}
