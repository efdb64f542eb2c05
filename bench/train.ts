/**
 * Training-speed benchmark of the successor (`npm run bench:train -- [flags]`): trains the benchmark config
 * (vocab 256, context 128, 4 layers, 4 heads, width 128, batch 32, AdamW) for a fixed number of steps with the
 * wasm backend, and prints tokens/s, model FLOP/s, MFU and peak RSS; optionally the same with fewer threads and
 * the TypeScript backend, and the identical model in PyTorch (bench/pytorch-train.py) when /usr/bin/python3 has
 * torch, with the ratio ours / PyTorch. A benchmark, not a test: numbers depend on the machine and its load.
 *
 * Peak: PEAK_FLOPS below is the figure for this machine class (2 cores x AVX-512 FMA, ~360 GFLOP/s
 * float32), a documented constant rather than a measurement; pass --peak-gflops to use another.
 * Tokens are random bytes: the work per step does not depend on the data.
 * Not here: correctness (test/gpt/backend-wasm.test.ts holds the kernels to the reference).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AdamW } from '../src/gpt/adamw.js';
import type { Backend } from '../src/gpt/backend.js';
import { tsBackend } from '../src/gpt/backend-ts.js';
import { createWasmBackend } from '../src/gpt/backend-wasm.js';
import { ModelConfig, parameterLayout, trainingFlopsPerToken } from '../src/gpt/config.js';
import { Gpt } from '../src/gpt/model.js';
import { createRng } from '../src/gpt/random.js';

const PEAK_FLOPS = 360e9;
const BATCH_SIZE = 32;
const PYTHON = '/usr/bin/python3';

const { values: flags } = parseArgs({
  options: {
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    'single-thread-steps': { type: 'string', default: '0' }, // also time wasm (and PyTorch) with 1 thread
    'ts-steps': { type: 'string', default: '0' }, // also time the TypeScript backend
    pytorch: { type: 'boolean', default: true },
    'no-pytorch': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false }, // time per kernel (adds a little overhead per call)
    'peak-gflops': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log('usage: npm run bench:train -- [--steps 20] [--warmup 3] [--threads 2] [--single-thread-steps N] [--ts-steps N] [--no-pytorch] [--profile] [--peak-gflops G]');
  process.exit(0);
}
const integer = (name: string, text: string | undefined, minimum: number): number => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < minimum) {
    console.error(`--${name} must be an integer >= ${minimum}, got ${text}`);
    process.exit(2);
  }
  return value;
};
const steps = integer('steps', flags.steps, 1);
const warmup = integer('warmup', flags.warmup, 0);
const threads = integer('threads', flags.threads, 1);
const singleThreadSteps = integer('single-thread-steps', flags['single-thread-steps'], 0);
const tsSteps = integer('ts-steps', flags['ts-steps'], 0);
const peakFlops = flags['peak-gflops'] === undefined ? PEAK_FLOPS : Number(flags['peak-gflops']) * 1e9;

const config = ModelConfig.parse({});
const T = config.contextLength;
const flopsPerToken = trainingFlopsPerToken(config);

interface Measurement {
  label: string;
  tokensPerSecond: number;
  secondsPerStep: number;
  cpuSecondsPerStep: number; // CPU time of all the process's threads: how much of the machine the run really got
  lastLoss: number;
}

/** Wraps every kernel of a backend with a timer; returns the wrapped backend and the table of totals. */
interface KernelTotals {
  ms: number; // wall
  cpuMs: number; // CPU time of the whole process (all threads) during the calls: insensitive to other load
  calls: number;
}

