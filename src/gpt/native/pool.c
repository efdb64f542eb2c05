/*
 * The thread pool (see pool.h). Waiting: a thread with nothing to do spins briefly (a kernel call from JavaScript
 * usually follows the last within microseconds) and then sleeps on a condition variable; the publisher signals
 * only when someone sleeps. Worker threads block every signal, so that Node's own threads receive them.
 *
 * Claims: one 64-bit word holds the job's generation, its task count and the next task to claim. A thread claims
 * with a compare-and-swap on the whole word, so a worker that wakes late can never claim a task of a newer job with
 * the count of an older one. The job's function and context are read only after a claim succeeds: the job cannot
 * finish (and the caller cannot publish the next one) while a claimed task is still running.
 */
#include "pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define SPIN_ROUNDS 2000 /* about 50 microseconds of pause instructions before sleeping */
#define INDEX_BITS 20
#define INDEX_MASK ((UINT64_C(1) << INDEX_BITS) - 1)
#define MAXIMUM_JOB_TASKS ((int)INDEX_MASK)

static inline unsigned generationOf(uint64_t claim) {
  return (unsigned)(claim >> (2 * INDEX_BITS));
}

static inline void cpuRelax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

typedef struct Worker {
  Pool *pool;
  int thread;
  pthread_t handle;
} Worker;

struct Pool {
  int threads;
  Worker *workers;
  int started;
  /* the current job: function and context are written before `claim` publishes it */
  TaskFunction task;
  void *context;
  _Atomic uint64_t claim; /* generation << 40 | tasks << 20 | next task */
  atomic_int doneTasks;
  atomic_int stopped;
  /* sleeping */
  pthread_mutex_t lock;
  pthread_cond_t workAvailable;
  pthread_cond_t workDone;
  atomic_int sleepingWorkers;
  atomic_int callerSleeping;
  /* scratch, one region per thread */
  float **scratch;
  size_t scratchBytes;
  float *shared;
  size_t sharedBytes;
};

/* Claims and runs tasks of the job of `generation` until none is left. */
static void runTasks(Pool *pool, int thread, unsigned generation) {
  int finished = 0;
  int tasks = 0;
  uint64_t claim = atomic_load(&pool->claim);
  for (;;) {
    if (generationOf(claim) != generation) break;
    tasks = (int)((claim >> INDEX_BITS) & INDEX_MASK);
    int task = (int)(claim & INDEX_MASK);
    if (task >= tasks) break;
    if (!atomic_compare_exchange_weak(&pool->claim, &claim, claim + 1)) continue; /* claim now holds the fresh word */
    pool->task(pool->context, task, thread);
    finished++;
    claim = atomic_load(&pool->claim);
  }
  if (finished == 0) return;
  int done = atomic_fetch_add(&pool->doneTasks, finished) + finished;
  if (done == tasks && atomic_load(&pool->callerSleeping)) {
    pthread_mutex_lock(&pool->lock);
    pthread_cond_signal(&pool->workDone);
    pthread_mutex_unlock(&pool->lock);
  }
}

static void *workerMain(void *argument) {
  Worker *worker = argument;
  Pool *pool = worker->pool;
  unsigned seen = generationOf(atomic_load(&pool->claim));
  for (;;) {
    unsigned generation = generationOf(atomic_load_explicit(&pool->claim, memory_order_acquire));
    for (int round = 0; generation == seen && round < SPIN_ROUNDS; round++) {
      cpuRelax();
      generation = generationOf(atomic_load_explicit(&pool->claim, memory_order_acquire));
    }
    if (generation == seen) {
      pthread_mutex_lock(&pool->lock);
      atomic_fetch_add(&pool->sleepingWorkers, 1);
      while ((generation = generationOf(atomic_load(&pool->claim))) == seen && !atomic_load(&pool->stopped)) {
        pthread_cond_wait(&pool->workAvailable, &pool->lock);
      }
      atomic_fetch_sub(&pool->sleepingWorkers, 1);
      pthread_mutex_unlock(&pool->lock);
    }
    seen = generation;
    if (atomic_load(&pool->stopped)) return NULL;
    runTasks(pool, worker->thread, generation);
  }
}

