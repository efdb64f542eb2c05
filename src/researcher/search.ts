/**
 * The built-in `search` researcher: a seeded optimiser over the task's knob space that needs no model and no
 * network. Two flavours:
 *  - `tpe` (default): a few start-up moves around the incumbent (1-3 knobs at a time: with budgets of 20-60
 *    experiments a random start wastes the budget), then Tree-structured Parzen Estimator proposals, each chosen
 *    among draws from the good density and local moves around the incumbent.
 *  - `evolution`: a (1+1) evolution strategy around the incumbent, step size by the 1/5 success rule.
 * Failures, timeouts and pending experiments count against their region; a point already evaluated or pending is
 * never proposed again. Proposals are relative to the incumbent and list only the knobs that differ from it.
 *
 * Stateless: everything is recomputed from the history (and the lab's prior from earlier runs, which counts as
 * observations from the start), so the same options, seed, prior and history give the same proposal (a resumed run
 * continues exactly). Is not: able to edit files — knobs only.
 */
import { createRandom } from '../stats/random.js';
import type { Random } from '../stats/random.js';
import { Change } from '../task/change.js';
import type { Assignment, Space } from '../task/space.js';
import { failureRiskModel, INITIAL_STEP_SIZE, proposeMutation, stepSizeFromHistory, takeWeighted } from './evolution.js';
import { collectObservations } from './observations.js';
import type { Observation } from './observations.js';
import {
  assignmentKey, completeAssignment, decodePoint, describeKnobChange, encodePoint, isMutable, knobDifferences, knobNames,
} from './space-geometry.js';
import { fitTpe } from './tpe.js';
import type { Proposal, ResearchContext, Researcher } from './types.js';

export type SearchFlavour = 'tpe' | 'evolution';

export interface SearchOptions {
  seed: number;
  flavour?: SearchFlavour;
  /** Distinct points to try around the incumbent before TPE takes over; default 20% of the budget, in [5, 10]. */
  startupExperiments?: number;
  /** Share of scored points TPE calls good (default 0.25). */
  gamma?: number;
}