function profiled(backend: Backend): { backend: Backend; totals: Map<string, KernelTotals> } {
  const totals = new Map<string, KernelTotals>();
  const wrapped: Record<string, unknown> = { ...backend };
  for (const [name, member] of Object.entries(backend)) {
    if (typeof member !== 'function' || name === 'allocate' || name === 'dispose') continue;
    wrapped[name] = (...args: unknown[]) => {
      const start = performance.now();
      const cpuStart = process.cpuUsage();
      const result = (member as (...values: unknown[]) => unknown)(...args);
      const cpu = process.cpuUsage(cpuStart);
      const entry = totals.get(name) ?? { ms: 0, cpuMs: 0, calls: 0 };
      entry.ms += performance.now() - start;
      entry.cpuMs += (cpu.user + cpu.system) / 1000;
      entry.calls += 1;
      totals.set(name, entry);
      return result;
    };
  }
  return { backend: wrapped as unknown as Backend, totals };
}

function train(label: string, backend: Backend, measuredSteps: number, warmupSteps: number): Measurement {
  const model = new Gpt(config, backend, { batchSize: BATCH_SIZE, sequenceLength: T });
  model.initialize(1337);
  const optimizer = new AdamW(model, { beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1, gradClip: 1 });
  const rng = createRng(1);
  const inputs = new Int32Array(BATCH_SIZE * T);
  const targets = new Int32Array(BATCH_SIZE * T);
  let lastLoss = Number.NaN;
  let started = 0;
  let cpuStarted = process.cpuUsage();
  for (let step = 0; step < warmupSteps + measuredSteps; step++) {
    if (step === warmupSteps) {
      started = performance.now();
      cpuStarted = process.cpuUsage();
    }
    for (let i = 0; i < inputs.length; i++) {
      inputs[i] = rng.int(config.vocabSize);
      targets[i] = rng.int(config.vocabSize);
    }
    lastLoss = model.forward(inputs, targets, BATCH_SIZE, T);
    model.zeroGrad();
    model.backward();
    optimizer.step(1e-3);
    process.stderr.write(`\r${label}: step ${step + 1}/${warmupSteps + measuredSteps}, loss ${lastLoss.toFixed(4)}   `);
  }
  process.stderr.write('\n');
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
  return {
    label, tokensPerSecond: (measuredSteps * BATCH_SIZE * T) / seconds, secondsPerStep: seconds / measuredSteps,
    cpuSecondsPerStep: (cpu.user + cpu.system) / 1e6 / measuredSteps, lastLoss,
  };
}

function report({ label, tokensPerSecond, secondsPerStep, cpuSecondsPerStep }: Measurement): void {
  const flops = tokensPerSecond * flopsPerToken;
  console.log(`${label}: ${tokensPerSecond.toFixed(0)} tokens/s, ${(secondsPerStep * 1000).toFixed(0)} ms/step, ` +
    `${(flops / 1e9).toFixed(1)} GFLOP/s, MFU ${((100 * flops) / peakFlops).toFixed(1)}%; ` +
    `CPU ${(cpuSecondsPerStep * 1000).toFixed(0)} ms/step = ${(cpuSecondsPerStep / secondsPerStep).toFixed(2)} cores busy`);
}

