/*
 * The encoder and the elementwise kernels on the pool: GELU (tanh approximation, as GPT-2 and the reference),
 * squared ReLU and the residual add, in tasks of ELEMENTWISE_VALUES values; the encoder in tasks of rows
 * (forward) and of channel blocks (backward: each task walks every row in order for its channels, so repeated
 * tokens add into dWte in the same order whatever the thread count).
 */
#include "kernels.h"

#define ELEMENTWISE_VALUES 16384
#define ENCODER_ROWS 64

static const float GELU_SCALE = 0.7978845608028654f; /* sqrt(2 / pi) */
static const float GELU_CUBIC = 0.044715f;

typedef struct ElementwiseJob {
  float *out, *out2;
  const float *in1, *in2;
  long N;
} ElementwiseJob;

static inline long taskCount(long N) {
  return (N + ELEMENTWISE_VALUES - 1) / ELEMENTWISE_VALUES;
}

static inline void taskRange(long N, int task, long *start, long *count) {
  *start = (long)task * ELEMENTWISE_VALUES;
  *count = N - *start < ELEMENTWISE_VALUES ? N - *start : ELEMENTWISE_VALUES;
}

static inline Vector geluVector(Vector x) {
  return 0.5f * x * (1.0f + vectorTanh(GELU_SCALE * (x + GELU_CUBIC * x * x * x)));
}

static inline Vector geluGradientVector(Vector x) {
  const Vector tanhOut = vectorTanh(GELU_SCALE * (x + GELU_CUBIC * x * x * x));
  const Vector sech2 = 1.0f - tanhOut * tanhOut;
  return 0.5f * (1.0f + tanhOut) + 0.5f * x * sech2 * GELU_SCALE * (1.0f + 3.0f * GELU_CUBIC * x * x);
}

/* A tail of fewer than LANES values, through a zero-padded vector. */
static inline Vector loadPartial(const float *source, long count) {
  float padded[LANES] = {0};
  for (long i = 0; i < count; i++) padded[i] = source[i];
  return load(padded);
}

static inline void storePartial(float *target, Vector value, long count) {
  for (long i = 0; i < count; i++) target[i] = value[i];
}

void geluValues(float *out, const float *inp, long N) {
  long i = 0;
  for (; i + LANES <= N; i += LANES) store(out + i, geluVector(load(inp + i)));
  if (i < N) storePartial(out + i, geluVector(loadPartial(inp + i, N - i)), N - i);
}

void geluGradientValues(float *dInp, const float *inp, long N) {
  long i = 0;
  for (; i + LANES <= N; i += LANES) store(dInp + i, load(dInp + i) * geluGradientVector(load(inp + i)));
  if (i < N) storePartial(dInp + i, loadPartial(dInp + i, N - i) * geluGradientVector(loadPartial(inp + i, N - i)), N - i);
}

static void geluForwardTask(void *context, int task, int thread) {
  (void)thread;
  const ElementwiseJob *job = context;
  long start, count;
  taskRange(job->N, task, &start, &count);
  geluValues(job->out + start, job->in1 + start, count);
}

void geluForward(Pool *pool, float *out, const float *inp, long N) {
  ElementwiseJob job = {.out = out, .in1 = inp, .N = N};
  poolRun(pool, geluForwardTask, &job, (int)taskCount(N));
}

/* dInp = gelu'(inp) * dOut (overwritten) */
static void geluBackwardTask(void *context, int task, int thread) {
  (void)thread;
  const ElementwiseJob *job = context;
  long start, count;
  taskRange(job->N, task, &start, &count);
  const float *inp = job->in1 + start, *dOut = job->in2 + start;
  float *dInp = job->out + start;
  long i = 0;
  for (; i + LANES <= count; i += LANES) store(dInp + i, load(dOut + i) * geluGradientVector(load(inp + i)));
  if (i < count) storePartial(dInp + i, loadPartial(dOut + i, count - i) * geluGradientVector(loadPartial(inp + i, count - i)), count - i);
}

void geluBackward(Pool *pool, float *dInp, const float *inp, const float *dOut, long N) {
  ElementwiseJob job = {.out = dInp, .in1 = inp, .in2 = dOut, .N = N};
  poolRun(pool, geluBackwardTask, &job, (int)taskCount(N));
}

static void relu2ForwardTask(void *context, int task, int thread) {
  (void)thread;
  const ElementwiseJob *job = context;
  long start, count;
  taskRange(job->N, task, &start, &count);
  for (long i = start; i < start + count; i++) {
    const float x = job->in1[i];
    job->out[i] = x > 0 ? x * x : 0.0f;
  }
}

