/*
 * The Node-API face of the native kernels: a thread pool handle, 64-byte-aligned zeroed Float32Arrays, and one
 * function per kernel taking (pool, buffers..., sizes...). Arguments are type-checked here (a wrong type throws a
 * TypeError); buffer lengths against sizes are checked by the caller, backend-native.ts, before any call.
 * Node-API is ABI-stable, so the library depends on no particular Node version. Not here: any arithmetic.
 * Over 400 lines for a reason: one short binding per kernel (about 30), each argument checks only, and the one table
 * that exports them; split, the table would import from several files for no gain in reading.
 */
#include <node_api.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kernels.h"

#define MAXIMUM_ARGUMENTS 16
#define MAPPED_BYTES (1 << 20) /* from here on, memory comes from mmap: zero pages, committed only when touched */

typedef struct PoolHandle {
  Pool *pool;
} PoolHandle;

typedef struct Arguments {
  napi_env env;
  napi_value values[MAXIMUM_ARGUMENTS];
  size_t count;
  size_t next;
  int failed;
} Arguments;

static void fail(Arguments *arguments, const char *message) {
  if (!arguments->failed) napi_throw_type_error(arguments->env, NULL, message);
  arguments->failed = 1;
}

static int readArguments(napi_env env, napi_callback_info info, Arguments *arguments, size_t expected) {
  arguments->env = env;
  arguments->count = MAXIMUM_ARGUMENTS;
  arguments->next = 0;
  arguments->failed = 0;
  if (napi_get_cb_info(env, info, &arguments->count, arguments->values, NULL, NULL) != napi_ok || arguments->count != expected) {
    fail(arguments, "native kernel called with the wrong number of arguments");
    return 0;
  }
  return 1;
}

static napi_value nextValue(Arguments *arguments) {
  return arguments->values[arguments->next++];
}

static Pool *nextPool(Arguments *arguments) {
  void *data = NULL;
  if (napi_get_value_external(arguments->env, nextValue(arguments), &data) != napi_ok || !data || !((PoolHandle *)data)->pool) {
    fail(arguments, "expected a live native thread pool");
    return NULL;
  }
  return ((PoolHandle *)data)->pool;
}

static void *nextTypedArray(Arguments *arguments, napi_typedarray_type wanted, int nullable, const char *message) {
  napi_value value = nextValue(arguments);
  napi_valuetype type;
  napi_typeof(arguments->env, value, &type);
  if (nullable && type == napi_null) return NULL;
  bool isTypedArray = false;
  napi_is_typedarray(arguments->env, value, &isTypedArray);
  napi_typedarray_type arrayType;
  size_t length;
  void *data = NULL;
  if (!isTypedArray || napi_get_typedarray_info(arguments->env, value, &arrayType, &length, &data, NULL, NULL) != napi_ok ||
      arrayType != wanted) {
    fail(arguments, message);
    return NULL;
  }
  return data;
}

static float *nextFloats(Arguments *arguments) {
  return nextTypedArray(arguments, napi_float32_array, 0, "expected a Float32Array");
}

static float *nextFloatsOrNull(Arguments *arguments) {
  return nextTypedArray(arguments, napi_float32_array, 1, "expected a Float32Array or null");
}

static int32_t *nextInt32s(Arguments *arguments) {
  return nextTypedArray(arguments, napi_int32_array, 0, "expected an Int32Array");
}

static double nextNumber(Arguments *arguments) {
  double number = 0;
  if (napi_get_value_double(arguments->env, nextValue(arguments), &number) != napi_ok) fail(arguments, "expected a number");
  return number;
}

static int nextInt(Arguments *arguments) {
  return (int)nextNumber(arguments);
}

static napi_value finish(Arguments *arguments, int status) {
  if (!arguments->failed && status == KERNEL_OUT_OF_MEMORY) napi_throw_error(arguments->env, NULL, "native kernel: out of memory for scratch");
  return NULL;
}

static napi_value numberValue(napi_env env, double number) {
  napi_value value;
  napi_create_double(env, number, &value);
  return value;
}

/* ---- pool and memory ---- */

static void finalizePool(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  PoolHandle *handle = data;
  poolDestroy(handle->pool);
  free(handle);
}