/** Runs bench/pytorch-train.py; null when torch is not importable. */
function trainPytorch(pytorchThreads: number, measuredSteps: number, warmupSteps: number): Measurement | null {
  if (spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) return null;
  const environment: NodeJS.ProcessEnv = { ...process.env };
  // the OpenMP build of OpenBLAS with its Skylake-X (AVX-512) kernels: PyTorch's fastest CPU setup on this machine
  if (existsSync('/usr/lib/x86_64-linux-gnu/openblas-openmp')) environment.OPENBLAS_CORETYPE = 'SkylakeX';
  const script = fileURLToPath(new URL('./pytorch-train.py', import.meta.url));
  const result = spawnSync(PYTHON, [script, '--steps', String(measuredSteps), '--warmup', String(warmupSteps), '--threads', String(pytorchThreads),
    '--batch-size', String(BATCH_SIZE)], { env: environment, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`pytorch-train.py failed with status ${result.status}`);
  const value = (key: string): number => Number(/^(\S+): (\S+)$/m.exec(result.stdout.split('\n').find((line) => line.startsWith(`${key}:`)) ?? '')?.[2]);
  return {
    label: `pytorch (${pytorchThreads} thread${pytorchThreads === 1 ? '' : 's'})`, tokensPerSecond: value('tokens_per_second'), secondsPerStep: value('seconds_per_step'),
    cpuSecondsPerStep: value('cpu_seconds_per_step'), lastLoss: value('loss'),
  };
}

console.log(`config: V=${config.vocabSize} T=${T} L=${config.layers} NH=${config.heads} C=${config.width} B=${BATCH_SIZE}, ` +
  `${parameterLayout(config).total} parameters, ${(flopsPerToken / 1e6).toFixed(2)} MFLOP/token, peak ${(peakFlops / 1e9).toFixed(0)} GFLOP/s`);
const wasm = await createWasmBackend({ threads });
const measured = flags.profile ? profiled(wasm) : { backend: wasm, totals: null };
const ours = train(`wasm (${threads} threads)`, measured.backend, steps, warmup);
await wasm.dispose();
report(ours);
if (measured.totals) {
  const total = [...measured.totals.values()].reduce((sum, { ms }) => sum + ms, 0);
  const rows = [...measured.totals.entries()].sort((a, b) => b[1].ms - a[1].ms);
  console.log(`  ${'kernel'.padEnd(22)} ${'wall ms/step'.padStart(12)} ${'share'.padStart(6)} ${'cpu ms/step'.padStart(12)}  (calls, warm-up included)`);
  for (const [name, { ms, cpuMs, calls }] of rows) {
    const perStep = (value: number) => (value / (steps + warmup)).toFixed(1).padStart(12);
    console.log(`  ${name.padEnd(22)} ${perStep(ms)} ${((100 * ms) / total).toFixed(1).padStart(5)}% ${perStep(cpuMs)}  (${calls})`);
  }
}
const withPytorch = !flags['no-pytorch'] && flags.pytorch;
let single: Measurement | null = null;
let pytorchSingle: Measurement | null = null;
if (singleThreadSteps > 0) {
  // one thread each: a comparison per core that holds on a shared machine, where OpenMP's spinning threads lose
  // far more than ours when the OS hands out less than two cores
  const backend = await createWasmBackend({ threads: 1 });
  single = train('wasm (1 thread)', backend, singleThreadSteps, 1);
  await backend.dispose();
  report(single);
  pytorchSingle = withPytorch ? trainPytorch(1, singleThreadSteps, 1) : null;
  if (pytorchSingle) report(pytorchSingle);
}
if (tsSteps > 0) report(train('ts (1 thread)', tsBackend, tsSteps, 1));
const pytorch = withPytorch ? trainPytorch(threads, steps, warmup) : null;
if (pytorch) report(pytorch);

console.log(`tokens_per_second: ${ours.tokensPerSecond.toFixed(0)}`);
console.log(`model_gflops: ${((ours.tokensPerSecond * flopsPerToken) / 1e9).toFixed(2)}`);
console.log(`mfu_percent: ${((100 * ours.tokensPerSecond * flopsPerToken) / peakFlops).toFixed(2)}`);
console.log(`cpu_ms_per_step: ${(ours.cpuSecondsPerStep * 1000).toFixed(0)}`);
console.log(`peak_rss_mib: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)}`);
if (pytorch) {
  console.log(`pytorch_tokens_per_second: ${pytorch.tokensPerSecond.toFixed(0)}`);
  console.log(`ratio_vs_pytorch: ${(ours.tokensPerSecond / pytorch.tokensPerSecond).toFixed(3)}`);
}
if (single && pytorchSingle) {
  console.log(`ratio_vs_pytorch_one_thread: ${(single.tokensPerSecond / pytorchSingle.tokensPerSecond).toFixed(3)}`);
}
