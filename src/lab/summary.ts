/**
 * The result of a run, from the journal: baseline against best, the verified gain and its confidence interval,
 * counts, and the winning change as a diff against the run's baseline.
 */
import { join } from 'node:path';
import type { Journal } from '../journal/journal.js';
import { stateDir as defaultStateDir } from '../journal/paths.js';
import { compareSamples } from '../stats/significance.js';
import type { RunId } from '../task/ids.js';
import type { Task } from '../task/loader.js';
import { diffLineages } from './diff.js';
import { lineageOf, mean, samplesOf } from './lineage.js';
import { incumbentOf, optionsOf } from './research.js';

export interface RunSummary {
  runId: string;
  task: string;
  researcher: string;
  metric: string;
  direction: 'minimize' | 'maximize';
  stopReason: string;
  baselineExperimentId: string;
  baselineScore: number | null;
  baselineSamples: number[];
  bestExperimentId: string;
  bestScore: number | null;
  bestSamples: number[];
  /** Baseline over best when minimising (a speedup for seconds), best over baseline when maximising. */
  gain: number | null;
  gainCi95: [number, number] | null;
  /** Present when the metric is wall-clock seconds (lm-speedrun): the same numbers under their usual names. */
  baselineSeconds?: number | null;
  bestSeconds?: number | null;
  speedup?: number | null;
  speedupCi95?: [number, number] | null;
  experiments: number;
  candidates: number;
  accepted: number;
  outcomes: Record<string, number>;
  bestChange: string;
  bestDescription: string;
  /** For generation runs: generation 0's baseline against this run's best (set by the composition root). */
  gainOverGeneration0?: number;
}

export function summariseRun(journal: Journal, task: Task, runId: RunId, stopReason: string, stateDirectory = defaultStateDir()): RunSummary {
  const run = journal.getRun(runId);
  if (!run) throw new Error(`no run ${runId}`);
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
      const comparison = compareSamples(baselineSamples, bestSamples, { direction, alpha: optionsOf(run).gate.alpha, seed: optionsOf(run).seed });
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
  };
  if (task.file.metric.source === 'wall-seconds') {
    Object.assign(summary, { baselineSeconds: summary.baselineScore, bestSeconds: summary.bestScore, speedup: gain, speedupCi95: gainCi95 });
  }
  return summary;
}