static napi_value createPool(napi_env env, napi_callback_info info) {
  Arguments arguments;
  if (!readArguments(env, info, &arguments, 1)) return NULL;
  const int threads = nextInt(&arguments);
  if (arguments.failed) return NULL;
  PoolHandle *handle = calloc(1, sizeof *handle);
  if (handle) handle->pool = poolCreate(threads);
  if (!handle || !handle->pool) {
    free(handle);
    napi_throw_error(env, NULL, "could not start the native thread pool");
    return NULL;
  }
  napi_value result;
  napi_create_external(env, handle, finalizePool, NULL, &result);
  return result;
}

static napi_value destroyPool(napi_env env, napi_callback_info info) {
  Arguments arguments;
  if (!readArguments(env, info, &arguments, 1)) return NULL;
  void *data = NULL;
  if (napi_get_value_external(env, arguments.values[0], &data) == napi_ok && data) {
    PoolHandle *handle = data;
    poolDestroy(handle->pool);
    handle->pool = NULL;
  }
  return NULL;
}

typedef struct Allocation {
  void *memory;
  size_t bytes;
  int mapped;
} Allocation;

static void finalizeAllocation(napi_env env, void *data, void *hint) {
  (void)data;
  Allocation *allocation = hint;
  int64_t adjusted;
  napi_adjust_external_memory(env, -(int64_t)allocation->bytes, &adjusted);
  if (allocation->mapped) munmap(allocation->memory, allocation->bytes);
  else free(allocation->memory);
  free(allocation);
}

static napi_value allocate(napi_env env, napi_callback_info info) {
  Arguments arguments;
  if (!readArguments(env, info, &arguments, 1)) return NULL;
  const double length = nextNumber(&arguments);
  if (arguments.failed) return NULL;
  if (!(length >= 0 && length <= (double)(SIZE_MAX / 8))) {
    napi_throw_range_error(env, NULL, "cannot allocate that many floats");
    return NULL;
  }
  Allocation *allocation = calloc(1, sizeof *allocation);
  size_t bytes = ((size_t)length * sizeof(float) + 63) & ~(size_t)63;
  if (bytes == 0) bytes = 64;
  if (allocation && bytes >= MAPPED_BYTES) {
    void *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory != MAP_FAILED) *allocation = (Allocation){memory, bytes, 1};
  } else if (allocation) {
    void *memory = NULL;
    if (posix_memalign(&memory, 64, bytes) == 0) {
      memset(memory, 0, bytes);
      *allocation = (Allocation){memory, bytes, 0};
    }
  }
  if (!allocation || !allocation->memory) {
    free(allocation);
    napi_throw_error(env, NULL, "native allocate: out of memory");
    return NULL;
  }
  napi_value buffer, result;
  if (napi_create_external_arraybuffer(env, allocation->memory, bytes, finalizeAllocation, allocation, &buffer) != napi_ok) {
    finalizeAllocation(env, NULL, allocation);
    napi_throw_error(env, NULL, "native allocate: this Node does not allow external ArrayBuffers");
    return NULL;
  }
  int64_t adjusted;
  napi_adjust_external_memory(env, (int64_t)bytes, &adjusted);
  napi_create_typedarray(env, napi_float32_array, (size_t)length, buffer, 0, &result);
  return result;
}

/* ---- kernels ---- */

static napi_value bindMatmulForward(napi_env env, napi_callback_info info) {
  Arguments a;
  if (!readArguments(env, info, &a, 10)) return NULL;
  Pool *pool = nextPool(&a);
  float *out = nextFloats(&a), *activated = nextFloatsOrNull(&a);
  const float *inp = nextFloats(&a), *weight = nextFloats(&a), *bias = nextFloatsOrNull(&a);
  const int BT = nextInt(&a), C = nextInt(&a), OC = nextInt(&a), epilogue = nextInt(&a);
  if (a.failed) return NULL;
  return finish(&a, matmulForward(pool, out, inp, weight, bias, BT, C, OC, (Epilogue)epilogue, activated));
}

static napi_value bindMatmulBackward(napi_env env, napi_callback_info info) {
  Arguments a;
  if (!readArguments(env, info, &a, 12)) return NULL;
  Pool *pool = nextPool(&a);
  float *dInp = nextFloats(&a), *dWeight = nextFloats(&a), *dBias = nextFloatsOrNull(&a);
  const float *dOut = nextFloats(&a), *inp = nextFloats(&a), *weight = nextFloats(&a), *pre = nextFloatsOrNull(&a);
  const int BT = nextInt(&a), C = nextInt(&a), OC = nextInt(&a), epilogue = nextInt(&a);
  if (a.failed) return NULL;
  return finish(&a, matmulBackward(pool, dInp, dWeight, dBias, dOut, inp, weight, BT, C, OC, (Epilogue)epilogue, pre));
}

