/*
 * SIMD vectors for the native kernels, written once for every width with GCC's vector extensions: the compiler
 * turns `a * b + c` on `Vector` into fused multiply-adds of the widest registers that -march enables (AVX-512: 16
 * floats, AVX/AVX2: 8, otherwise 4). VECTOR_BYTES may be set on the command line to test another width's code
 * path on this CPU (a 64-byte vector on an AVX2 machine compiles to pairs of 32-byte instructions).
 * Also here: exp and tanh for whole vectors (Cephes-style polynomials, about 2 ulp), so that softmax and GELU
 * never leave the vector registers. Not here: any kernel.
 */
#ifndef SUCCESSOR_VECTOR_H
#define SUCCESSOR_VECTOR_H

#include <stdint.h>
#include <string.h>

#ifndef VECTOR_BYTES
#if defined(__AVX512F__)
#define VECTOR_BYTES 64
#elif defined(__AVX__)
#define VECTOR_BYTES 32
#else
#define VECTOR_BYTES 16
#endif
#endif

#define LANES (VECTOR_BYTES / 4)

typedef float Vector __attribute__((vector_size(VECTOR_BYTES)));
typedef int32_t IntVector __attribute__((vector_size(VECTOR_BYTES)));

static inline Vector load(const float *source) {
  Vector value;
  memcpy(&value, source, sizeof value);
  return value;
}

static inline void store(float *target, Vector value) {
  memcpy(target, &value, sizeof value);
}

static inline Vector broadcast(float value) {
  return value - (Vector){0}; /* x - 0 is x for every float, so this folds to one broadcast (x + 0 would not: -0) */
}

static inline float horizontalSum(Vector value) {
  float sum = 0;
  for (int lane = 0; lane < LANES; lane++) sum += value[lane];
  return sum;
}

static inline float horizontalMaximum(Vector value) {
  float maximum = value[0];
  for (int lane = 1; lane < LANES; lane++) maximum = value[lane] > maximum ? value[lane] : maximum;
  return maximum;
}

/* Lanes of `whenTrue` where the mask (a comparison's result: all ones or all zeros per lane) is set, else of `whenFalse`. */
static inline Vector selectLanes(IntVector mask, Vector whenTrue, Vector whenFalse) {
  IntVector trueBits, falseBits;
  memcpy(&trueBits, &whenTrue, sizeof trueBits);
  memcpy(&falseBits, &whenFalse, sizeof falseBits);
  IntVector bits = (mask & trueBits) | (~mask & falseBits);
  Vector result;
  memcpy(&result, &bits, sizeof result);
  return result;
}

static inline Vector vectorMaximum(Vector left, Vector right) {
  return selectLanes(left > right, left, right);
}

static inline Vector vectorMinimum(Vector left, Vector right) {
  return selectLanes(left < right, left, right);
}

/* e^x for every lane: x = n ln2 + r with |r| <= ln2/2, e^r by a degree-6 polynomial, 2^n by the exponent bits. */
static inline Vector vectorExp(Vector x) {
  x = vectorMinimum(vectorMaximum(x, broadcast(-87.33654f)), broadcast(88.72283f));
  const Vector roundingShift = broadcast(12582912.0f); /* 1.5 * 2^23: adding it rounds to an integer */
  Vector n = (x * 1.44269504088896341f + roundingShift) - roundingShift;
  Vector r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  Vector polynomial = broadcast(1.9875691500e-4f);
  polynomial = polynomial * r + 1.3981999507e-3f;
  polynomial = polynomial * r + 8.3334519073e-3f;
  polynomial = polynomial * r + 4.1665795894e-2f;
  polynomial = polynomial * r + 1.6666665459e-1f;
  polynomial = polynomial * r + 5.0000001201e-1f;
  polynomial = polynomial * r * r + r + 1.0f;
  /* n may reach 128 at the upper clamp: split 2^n into two factors so that neither exponent overflows */
  IntVector exponent = __builtin_convertvector(n, IntVector);
  IntVector half = exponent >> 1;
  Vector scaleLow, scaleHigh;
  IntVector bitsLow = (half + 127) << 23, bitsHigh = (exponent - half + 127) << 23;
  memcpy(&scaleLow, &bitsLow, sizeof scaleLow);
  memcpy(&scaleHigh, &bitsHigh, sizeof scaleHigh);
  return polynomial * scaleLow * scaleHigh;
}

/* tanh(x) = sign(x) (1 - 2 / (e^{2|x|} + 1)); for small |x| an odd polynomial, which avoids the cancellation. */
static inline Vector vectorTanh(Vector x) {
  Vector magnitude = selectLanes(x < 0, -x, x);
  Vector large = 1.0f - 2.0f / (vectorExp(2.0f * magnitude) + 1.0f);
  Vector squared = x * x;
  /* Taylor to x^9 is within 1 ulp for |x| < 0.0625 */
  Vector small = x * (1.0f + squared * (-0.33333333f + squared * (0.13333333f + squared * (-0.053968254f + squared * 0.021869488f))));
  Vector signedLarge = selectLanes(x < 0, -large, large);
  return selectLanes(magnitude < 0.0625f, small, signedLarge);
}

/*
 * Transposes a LANES x LANES block in registers: rows[i][k] becomes rows[k][i]. log2(LANES) stages; stage h swaps
 * the off-diagonal h x h blocks of each pair of rows (i, i + h), two shuffles per pair (constant masks, so each
 * compiles to one or two shuffle instructions).
 */
#define TRANSPOSE_STAGE(h, low, high)                                                    \
  for (int i = 0; i < LANES; i++) {                                                      \
    if (i & (h)) continue;                                                               \
    const Vector lowHalf = __builtin_shuffle(rows[i], rows[i + (h)], (IntVector)low);    \
    const Vector highHalf = __builtin_shuffle(rows[i], rows[i + (h)], (IntVector)high);  \
    rows[i] = lowHalf;                                                                   \
    rows[i + (h)] = highHalf;                                                            \
  }
static inline __attribute__((always_inline)) void transposeLanes(Vector rows[LANES]) {
#if LANES == 16
  TRANSPOSE_STAGE(8, ((IntVector){0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23}), ((IntVector){8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31}))
  TRANSPOSE_STAGE(4, ((IntVector){0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27}), ((IntVector){4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31}))
  TRANSPOSE_STAGE(2, ((IntVector){0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29}), ((IntVector){2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31}))
  TRANSPOSE_STAGE(1, ((IntVector){0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30}), ((IntVector){1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31}))
#elif LANES == 8
  TRANSPOSE_STAGE(4, ((IntVector){0, 1, 2, 3, 8, 9, 10, 11}), ((IntVector){4, 5, 6, 7, 12, 13, 14, 15}))
  TRANSPOSE_STAGE(2, ((IntVector){0, 1, 8, 9, 4, 5, 12, 13}), ((IntVector){2, 3, 10, 11, 6, 7, 14, 15}))
  TRANSPOSE_STAGE(1, ((IntVector){0, 8, 2, 10, 4, 12, 6, 14}), ((IntVector){1, 9, 3, 11, 5, 13, 7, 15}))
#elif LANES == 4
  TRANSPOSE_STAGE(2, ((IntVector){0, 1, 4, 5}), ((IntVector){2, 3, 6, 7}))
  TRANSPOSE_STAGE(1, ((IntVector){0, 4, 2, 6}), ((IntVector){1, 5, 3, 7}))
#endif
}
#undef TRANSPOSE_STAGE

static inline float scalarExp(float x) {
  Vector result = vectorExp(broadcast(x));
  return result[0];
}

#endif