Pool *poolCreate(int threads) {
  if (threads < 1) return NULL;
  Pool *pool = calloc(1, sizeof *pool);
  if (!pool) return NULL;
  pool->threads = threads;
  pool->scratch = calloc((size_t)threads, sizeof *pool->scratch);
  pool->workers = calloc((size_t)threads, sizeof *pool->workers);
  if (!pool->scratch || !pool->workers) {
    poolDestroy(pool);
    return NULL;
  }
  pthread_mutex_init(&pool->lock, NULL);
  pthread_cond_init(&pool->workAvailable, NULL);
  pthread_cond_init(&pool->workDone, NULL);
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  for (int thread = 1; thread < threads; thread++) {
    Worker *worker = &pool->workers[thread];
    worker->pool = pool;
    worker->thread = thread;
    if (pthread_create(&worker->handle, NULL, workerMain, worker) != 0) break;
    pool->started = thread;
  }
  pthread_sigmask(SIG_SETMASK, &previous, NULL);
  if (pool->started != threads - 1) {
    poolDestroy(pool);
    return NULL;
  }
  return pool;
}

void poolDestroy(Pool *pool) {
  if (!pool) return;
  if (pool->workers) {
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->stopped, 1);
    pthread_cond_broadcast(&pool->workAvailable);
    pthread_mutex_unlock(&pool->lock);
    for (int thread = 1; thread <= pool->started; thread++) pthread_join(pool->workers[thread].handle, NULL);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->workAvailable);
    pthread_cond_destroy(&pool->workDone);
  }
  if (pool->scratch) {
    for (int thread = 0; thread < pool->threads; thread++) free(pool->scratch[thread]);
  }
  free(pool->scratch);
  free(pool->shared);
  free(pool->workers);
  free(pool);
}

int poolThreads(const Pool *pool) {
  return pool->threads;
}

typedef struct Slice {
  TaskFunction task;
  void *context;
  int offset;
} Slice;

static void runSliceTask(void *context, int task, int thread) {
  Slice *slice = context;
  slice->task(slice->context, slice->offset + task, thread);
}

void poolRun(Pool *pool, TaskFunction task, void *context, int tasks) {
  if (tasks <= 0) return;
  if (pool->threads == 1 || tasks == 1) {
    for (int index = 0; index < tasks; index++) task(context, index, 0);
    return;
  }
  if (tasks > MAXIMUM_JOB_TASKS) { /* more tasks than a claim word counts: run them as consecutive jobs */
    for (int offset = 0; offset < tasks; offset += MAXIMUM_JOB_TASKS) {
      Slice slice = {task, context, offset};
      int count = tasks - offset < MAXIMUM_JOB_TASKS ? tasks - offset : MAXIMUM_JOB_TASKS;
      poolRun(pool, runSliceTask, &slice, count);
    }
    return;
  }
  pool->task = task;
  pool->context = context;
  atomic_store(&pool->doneTasks, 0);
  unsigned generation = (generationOf(atomic_load(&pool->claim)) + 1) & 0xffffff;
  /* publishes the job (sequentially consistent: see the sleep check) */
  atomic_store(&pool->claim, ((uint64_t)generation << (2 * INDEX_BITS)) | ((uint64_t)tasks << INDEX_BITS));
  if (atomic_load(&pool->sleepingWorkers) > 0) {
    pthread_mutex_lock(&pool->lock);
    pthread_cond_broadcast(&pool->workAvailable);
    pthread_mutex_unlock(&pool->lock);
  }
  runTasks(pool, 0, generation);
  for (int round = 0; atomic_load_explicit(&pool->doneTasks, memory_order_acquire) < tasks; round++) {
    if (round < SPIN_ROUNDS) {
      cpuRelax();
      continue;
    }
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->callerSleeping, 1);
    while (atomic_load(&pool->doneTasks) < tasks) pthread_cond_wait(&pool->workDone, &pool->lock);
    atomic_store(&pool->callerSleeping, 0);
    pthread_mutex_unlock(&pool->lock);
  }
}

int poolReserveScratch(Pool *pool, size_t bytes) {
  if (bytes <= pool->scratchBytes) return 0;
  bytes = (bytes + 4095) & ~(size_t)4095;
  for (int thread = 0; thread < pool->threads; thread++) {
    void *memory = NULL;
    if (posix_memalign(&memory, 64, bytes) != 0) return -1;
    free(pool->scratch[thread]);
    pool->scratch[thread] = memory;
  }
  pool->scratchBytes = bytes;
  return 0;
}

float *poolScratch(Pool *pool, int thread) {
  return pool->scratch[thread];
}

int poolReserveShared(Pool *pool, size_t bytes) {
  if (bytes <= pool->sharedBytes) return 0;
  bytes = (bytes + 4095) & ~(size_t)4095;
  void *memory = NULL;
  if (posix_memalign(&memory, 64, bytes) != 0) return -1;
  free(pool->shared);
  pool->shared = memory;
  pool->sharedBytes = bytes;
  return 0;
}

float *poolShared(Pool *pool) {
  return pool->shared;
}
