/*
 * Causal self-attention on the pool, one task per (batch row b, head h), every step a product of gemm.c on the
 * head's strided slices of qkv (no copies of q, k or v):
 *   forward:  S = scale Q K^T (only j <= i)  ->  P = softmax rows of S  ->  out = P V
 *   backward: dV = P^T dOut;  dP = dOut V^T;  dS = P (dP - rowsum(P dP)) scale;  dQ = dS K;  dK = dS^T Q
 * The scores S and their gradient live in the task's scratch (T x T per thread, in cache), never in the
 * (B,NH,T,T) buffers; only P, which backward needs, is stored, in att's lower triangle (entries above the diagonal
 * are never written or read). In scratch, P and dS rows are zero above the diagonal, so the products read them in
 * place and skip the zero half. dQkv is overwritten: each task writes its own head's columns, wholly.
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

/* Row t of scores (j <= t) becomes its softmax, in place and in att's row t; scores beyond t become zeros. */
static void softmaxRows(float *att, float *scores, int T) {
  for (int t = 0; t < T; t++) {
    float *row = scores + (size_t)t * T;
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
    for (; index + LANES <= count; index += LANES) {
      const Vector value = load(probabilities + index) * inverse;
      store(probabilities + index, value);
      store(row + index, value);
    }
    for (; index < count; index++) row[index] = probabilities[index] *= inverse;
    for (; index < T; index++) row[index] = 0.0f;
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
  /* out (T,hs) = P V, P read in place from scratch */
  Gemm outputProduct = {.m = T, .n = hs, .k = T, .a = scores, .aRow = T, .aColumn = 1, .b = value, .bRow = 3 * C, .bColumn = 1,
                        .c = job->out + (size_t)b * T * C + (size_t)h * hs, .cRow = C, .alpha = 1.0f, .triangle = A_LOWER,
                        .triangleZeroInMemory = 1};
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

/*
 * dS = P (dP - sum_j P dP) scale, row by row over j <= i, in place over dP, zeros beyond; and P's rows copied from
 * att into `probabilities` with zeros beyond the diagonal.
 */
static void softmaxBackwardRows(float *dScores, float *probabilitiesOut, const float *att, int T, float scale) {
  for (int t = 0; t < T; t++) {
    float *row = dScores + (size_t)t * T;
    const float *probabilities = att + (size_t)t * T;
    float *copy = probabilitiesOut + (size_t)t * T;
    const int count = t + 1;
    Vector sums = {0};
    int index = 0;
    for (; index + LANES <= count; index += LANES) sums += load(probabilities + index) * load(row + index);
    float weightedSum = horizontalSum(sums);
    for (; index < count; index++) weightedSum += probabilities[index] * row[index];
    index = 0;
    for (; index + LANES <= count; index += LANES) {
      const Vector probability = load(probabilities + index);
      store(copy + index, probability);
      store(row + index, probability * (load(row + index) - weightedSum) * scale);
    }
    for (; index < count; index++) {
      copy[index] = probabilities[index];
      row[index] = probabilities[index] * (row[index] - weightedSum) * scale;
    }
    for (; index < T; index++) copy[index] = row[index] = 0.0f;
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
  float *probabilities = dScores + squareFloats(T);
  float *gemmScratch = probabilities + squareFloats(T);
  /* dP (T,T) = dOut V^T, for j <= i */
  Gemm probabilityGradient = {.m = T, .n = T, .k = hs, .a = dOut, .aRow = C, .aColumn = 1, .b = value, .bRow = 1, .bColumn = 3 * C,
                              .c = dScores, .cRow = T, .alpha = 1.0f, .triangle = OUTPUT_LOWER};
  gemmRows(&probabilityGradient, 0, T, NULL, gemmScratch, NULL);
  softmaxBackwardRows(dScores, probabilities, att, T, 1.0f / sqrtf((float)hs));
  /* dV (T,hs) = P^T dOut: A(t2, t) = P[t][t2], zero for t < t2 */
  Gemm valueGradient = {.m = T, .n = hs, .k = T, .a = probabilities, .aRow = 1, .aColumn = T, .b = dOut, .bRow = C, .bColumn = 1,
                        .c = dValue, .cRow = 3 * C, .alpha = 1.0f, .triangle = A_UPPER, .triangleZeroInMemory = 1};
  gemmRows(&valueGradient, 0, T, NULL, gemmScratch, NULL);
  /* dQ (T,hs) = dS K, dS read in place */
  Gemm queryGradient = {.m = T, .n = hs, .k = T, .a = dScores, .aRow = T, .aColumn = 1, .b = key, .bRow = 3 * C, .bColumn = 1,
                        .c = dQuery, .cRow = 3 * C, .alpha = 1.0f, .triangle = A_LOWER, .triangleZeroInMemory = 1};
  gemmRows(&queryGradient, 0, T, NULL, gemmScratch, NULL);
  /* dK (T,hs) = dS^T Q: A(t2, t) = dS[t][t2], zero for t < t2 */
  Gemm keyGradient = {.m = T, .n = hs, .k = T, .a = dScores, .aRow = 1, .aColumn = T, .b = query, .bRow = 3 * C, .bColumn = 1,
                      .c = dKey, .cRow = 3 * C, .alpha = 1.0f, .triangle = A_UPPER, .triangleZeroInMemory = 1};
  gemmRows(&keyGradient, 0, T, NULL, gemmScratch, NULL);
}

int attentionBackward(Pool *pool, float *dQkv, const float *dOut, const float *qkv, const float *att, int B, int T, int C, int NH) {
  const int hs = C / NH;
  if (poolReserveScratch(pool, (2 * squareFloats(T) + gemmFloatsFor(T, hs)) * sizeof(float)) != 0) return KERNEL_OUT_OF_MEMORY;
  AttentionJob job = {.pool = pool, .dQkv = dQkv, .dOut = dOut, .qkv = qkv, .attIn = att, .T = T, .C = C, .NH = NH, .hs = hs};
  poolRun(pool, backwardTask, &job, B * NH);
  return 0;
}
