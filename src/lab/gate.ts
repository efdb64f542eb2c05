/**
 * The acceptance gate: a candidate replaces the incumbent only when its samples beat the incumbent's with a
 * significant one-sided test (see src/stats/significance.ts for the test and why), never on one lucky run.
 * The harness gives every attempt of a configuration its own seed, so a gain must hold across seeds.
 */
import type { ExperimentRow, Journal } from '../journal/journal.js';
import { compareSamples } from '../stats/significance.js';
import type { Task } from '../task/loader.js';
import { lineageOf } from './lineage.js';
import type { GateOptions } from './options.js';

export function isBetter(direction: 'minimize' | 'maximize', score: number, reference: number, minRelativeGain: number): boolean {
  return direction === 'minimize' ? score < reference * (1 - minRelativeGain) : score > reference * (1 + minRelativeGain);
}

export interface GateDecision {
  accepted: boolean;
  detail: string;
  record: Record<string, unknown>;
}

export function decideGate(
  task: Task,
  journal: Journal,
  incumbent: ExperimentRow,
  candidate: ExperimentRow,
  incumbentSamples: number[],
  candidateSamples: number[],
  gate: GateOptions,
  seed: number,
): GateDecision {
  const same = JSON.stringify(lineageOf(journal, task, incumbent)) === JSON.stringify(lineageOf(journal, task, candidate));
  if (same) return { accepted: false, detail: 'the candidate runs the same configuration as the incumbent', record: { incumbentId: incumbent.id } };
  const comparison = compareSamples(incumbentSamples, candidateSamples, { direction: task.file.metric.direction, alpha: gate.alpha, seed });
  const detail = `${comparison.test}: p=${comparison.pValue.toPrecision(3)} (alpha ${gate.alpha}), ratio ${comparison.ratio.toFixed(3)} [${comparison.ratioCi95.map((value) => value.toFixed(3)).join(', ')}], n=${incumbentSamples.length}/${candidateSamples.length}`;
  return {
    accepted: comparison.significant,
    detail,
    record: { incumbentId: incumbent.id, incumbentSamples, candidateSamples, test: comparison.test, pValue: comparison.pValue, ratio: comparison.ratio, ratioCi95: comparison.ratioCi95 },
  };
}
