/*
 * Causal self-attention on the pool, one task per (batch row b, head h), every step a product of gemm.c on the
 * head's strided slices of qkv (no copies of q, k or v):
 *   forward:  S = scale Q K^T (only j <= i)  ->  P = softmax rows of S  ->  out = P V
 *   backward: dV = P^T dOut;  dP = dOut V^T;  dS = P (dP - rowsum(P dP)) scale;  dQ = dS K;  dK = dS^T Q
 * The scores S and their gradient live in the task's scratch (T x T per thread, in cache), never in the
 * (B,NH,T,T) buffers; only P, which backward needs, is stored, in att's lower triangle (entries above the diagonal
 * are never written or read). dQkv is overwritten: each task writes its own head's columns, wholly.
 */
#include "kernels.h"

#include <math.h>

typedef struct AttentionJob {
  Pool *pool;
  float *out, *att, *dQkv;
  const float *qkv, *dOut, *attIn;
  int T, C, NH, hs;
  size_t gemmFloats; /* scratch for gemmRows, after the T x T scores */
} AttentionJob;

/* T x T floats, rounded up to whole cache lines so that the product's scratch after it stays aligned. */
static size_t squareFloats(int T) {
  return ((size_t)T * T + 15) & ~(size_t)15;
}

static void softmaxRows(float *att, const float *scores, int T) {
  for (int t = 0; t < T; t++) {
    const float *row = scores + (size_t)t * T;
    float *probabilities = att + (size_t)t * T;
    const int count = t + 1;
    Vector maximum = broadcast(-INFINITY);
    int index = 0;
    for (; index + LANES <= count; index += LANES) maximum = vectorMaximum(maximum, load(row + index));
    float rowMaximum = horizontalMaximum(maximum);
    for (; index < count; index++) rowMaximum = row[index] > rowMaximum ? row[index] : rowMaximum;
    Vector sums = {0};
    index = 0;
    for (; index + LANES <= count; index += LANES) {
      const Vector value = vectorExp(load(row + index) - rowMaximum);
      store(probabilities + index, value);
      sums += value;
    }
    float sum = horizontalSum(sums);
    for (; index < count; index++) {
      probabilities[index] = scalarExp(row[index] - rowMaximum);
      sum += probabilities[index];
    }
    const float inverse = 1.0f / sum;
    index = 0;
    for (; index + LANES <= count; index += LANES) store(probabilities + index, load(probabilities + index) * inverse);
    for (; index < count; index++) probabilities[index] *= inverse;
  }
}

static void forwardTask(void *context, int task, int thread) {
  AttentionJob *job = context;
  const int T = job->T, C = job->C, NH = job->NH, hs = job->hs;
  const int b = task / NH, h = task % NH;
  const float *query = job->qkv + (size_t)b * T * 3 * C + (size_t)h * hs;
  const float *key = query + C, *value = query + 2 * C;
  float *att = job->att + (size_t)task * T * T;
  float *scores = poolScratch(job->pool, thread);
  float *gemmScratch = scores + squareFloats(T);
  /* S (T,T) = scale Q K^T: B(d, t2) = key[t2][d] */
  Gemm scoreProduct = {.m = T, .n = T, .k = hs, .a = query, .aRow = 3 * C, .aColumn = 1, .b = key, .bRow = 1, .bColumn = 3 * C,
                       .c = scores, .cRow = T, .alpha = 1.0f / sqrtf((float)hs), .triangle = OUTPUT_LOWER};
  gemmRows(&scoreProduct, 0, T, NULL, gemmScratch, NULL);
  softmaxRows(att, scores, T);
  /* out (T,hs) = P V */
  Gemm outputProduct = {.m = T, .n = hs, .k = T, .a = att, .aRow = T, .aColumn = 1, .b = value, .bRow = 3 * C, .bColumn = 1,
                        .c = job->out + (size_t)b * T * C + (size_t)h * hs, .cRow = C, .alpha = 1.0f, .triangle = A_LOWER};
  gemmRows(&outputProduct, 0, T, NULL, gemmScratch, NULL);
}

static size_t gemmFloatsFor(int T, int hs) {
  Gemm squareShape = {.n = T, .k = hs}, headShape = {.n = hs, .k = T};
  size_t square = gemmScratchFloats(&squareShape, 0), head = gemmScratchFloats(&headShape, 0);
  return square > head ? square : head;
}

