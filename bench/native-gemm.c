/*
 * Our GEMM (src/gpt/native/gemm.c) against the machine's OpenBLAS, one thread each, on the benchmark model's
 * matmul shapes (BT = 4096 rows; C -> OC of qkv, attproj, fc, fcproj, the LM head): the forward product, dInp and
 * dWeight, each with inputs hot in cache (best of 7) and cold (12 rotating buffer sets, so that each call reads
 * its inputs from memory as the model does). Times are the process's CPU time, which a shared machine disturbs
 * less than wall time. How the native backend's block sizes and its choice of its own kernels over a BLAS were made.
 *
 *   npm run bench:gemm          (compiles this file with the kernels' own flags, then runs it)
 *
 * OpenBLAS is opened at run time (dlopen), so the program builds without it; without it only ours is timed.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../src/gpt/native/kernels.h"

#define ROW_MAJOR 101
#define NO_TRANSPOSE 111
#define TRANSPOSE 112
#define COLD_SETS 12

typedef void (*Sgemm)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);

static double cpuSeconds(void) {
  struct timespec now;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return now.tv_sec + now.tv_nsec * 1e-9;
}

static float *randomMatrix(size_t count) {
  float *values = aligned_alloc(64, (count * sizeof(float) + 63) / 64 * 64);
  for (size_t i = 0; i < count; i++) values[i] = (float)rand() / RAND_MAX - 0.5f;
  return values;
}

typedef struct Operands {
  float *inp, *weight, *out, *dOut, *dInp, *dWeight;
} Operands;

/* which: 0 forward, 1 dInp, 2 dWeight. ours: our kernels, else OpenBLAS. */
static void product(int which, int ours, Sgemm sgemm, Pool *pool, const Operands *o, int BT, int C, int OC) {
  if (ours) {
    Gemm gemm;
    if (which == 0) gemm = (Gemm){.m = BT, .n = OC, .k = C, .a = o->inp, .aRow = C, .aColumn = 1, .b = o->weight, .bRow = 1, .bColumn = C, .c = o->out, .cRow = OC, .alpha = 1};
    if (which == 1) gemm = (Gemm){.m = BT, .n = C, .k = OC, .a = o->dOut, .aRow = OC, .aColumn = 1, .b = o->weight, .bRow = C, .bColumn = 1, .c = o->dInp, .cRow = C, .alpha = 1};
    if (which < 2) parallelGemm(pool, &gemm, EPILOGUE_NONE, NULL, NULL);
    else matmulBackward(pool, o->dInp, o->dWeight, NULL, o->dOut, o->inp, o->weight, BT, C, OC, EPILOGUE_NONE, NULL); /* dInp + dWeight */
    return;
  }
  if (which == 0) sgemm(ROW_MAJOR, NO_TRANSPOSE, TRANSPOSE, BT, OC, C, 1, o->inp, C, o->weight, C, 0, o->out, OC);
  if (which >= 1) sgemm(ROW_MAJOR, NO_TRANSPOSE, NO_TRANSPOSE, BT, C, OC, 1, o->dOut, OC, o->weight, C, 0, o->dInp, C);
  if (which == 2) sgemm(ROW_MAJOR, TRANSPOSE, NO_TRANSPOSE, OC, C, BT, 1, o->dOut, OC, o->inp, C, 1, o->dWeight, C);
}

int main(void) {
  Sgemm sgemm = NULL;
  const char *libraries[] = {"libopenblas.so.0", "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0", "libopenblas.so"};
  for (size_t i = 0; i < sizeof libraries / sizeof libraries[0] && !sgemm; i++) {
    void *handle = dlopen(libraries[i], RTLD_NOW);
    if (!handle) continue;
    sgemm = (Sgemm)dlsym(handle, "cblas_sgemm");
    void (*setThreads)(int) = (void (*)(int))dlsym(handle, "openblas_set_num_threads");
    if (setThreads) setThreads(1);
    char *(*coreName)(void) = (char *(*)(void))dlsym(handle, "openblas_get_corename");
    if (sgemm) printf("OpenBLAS: %s (kernels %s)\n", libraries[i], coreName ? coreName() : "?");
  }
  if (!sgemm) printf("OpenBLAS: not found; timing ours only\n");
  printf("ours: %d-byte vectors, tile %d x %d, k block %d, row block %d; GFLOP/s, one thread\n", VECTOR_BYTES, MR, NR, KC, MC);
  Pool *pool = poolCreate(1);
  const int BT = 4096;
  const int shapes[][2] = {{128, 384}, {128, 128}, {128, 512}, {512, 128}, {128, 256}};
  const char *names[] = {"forward", "dInp", "dInp+dWeight"};
  printf("%-14s %-12s %10s %10s %10s %10s\n", "C -> OC", "product", "ours hot", "BLAS hot", "ours cold", "BLAS cold");
  for (size_t shape = 0; shape < sizeof shapes / sizeof shapes[0]; shape++) {
    const int C = shapes[shape][0], OC = shapes[shape][1];
    Operands sets[COLD_SETS];
    for (int set = 0; set < COLD_SETS; set++) {
      sets[set] = (Operands){randomMatrix((size_t)BT * C), randomMatrix((size_t)OC * C), randomMatrix((size_t)BT * OC),
                             randomMatrix((size_t)BT * OC), randomMatrix((size_t)BT * C), randomMatrix((size_t)OC * C)};
    }
    for (int which = 0; which < 3; which++) {
      const double flops = (which == 2 ? 4.0 : 2.0) * BT * C * OC;
      double rates[4] = {0, 0, 0, 0}; /* ours hot, BLAS hot, ours cold, BLAS cold */
      for (int ours = 1; ours >= (sgemm ? 0 : 1); ours--) {
        double best = 1e9, total = 0;
        for (int repetition = 0; repetition < 7; repetition++) {
          const double start = cpuSeconds();
          product(which, ours, sgemm, pool, &sets[0], BT, C, OC);
          const double elapsed = cpuSeconds() - start;
          best = elapsed < best ? elapsed : best;
        }
        for (int repetition = 0; repetition < 2 * COLD_SETS; repetition++) {
          const double start = cpuSeconds();
          product(which, ours, sgemm, pool, &sets[repetition % COLD_SETS], BT, C, OC);
          total += cpuSeconds() - start;
        }
        rates[ours ? 0 : 1] = flops / best / 1e9;
        rates[ours ? 2 : 3] = flops * 2 * COLD_SETS / total / 1e9;
      }
      char shapeName[32];
      snprintf(shapeName, sizeof shapeName, "%d -> %d", C, OC);
      printf("%-14s %-12s %10.1f %10.1f %10.1f %10.1f\n", shapeName, names[which], rates[0], rates[1], rates[2], rates[3]);
    }
    for (int set = 0; set < COLD_SETS; set++) {
      free(sets[set].inp), free(sets[set].weight), free(sets[set].out), free(sets[set].dOut), free(sets[set].dInp), free(sets[set].dWeight);
    }
  }
  poolDestroy(pool);
  return 0;
}
