/*
 * The measured fused multiply-add peak of one core: independent chains of vector FMAs (enough of them to fill
 * every FMA pipe despite each one's latency), timed. The benchmark's MFU divides by it, so MFU is against what
 * this CPU really does with the vectors -march gave us, not a number from a data sheet.
 */
#include "kernels.h"

#include <time.h>

#define CHAINS 12

static double seconds(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec + now.tv_nsec * 1e-9;
}

double fmaPeakFlops(double duration) {
  Vector chains[CHAINS];
  for (int chain = 0; chain < CHAINS; chain++) chains[chain] = broadcast(0.001f * chain);
  const Vector multiplier = broadcast(0.9999999f), addend = broadcast(1e-7f);
  long iterations = 0;
  const double start = seconds();
  double elapsed;
  do {
    for (int repeat = 0; repeat < 4096; repeat++) {
#pragma GCC unroll 12
      for (int chain = 0; chain < CHAINS; chain++) chains[chain] = chains[chain] * multiplier + addend;
    }
    iterations += 4096;
    elapsed = seconds() - start;
  } while (elapsed < duration);
  Vector sum = {0};
  for (int chain = 0; chain < CHAINS; chain++) sum += chains[chain];
  volatile float sink = horizontalSum(sum); /* the chains' results are used: the loop cannot be dropped */
  (void)sink;
  return (double)iterations * CHAINS * LANES * 2 / elapsed;
}
