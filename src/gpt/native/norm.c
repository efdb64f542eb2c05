/*
 * LayerNorm and RMSNorm over the channel dimension, on the pool in tasks of NORM_ROWS rows. The backward pass sums
 * dWeight (and dBias) over rows: each task sums its rows into its own partial, and the partials are added in task
 * order afterwards, so the result depends on the sizes alone. Row sums are float vectors of LANES partial sums.
 */
#include "kernels.h"

#include <math.h>

#define NORM_ROWS 64

typedef struct NormJob {
  float *out, *mean, *rstd, *dInp, *partials;
  const float *inp, *weight, *bias, *dOut, *meanIn, *rstdIn;
  int BT, C, partialStride;
  float epsilon;
} NormJob;

static inline int rowEndOf(const NormJob *job, int task) {
  const int end = (task + 1) * NORM_ROWS;
  return end < job->BT ? end : job->BT;
}

static inline float rowSum(const float *row, int C) {
  Vector sums = {0};
  int i = 0;
  for (; i + LANES <= C; i += LANES) sums += load(row + i);
  float sum = horizontalSum(sums);
  for (; i < C; i++) sum += row[i];
  return sum;
}

static void layernormForwardTask(void *context, int task, int thread) {
  (void)thread;
  const NormJob *job = context;
  const int C = job->C;
  for (int row = task * NORM_ROWS; row < rowEndOf(job, task); row++) {
    const float *x = job->inp + (size_t)row * C;
    float *y = job->out + (size_t)row * C;
    const float mean = rowSum(x, C) / C;
    Vector squares = {0};
    int i = 0;
    for (; i + LANES <= C; i += LANES) {
      const Vector centered = load(x + i) - mean;
      squares += centered * centered;
    }
    float sumOfSquares = horizontalSum(squares);
    for (; i < C; i++) sumOfSquares += (x[i] - mean) * (x[i] - mean);
    const float rstd = 1.0f / sqrtf(sumOfSquares / C + job->epsilon);
    i = 0;
    for (; i + LANES <= C; i += LANES) store(y + i, (load(x + i) - mean) * rstd * load(job->weight + i) + load(job->bias + i));
    for (; i < C; i++) y[i] = (x[i] - mean) * rstd * job->weight[i] + job->bias[i];
    job->mean[row] = mean;
    job->rstd[row] = rstd;
  }
}

int layernormForward(Pool *pool, float *out, float *mean, float *rstd, const float *inp, const float *weight,
                     const float *bias, int BT, int C, float epsilon) {
  NormJob job = {.out = out, .mean = mean, .rstd = rstd, .inp = inp, .weight = weight, .bias = bias, .BT = BT, .C = C, .epsilon = epsilon};
  poolRun(pool, layernormForwardTask, &job, (BT + NORM_ROWS - 1) / NORM_ROWS);
  return 0;
}

static void layernormBackwardTask(void *context, int task, int thread) {
  (void)thread;
  const NormJob *job = context;
  const int C = job->C;
  float *dWeight = job->partials + (size_t)task * job->partialStride, *dBias = dWeight + C;
  for (int i = 0; i < 2 * C; i++) dWeight[i] = 0.0f;
  for (int row = task * NORM_ROWS; row < rowEndOf(job, task); row++) {
    const float *x = job->inp + (size_t)row * C, *dy = job->dOut + (size_t)row * C;
    float *dx = job->dInp + (size_t)row * C;
    const float mean = job->meanIn[row], rstd = job->rstdIn[row];
    Vector dNormSums = {0}, dNormNormSums = {0};
    int i = 0;
    for (; i + LANES <= C; i += LANES) {
      const Vector norm = (load(x + i) - mean) * rstd, dNorm = load(job->weight + i) * load(dy + i);
      dNormSums += dNorm;
      dNormNormSums += dNorm * norm;
    }
    float dNormMean = horizontalSum(dNormSums), dNormNormMean = horizontalSum(dNormNormSums);
    for (; i < C; i++) {
      const float norm = (x[i] - mean) * rstd, dNorm = job->weight[i] * dy[i];
      dNormMean += dNorm;
      dNormNormMean += dNorm * norm;
    }
    dNormMean /= C;
    dNormNormMean /= C;
    i = 0;
    for (; i + LANES <= C; i += LANES) {
      const Vector norm = (load(x + i) - mean) * rstd, dOut = load(dy + i), dNorm = load(job->weight + i) * dOut;
      store(dBias + i, load(dBias + i) + dOut);
      store(dWeight + i, load(dWeight + i) + norm * dOut);
      store(dx + i, load(dx + i) + (dNorm - dNormMean - norm * dNormNormMean) * rstd);
    }
    for (; i < C; i++) {
      const float norm = (x[i] - mean) * rstd, dNorm = job->weight[i] * dy[i];
      dBias[i] += dy[i];
      dWeight[i] += norm * dy[i];
      dx[i] += (dNorm - dNormMean - norm * dNormNormMean) * rstd;
    }
  }
}

