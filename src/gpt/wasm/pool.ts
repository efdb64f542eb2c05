/**
 * A pool of threads that run the wasm kernels over one shared WebAssembly.Memory, with synchronous calls:
 * `run` splits a job's units into one part per thread, hands the workers their parts through the shared control
 * block (Atomics.notify), does the main thread's part itself, then sleeps (Atomics.wait) until the last worker
 * is done. A kernel call therefore looks like a plain function call to the backend, and the workers' writes are
 * visible when it returns.
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
import { ARGUMENT_COUNT, END, FAILED, KERNEL, PENDING, SEQUENCE, SLOT, START, STOP } from './control.js';
import { KERNEL_NAMES, type KernelName } from './module.js';

type Kernel = (...values: number[]) => void;

/** A worker's kernel threw; the message carries the worker's stack. */
export class KernelError extends Error {
  override name = 'KernelError';
}

/** One thread's part of a job. */
export interface Part {
  thread: number;
  start: number;
  end: number;
}

const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.tsxApi).then((api) => api.tsImport(workerData.entry, workerData.entry));
`;

export class WorkerPool {
  private readonly kernels: Kernel[];
  private readonly control: Int32Array;
  private readonly values: Float64Array;
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
    const control = new SharedArrayBuffer(threads * SLOT * Int32Array.BYTES_PER_ELEMENT);
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

  /**
   * Runs kernel(thread, start, end, ...values) over units [0, units), cut into one part per thread at multiples
   * of `grain`, or all on the main thread when `parallel` is false (work too small to pay for waking a worker).
   * Returns the parts that ran, for kernels that leave per-thread partial results.
   */
  run(kernel: KernelName, units: number, grain: number, values: readonly number[], parallel = true): Part[] {
    if (this.disposed) throw new Error('the wasm backend was disposed');
    if (values.length > ARGUMENT_COUNT) throw new RangeError(`${kernel}: more than ${ARGUMENT_COUNT} arguments`);
    const index = KERNEL_NAMES.indexOf(kernel);
    const parts = parallel ? partition(units, grain, this.threads) : [{ thread: 0, start: 0, end: units }];
    this.values.fill(0);
    this.values.set(values);
    const workerParts = parts.filter((part) => part.thread > 0);
    const control = this.control;
    Atomics.store(control, PENDING, workerParts.length);
    for (const { thread, start, end } of workerParts) {
      const slot = thread * SLOT;
      control[slot + KERNEL] = index;
      control[slot + START] = start;
      control[slot + END] = end;
      Atomics.add(control, slot + SEQUENCE, 1); // publishes the writes above to the worker
      Atomics.notify(control, slot + SEQUENCE, 1);
    }
    const own = parts.find((part) => part.thread === 0);
    try {
      if (own) this.call(index, own);
    } finally {
      // never return (or throw) while a worker may still be writing into the shared memory
      for (let pending = Atomics.load(control, PENDING); pending !== 0; pending = Atomics.load(control, PENDING)) {
        Atomics.wait(control, PENDING, pending);
      }
    }
    if (Atomics.load(control, FAILED) !== 0) {
      Atomics.store(control, FAILED, 0);
      const messages = this.errorPorts.flatMap((port) => drain(port));
      throw new KernelError(messages.join('\n') || `${kernel} failed on a worker`);
    }
    return parts;
  }

  /** Stops and terminates the workers. The pool is unusable afterwards. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (let thread = 1; thread < this.threads; thread++) {
      const slot = thread * SLOT;
      this.control[slot + KERNEL] = STOP;
      Atomics.add(this.control, slot + SEQUENCE, 1);
      Atomics.notify(this.control, slot + SEQUENCE, 1);
    }
    await Promise.all(this.workers.map((worker) => worker.terminate()));
    for (const port of this.errorPorts) port.close();
  }

  private call(index: number, { thread, start, end }: Part): void {
    const v = this.values;
    this.kernels[index](thread, start, end, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]);
  }
}

/** Units [0, units) in `parts` contiguous parts with inner boundaries at multiples of grain; empty parts dropped. */
export function partition(units: number, grain: number, parts: number): Part[] {
  const result: Part[] = [];
  let start = 0;
  for (let thread = 0; thread < parts; thread++) {
    const end = thread === parts - 1 ? units : Math.min(units, Math.round((units * (thread + 1)) / parts / grain) * grain);
    if (end > start) result.push({ thread, start, end });
    start = Math.max(start, end);
  }
  return result;
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
