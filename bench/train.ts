/**
 * Training-speed benchmark of the successor (`npm run bench:train -- [flags]`): the benchmark config (vocab 256,
 * context 128, 4 layers, 4 heads, width 128, batch 32, AdamW; 842,496 parameters) on every backend and, when
 * /usr/bin/python3 has torch, the identical model in PyTorch, all in one run.
 *
 * - Throughput: rounds of short timed runs, interleaved (each round runs every backend at every thread count, so
 *   a change in the machine's load hits all of them alike); the table shows each one's median tokens/s with the
 *   range over rounds, model GFLOP/s and MFU against the FMA peak measured on this CPU (native/peak.c).
 * - Ratios native / PyTorch, per round and thread count (median and range) — only against a BLAS tuned for this
 *   CPU: PyTorch's is named (what the process really loaded), and a reference BLAS gets no ratio.
 * - Time to a validation loss on Moby Dick with the trainer's recipe, ours and PyTorch's (--time-to-loss).
 * A benchmark, not a test: numbers depend on the machine and its load. Tokens are random bytes in the throughput
 * runs: the work per step does not depend on the data. Not here: correctness (test/gpt/backend-*.test.ts).
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import type { Backend } from '../src/gpt/backend.js';
import { createNativeBackend } from '../src/gpt/backend-native.js';
import { tsBackend } from '../src/gpt/backend-ts.js';
import { createWasmBackend } from '../src/gpt/backend-wasm.js';
import { parameterLayout, trainingFlopsPerToken } from '../src/gpt/config.js';
import {
  BATCH_SIZE, blasRefusal, CONFIG, measurePeakPerCore, pytorchAvailable, timeToLossOurs, timeToLossPytorch, trainOurs, trainPytorch,
  type Blas, type Throughput, type TimeToLoss,
} from './train-runs.js';

const BACKENDS = ['native', 'wasm', 'ts', 'pytorch'] as const;
type BackendName = (typeof BACKENDS)[number];

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    steps: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    threads: { type: 'string', default: `${Math.min(availableParallelism(), 256)},1` },
    backends: { type: 'string', default: 'native,wasm,pytorch' },
    'time-to-loss': { type: 'string', default: '2.5' }, // 0: skip
    'max-seconds': { type: 'string', default: '150' },
    'peak-gflops': { type: 'string' }, // per core; default: measured
    profile: { type: 'boolean', default: false }, // time per kernel of native (else wasm), all cores, after the rounds
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log('usage: npm run bench:train -- [--rounds 3] [--steps 15] [--warmup 3] [--threads 2,1] [--backends native,wasm,ts,pytorch] ' +
    '[--time-to-loss 2.5 (0: skip)] [--max-seconds 150] [--peak-gflops G per core] [--profile]');
  process.exit(0);
}
const number = (name: keyof typeof flags, minimum: number, integer = true): number => {
  const value = Number(flags[name]);
  if (!(Number.isFinite(value) && value >= minimum && (!integer || Number.isInteger(value)))) {
    console.error(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${minimum}, got ${flags[name]}`);
    process.exit(2);
  }
  return value;
};
const rounds = number('rounds', 1);
const steps = number('steps', 1);
const warmup = number('warmup', 0);
const targetLoss = number('time-to-loss', 0, false);
const maxSeconds = number('max-seconds', 1, false);
const threadCounts = [...new Set((flags.threads ?? '').split(',').map(Number))];
if (!threadCounts.every((threads) => Number.isInteger(threads) && threads >= 1 && threads <= 256)) {
  console.error(`--threads must list thread counts, got ${flags.threads}`);
  process.exit(2);
}
const backends = (flags.backends ?? '').split(',') as BackendName[];
if (!backends.every((name) => BACKENDS.includes(name))) {
  console.error(`--backends must list some of ${BACKENDS.join(', ')}, got ${flags.backends}`);
  process.exit(2);
}
const withPytorch = backends.includes('pytorch') && pytorchAvailable();
if (backends.includes('pytorch') && !withPytorch) console.log('pytorch: /usr/bin/python3 cannot import torch; PyTorch is left out');

const flopsPerToken = trainingFlopsPerToken(CONFIG);
const measuredPeak = flags['peak-gflops'] === undefined ? measurePeakPerCore() : Number(flags['peak-gflops']) * 1e9;
const mfu = (tokensPerSecond: number, threads: number): string =>
  measuredPeak ? `${((100 * tokensPerSecond * flopsPerToken) / (measuredPeak * threads)).toFixed(1)}%` : '?';

console.log(`config: V=${CONFIG.vocabSize} T=${CONFIG.contextLength} L=${CONFIG.layers} NH=${CONFIG.heads} C=${CONFIG.width} B=${BATCH_SIZE}, ` +
  `${parameterLayout(CONFIG).total} parameters, ${(flopsPerToken / 1e6).toFixed(2)} MFLOP/token`);
console.log(`peak: ${measuredPeak ? `${(measuredPeak / 1e9).toFixed(1)} GFLOP/s per core (${flags['peak-gflops'] ? '--peak-gflops' : 'measured: vector FMA chains, best of 300 x 1 ms'})` : 'unknown (no native kernels to measure it with)'}; ` +
  `${availableParallelism()} cores`);

/** Wraps every kernel of a backend with timers (wall, and CPU time of the whole process, which load disturbs less). */
function profiled(backend: Backend): { backend: Backend; totals: Map<string, { ms: number; cpuMs: number }> } {
  const totals = new Map<string, { ms: number; cpuMs: number }>();
  const wrapped: Record<string, unknown> = { ...backend };
  for (const [name, member] of Object.entries(backend)) {
    if (typeof member !== 'function' || name === 'allocate' || name === 'dispose') continue;
    wrapped[name] = (...args: unknown[]) => {
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      const result = (member as (...values: unknown[]) => unknown)(...args);
      const cpu = process.cpuUsage(cpuStarted);
      const entry = totals.get(name) ?? { ms: 0, cpuMs: 0 };
      entry.ms += performance.now() - started;
      entry.cpuMs += (cpu.user + cpu.system) / 1000;
      totals.set(name, entry);
      return result;
    };
  }
  return { backend: wrapped as unknown as Backend, totals };
}

