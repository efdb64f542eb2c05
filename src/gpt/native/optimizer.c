/*
 * The optimizer kernels on the pool, in tasks of OPTIMIZER_VALUES values: AdamW's update (decoupled weight decay,
 * bias-corrected moments, as the reference), the sum of squares for gradient clipping (per-task partial sums in
 * double, added in task order) and scaling.
 */
#include "kernels.h"

#include <math.h>

#define OPTIMIZER_VALUES 16384

typedef struct OptimizerJob {
  float *params, *m, *v, *values;
  const float *grads, *valuesIn;
  double *partials;
  long length;
  float learningRate, beta1, beta2, epsilon, weightDecay, beta1Correction, beta2Correction, factor;
} OptimizerJob;

static inline void taskRange(long length, int task, long *start, long *end) {
  *start = (long)task * OPTIMIZER_VALUES;
  *end = *start + OPTIMIZER_VALUES < length ? *start + OPTIMIZER_VALUES : length;
}

static inline int taskCount(long length) {
  return (int)((length + OPTIMIZER_VALUES - 1) / OPTIMIZER_VALUES);
}

static void adamwTask(void *context, int task, int thread) {
  (void)thread;
  const OptimizerJob *job = context;
  long start, end;
  taskRange(job->length, task, &start, &end);
  const float beta1 = job->beta1, beta2 = job->beta2, oneMinusBeta1 = 1.0f - beta1, oneMinusBeta2 = 1.0f - beta2;
  const float inverseCorrection1 = 1.0f / job->beta1Correction, inverseCorrection2 = 1.0f / job->beta2Correction;
  const float learningRate = job->learningRate, epsilon = job->epsilon, weightDecay = job->weightDecay;
  for (long i = start; i < end; i++) {
    const float grad = job->grads[i];
    const float m = beta1 * job->m[i] + oneMinusBeta1 * grad;
    const float v = beta2 * job->v[i] + oneMinusBeta2 * grad * grad;
    job->m[i] = m;
    job->v[i] = v;
    const float mHat = m * inverseCorrection1, vHat = v * inverseCorrection2;
    job->params[i] -= learningRate * (mHat / (sqrtf(vHat) + epsilon) + weightDecay * job->params[i]);
  }
}

void adamwUpdate(Pool *pool, float *params, const float *grads, float *m, float *v, long length, float learningRate,
                 float beta1, float beta2, float epsilon, float weightDecay, float beta1Correction, float beta2Correction) {
  OptimizerJob job = {.params = params, .m = m, .v = v, .grads = grads, .length = length, .learningRate = learningRate,
                      .beta1 = beta1, .beta2 = beta2, .epsilon = epsilon, .weightDecay = weightDecay,
                      .beta1Correction = beta1Correction, .beta2Correction = beta2Correction};
  poolRun(pool, adamwTask, &job, taskCount(length));
}

static void sumOfSquaresTask(void *context, int task, int thread) {
  (void)thread;
  const OptimizerJob *job = context;
  long start, end;
  taskRange(job->length, task, &start, &end);
  /* float vectors over short blocks, added into a double: as exact as the reference's double sum, to ~1e-7 */
  double sum = 0.0;
  long i = start;
  while (i + LANES <= end) {
    Vector sums = {0};
    for (int block = 0; block < 8 && i + LANES <= end; block++, i += LANES) {
      const Vector value = load(job->valuesIn + i);
      sums += value * value;
    }
    for (int lane = 0; lane < LANES; lane++) sum += sums[lane];
  }
  for (; i < end; i++) sum += (double)job->valuesIn[i] * job->valuesIn[i];
  job->partials[task] = sum;
}

double sumOfSquares(Pool *pool, const float *values, long length) {
  const int tasks = taskCount(length);
  if (poolReserveShared(pool, (size_t)tasks * sizeof(double) + 64) != 0) return -1.0;
  OptimizerJob job = {.valuesIn = values, .length = length, .partials = (double *)poolShared(pool)};
  poolRun(pool, sumOfSquaresTask, &job, tasks);
  double sum = 0.0;
  for (int task = 0; task < tasks; task++) sum += job.partials[task];
  return sum;
}

static void scaleTask(void *context, int task, int thread) {
  (void)thread;
  const OptimizerJob *job = context;
  long start, end;
  taskRange(job->length, task, &start, &end);
  for (long i = start; i < end; i++) job->values[i] *= job->factor;
}

void scaleValues(Pool *pool, float *values, long length, float factor) {
  OptimizerJob job = {.values = values, .length = length, .factor = factor};
  poolRun(pool, scaleTask, &job, taskCount(length));
}
