/**
 * Entry of one worker thread of the wasm backend's pool. It instantiates the kernels' module against the shared
 * memory, then loops: sleep on its control slot (Atomics.wait), run its part of the job, count itself done, wake
 * the main thread when it was the last. There is no message per job: jobs travel through the shared control
 * block, whose layout is in control.ts. A kernel that throws is reported on the error port, never swallowed.
 * Not here: partitioning (the main thread computes every part) or any state across jobs.
 */
import { workerData, parentPort, type MessagePort } from 'node:worker_threads';
import { ARGUMENT_COUNT, END, FAILED, KERNEL, PENDING, SEQUENCE, SLOT, START, STOP } from './control.js';

interface WorkerSetup {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  arguments: SharedArrayBuffer;
  thread: number;
  kernelNames: readonly string[];
  errors: MessagePort;
}

type Kernel = (...values: number[]) => void;

const setup = workerData as WorkerSetup;
const instance = new WebAssembly.Instance(setup.module, { env: { memory: setup.memory } });
const kernels = setup.kernelNames.map((name) => instance.exports[name] as Kernel);
const control = new Int32Array(setup.control);
const values = new Float64Array(setup.arguments);
const slot = setup.thread * SLOT;
if (values.length < ARGUMENT_COUNT) throw new Error('arguments block too small');

parentPort?.postMessage('ready');
let sequence = Atomics.load(control, slot + SEQUENCE);
for (;;) {
  Atomics.wait(control, slot + SEQUENCE, sequence);
  const next = Atomics.load(control, slot + SEQUENCE);
  if (next === sequence) continue;
  sequence = next;
  const kernel = control[slot + KERNEL];
  if (kernel === STOP) break;
  try {
    kernels[kernel](
      setup.thread, control[slot + START], control[slot + END],
      values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7],
      values[8], values[9], values[10], values[11], values[12], values[13], values[14], values[15],
    );
  } catch (error) {
    setup.errors.postMessage(`thread ${setup.thread}, ${setup.kernelNames[kernel]}: ${error instanceof Error ? error.stack : String(error)}`);
    Atomics.store(control, FAILED, 1);
  }
  if (Atomics.sub(control, PENDING, 1) === 1) Atomics.notify(control, PENDING);
}
setup.errors.close();
