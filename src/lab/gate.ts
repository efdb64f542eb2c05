/**
 * The acceptance gate: a candidate replaces the incumbent only when its samples beat the incumbent's with a
 * significant one-sided test (see src/stats/significance.ts for the test and why), never on one lucky run.
 * The harness gives every attempt of a configuration its own seed, so a gain must hold across seeds.
 * Pure: samples in, a decision out; the planner (planner.ts) says when to ask.
 */
import type { GateRecord } from '../journal/metadata.js';
import { compareSamples } from '../stats/significance.js';
import type { GateOptions } from './options.js';

export function isBetter(direction: 'minimize' | 'maximize', score: number, reference: number, minRelativeGain: number): boolean {
  return direction === 'minimize' ? score < reference * (1 - minRelativeGain) : score > reference * (1 + minRelativeGain);
}

export interface GateInput {
  direction: 'minimize' | 'maximize';
  gate: GateOptions;
  seed: number;
  /** The candidate's workspace is the incumbent's: whatever its samples say, nothing changed. */
  sameConfiguration: boolean;
  incumbentId: string;
  incumbentSamples: number[];
  candidateSamples: number[];
}

export interface GateDecision {
  accepted: boolean;
  detail: string;
  record: Omit<GateRecord, 'accepted' | 'detail'>;
}

export function decideGate(input: GateInput): GateDecision {
  const { incumbentSamples, candidateSamples, gate } = input;
  if (input.sameConfiguration) return { accepted: false, detail: 'the candidate runs the same configuration as the incumbent', record: { incumbentId: input.incumbentId } };
  const comparison = compareSamples(incumbentSamples, candidateSamples, { direction: input.direction, alpha: gate.alpha, seed: input.seed });
  const detail = `${comparison.test}: p=${comparison.pValue.toPrecision(3)} (alpha ${gate.alpha}), ratio ${comparison.ratio.toFixed(3)} [${comparison.ratioCi95.map((value) => value.toFixed(3)).join(', ')}], n=${incumbentSamples.length}/${candidateSamples.length}`;
  return {
    accepted: comparison.significant,
    detail,
    record: { incumbentId: input.incumbentId, incumbentSamples, candidateSamples, test: comparison.test, pValue: comparison.pValue, ratio: comparison.ratio, ratioCi95: comparison.ratioCi95 },
  };
}
