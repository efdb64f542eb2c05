/**
 * The result of a run, from the journal: baseline against best, the verified gain and its confidence interval,
 * counts, and the winning change as a diff against the run's baseline. `RunSummary` is its schema; the runs row
 * stores it (with the elapsed time) and every reader gets it back through `storedSummaryOf`.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { ExperimentRow, Journal, RunRow } from '../journal/journal.js';
import { stateDir as defaultStateDir } from '../journal/paths.js';
import { compareSamples } from '../stats/significance.js';
import { JournalCorruptError } from '../journal/errors.js';
import { describeZodError } from '../task/errors.js';
import type { ExperimentId, RunId } from '../task/ids.js';
import type { Task } from '../task/loader.js';
import { diffLineages } from './diff.js';
import { attemptsOf, incumbentOf, lineageOf, mean, samplesOf } from './lineage.js';
import { type RunOptions, optionsOf } from './options.js';
import { smallestConfirmableGain } from './gate.js';
import { isFailed } from './pairs.js';
import { noiseOf } from './planner.js';

const Interval = z.tuple([z.number(), z.number()]);

export const RunSummary = z.object({
  runId: z.string(),
  task: z.string(),
  researcher: z.string(),
  metric: z.string(),
  direction: z.enum(['minimize', 'maximize']),
  stopReason: z.string(),
  baselineExperimentId: z.string(),
  baselineScore: z.number().nullable(),
  baselineSamples: z.array(z.number()),
  bestExperimentId: z.string(),
  bestScore: z.number().nullable(),
  bestSamples: z.array(z.number()),
  /** Baseline over best when minimising (a speedup for seconds), best over baseline when maximising. */
  gain: z.number().nullable(),
  gainCi95: Interval.nullable(),
  /** Present when the metric is wall-clock seconds (lm-speedrun): the same numbers under their usual names. */
  baselineSeconds: z.number().nullable().optional(),
  bestSeconds: z.number().nullable().optional(),
  speedup: z.number().nullable().optional(),
  speedupCi95: Interval.nullable().optional(),
  experiments: z.number().int(),
  candidates: z.number().int(),
  accepted: z.number().int(),
  outcomes: z.record(z.string(), z.number()),
  bestChange: z.string(),
  bestDescription: z.string(),
  /** For generation runs: generation 0's baseline against this run's best (set when the generation ends). */
  gainOverGeneration0: z.number().optional(),
  generation0RunId: z.string().optional(),
  /** Wall-clock seconds of the run's experiments by what they were for. */
  timeSpent: z.object({ calibrating: z.number(), screening: z.number(), confirming: z.number(), reverifying: z.number() }).optional(),
  /** Runs measured while other work took the machine: not counted, made again. */
  contendedRuns: z.number().int().optional(),
  /** Runs of the best configuration that failed (a re-verification killed at its cap, say): not in bestSamples, never hidden. */
  bestFailedRuns: z.number().int().optional(),
  /** Candidates accepted and later demoted by their re-verification, with why. */
  demoted: z.array(z.string()).optional(),
  /** What a person should know to read the result: no gain found, a busy machine, noise too high for small gains. */
  notes: z.array(z.string()).optional(),
});
export type RunSummary = z.infer<typeof RunSummary>;

/**
 * What a runs row's summary column holds: a run in progress has only its elapsed time (so a resume continues the
 * clock); an ended run has its full summary beside it.
 */
export const StoredSummary = RunSummary.partial().extend({ elapsedSeconds: z.number().nonnegative().optional() });
export type StoredSummary = z.infer<typeof StoredSummary>;

