/**
 * A pool of threads that run the wasm kernels over one shared WebAssembly.Memory, with synchronous calls:
 * `run` publishes a job in the shared control block and wakes the workers (Atomics.notify); every thread, the
 * main one included, claims chunks of the job until none is left (control.ts); then the main thread sleeps
 * (Atomics.wait) until the last chunk is done. A kernel call therefore looks like a plain function call to the
 * backend, and the workers' writes are visible when it returns. Chunks are claimed, not assigned, so a worker
 * that the OS schedules late (the machine may be shared) delays nothing: the others do its share.
 *
 * Workers are TypeScript (worker.ts) loaded through tsx's `tsImport`, from a small bootstrap: Node 20 does not
 * apply loader hooks of `--import` to a worker's entry. This works from the CLI, from `bin/run-ts.js` and inside
 * vitest. Workers are unref'd, so a forgotten dispose() does not keep the process alive.
 * Not here: what the kernels compute (the .wat files) or how work is cut into units (backend-wasm.ts).
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import {
  ARGUMENT_COUNT, BY_CHUNK, CHUNK, CHUNKS, DONE, FAILED, KERNEL, MAXIMUM_CHUNKS, NEXT, runChunks, SLOT, STOPPED, UNITS, type Kernel,
} from './control.js';
import { KERNEL_NAMES, type KernelName } from './module.js';

/** A kernel threw (on any thread); the message carries the thread's stack. */
export class KernelError extends Error {
  override name = 'KernelError';
}

/** Chunks per thread and job: enough that a thread the OS schedules late costs little, few enough to be cheap. */
const CHUNKS_PER_THREAD = 4;