static napi_value bindAttentionForward(napi_env env, napi_callback_info info) {
  Arguments a;
  if (!readArguments(env, info, &a, 8)) return NULL;
  Pool *pool = nextPool(&a);
  float *out = nextFloats(&a), *att = nextFloats(&a);
  const float *qkv = nextFloats(&a);
  const int B = nextInt(&a), T = nextInt(&a), C = nextInt(&a), NH = nextInt(&a);
  if (a.failed) return NULL;
  return finish(&a, attentionForward(pool, out, att, qkv, B, T, C, NH));
}

static napi_value bindAttentionBackward(napi_env env, napi_callback_info info) {
  Arguments a;
  if (!readArguments(env, info, &a, 9)) return NULL;
  Pool *pool = nextPool(&a);
  float *dQkv = nextFloats(&a);
  const float *dOut = nextFloats(&a), *qkv = nextFloats(&a), *att = nextFloats(&a);
  const int B = nextInt(&a), T = nextInt(&a), C = nextInt(&a), NH = nextInt(&a);
  if (a.failed) return NULL;
  return finish(&a, attentionBackward(pool, dQkv, dOut, qkv, att, B, T, C, NH));
}

static napi_value bindLayernormForward(napi_env env, napi_callback_info info) {
  Arguments a;
  if (!readArguments(env, info, &a, 10)) return NULL;
  Pool *pool = nextPool(&a);
  float *out = nextFloats(&a), *mean = nextFloats(&a), *rstd = nextFloats(&a);
  const float *inp = nextFloats(&a), *weight = nextFloats(&a), *bias = nextFloats(&a);
  const int BT = nextInt(&a), C = nextInt(&a);
  const float epsilon = (float)nextNumber(&a);
  if (a.failed) return NULL;
  return finish(&a, layernormForward(pool, out, mean, rstd, inp, weight, bias, BT, C, epsilon));
}

static napi_value bindLayernormBackward(napi_env env, napi_callback_info info) {
  Arguments a;
  if (!readArguments(env, info, &a, 11)) return NULL;
  Pool *pool = nextPool(&a);
  float *dInp = nextFloats(&a), *dWeight = nextFloats(&a), *dBias = nextFloats(&a);
  const float *dOut = nextFloats(&a), *inp = nextFloats(&a), *weight = nextFloats(&a), *mean = nextFloats(&a), *rstd = nextFloats(&a);
  const int BT = nextInt(&a), C = nextInt(&a);
  if (a.failed) return NULL;
  return finish(&a, layernormBackward(pool, dInp, dWeight, dBias, dOut, inp, weight, mean, rstd, BT, C));
}

static napi_value bindRmsnormForward(napi_env env, napi_callback_info info) {
  Arguments a;
  if (!readArguments(env, info, &a, 8)) return NULL;
  Pool *pool = nextPool(&a);
  float *out = nextFloats(&a), *rstd = nextFloats(&a);
  const float *inp = nextFloats(&a), *weight = nextFloats(&a);
  const int BT = nextInt(&a), C = nextInt(&a);
  const float epsilon = (float)nextNumber(&a);
  if (a.failed) return NULL;
  return finish(&a, rmsnormForward(pool, out, rstd, inp, weight, BT, C, epsilon));
}

static napi_value bindRmsnormBackward(napi_env env, napi_callback_info info) {
  Arguments a;
  if (!readArguments(env, info, &a, 9)) return NULL;
  Pool *pool = nextPool(&a);
  float *dInp = nextFloats(&a), *dWeight = nextFloats(&a);
  const float *dOut = nextFloats(&a), *inp = nextFloats(&a), *weight = nextFloats(&a), *rstd = nextFloats(&a);
  const int BT = nextInt(&a), C = nextInt(&a);
  if (a.failed) return NULL;
  return finish(&a, rmsnormBackward(pool, dInp, dWeight, dOut, inp, weight, rstd, BT, C));
}

static napi_value bindEncoderForward(napi_env env, napi_callback_info info) {
  Arguments a;
  if (!readArguments(env, info, &a, 8)) return NULL;
  Pool *pool = nextPool(&a);
  float *out = nextFloats(&a);
  const int32_t *inputs = nextInt32s(&a);
  const float *wte = nextFloats(&a), *wpe = nextFloats(&a);
  const int B = nextInt(&a), T = nextInt(&a), C = nextInt(&a);
  if (a.failed) return NULL;
  encoderForward(pool, out, inputs, wte, wpe, B, T, C);
  return NULL;
}

