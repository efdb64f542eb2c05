/**
 * Entry of one worker thread of the wasm backend's pool. It instantiates the kernels' module against the shared
 * memory, then loops: sleep on its own int of the control block (Atomics.wait) until the main thread publishes
 * a job, claim and run chunks of it until none is left, sleep again. There is no message per job; the protocol
 * is in control.ts. A kernel that throws is reported on the error port, never swallowed.
 * Not here: cutting jobs into chunks (the main thread does) or any state across jobs.
 */
import { workerData, parentPort, type MessagePort } from 'node:worker_threads';
import { runChunks, SLOT, STOPPED, type Kernel } from './control.js';

interface WorkerSetup {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  arguments: SharedArrayBuffer;
  thread: number;
  kernelNames: readonly string[];
  errors: MessagePort;
}

const setup = workerData as WorkerSetup;
const instance = new WebAssembly.Instance(setup.module, { env: { memory: setup.memory } });
const kernels = setup.kernelNames.map((name) => instance.exports[name] as Kernel);
const control = new Int32Array(setup.control);
const values = new Float64Array(setup.arguments);
const wake = setup.thread * SLOT;
const reportError = (kernel: number, error: unknown) =>
  setup.errors.postMessage(`thread ${setup.thread}, ${setup.kernelNames[kernel]}: ${error instanceof Error ? error.stack : String(error)}`);

parentPort?.postMessage('ready');
let sequence = Atomics.load(control, wake);
while (Atomics.load(control, STOPPED) === 0) {
  Atomics.wait(control, wake, sequence);
  sequence = Atomics.load(control, wake);
  runChunks(control, values, kernels, setup.thread, reportError);
}
setup.errors.close();
