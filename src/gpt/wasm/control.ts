/**
 * The layout of the control block that the main thread and the pool's workers share (an Int32Array over a
 * SharedArrayBuffer), and of the arguments block beside it (a Float64Array). Only these constants live here, so
 * that the worker entry imports nothing else.
 *
 * Thread t (0 is the main thread, which has no slot) owns the ints [t * SLOT, t * SLOT + SLOT): one cache line,
 * so that threads polling their own slot never share a line with another thread's.
 */
export const SLOT = 16;
/** Per slot: bumped by the main thread to hand the worker a job; the worker waits on it. */
export const SEQUENCE = 0;
/** Per slot: index into KERNEL_NAMES of the job, or STOP. */
export const KERNEL = 1;
/** Per slot: the worker's part [START, END) of the job's units. */
export const START = 2;
export const END = 3;
/** In slot 0 (the main thread's, otherwise unused): workers still running the current job. */
export const PENDING = 0;
/** In slot 0: set by a worker whose kernel threw; the message follows on its error port. */
export const FAILED = 1;
export const STOP = -1;
/** Kernel arguments (pointers and sizes as numbers), written by the main thread before it bumps SEQUENCE. */
export const ARGUMENT_COUNT = 16;