static napi_value bindEncoderBackward(napi_env env, napi_callback_info info) {
  Arguments a;
  if (!readArguments(env, info, &a, 8)) return NULL;
  Pool *pool = nextPool(&a);
  float *dWte = nextFloats(&a), *dWpe = nextFloats(&a);
  const float *dOut = nextFloats(&a);
  const int32_t *inputs = nextInt32s(&a);
  const int B = nextInt(&a), T = nextInt(&a), C = nextInt(&a);
  if (a.failed) return NULL;
  encoderBackward(pool, dWte, dWpe, dOut, inputs, B, T, C);
  return NULL;
}

/* (pool, out, inp, N) and (pool, dInp, inp, dOut, N) shapes of the elementwise kernels */
#define BIND_UNARY(name, kernel)                                                 \
  static napi_value name(napi_env env, napi_callback_info info) {                \
    Arguments a;                                                                 \
    if (!readArguments(env, info, &a, 4)) return NULL;                           \
    Pool *pool = nextPool(&a);                                                   \
    float *out = nextFloats(&a);                                                 \
    const float *inp = nextFloats(&a);                                           \
    const long N = (long)nextNumber(&a);                                         \
    if (a.failed) return NULL;                                                   \
    kernel(pool, out, inp, N);                                                   \
    return NULL;                                                                 \
  }
#define BIND_BINARY(name, kernel)                                                \
  static napi_value name(napi_env env, napi_callback_info info) {                \
    Arguments a;                                                                 \
    if (!readArguments(env, info, &a, 5)) return NULL;                           \
    Pool *pool = nextPool(&a);                                                   \
    float *out = nextFloats(&a);                                                 \
    const float *first = nextFloats(&a), *second = nextFloats(&a);               \
    const long N = (long)nextNumber(&a);                                         \
    if (a.failed) return NULL;                                                   \
    kernel(pool, out, first, second, N);                                         \
    return NULL;                                                                 \
  }
BIND_UNARY(bindGeluForward, geluForward)
BIND_BINARY(bindGeluBackward, geluBackward)
BIND_UNARY(bindRelu2Forward, relu2Forward)
BIND_BINARY(bindRelu2Backward, relu2Backward)
BIND_BINARY(bindResidualForward, residualForward)

static napi_value bindResidualBackward(napi_env env, napi_callback_info info) {
  Arguments a;
  if (!readArguments(env, info, &a, 5)) return NULL;
  Pool *pool = nextPool(&a);
  float *dInp1 = nextFloats(&a), *dInp2 = nextFloats(&a);
  const float *dOut = nextFloats(&a);
  const long N = (long)nextNumber(&a);
  if (a.failed) return NULL;
  residualBackward(pool, dInp1, dInp2, dOut, N);
  return NULL;
}

static napi_value bindCrossEntropyForward(napi_env env, napi_callback_info info) {
  Arguments a;
  if (!readArguments(env, info, &a, 7)) return NULL;
  Pool *pool = nextPool(&a);
  float *losses = nextFloats(&a), *probs = nextFloats(&a);
  const float *logits = nextFloats(&a);
  const int32_t *targets = nextInt32s(&a);
  const int BT = nextInt(&a), V = nextInt(&a);
  if (a.failed) return NULL;
  const double loss = crossEntropyForward(pool, losses, probs, logits, targets, BT, V);
  if (loss < 0) return finish(&a, KERNEL_OUT_OF_MEMORY);
  return numberValue(env, loss);
}

static napi_value bindCrossEntropyBackward(napi_env env, napi_callback_info info) {
  Arguments a;
  if (!readArguments(env, info, &a, 7)) return NULL;
  Pool *pool = nextPool(&a);
  float *dLogits = nextFloats(&a);
  const float *probs = nextFloats(&a);
  const int32_t *targets = nextInt32s(&a);
  const float dLossScale = (float)nextNumber(&a);
  const int BT = nextInt(&a), V = nextInt(&a);
  if (a.failed) return NULL;
  crossEntropyBackward(pool, dLogits, probs, targets, dLossScale, BT, V);
  return NULL;
}