/* targets[i] += sum over tasks of partials[task][i], for i < count, in task order. */
static void addPartials(float *const *targets, int targetCount, const float *partials, int tasks, int stride, int C) {
  for (int task = 0; task < tasks; task++) {
    for (int which = 0; which < targetCount; which++) {
      const float *partial = partials + (size_t)task * stride + (size_t)which * C;
      for (int i = 0; i < C; i++) targets[which][i] += partial[i];
    }
  }
}

static int partialStrideOf(int C, int count) {
  return (count * C + 15) & ~15;
}

int layernormBackward(Pool *pool, float *dInp, float *dWeight, float *dBias, const float *dOut, const float *inp,
                      const float *weight, const float *mean, const float *rstd, int BT, int C) {
  const int tasks = (BT + NORM_ROWS - 1) / NORM_ROWS, stride = partialStrideOf(C, 2);
  if (poolReserveShared(pool, (size_t)tasks * stride * sizeof(float)) != 0) return KERNEL_OUT_OF_MEMORY;
  NormJob job = {.dInp = dInp, .partials = poolShared(pool), .inp = inp, .weight = weight, .dOut = dOut, .meanIn = mean,
                 .rstdIn = rstd, .BT = BT, .C = C, .partialStride = stride};
  poolRun(pool, layernormBackwardTask, &job, tasks);
  float *targets[2] = {dWeight, dBias};
  addPartials(targets, 2, job.partials, tasks, stride, C);
  return 0;
}

static void rmsnormForwardTask(void *context, int task, int thread) {
  (void)thread;
  const NormJob *job = context;
  const int C = job->C;
  for (int row = task * NORM_ROWS; row < rowEndOf(job, task); row++) {
    const float *x = job->inp + (size_t)row * C;
    float *y = job->out + (size_t)row * C;
    Vector squares = {0};
    int i = 0;
    for (; i + LANES <= C; i += LANES) squares += load(x + i) * load(x + i);
    float sumOfSquares = horizontalSum(squares);
    for (; i < C; i++) sumOfSquares += x[i] * x[i];
    const float rstd = 1.0f / sqrtf(sumOfSquares / C + job->epsilon);
    i = 0;
    for (; i + LANES <= C; i += LANES) store(y + i, load(x + i) * rstd * load(job->weight + i));
    for (; i < C; i++) y[i] = x[i] * rstd * job->weight[i];
    job->rstd[row] = rstd;
  }
}

int rmsnormForward(Pool *pool, float *out, float *rstd, const float *inp, const float *weight, int BT, int C, float epsilon) {
  NormJob job = {.out = out, .rstd = rstd, .inp = inp, .weight = weight, .BT = BT, .C = C, .epsilon = epsilon};
  poolRun(pool, rmsnormForwardTask, &job, (BT + NORM_ROWS - 1) / NORM_ROWS);
  return 0;
}

static void rmsnormBackwardTask(void *context, int task, int thread) {
  (void)thread;
  const NormJob *job = context;
  const int C = job->C;
  float *dWeight = job->partials + (size_t)task * job->partialStride;
  for (int i = 0; i < C; i++) dWeight[i] = 0.0f;
  for (int row = task * NORM_ROWS; row < rowEndOf(job, task); row++) {
    const float *x = job->inp + (size_t)row * C, *dy = job->dOut + (size_t)row * C;
    float *dx = job->dInp + (size_t)row * C;
    const float rstd = job->rstdIn[row];
    Vector sums = {0};
    int i = 0;
    for (; i + LANES <= C; i += LANES) sums += load(job->weight + i) * load(dy + i) * load(x + i) * rstd;
    float dNormNormMean = horizontalSum(sums);
    for (; i < C; i++) dNormNormMean += job->weight[i] * dy[i] * x[i] * rstd;
    dNormNormMean /= C;
    i = 0;
    for (; i + LANES <= C; i += LANES) {
      const Vector norm = load(x + i) * rstd, dOut = load(dy + i);
      store(dWeight + i, load(dWeight + i) + norm * dOut);
      store(dx + i, load(dx + i) + (load(job->weight + i) * dOut - norm * dNormNormMean) * rstd);
    }
    for (; i < C; i++) {
      const float norm = x[i] * rstd;
      dWeight[i] += norm * dy[i];
      dx[i] += (job->weight[i] * dy[i] - norm * dNormNormMean) * rstd;
    }
  }
}

int rmsnormBackward(Pool *pool, float *dInp, float *dWeight, const float *dOut, const float *inp, const float *weight,
                    const float *rstd, int BT, int C) {
  const int tasks = (BT + NORM_ROWS - 1) / NORM_ROWS, stride = partialStrideOf(C, 1);
  if (poolReserveShared(pool, (size_t)tasks * stride * sizeof(float)) != 0) return KERNEL_OUT_OF_MEMORY;
  NormJob job = {.dInp = dInp, .partials = poolShared(pool), .inp = inp, .weight = weight, .dOut = dOut, .rstdIn = rstd,
                 .BT = BT, .C = C, .partialStride = stride};
  poolRun(pool, rmsnormBackwardTask, &job, tasks);
  float *targets[1] = {dWeight};
  addPartials(targets, 1, job.partials, tasks, stride, C);
  return 0;
}