/** A fresh backend of this kind (ts is shared and has one thread). */
async function open(name: Exclude<BackendName, 'pytorch'>, threads: number): Promise<Backend> {
  if (name === 'ts') return tsBackend;
  if (name === 'wasm') return createWasmBackend({ threads });
  const native = createNativeBackend({ threads });
  if (!native.ok) throw new Error(`native kernels are unavailable: ${native.reason}`);
  return native.backend;
}

const results = new Map<string, Throughput[]>(); // `${backend}@${threads}` -> one per round
let blas: Blas | null = null;
const key = (name: string, threads: number) => `${name}@${threads}`;
for (let round = 1; round <= rounds; round++) {
  const line: string[] = [];
  for (const threads of threadCounts) {
    for (const name of backends) {
      if (name === 'ts' && threads !== 1) continue;
      if (name === 'pytorch' && !withPytorch) continue;
      let result: Throughput;
      if (name === 'pytorch') {
        const run = trainPytorch(threads, steps, warmup);
        blas = run.blas;
        result = run;
      } else {
        const backend = await open(name, threads);
        result = trainOurs(backend, name === 'ts' ? Math.max(1, Math.ceil(steps / 10)) : steps, name === 'ts' ? 1 : warmup);
        await backend.dispose();
      }
      results.set(key(name, threads), [...(results.get(key(name, threads)) ?? []), result]);
      line.push(`${name} ${threads}t ${result.tokensPerSecond.toFixed(0)}`);
    }
  }
  console.log(`round ${round}: ${line.join(', ')} tokens/s`);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const range = (values: number[], digits = 0): string =>
  values.length > 1 ? ` (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})` : '';

if (blas) console.log(`pytorch BLAS: ${blas.config}; kernels ${blas.core || '?'}; OPENBLAS_CORETYPE=${blas.coretype}`);
console.log('');
console.log(`| backend | threads | tokens/s, median${rounds > 1 ? ' (range)' : ''} | model GFLOP/s | MFU | cores busy |`);
console.log('|---|---|---|---|---|---|');
for (const [runKey, runs] of results) {
  const [name, threads] = runKey.split('@');
  const tokens = runs.map((run) => run.tokensPerSecond);
  const tokensPerSecond = median(tokens);
  console.log(`| ${name} | ${threads} | ${tokensPerSecond.toFixed(0)}${range(tokens)} | ${((tokensPerSecond * flopsPerToken) / 1e9).toFixed(1)} | ` +
    `${mfu(tokensPerSecond, Number(threads))} | ${median(runs.map((run) => run.cpuCoresBusy)).toFixed(2)} |`);
}
const starved = [...results].filter(([runKey, runs]) => median(runs.map((run) => run.cpuCoresBusy)) < 0.8 * Number(runKey.split('@')[1]));
if (starved.length > 0) {
  console.log(`note: ${starved.map(([runKey]) => runKey.replace('@', ' at ') + ' threads').join(', ')} got less than 80% of the cores they ` +
    'asked for (cores busy): the machine is shared, and these numbers say more about its load than about the code');
}
console.log('');

if (flags.profile) {
  const name = backends.includes('native') ? 'native' : 'wasm';
  const threads = Math.max(...threadCounts);
  const backend = await open(name, threads);
  const { backend: timed, totals } = profiled(backend);
  trainOurs(timed, steps, warmup);
  await backend.dispose();
  const total = [...totals.values()].reduce((sum, { cpuMs }) => sum + cpuMs, 0);
  const perStep = (value: number) => (value / (steps + warmup)).toFixed(1).padStart(12);
  console.log(`per kernel, ${name} on ${threads} thread(s), warm-up included: CPU time of the whole process during each call`);
  console.log(`  ${'kernel'.padEnd(22)} ${'cpu ms/step'.padStart(12)} ${'share'.padStart(6)} ${'wall ms/step'.padStart(12)}`);
  for (const [kernel, { ms, cpuMs }] of [...totals].sort((left, right) => right[1].cpuMs - left[1].cpuMs)) {
    console.log(`  ${kernel.padEnd(22)} ${perStep(cpuMs)} ${((100 * cpuMs) / total).toFixed(1).padStart(5)}% ${perStep(ms)}`);
  }
  console.log('');
}

const summary: [string, string][] = [];
const refusal = blas ? blasRefusal(blas) : 'PyTorch was not run';
for (const threads of threadCounts) {
  const ours = results.get(key('native', threads)) ?? results.get(key('wasm', threads));
  const theirs = results.get(key('pytorch', threads));
  if (!ours || !theirs) continue;
  const oursName = results.has(key('native', threads)) ? 'native' : 'wasm';
  if (refusal) {
    console.log(`ratio ${oursName} / pytorch, ${threads} thread(s): not given — ${refusal}`);
    continue;
  }
  const ratios = ours.map((run, round) => run.tokensPerSecond / theirs[round].tokensPerSecond);
  console.log(`ratio ${oursName} / pytorch, ${threads} thread(s): ${median(ratios).toFixed(2)}x${range(ratios, 2)} (per round)`);
  summary.push([threads === 1 ? 'ratio_vs_pytorch_one_thread' : `ratio_vs_pytorch_${threads}_threads`, median(ratios).toFixed(3)]);
}

if (targetLoss > 0) {
  const threads = Math.max(...threadCounts);
  const show = (label: string, run: TimeToLoss) =>
    console.log(`time to val loss ${targetLoss}, ${label} (${threads} threads): ${run.reached ? `${run.seconds.toFixed(1)} s` : `not reached in ${run.seconds.toFixed(0)} s (val ${run.valLoss.toFixed(3)})`}, ${run.steps} steps`);
  const oursKernels = backends.includes('native') ? 'native' : 'wasm';
  const ours = await timeToLossOurs(oursKernels, threads, targetLoss, maxSeconds);
  show(oursKernels, ours);
  summary.push([`seconds_to_loss_${oursKernels}`, ours.reached ? ours.seconds.toFixed(1) : 'not reached']);
  if (withPytorch) {
    const theirs = timeToLossPytorch(threads, targetLoss, maxSeconds);
    show('pytorch', theirs);
    summary.push(['seconds_to_loss_pytorch', theirs.reached ? theirs.seconds.toFixed(1) : 'not reached']);
  }
}

const best = results.get(key('native', Math.max(...threadCounts))) ?? results.get(key('wasm', Math.max(...threadCounts)));
if (best) summary.unshift(['tokens_per_second', median(best.map((run) => run.tokensPerSecond)).toFixed(0)]);
summary.push(['peak_rss_mib', (process.resourceUsage().maxRSS / 1024).toFixed(0)]);
for (const [name, value] of summary) console.log(`${name}: ${value}`);