/* (pool, params, grads, m, v, offset, length, learningRate, beta1, beta2, epsilon, weightDecay, beta1Correction, beta2Correction) */
static napi_value bindAdamwUpdate(napi_env env, napi_callback_info info) {
  Arguments a;
  if (!readArguments(env, info, &a, 14)) return NULL;
  Pool *pool = nextPool(&a);
  float *params = nextFloats(&a), *grads = nextFloats(&a), *m = nextFloats(&a), *v = nextFloats(&a);
  const long offset = (long)nextNumber(&a), length = (long)nextNumber(&a);
  const float learningRate = (float)nextNumber(&a), beta1 = (float)nextNumber(&a), beta2 = (float)nextNumber(&a);
  const float epsilon = (float)nextNumber(&a), weightDecay = (float)nextNumber(&a);
  const float beta1Correction = (float)nextNumber(&a), beta2Correction = (float)nextNumber(&a);
  if (a.failed) return NULL;
  adamwUpdate(pool, params + offset, grads + offset, m + offset, v + offset, length, learningRate, beta1, beta2, epsilon,
              weightDecay, beta1Correction, beta2Correction);
  return NULL;
}

static napi_value bindSumOfSquares(napi_env env, napi_callback_info info) {
  Arguments a;
  if (!readArguments(env, info, &a, 4)) return NULL;
  Pool *pool = nextPool(&a);
  const float *values = nextFloats(&a);
  const long offset = (long)nextNumber(&a), length = (long)nextNumber(&a);
  if (a.failed) return NULL;
  const double sum = sumOfSquares(pool, values + offset, length);
  if (sum < 0) return finish(&a, KERNEL_OUT_OF_MEMORY);
  return numberValue(env, sum);
}

static napi_value bindScale(napi_env env, napi_callback_info info) {
  Arguments a;
  if (!readArguments(env, info, &a, 5)) return NULL;
  Pool *pool = nextPool(&a);
  float *values = nextFloats(&a);
  const long offset = (long)nextNumber(&a), length = (long)nextNumber(&a);
  const float factor = (float)nextNumber(&a);
  if (a.failed) return NULL;
  scaleValues(pool, values + offset, length, factor);
  return NULL;
}

static napi_value bindMeasureFmaPeak(napi_env env, napi_callback_info info) {
  Arguments a;
  if (!readArguments(env, info, &a, 1)) return NULL;
  const double duration = nextNumber(&a);
  if (a.failed) return NULL;
  return numberValue(env, fmaPeakFlops(duration > 0 && duration < 10 ? duration : 0.1));
}

NAPI_MODULE_INIT() {
  const struct {
    const char *name;
    napi_callback function;
  } functions[] = {
      {"createPool", createPool}, {"destroyPool", destroyPool}, {"allocate", allocate},
      {"matmulForward", bindMatmulForward}, {"matmulBackward", bindMatmulBackward},
      {"attentionForward", bindAttentionForward}, {"attentionBackward", bindAttentionBackward},
      {"layernormForward", bindLayernormForward}, {"layernormBackward", bindLayernormBackward},
      {"rmsnormForward", bindRmsnormForward}, {"rmsnormBackward", bindRmsnormBackward},
      {"encoderForward", bindEncoderForward}, {"encoderBackward", bindEncoderBackward},
      {"geluForward", bindGeluForward}, {"geluBackward", bindGeluBackward},
      {"relu2Forward", bindRelu2Forward}, {"relu2Backward", bindRelu2Backward},
      {"residualForward", bindResidualForward}, {"residualBackward", bindResidualBackward},
      {"crossEntropyForward", bindCrossEntropyForward}, {"crossEntropyBackward", bindCrossEntropyBackward},
      {"adamwUpdate", bindAdamwUpdate}, {"sumOfSquares", bindSumOfSquares}, {"scale", bindScale},
      {"measureFmaPeak", bindMeasureFmaPeak},
  };
  for (size_t index = 0; index < sizeof functions / sizeof functions[0]; index++) {
    napi_value function;
    napi_create_function(env, functions[index].name, NAPI_AUTO_LENGTH, functions[index].function, NULL, &function);
    napi_set_named_property(env, exports, functions[index].name, function);
  }
  const struct {
    const char *name;
    double value;
  } constants[] = {{"vectorBytes", VECTOR_BYTES}, {"tileRows", MR}, {"tileColumns", NR}, {"blockDepth", KC}, {"blockRows", MC}};
  for (size_t index = 0; index < sizeof constants / sizeof constants[0]; index++) {
    napi_set_named_property(env, exports, constants[index].name, numberValue(env, constants[index].value));
  }
  return exports;
}
