/*
 * Every native kernel, as the Node-API bindings (addon.c) call them. Conventions as in ../backend.ts: buffers are
 * flat, row-major float32; dimension letters as in ../config.ts; each kernel runs on the pool's threads and
 * returns when done. Activation gradients (dInp of a matmul, an activation, attention's dQkv, dLogits) are
 * overwritten; gradients of parameters and the norm's dInp (the residual stream) are accumulated.
 * A kernel returns 0, or KERNEL_OUT_OF_MEMORY when its scratch memory could not be had (nothing was written then).
 * Sizes and buffer lengths are checked by the caller (backend-native.ts) before any kernel runs.
 */
#ifndef SUCCESSOR_KERNELS_H
#define SUCCESSOR_KERNELS_H

#include "gemm.h"
#include "pool.h"

#define KERNEL_OUT_OF_MEMORY 1

/* What a matmul's epilogue applies to the rows it has just computed. */
typedef enum {
  EPILOGUE_NONE = 0,
  EPILOGUE_GELU, /* forward: activated = gelu(out) */
  EPILOGUE_GELU_BACKWARD, /* backward: dInp *= gelu'(pre) */
} Epilogue;

/* A product on the pool: B packed once (shared), rows of C in tasks of MC rows, each followed by `epilogue`. */
int parallelGemm(Pool *pool, const Gemm *gemm, Epilogue epilogue, float *epilogueOut, const float *epilogueIn);

int matmulForward(Pool *pool, float *out, const float *inp, const float *weight, const float *bias, int BT, int C, int OC,
                  Epilogue epilogue, float *activated);
int matmulBackward(Pool *pool, float *dInp, float *dWeight, float *dBias, const float *dOut, const float *inp,
                   const float *weight, int BT, int C, int OC, Epilogue epilogue, const float *pre);

int attentionForward(Pool *pool, float *out, float *att, const float *qkv, int B, int T, int C, int NH);
int attentionBackward(Pool *pool, float *dQkv, const float *dOut, const float *qkv, const float *att, int B, int T, int C, int NH);

int layernormForward(Pool *pool, float *out, float *mean, float *rstd, const float *inp, const float *weight,
                     const float *bias, int BT, int C, float epsilon);
int layernormBackward(Pool *pool, float *dInp, float *dWeight, float *dBias, const float *dOut, const float *inp,
                      const float *weight, const float *mean, const float *rstd, int BT, int C);
int rmsnormForward(Pool *pool, float *out, float *rstd, const float *inp, const float *weight, int BT, int C, float epsilon);
int rmsnormBackward(Pool *pool, float *dInp, float *dWeight, const float *dOut, const float *inp, const float *weight,
                    const float *rstd, int BT, int C);

void encoderForward(Pool *pool, float *out, const int32_t *inputs, const float *wte, const float *wpe, int B, int T, int C);
void encoderBackward(Pool *pool, float *dWte, float *dWpe, const float *dOut, const int32_t *inputs, int B, int T, int C);

void geluForward(Pool *pool, float *out, const float *inp, long N);
void geluBackward(Pool *pool, float *dInp, const float *inp, const float *dOut, long N);
void relu2Forward(Pool *pool, float *out, const float *inp, long N);
void relu2Backward(Pool *pool, float *dInp, const float *inp, const float *dOut, long N);
void residualForward(Pool *pool, float *out, const float *inp1, const float *inp2, long N);
void residualBackward(Pool *pool, float *dInp1, float *dInp2, const float *dOut, long N);
/* Row-wise GELU for epilogues: out[i] = gelu(inp[i]); dInp[i] *= gelu'(inp[i]). Single-threaded. */
void geluValues(float *out, const float *inp, long N);
void geluGradientValues(float *dInp, const float *inp, long N);

/* Returns the mean loss, or a negative value when scratch memory could not be had. */
double crossEntropyForward(Pool *pool, float *losses, float *probs, const float *logits, const int32_t *targets, int BT, int V);
void crossEntropyBackward(Pool *pool, float *dLogits, const float *probs, const int32_t *targets, float dLossScale, int BT, int V);

void adamwUpdate(Pool *pool, float *params, const float *grads, float *m, float *v, long length, float learningRate,
                 float beta1, float beta2, float epsilon, float weightDecay, float beta1Correction, float beta2Correction);
/* Returns the sum, or a negative value when scratch memory could not be had. */
double sumOfSquares(Pool *pool, const float *values, long length);
void scaleValues(Pool *pool, float *values, long length, float factor);

/* FLOP/s of fused multiply-adds on the calling thread, measured for about `duration` seconds. */
double fmaPeakFlops(double duration);

#endif