export function storedSummaryOf(run: RunRow): StoredSummary {
  const parsed = StoredSummary.safeParse(run.summary ?? {});
  if (!parsed.success) throw new JournalCorruptError(`run ${run.id}: its summary does not parse: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

/** The full summary of an ended run, or null while it has none. */
export function finalSummaryOf(run: RunRow): RunSummary | null {
  const parsed = RunSummary.safeParse(run.summary ?? {});
  return parsed.success ? parsed.data : null;
}

export function summariseRun(journal: Journal, task: Task, runId: RunId, stopReason: string, stateDirectory = defaultStateDir()): RunSummary {
  const run = journal.getRun(runId);
  if (!run) throw new Error(`no run ${runId}`);
  const options = optionsOf(run);
  const experiments = journal.listExperiments(runId);
  const root = experiments.find((experiment) => experiment.role === 'baseline');
  if (!root) throw new Error(`run ${runId} has no baseline`);
  const best = incumbentOf(experiments);
  const baselineSamples = samplesOf(experiments, root.id);
  const bestSamples = samplesOf(experiments, best.id);
  const direction = task.file.metric.direction;
  let gain: number | null = null;
  let gainCi95: [number, number] | null = null;
  if (baselineSamples.length > 0 && bestSamples.length > 0) {
    if (best.id === root.id) {
      gain = 1;
    } else {
      const comparison = compareSamples(baselineSamples, bestSamples, { direction, alpha: options.gate.alpha, seed: options.seed });
      gain = comparison.ratio;
      gainCi95 = comparison.ratioCi95;
    }
  }
  const outcomes: Record<string, number> = {};
  for (const experiment of experiments) {
    const status = experiment.state === 'finished' ? (experiment.outcome?.status ?? 'unknown') : experiment.state;
    outcomes[status] = (outcomes[status] ?? 0) + 1;
  }
  const bestChange = best.id === root.id ? '' : diffLineages(task, lineageOf(journal, task, root), lineageOf(journal, task, best), join(stateDirectory, 'scratch'));
  const summary: RunSummary = {
    runId,
    task: task.file.name,
    researcher: run.researcher,
    metric: task.file.metric.name,
    direction,
    stopReason,
    baselineExperimentId: root.id,
    baselineScore: baselineSamples.length ? mean(baselineSamples) : null,
    baselineSamples,
    bestExperimentId: best.id,
    bestScore: bestSamples.length ? mean(bestSamples) : null,
    bestSamples,
    gain,
    gainCi95,
    experiments: experiments.filter((experiment) => experiment.state === 'finished').length,
    candidates: experiments.filter((experiment) => experiment.role === 'candidate').length,
    accepted: experiments.filter((experiment) => experiment.accepted).length,
    outcomes,
    bestChange,
    bestDescription: best.id === root.id ? 'baseline' : best.description,
    ...readingAids(experiments, task, options, best.id),
  };
  if (task.file.metric.source === 'wall-seconds') {
    Object.assign(summary, { baselineSeconds: summary.baselineScore, bestSeconds: summary.bestScore, speedup: gain, speedupCi95: gainCi95 });
  }
  return summary;
}

/** What a run was for: screening a candidate, confirming a claim, re-verifying an incumbent, or calibrating the baseline. */
function purposeOf(experiment: ExperimentRow): 'calibrating' | 'screening' | 'confirming' | 'reverifying' {
  if (experiment.role === 'candidate') return 'screening';
  if (experiment.metadata.pair) return experiment.metadata.pair.purpose === 'confirm' ? 'confirming' : 'reverifying';
  if (experiment.role === 'verify' && experiment.metadata.calibrationCheck === undefined) return 'reverifying';
  return 'calibrating';
}

/** Seconds a finished experiment ran (its cap when it was killed at it). */
const secondsOf = (experiment: ExperimentRow): number => Number(experiment.outcome?.metrics.wallSeconds ?? experiment.metadata.capSeconds ?? 0) || 0;

/** What the run's time went to, what was not counted, and the plain words a bare number would hide. */
function readingAids(experiments: readonly ExperimentRow[], task: Task, options: RunOptions, bestId: string) {
  const timeSpent = { calibrating: 0, screening: 0, confirming: 0, reverifying: 0 };
  for (const experiment of experiments) {
    if (experiment.state !== 'finished') continue;
    timeSpent[purposeOf(experiment)] += secondsOf(experiment);
  }
  const contendedRuns = experiments.filter((experiment) => experiment.metadata.contended).length;
  const bestFailedRuns = attemptsOf(experiments, bestId as ExperimentId).filter(isFailed).length;
  const demoted = experiments.filter((experiment) => experiment.metadata.demoted).map((experiment) => `#${experiment.seq} ${experiment.description}: ${experiment.metadata.demoted?.reason}`);
  const notes: string[] = [];
  const accepted = experiments.filter((experiment) => experiment.accepted).length;
  if (accepted === 0) notes.push('no change was accepted: the baseline stands, and the gain is 1 by definition');
  if (contendedRuns > 0) {
    notes.push(`${contendedRuns} of ${experiments.filter((experiment) => experiment.state === 'finished').length} runs were measured while other work took more than ${Math.round((options.contentionLimit ?? 0) * 100)}% of their cores, and were not counted`);
  }
  if (bestFailedRuns > 0) notes.push(`${bestFailedRuns} run(s) of the best configuration failed; its samples count only the ones that finished`);
  const { noise } = noiseOf({ experiments, options, task: { direction: task.file.metric.direction, metricSource: task.file.metric.source, wallSecondsLimit: task.file.run.limits.wallSeconds } });
  if (noise.degreesOfFreedom >= 1 && noise.variance > 0) {
    const smallest = smallestConfirmableGain(noise.variance, options.gate);
    const perRun = Math.sqrt(noise.variance);
    notes.push(`the noise of one run was ${(perRun * 100).toPrecision(2)}%: the gate can confirm gains of about ${((smallest - 1) * 100).toPrecision(2)}% and more (80% of the time, for a first claim)`);
  }
  return { timeSpent, contendedRuns, bestFailedRuns, demoted, notes };
}
