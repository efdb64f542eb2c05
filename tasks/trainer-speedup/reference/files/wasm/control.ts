/**
 * The control block that the main thread and the pool's workers share (an Int32Array over a SharedArrayBuffer,
 * beside a Float64Array of kernel arguments), and the loop by which every thread claims work from it.
 *
 * A job is cut into chunks of units; threads claim chunks one at a time with a compare-and-swap on NEXT until
 * none is left, so a thread that the OS schedules late (the machine is shared) simply does fewer chunks. NEXT
 * holds the job's generation in its high 16 bits and the next chunk in its low 16: a worker that wakes late can
 * never claim a chunk of a newer job with the fields of an older one, because its compare-and-swap fails.
 * The fields of a job are written before NEXT publishes it and stay fixed until every chunk is DONE, which
 * cannot happen while a claimed chunk is running; so a thread reads them after its claim succeeds.
 * Only constants and this loop live here, so that the worker entry imports nothing else.
 */
export const NEXT = 0; // generation << 16 | next chunk to claim
export const DONE = 1; // chunks finished; the main thread sleeps on it
export const FAILED = 2; // set when a kernel threw; the message follows on the thread's error port
export const KERNEL = 3; // index into KERNEL_NAMES
export const UNITS = 4; // the job covers units [0, UNITS)
export const CHUNK = 5; // units per chunk (the last may be shorter)
export const CHUNKS = 6;
export const STOPPED = 7; // set once, by dispose()
export const BY_CHUNK = 8; // 1: a kernel's first argument is its chunk's index, not the thread's (see WorkerPool.run)
/** Worker t (t >= 1) sleeps on the int at t * SLOT: one cache line per thread, bumped to wake it. */
export const SLOT = 16;
export const ARGUMENT_COUNT = 16;
export const MAXIMUM_CHUNKS = 0xffff;

export type Kernel = (...values: number[]) => void;

/**
 * Claims and runs chunks of the current job until none is left. A kernel that throws is passed to `onError`
 * and its chunk still counts as done, so the main thread never waits for it forever.
 */
export function runChunks(control: Int32Array, values: Float64Array, kernels: readonly Kernel[], thread: number,
  onError: (kernel: number, error: unknown) => void): void {
  for (;;) {
    const next = Atomics.load(control, NEXT);
    const chunks = Atomics.load(control, CHUNKS);
    const index = next & 0xffff;
    if (index >= chunks) return;
    if (Atomics.compareExchange(control, NEXT, next, (next + 1) | 0) !== next) continue;
    const kernel = Atomics.load(control, KERNEL);
    const chunk = Atomics.load(control, CHUNK);
    const start = index * chunk;
    const end = Math.min(Atomics.load(control, UNITS), start + chunk);
    const part = Atomics.load(control, BY_CHUNK) === 1 ? index : thread;
    try {
      kernels[kernel](part, start, end, values[0], values[1], values[2], values[3], values[4], values[5], values[6],
        values[7], values[8], values[9], values[10], values[11], values[12], values[13], values[14], values[15]);
    } catch (error) {
      onError(kernel, error);
      Atomics.store(control, FAILED, 1);
    }
    if (Atomics.add(control, DONE, 1) + 1 === chunks) Atomics.notify(control, DONE);
  }
}