void relu2Forward(Pool *pool, float *out, const float *inp, long N) {
  ElementwiseJob job = {.out = out, .in1 = inp, .N = N};
  poolRun(pool, relu2ForwardTask, &job, (int)taskCount(N));
}

/* dInp = 2 max(inp, 0) dOut (overwritten) */
static void relu2BackwardTask(void *context, int task, int thread) {
  (void)thread;
  const ElementwiseJob *job = context;
  long start, count;
  taskRange(job->N, task, &start, &count);
  for (long i = start; i < start + count; i++) {
    const float x = job->in1[i];
    job->out[i] = x > 0 ? 2.0f * x * job->in2[i] : 0.0f;
  }
}

void relu2Backward(Pool *pool, float *dInp, const float *inp, const float *dOut, long N) {
  ElementwiseJob job = {.out = dInp, .in1 = inp, .in2 = dOut, .N = N};
  poolRun(pool, relu2BackwardTask, &job, (int)taskCount(N));
}

static void residualForwardTask(void *context, int task, int thread) {
  (void)thread;
  const ElementwiseJob *job = context;
  long start, count;
  taskRange(job->N, task, &start, &count);
  for (long i = start; i < start + count; i++) job->out[i] = job->in1[i] + job->in2[i];
}

void residualForward(Pool *pool, float *out, const float *inp1, const float *inp2, long N) {
  ElementwiseJob job = {.out = out, .in1 = inp1, .in2 = inp2, .N = N};
  poolRun(pool, residualForwardTask, &job, (int)taskCount(N));
}

/* dInp1 = dInp2 = dOut (overwritten: an activation gradient) */
static void residualBackwardTask(void *context, int task, int thread) {
  (void)thread;
  const ElementwiseJob *job = context;
  long start, count;
  taskRange(job->N, task, &start, &count);
  for (long i = start; i < start + count; i++) job->out[i] = job->out2[i] = job->in1[i];
}

void residualBackward(Pool *pool, float *dInp1, float *dInp2, const float *dOut, long N) {
  ElementwiseJob job = {.out = dInp1, .out2 = dInp2, .in1 = dOut, .N = N};
  poolRun(pool, residualBackwardTask, &job, (int)taskCount(N));
}

typedef struct EncoderJob {
  float *out, *dWte, *dWpe;
  const float *wte, *wpe, *dOut;
  const int32_t *inputs;
  int B, T, C, channelBlock;
} EncoderJob;

static void encoderForwardTask(void *context, int task, int thread) {
  (void)thread;
  const EncoderJob *job = context;
  const int C = job->C, rows = job->B * job->T;
  for (int row = task * ENCODER_ROWS; row < rows && row < (task + 1) * ENCODER_ROWS; row++) {
    const float *token = job->wte + (size_t)job->inputs[row] * C, *position = job->wpe + (size_t)(row % job->T) * C;
    float *out = job->out + (size_t)row * C;
    for (int i = 0; i < C; i++) out[i] = token[i] + position[i];
  }
}

void encoderForward(Pool *pool, float *out, const int32_t *inputs, const float *wte, const float *wpe, int B, int T, int C) {
  EncoderJob job = {.out = out, .wte = wte, .wpe = wpe, .inputs = inputs, .B = B, .T = T, .C = C};
  poolRun(pool, encoderForwardTask, &job, (B * T + ENCODER_ROWS - 1) / ENCODER_ROWS);
}

static void encoderBackwardTask(void *context, int task, int thread) {
  (void)thread;
  const EncoderJob *job = context;
  const int C = job->C, rows = job->B * job->T;
  const int first = task * job->channelBlock, end = first + job->channelBlock < C ? first + job->channelBlock : C;
  for (int row = 0; row < rows; row++) {
    const float *dOut = job->dOut + (size_t)row * C;
    float *dToken = job->dWte + (size_t)job->inputs[row] * C, *dPosition = job->dWpe + (size_t)(row % job->T) * C;
    for (int i = first; i < end; i++) {
      dToken[i] += dOut[i];
      dPosition[i] += dOut[i];
    }
  }
}

void encoderBackward(Pool *pool, float *dWte, float *dWpe, const float *dOut, const int32_t *inputs, int B, int T, int C) {
  /* channel blocks of 16 floats: a cache line when C is a multiple of 16 */
  EncoderJob job = {.dWte = dWte, .dWpe = dWpe, .dOut = dOut, .inputs = inputs, .B = B, .T = T, .C = C, .channelBlock = 16};
  poolRun(pool, encoderBackwardTask, &job, (C + job.channelBlock - 1) / job.channelBlock);
}