int attentionForward(Pool *pool, float *out, float *att, const float *qkv, int B, int T, int C, int NH) {
  const int hs = C / NH;
  if (poolReserveScratch(pool, (squareFloats(T) + gemmFloatsFor(T, hs)) * sizeof(float)) != 0) return KERNEL_OUT_OF_MEMORY;
  AttentionJob job = {.pool = pool, .out = out, .att = att, .qkv = qkv, .T = T, .C = C, .NH = NH, .hs = hs};
  poolRun(pool, forwardTask, &job, B * NH);
  return 0;
}

/* dS = P (dP - sum_j P dP) scale, row by row over j <= i, in place over dP. */
static void softmaxBackwardRows(float *dScores, const float *att, int T, float scale) {
  for (int t = 0; t < T; t++) {
    float *row = dScores + (size_t)t * T;
    const float *probabilities = att + (size_t)t * T;
    const int count = t + 1;
    Vector sums = {0};
    int index = 0;
    for (; index + LANES <= count; index += LANES) sums += load(probabilities + index) * load(row + index);
    float weightedSum = horizontalSum(sums);
    for (; index < count; index++) weightedSum += probabilities[index] * row[index];
    index = 0;
    for (; index + LANES <= count; index += LANES) {
      store(row + index, load(probabilities + index) * (load(row + index) - weightedSum) * scale);
    }
    for (; index < count; index++) row[index] = probabilities[index] * (row[index] - weightedSum) * scale;
  }
}

static void backwardTask(void *context, int task, int thread) {
  AttentionJob *job = context;
  const int T = job->T, C = job->C, NH = job->NH, hs = job->hs;
  const int b = task / NH, h = task % NH;
  const size_t headOffset = (size_t)b * T * 3 * C + (size_t)h * hs;
  const float *query = job->qkv + headOffset, *key = query + C, *value = query + 2 * C;
  float *dQuery = job->dQkv + headOffset, *dKey = dQuery + C, *dValue = dQuery + 2 * C;
  const float *dOut = job->dOut + (size_t)b * T * C + (size_t)h * hs;
  const float *att = job->attIn + (size_t)task * T * T;
  float *dScores = poolScratch(job->pool, thread);
  float *gemmScratch = dScores + squareFloats(T);
  /* dV (T,hs) = P^T dOut: A(t2, t) = P[t][t2], zero for t < t2 */
  Gemm valueGradient = {.m = T, .n = hs, .k = T, .a = att, .aRow = 1, .aColumn = T, .b = dOut, .bRow = C, .bColumn = 1,
                        .c = dValue, .cRow = 3 * C, .alpha = 1.0f, .triangle = A_UPPER};
  gemmRows(&valueGradient, 0, T, NULL, gemmScratch, NULL);
  /* dP (T,T) = dOut V^T, for j <= i */
  Gemm probabilityGradient = {.m = T, .n = T, .k = hs, .a = dOut, .aRow = C, .aColumn = 1, .b = value, .bRow = 1, .bColumn = 3 * C,
                              .c = dScores, .cRow = T, .alpha = 1.0f, .triangle = OUTPUT_LOWER};
  gemmRows(&probabilityGradient, 0, T, NULL, gemmScratch, NULL);
  softmaxBackwardRows(dScores, att, T, 1.0f / sqrtf((float)hs));
  /* dQ (T,hs) = dS K */
  Gemm queryGradient = {.m = T, .n = hs, .k = T, .a = dScores, .aRow = T, .aColumn = 1, .b = key, .bRow = 3 * C, .bColumn = 1,
                        .c = dQuery, .cRow = 3 * C, .alpha = 1.0f, .triangle = A_LOWER};
  gemmRows(&queryGradient, 0, T, NULL, gemmScratch, NULL);
  /* dK (T,hs) = dS^T Q: A(t2, t) = dS[t][t2], zero for t < t2 */
  Gemm keyGradient = {.m = T, .n = hs, .k = T, .a = dScores, .aRow = 1, .aColumn = T, .b = query, .bRow = 3 * C, .bColumn = 1,
                      .c = dKey, .cRow = 3 * C, .alpha = 1.0f, .triangle = A_UPPER};
  gemmRows(&keyGradient, 0, T, NULL, gemmScratch, NULL);
}

int attentionBackward(Pool *pool, float *dQkv, const float *dOut, const float *qkv, const float *att, int B, int T, int C, int NH) {
  const int hs = C / NH;
  if (poolReserveScratch(pool, (squareFloats(T) + gemmFloatsFor(T, hs)) * sizeof(float)) != 0) return KERNEL_OUT_OF_MEMORY;
  AttentionJob job = {.pool = pool, .dQkv = dQkv, .dOut = dOut, .qkv = qkv, .attIn = att, .T = T, .C = C, .NH = NH, .hs = hs};
  poolRun(pool, backwardTask, &job, B * NH);
  return 0;
}
