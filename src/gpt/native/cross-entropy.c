/*
 * Softmax plus cross-entropy over the vocabulary, on the pool in tasks of CROSS_ENTROPY_ROWS rows. As in the
 * reference, a row's loss is log(sum exp(logit - max)) + max - logit[target] in double, never -log(prob) (a float
 * probability can underflow to 0); the mean adds the rows' losses in row order.
 */
#include "kernels.h"

#include <math.h>

#define CROSS_ENTROPY_ROWS 32

typedef struct CrossEntropyJob {
  float *losses, *probs, *dLogits;
  const float *logits, *probsIn;
  const int32_t *targets;
  double *rowLosses;
  float dLossScale;
  int BT, V;
} CrossEntropyJob;

static void forwardTask(void *context, int task, int thread) {
  (void)thread;
  const CrossEntropyJob *job = context;
  const int V = job->V;
  for (int row = task * CROSS_ENTROPY_ROWS; row < job->BT && row < (task + 1) * CROSS_ENTROPY_ROWS; row++) {
    const float *logits = job->logits + (size_t)row * V;
    float *probs = job->probs + (size_t)row * V;
    Vector maximums = broadcast(-INFINITY);
    int i = 0;
    for (; i + LANES <= V; i += LANES) maximums = vectorMaximum(maximums, load(logits + i));
    float maximum = horizontalMaximum(maximums);
    for (; i < V; i++) maximum = logits[i] > maximum ? logits[i] : maximum;
    Vector sums = {0};
    i = 0;
    for (; i + LANES <= V; i += LANES) {
      const Vector value = vectorExp(load(logits + i) - maximum);
      store(probs + i, value);
      sums += value;
    }
    float sum = horizontalSum(sums);
    for (; i < V; i++) {
      probs[i] = scalarExp(logits[i] - maximum);
      sum += probs[i];
    }
    const float inverse = 1.0f / sum;
    i = 0;
    for (; i + LANES <= V; i += LANES) store(probs + i, load(probs + i) * inverse);
    for (; i < V; i++) probs[i] *= inverse;
    const double loss = log((double)sum) + maximum - logits[job->targets[row]];
    job->losses[row] = (float)loss;
    job->rowLosses[row] = loss;
  }
}

double crossEntropyForward(Pool *pool, float *losses, float *probs, const float *logits, const int32_t *targets, int BT, int V) {
  if (poolReserveShared(pool, (size_t)BT * sizeof(double)) != 0) return -1.0;
  CrossEntropyJob job = {.losses = losses, .probs = probs, .logits = logits, .targets = targets,
                         .rowLosses = (double *)poolShared(pool), .BT = BT, .V = V};
  poolRun(pool, forwardTask, &job, (BT + CROSS_ENTROPY_ROWS - 1) / CROSS_ENTROPY_ROWS);
  double sum = 0.0;
  for (int row = 0; row < BT; row++) sum += job.rowLosses[row];
  return sum / BT;
}

/* dLogits = (probs - onehot(target)) * dLossScale, overwritten */
static void backwardTask(void *context, int task, int thread) {
  (void)thread;
  const CrossEntropyJob *job = context;
  const int V = job->V;
  for (int row = task * CROSS_ENTROPY_ROWS; row < job->BT && row < (task + 1) * CROSS_ENTROPY_ROWS; row++) {
    const float *probs = job->probsIn + (size_t)row * V;
    float *dLogits = job->dLogits + (size_t)row * V;
    int i = 0;
    for (; i + LANES <= V; i += LANES) store(dLogits + i, load(probs + i) * job->dLossScale);
    for (; i < V; i++) dLogits[i] = probs[i] * job->dLossScale;
    dLogits[job->targets[row]] -= job->dLossScale;
  }
}

void crossEntropyBackward(Pool *pool, float *dLogits, const float *probs, const int32_t *targets, float dLossScale, int BT, int V) {
  CrossEntropyJob job = {.dLogits = dLogits, .probsIn = probs, .targets = targets, .dLossScale = dLossScale, .BT = BT, .V = V};
  poolRun(pool, backwardTask, &job, (BT + CROSS_ENTROPY_ROWS - 1) / CROSS_ENTROPY_ROWS);
}
