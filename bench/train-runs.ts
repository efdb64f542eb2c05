/**
 * The measurements bench/train.ts is made of: one timed training run of our GPT on a backend, the same in
 * PyTorch (bench/pytorch-train.py, with the BLAS it really loaded), a run to a validation loss on Moby Dick with the
 * trainer's recipe (ours through src/gpt/train.ts, PyTorch's through the script's --data-dir mode), the CPU's FMA
 * peak, and the verdict on whether PyTorch's BLAS is one a speed ratio may be quoted against.
 * Not here: the rounds, the table, the flags (bench/train.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdamW } from '../src/gpt/adamw.js';
import type { Backend } from '../src/gpt/backend.js';
import { ModelConfig, TrainConfig } from '../src/gpt/config.js';
import { loadMobyDick, splitCorpus, writeSplits } from '../src/gpt/data.js';
import { Gpt } from '../src/gpt/model.js';
import { loadNativeLibrary } from '../src/gpt/native/library.js';
import { createRng } from '../src/gpt/random.js';
import { prepareData, train } from '../src/gpt/train.js';

export const BATCH_SIZE = 32;
export const CONFIG = ModelConfig.parse({});
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./pytorch-train.py', import.meta.url));

export interface Throughput {
  tokensPerSecond: number;
  cpuCoresBusy: number; // CPU time of all the process's threads / wall time: how much of the machine it got
}

/** Trains the benchmark config on random tokens for warmup + steps steps; times the last `steps`. */
export function trainOurs(backend: Backend, steps: number, warmup: number): Throughput {
  const T = CONFIG.contextLength;
  const model = new Gpt(CONFIG, backend, { batchSize: BATCH_SIZE, sequenceLength: T });
  model.initialize(1337);
  const optimizer = new AdamW(model, { beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1, gradClip: 1 });
  const rng = createRng(1);
  const inputs = new Int32Array(BATCH_SIZE * T);
  const targets = new Int32Array(BATCH_SIZE * T);
  let started = performance.now();
  let cpuStarted = process.cpuUsage();
  for (let step = 0; step < warmup + steps; step++) {
    if (step === warmup) {
      started = performance.now();
      cpuStarted = process.cpuUsage();
    }
    for (let i = 0; i < inputs.length; i++) {
      inputs[i] = rng.int(CONFIG.vocabSize);
      targets[i] = rng.int(CONFIG.vocabSize);
    }
    model.forward(inputs, targets, BATCH_SIZE, T);
    model.zeroGrad();
    model.backward();
    optimizer.step(1e-3);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
  return { tokensPerSecond: (steps * BATCH_SIZE * T) / seconds, cpuCoresBusy: (cpu.user + cpu.system) / 1e6 / seconds };
}

export interface Blas {
  kind: string; // openblas | mkl | blis | reference | unknown
  core: string; // OpenBLAS's kernel set (Zen, Haswell, SkylakeX, ...)
  config: string;
  coretype: string; // what OPENBLAS_CORETYPE was set to, or 'auto'
}

const cpuFlags = (): Set<string> => {
  try {
    return new Set(/^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
};

/** PyTorch's environment: OpenBLAS's AVX-512 kernels where the CPU has AVX-512 (they die of SIGILL elsewhere). */
function pytorchEnvironment(): { environment: NodeJS.ProcessEnv; coretype: string } {
  const environment: NodeJS.ProcessEnv = { ...process.env };
  if (cpuFlags().has('avx512f')) environment.OPENBLAS_CORETYPE = 'SkylakeX';
  else delete environment.OPENBLAS_CORETYPE;
  return { environment, coretype: environment.OPENBLAS_CORETYPE ?? 'auto' };
}

/** Whether /usr/bin/python3 can import torch. */
export function pytorchAvailable(): boolean {
  return spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

function runPytorch(args: string[]): { values: Map<string, string>; blas: Blas } {
  const { environment, coretype } = pytorchEnvironment();
  const result = spawnSync(PYTHON, [SCRIPT, ...args], { env: environment, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 900_000 });
  if (result.status !== 0) throw new Error(`pytorch-train.py ${args.join(' ')} failed (status ${result.status}, signal ${result.signal})`);
  const values = new Map(result.stdout.split('\n').map((line) => /^(\w+): (.*)$/.exec(line)).filter((match) => match !== null).map((match) => [match[1], match[2]]));
  return { values, blas: { kind: values.get('blas_kind') ?? 'unknown', core: values.get('blas_core') ?? '', config: values.get('blas_config') ?? '', coretype } };
}

export function trainPytorch(threads: number, steps: number, warmup: number): Throughput & { blas: Blas } {
  const { values, blas } = runPytorch(['--steps', String(steps), '--warmup', String(warmup), '--threads', String(threads), '--batch-size', String(BATCH_SIZE)]);
  const secondsPerStep = Number(values.get('seconds_per_step'));
  return { tokensPerSecond: Number(values.get('tokens_per_second')), cpuCoresBusy: Number(values.get('cpu_seconds_per_step')) / secondsPerStep, blas };
}

/** OpenBLAS kernel sets that use the widest vectors of a CPU with these features. */
const WIDEST_OPENBLAS_CORES = { avx512: ['SkylakeX', 'CooperLake', 'SapphireRapids'], avx2: ['Haswell', 'Zen', 'SkylakeX', 'CooperLake', 'SapphireRapids'] };

/** Null when a speed ratio against this BLAS means something on a CPU with these flags; otherwise why it would not. */
export function blasRefusal(blas: Pick<Blas, 'kind' | 'core' | 'config'>, flags: Set<string> = cpuFlags()): string | null {
  if (blas.kind === 'mkl' || blas.kind === 'blis') return null;
  if (blas.kind !== 'openblas') return `PyTorch runs ${blas.config || 'an unknown BLAS'}, a reference (unoptimised) BLAS or none we can name`;
  const widest = flags.has('avx512f') ? 'avx512' : flags.has('avx2') ? 'avx2' : null;
  if (widest && !WIDEST_OPENBLAS_CORES[widest].includes(blas.core)) {
    return `OpenBLAS runs its ${blas.core} kernels, not ones for this CPU's ${widest === 'avx512' ? 'AVX-512' : 'AVX2'}`;
  }
  return null;
}

export interface TimeToLoss {
  seconds: number;
  steps: number;
  valLoss: number;
  reached: boolean;
}

let splitsDirectory: string | null = null;

/** Moby Dick's train and val splits as the trainer cuts them, written once for PyTorch. */
function mobyDickSplits(): { directory: string; data: ReturnType<typeof prepareData> } {
  const splits = splitCorpus(loadMobyDick());
  if (!splitsDirectory) {
    splitsDirectory = mkdtempSync(join(tmpdir(), 'successor-bench-'));
    writeSplits(splitsDirectory, splits, ['train', 'val']);
  }
  return { directory: splitsDirectory, data: prepareData('byte', splits) };
}

/** Our trainer with its default recipe (the benchmark config) until validation loss <= target. */
export async function timeToLossOurs(kernels: TrainConfig['kernels'], threads: number, target: number, maxSeconds: number): Promise<TimeToLoss> {
  const summary = await train(TrainConfig.parse({ kernels, threads, targetValLoss: target, maxSeconds }), mobyDickSplits().data);
  return { seconds: summary.seconds, steps: summary.steps, valLoss: summary.valLoss, reached: summary.reachedTarget };
}

export function timeToLossPytorch(threads: number, target: number, maxSeconds: number): TimeToLoss {
  const { values } = runPytorch(['--threads', String(threads), '--data-dir', mobyDickSplits().directory, '--target-loss', String(target), '--max-seconds', String(maxSeconds)]);
  return { seconds: Number(values.get('seconds')), steps: Number(values.get('steps')), valLoss: Number(values.get('val_loss')), reached: values.get('reached_target') === 'true' };
}

/**
 * The calling core's FMA peak, FLOP/s: the best of 300 timings of 1 ms, so that on a shared machine at least one
 * falls between the OS's preemptions (longer windows measured as much as 20% low there).
 */
export function measurePeakPerCore(): number | null {
  const load = loadNativeLibrary();
  if (!load.ok) return null;
  let best = 0;
  for (let repetition = 0; repetition < 300; repetition++) best = Math.max(best, load.library.kernels.measureFmaPeak(0.001));
  return best;
}