const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.tsxApi).then((api) => api.tsImport(workerData.entry, workerData.entry));
`;

export class WorkerPool {
  private readonly kernels: Kernel[];
  private readonly control: Int32Array;
  private readonly values: Float64Array;
  private generation = 0;
  private disposed = false;

  private constructor(
    readonly threads: number,
    private readonly workers: Worker[],
    private readonly errorPorts: MessagePort[],
    instance: WebAssembly.Instance,
    control: SharedArrayBuffer,
    values: SharedArrayBuffer,
  ) {
    this.kernels = KERNEL_NAMES.map((name) => instance.exports[name] as Kernel);
    this.control = new Int32Array(control);
    this.values = new Float64Array(values);
  }

  /** Starts threads - 1 workers; the main thread is thread 0. Resolves once every worker is ready. */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number): Promise<WorkerPool> {
    const control = new SharedArrayBuffer(Math.max(threads, 1) * SLOT * Int32Array.BYTES_PER_ELEMENT);
    const values = new SharedArrayBuffer(ARGUMENT_COUNT * Float64Array.BYTES_PER_ELEMENT);
    const workers: Worker[] = [];
    const errorPorts: MessagePort[] = [];
    try {
      for (let thread = 1; thread < threads; thread++) {
        const channel = new MessageChannel();
        const worker = new Worker(BOOTSTRAP, {
          eval: true,
          workerData: {
            tsxApi: tsxApiUrl(), entry: new URL('./worker.ts', import.meta.url).href,
            module, memory, control, arguments: values, thread, kernelNames: KERNEL_NAMES, errors: channel.port2,
          },
          transferList: [channel.port2],
        });
        workers.push(worker);
        errorPorts.push(channel.port1);
      }
      await Promise.all(workers.map(whenReady));
    } catch (error) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw error;
    }
    for (const worker of workers) worker.unref();
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    return new WorkerPool(threads, workers, errorPorts, instance, control, values);
  }

  /** The most chunks a job is cut into: the number of per-chunk partial results a kernel may leave. */
  get maximumChunks(): number {
    return this.threads * CHUNKS_PER_THREAD;
  }

  /**
   * Runs kernel(part, start, end, ...values) over units [0, units) and returns when all of it is done.
   * Chunks start at multiples of `grain`. With `parallel` false (work too small to pay for waking a worker) or a
   * single thread, the main thread runs the whole range in one call, as part 0.
   * `part` is the index of the thread running the call (for per-thread scratch memory), or with `byChunk` the
   * index of the chunk: kernels that leave partial sums write them per chunk, so that adding them up in chunk
   * order gives the same float rounding whichever thread ran which chunk. Chunks depend only on units, grain
   * and the thread count, so results are reproducible run to run.
   */
  run(kernel: KernelName, units: number, grain: number, values: readonly number[], parallel = true, byChunk = false): void {
    if (this.disposed) throw new Error('the wasm backend was disposed');
    if (values.length > ARGUMENT_COUNT) throw new RangeError(`${kernel}: more than ${ARGUMENT_COUNT} arguments`);
    if (units <= 0) return;
    const index = KERNEL_NAMES.indexOf(kernel);
    const v = this.values;
    v.fill(0);
    v.set(values);
    if (!parallel || this.threads === 1) {
      this.kernels[index](0, 0, units, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]);
      return;
    }
    const chunk = Math.max(grain, Math.ceil(units / (this.threads * CHUNKS_PER_THREAD) / grain) * grain);
    const chunks = Math.ceil(units / chunk);
    if (chunks > MAXIMUM_CHUNKS) throw new RangeError(`${kernel}: ${chunks} chunks is more than ${MAXIMUM_CHUNKS}`);
    const control = this.control;
    Atomics.store(control, KERNEL, index);
    Atomics.store(control, UNITS, units);
    Atomics.store(control, CHUNK, chunk);
    Atomics.store(control, CHUNKS, chunks);
    Atomics.store(control, BY_CHUNK, byChunk ? 1 : 0);
    Atomics.store(control, DONE, 0);
    this.generation = (this.generation + 1) & 0xffff;
    Atomics.store(control, NEXT, (this.generation << 16) | 0); // publishes the job
    for (let thread = 1; thread < this.threads; thread++) {
      Atomics.add(control, thread * SLOT, 1);
      Atomics.notify(control, thread * SLOT, 1);
    }
    let ownError: unknown = null;
    runChunks(control, v, this.kernels, 0, (_kernel, error) => {
      ownError ??= error;
    });
    // never return (or throw) while a worker may still be writing into the shared memory
    for (let done = Atomics.load(control, DONE); done < chunks; done = Atomics.load(control, DONE)) {
      Atomics.wait(control, DONE, done);
    }
    if (Atomics.load(control, FAILED) !== 0) {
      Atomics.store(control, FAILED, 0);
      if (ownError) throw ownError;
      const messages = this.errorPorts.flatMap((port) => drain(port));
      throw new KernelError(messages.join('\n') || `${kernel} failed on a worker`);
    }
  }

  /** Stops and terminates the workers. The pool is unusable afterwards. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.control, STOPPED, 1);
    for (let thread = 1; thread < this.threads; thread++) {
      Atomics.add(this.control, thread * SLOT, 1);
      Atomics.notify(this.control, thread * SLOT, 1);
    }
    await Promise.all(this.workers.map((worker) => worker.terminate()));
    for (const port of this.errorPorts) port.close();
  }
}

function whenReady(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`wasm worker exited with code ${code} before it was ready`)));
  });
}

function drain(port: MessagePort): string[] {
  const messages: string[] = [];
  for (let message = receiveMessageOnPort(port); message; message = receiveMessageOnPort(port)) messages.push(String(message.message));
  return messages;
}

let tsxApi: string | null = null;

/** The file URL of tsx's ESM API, found through tsx's package.json from this file's location. */
function tsxApiUrl(): string {
  if (tsxApi) return tsxApi;
  const require = createRequire(import.meta.url);
  const packagePath = require.resolve('tsx/package.json');
  const exports = JSON.parse(readFileSync(packagePath, 'utf8')).exports as Record<string, { import: { default: string } }>;
  tsxApi = new URL(exports['./esm/api'].import.default, pathToFileURL(packagePath)).href;
  return tsxApi;
}
