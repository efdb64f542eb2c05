/*
 * The native kernels' thread pool: threads - 1 worker threads plus the calling thread run the tasks of one job.
 * A job is `tasks` calls of task(context, task, thread); threads claim tasks one at a time with an atomic counter
 * until none is left, so a thread the OS schedules late (the machine may be shared) delays nothing: the others do
 * its share. Kernels cut their work into tasks by the problem's sizes alone, never by the thread count, and each
 * task writes its own memory: results are bit-identical whichever thread ran what, and for any thread count.
 * Per-thread scratch memory is reserved by the calling thread before a job, so a task cannot fail.
 * Not here: what a task computes.
 */
#ifndef SUCCESSOR_POOL_H
#define SUCCESSOR_POOL_H

#include <stddef.h>

typedef struct Pool Pool;
typedef void (*TaskFunction)(void *context, int task, int thread);

/* NULL when threads or memory could not be had. */
Pool *poolCreate(int threads);
void poolDestroy(Pool *pool);
int poolThreads(const Pool *pool);
/* Runs task(context, 0..tasks-1, thread) across the pool; returns when every task is done. */
void poolRun(Pool *pool, TaskFunction task, void *context, int tasks);
/* At least `bytes` bytes of 64-byte-aligned scratch for each thread (0 on success, -1 when out of memory). */
int poolReserveScratch(Pool *pool, size_t bytes);
float *poolScratch(Pool *pool, int thread);
/* At least `bytes` bytes of 64-byte-aligned scratch that all threads share (0 on success, -1 when out of memory). */
int poolReserveShared(Pool *pool, size_t bytes);
float *poolShared(Pool *pool);

#endif
