/**
 * Local moves around the incumbent: mutate 1-3 knobs with a step size in unit space, the (1+1) evolution
 * strategy. The step size follows Rechenberg's 1/5 success rule, recomputed from the history each time
 * (so the researcher stays stateless and a resumed run proposes what the original would have).
 * Among a few mutations, the one least likely to fail (nearest evaluated neighbours) is kept.
 *
 * Is: the `evolution` flavour of the search researcher and the start-up moves of its TPE flavour.
 * Is not: a population-based or CMA evolution strategy.
 */
import type { Random } from '../stats/random.js';
import type { Assignment, Space } from '../task/space.js';
import type { Observation } from './observations.js';
import { assignmentKey, decodePoint, encodePoint, pointDistance } from './space-geometry.js';
import type { ExperimentSummary } from './types.js';

export const INITIAL_STEP_SIZE = 0.2;
const MIN_STEP_SIZE = 0.02;
const MAX_STEP_SIZE = 0.5;

/** How many knobs a move changes: mostly one (readable, attributable), sometimes two or three (interactions). */
function knobCount(random: Random, available: number): number {
  const draw = random.uniform();
  const wanted = draw < 0.5 ? 1 : draw < 0.8 ? 2 : 3;
  return Math.min(wanted, available);
}

/**
 * Removes and returns one knob name from `pool`, drawn with probability proportional to its weight (the task
 * author's prior on which knobs matter; 1 when not given).
 */
export function takeWeighted(space: Space, pool: string[], random: Random): string {
  const weights = pool.map((name) => space[name]?.weight ?? 1);
  let draw = random.uniform() * weights.reduce((sum, weight) => sum + weight, 0);
  let index = 0;
  while (index < pool.length - 1 && draw >= weights[index]) draw -= weights[index++];
  return pool.splice(index, 1)[0];
}

/** A copy of `base` with 1-3 of the `names` knobs moved; each moved knob really changes value. */
export function mutate(space: Space, names: readonly string[], base: Assignment, random: Random, stepSize: number): Assignment {
  const pool = [...names];
  const chosen: string[] = [];
  for (let count = knobCount(random, pool.length); count > 0; count--) chosen.push(takeWeighted(space, pool, random));
  const start = encodePoint(space, chosen, base);
  const moved = chosen.map((name, index) => {
    const knob = space[name];
    if (knob.type === 'categorical') {
      const others = knob.choices.map((_, choice) => choice).filter((choice) => choice !== start[index]);
      return others[random.integer(others.length)];
    }
    for (let attempt = 0; attempt < 8; attempt++) {
      let unit = start[index] + stepSize * random.normal();
      unit = unit < 0 ? -unit : unit > 1 ? 2 - unit : unit; // reflect at the bounds instead of piling up on them
      const candidate = decodePoint(space, [name], [unit], base)[name];
      if (candidate !== base[name]) return unit;
    }
    // The step keeps rounding back to the same value: take one visible step towards the interior.
    return start[index] < 0.5 ? Math.min(1, start[index] + Math.max(stepSize, 0.05)) : Math.max(0, start[index] - Math.max(stepSize, 0.05));
  });
  return decodePoint(space, chosen, moved, base);
}

/**
 * Step size by the 1/5 success rule over the evaluated candidates so far: each acceptance grows it by
 * exp(0.8 / 3), each rejection shrinks it by exp(-0.2 / 3), so it is stable at a 20% acceptance rate.
 */
export function stepSizeFromHistory(history: readonly ExperimentSummary[], initial = INITIAL_STEP_SIZE): number {
  let logStep = Math.log(initial);
  for (const experiment of history) {
    if (experiment.role !== 'candidate' || experiment.outcome === null) continue;
    logStep += experiment.accepted ? 0.8 / 3 : -0.2 / 3;
    logStep = Math.min(Math.log(MAX_STEP_SIZE), Math.max(Math.log(MIN_STEP_SIZE), logStep));
  }
  return Math.exp(logStep);
}

/**
 * Categorical choices that failed every time they ran, at least twice ("attention: broken"): a point using one
 * is taken to fail. Distances alone learn this slowly, since one categorical knob is a small part of a distance.
 */
function doomedChoices(space: Space, names: readonly string[], observations: readonly Observation[]): Map<string, Set<unknown>> {
  const doomed = new Map<string, Set<unknown>>();
  for (const name of names) {
    const knob = space[name];
    if (knob.type !== 'categorical') continue;
    for (const choice of knob.choices) {
      const runs = observations.filter((observation) => observation.kind !== 'pending' && observation.assignment[name] === choice);
      if (runs.length >= 2 && runs.every((observation) => observation.kind === 'failed')) {
        doomed.set(name, (doomed.get(name) ?? new Set()).add(choice));
      }
    }
  }
  return doomed;
}

/**
 * Estimated chance that a point fails: 1 when it uses a doomed categorical choice, else the distance-weighted
 * share of failures among its three nearest evaluated neighbours (0 with none). Built once per proposal.
 */
export function failureRiskModel(space: Space, names: readonly string[], observations: readonly Observation[]): (point: Assignment) => number {
  const doomed = doomedChoices(space, names, observations);
  const evaluated = observations
    .filter((observation) => observation.kind !== 'pending')
    .map((observation) => ({ failed: observation.kind === 'failed', coordinates: encodePoint(space, names, observation.assignment) }));
  return (point) => {
    for (const [name, choices] of doomed) if (choices.has(point[name])) return 1;
    const here = encodePoint(space, names, point);
    // The three nearest, by a running insertion (no sort: this runs for every candidate of every proposal).
    const nearest: { failed: boolean; distance: number }[] = [];
    for (const neighbour of evaluated) {
      const distance = pointDistance(space, names, here, neighbour.coordinates);
      if (nearest.length === 3 && distance >= nearest[2].distance) continue;
      let position = Math.min(nearest.length, 2);
      while (position > 0 && nearest[position - 1].distance > distance) position--;
      nearest.splice(position, 0, { failed: neighbour.failed, distance });
      if (nearest.length > 3) nearest.pop();
    }
    let weightSum = 0;
    let failureWeight = 0;
    for (const neighbour of nearest) {
      const weight = 1 / (neighbour.distance + 0.05);
      weightSum += weight;
      if (neighbour.failed) failureWeight += weight;
    }
    return weightSum ? failureWeight / weightSum : 0;
  };
}

/**
 * The least risky of a few fresh mutations of `base` (ties: the first drawn); null when every draw lands on a
 * point already evaluated or pending.
 */
export function proposeMutation(
  space: Space, names: readonly string[], base: Assignment, random: Random, stepSize: number,
  failureRisk: (point: Assignment) => number, seen: ReadonlySet<string>, draws = 8,
): Assignment | null {
  let best: { point: Assignment; risk: number } | null = null;
  let fresh = 0;
  for (let attempt = 0; attempt < 16 * draws && fresh < draws; attempt++) {
    const point = mutate(space, names, base, random, stepSize);
    if (seen.has(assignmentKey(space, point))) continue;
    fresh++;
    const risk = failureRisk(point);
    if (!best || risk < best.risk) best = { point, risk };
  }
  return best?.point ?? null;
}