/** Folds integers into one 32-bit seed (FNV-1a over the 32-bit halves, then an avalanche). */
export function mixSeeds(...parts: number[]): number {
  let hash = 0x811c9dc5;
  for (const part of parts) {
    const whole = Number.isFinite(part) ? Math.trunc(part) : 0;
    for (const word of [whole >>> 0, Math.floor(whole / 2 ** 32) >>> 0]) hash = Math.imul(hash ^ word, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  return (hash ^ (hash >>> 13)) >>> 0;
}

export class SearchResearcher implements Researcher {
  readonly name: string;
  private readonly flavour: SearchFlavour;

  constructor(private readonly options: SearchOptions) {
    this.flavour = options.flavour ?? 'tpe';
    this.name = this.flavour === 'tpe' ? 'search' : 'search:evolution';
  }

  async propose(context: ResearchContext): Promise<Proposal | null> {
    context.signal.throwIfAborted();
    const space = context.task.space;
    const names = knobNames(space).filter((name) => isMutable(space[name]));
    if (names.length === 0) return null;
    // Earlier runs' observations (the lab's prior) shape the model; only this run's are `seen` (never proposed again).
    const own = collectObservations(space, context.history, context.task.metric.direction);
    const observations = context.prior?.length ? collectObservations(space, [...context.prior, ...context.history], context.task.metric.direction) : own;
    const incumbent = completeAssignment(space, context.incumbent.assignment);
    const seen = new Set([...own.map((observation) => observation.key), assignmentKey(space, incumbent)]);
    const random = createRandom(mixSeeds(this.options.seed, context.seed, context.history.length));
    const point = this.choosePoint(context, names, observations, incumbent, seen, random)
      ?? unseenNeighbour(space, names, incumbent, seen);
    if (point === null) return null;
    const knobs = knobDifferences(space, incumbent, point);
    return {
      parentId: context.incumbent.id,
      change: Change.parse({ knobs, edits: [] }),
      description: describeKnobChange(space, incumbent, knobs),
    };
  }

  private choosePoint(
    context: ResearchContext, names: readonly string[], observations: readonly Observation[], incumbent: Assignment,
    seen: ReadonlySet<string>, random: Random,
  ): Assignment | null {
    const space = context.task.space;
    const failureRisk = failureRiskModel(space, names, observations);
    if (this.flavour === 'evolution') {
      return proposeMutation(space, names, incumbent, random, stepSizeFromHistory(context.history), failureRisk, seen);
    }
    if (observations.length < this.startupExperiments(context)) {
      return proposeMutation(space, names, incumbent, random, INITIAL_STEP_SIZE, failureRisk, seen);
    }
    const model = fitTpe(space, names, observations, this.options.gamma ?? 0.25);
    // Candidates are mostly the incumbent with 1-3 knobs taken from a draw of the good density: TPE says where
    // to go, a few knobs at a time keeps each step attributable and close to what is known to work. A few whole
    // draws keep some global exploration, a few plain mutations some purely local search.
    // Later in the budget, look harder (more draws) for the point TPE likes best: exploitation grows.
    const fractionUsed = Number.isFinite(context.budget.fractionUsed) ? Math.min(1, Math.max(0, context.budget.fractionUsed)) : 0;
    const partialDraws = Math.round(24 + 48 * fractionUsed);
    const candidates: Assignment[] = [];
    for (let draw = 0; draw < partialDraws; draw++) {
      const full = decodePoint(space, names, model.sampleGood(random), incumbent);
      const partial = { ...incumbent };
      const pool = [...names];
      for (let count = 1 + random.integer(3); count > 0 && pool.length; count--) {
        const name = takeWeighted(space, pool, random);
        partial[name] = full[name];
      }
      candidates.push(partial);
    }
    for (let draw = 0; draw < 8; draw++) candidates.push(decodePoint(space, names, model.sampleGood(random), incumbent));
    const stepSize = stepSizeFromHistory(context.history);
    for (let draw = 0; draw < 8; draw++) {
      const local = proposeMutation(space, names, incumbent, random, stepSize, failureRisk, seen, 1);
      if (local) candidates.push(local);
    }
    let best: { point: Assignment; score: number } | null = null;
    for (const candidate of candidates) {
      if (seen.has(assignmentKey(space, candidate))) continue;
      // Candidates sure to fail (a doomed choice, or only failures nearby) are left out; likely ones discounted.
      const risk = failureRisk(candidate);
      if (risk >= 1) continue;
      const score = model.acquisition(encodePoint(space, names, candidate)) + Math.log(1 - 0.95 * risk);
      if (!best || score > best.score) best = { point: candidate, score };
    }
    return best?.point ?? proposeMutation(space, names, incumbent, random, stepSize, failureRisk, seen);
  }

  private startupExperiments(context: ResearchContext): number {
    if (this.options.startupExperiments !== undefined) return this.options.startupExperiments;
    const { experimentsLeft } = context.budget;
    if (experimentsLeft === null) return 8;
    return Math.min(10, Math.max(5, Math.round(0.2 * (context.history.length + experimentsLeft))));
  }
}

/**
 * The last resort when random draws only find known points (a small, nearly exhausted space): the first unseen
 * one-knob change of the incumbent, in a fixed order. Floats are skipped (draws rarely collide on them).
 */
function unseenNeighbour(space: Space, names: readonly string[], incumbent: Assignment, seen: ReadonlySet<string>): Assignment | null {
  for (const name of names) {
    const knob = space[name];
    const values = knob.type === 'categorical' ? knob.choices
      : knob.type === 'int' && knob.max - knob.min <= 256 ? Array.from({ length: knob.max - knob.min + 1 }, (_, index) => knob.min + index)
        : [];
    for (const value of values) {
      const point = { ...incumbent, [name]: value };
      if (!seen.has(assignmentKey(space, point))) return point;
    }
  }
  return null;
}
