/**
 * A population of ideas over a run's history, for researchers that pick where to start from: MAP-Elites cells over
 * simple descriptors of what a configuration changed (which files its lineage edits, how many knobs it moved from
 * the baseline), the elite of each cell (its best single run), and parents drawn from it — the best (the incumbent),
 * a diverse one (the elite of the cell used least as a parent so far), or the most recent good one. And crossover:
 * one accepted branch's own edits and knob moves laid onto another accepted branch.
 * Pure and deterministic given the seed and the history. Is not: the gate (elites are single runs; only the gate's
 * accepted experiments are known to be better) nor a judge of whether a crossover's edits still apply (the lab is).
 */
import type { Change, FileEdit } from '../task/change.js';
import type { ExperimentId } from '../task/ids.js';
import { isScored } from '../task/outcome.js';
import type { KnobValue } from '../task/space.js';
import type { ExperimentSummary } from './types.js';

export type ParentKind = 'best' | 'diverse' | 'recent';

export interface Cell {
  key: string;
  /** The files the configurations of this cell edit, and how many knobs they moved from the baseline. */
  files: string[];
  knobsMoved: number;
  elite: ExperimentSummary;
  members: number;
}

const byId = (history: readonly ExperimentSummary[]) => new Map(history.map((experiment) => [experiment.id, experiment]));

/** An experiment's chain from the root (first) to itself (last), as far as the history reaches. */
export function chainOf(history: readonly ExperimentSummary[], experiment: ExperimentSummary): ExperimentSummary[] {
  const index = byId(history);
  const chain: ExperimentSummary[] = [];
  const seen = new Set<string>();
  for (let node: ExperimentSummary | undefined = experiment; node && !seen.has(node.id); node = node.parentId ? index.get(node.parentId) : undefined) {
    seen.add(node.id);
    chain.unshift(node);
  }
  return chain;
}

const knobsMovedBucket = (count: number): number => (count === 0 ? 0 : count <= 2 ? 1 : 2);

/** The descriptor of a configuration: the files its lineage edits, and the bucket of knobs moved from the baseline. */
export function descriptorOf(history: readonly ExperimentSummary[], experiment: ExperimentSummary, baseline: ExperimentSummary): { key: string; files: string[]; knobsMoved: number } {
  const files = [...new Set(chainOf(history, experiment).flatMap((node) => node.change.edits.map((edit) => edit.path)))].sort();
  const moved = Object.keys(experiment.assignment).filter((name) => experiment.assignment[name] !== baseline.assignment[name]).length;
  const bucket = knobsMovedBucket(moved);
  return { key: `${files.join(',') || 'no files'}|knobs:${bucket}`, files, knobsMoved: moved };
}

const scoreOf = (experiment: ExperimentSummary): number | null => (experiment.outcome?.status === 'ok' && isScored(experiment.outcome) ? experiment.outcome.score : null);

/** MAP-Elites: the best-scoring `ok` configuration of each cell (the baseline and candidates only). */
export function cellsOf(history: readonly ExperimentSummary[], direction: 'minimize' | 'maximize'): Cell[] {
  const baseline = history.find((experiment) => experiment.role === 'baseline');
  if (!baseline) return [];
  const cells = new Map<string, Cell>();
  const better = (left: number, right: number) => (direction === 'minimize' ? left < right : left > right);
  for (const experiment of history) {
    if (experiment.role !== 'candidate' && experiment.role !== 'baseline') continue;
    const score = scoreOf(experiment);
    if (score === null) continue;
    const descriptor = descriptorOf(history, experiment, baseline);
    const cell = cells.get(descriptor.key);
    if (!cell) cells.set(descriptor.key, { key: descriptor.key, files: descriptor.files, knobsMoved: descriptor.knobsMoved, elite: experiment, members: 1 });
    else {
      cell.members += 1;
      if (better(score, scoreOf(cell.elite) ?? score)) cell.elite = experiment;
    }
  }
  return [...cells.values()].sort((left, right) => left.key.localeCompare(right.key));
}

/** A small deterministic hash to [0, 1) of the seed and a step. */
export function unitHash(seed: number, step: number): number {
  let value = (seed * 2654435761 + step * 40503 + 0x9e3779b9) >>> 0;
  value = Math.imul(value ^ (value >>> 16), 0x45d9f3b) >>> 0;
  value = Math.imul(value ^ (value >>> 16), 0x45d9f3b) >>> 0;
  return ((value ^ (value >>> 16)) >>> 0) / 2 ** 32;
}

export interface ParentChoice { kind: ParentKind; parent: ExperimentSummary }

/** Shares of the three ways to pick a parent: mostly the best, sometimes a diverse elite, sometimes the newest. */
export const PARENT_SHARES: Record<ParentKind, number> = { best: 0.6, diverse: 0.25, recent: 0.15 };

/**
 * A parent from the population. `diverse` takes the elite (not the incumbent) of the cell whose elites served as
 * parents least often so far; `recent` the newest `ok` candidate that is not the incumbent. Either falls back to the
 * incumbent when the population has nothing else.
 */
export function chooseParent(history: readonly ExperimentSummary[], incumbent: ExperimentSummary, direction: 'minimize' | 'maximize', seed: number): ParentChoice {
  const draw = unitHash(seed, history.length + 7);
  const wanted: ParentKind = draw < PARENT_SHARES.best ? 'best' : draw < PARENT_SHARES.best + PARENT_SHARES.diverse ? 'diverse' : 'recent';
  if (wanted === 'diverse') {
    const childrenOf = (id: ExperimentId) => history.filter((experiment) => experiment.parentId === id && experiment.role === 'candidate').length;
    const others = cellsOf(history, direction).filter((cell) => cell.elite.id !== incumbent.id)
      .sort((left, right) => childrenOf(left.elite.id) - childrenOf(right.elite.id) || left.key.localeCompare(right.key));
    if (others[0]) return { kind: 'diverse', parent: others[0].elite };
  }
  if (wanted === 'recent') {
    const recent = [...history].reverse().find((experiment) => experiment.role === 'candidate' && experiment.id !== incumbent.id && scoreOf(experiment) !== null);
    if (recent) return { kind: 'recent', parent: recent };
  }
  return { kind: 'best', parent: incumbent };
}

/** The change that lays `donor`'s own edits and knob moves (since its last common ancestor with `base`) onto `base`. */
export function crossoverChange(history: readonly ExperimentSummary[], base: ExperimentSummary, donor: ExperimentSummary): Change | null {
  const baseChain = chainOf(history, base);
  const donorChain = chainOf(history, donor);
  const shared = new Set(baseChain.map((node) => node.id));
  const since = donorChain.filter((node) => !shared.has(node.id));
  // The donor is an ancestor of the base (nothing to add), or the chains never meet (nothing known in common).
  if (since.length === 0 || since.length === donorChain.length) return null;
  const edits: FileEdit[] = since.flatMap((node) => node.change.edits.map((edit) => ({ ...edit })));
  const knobs: Record<string, KnobValue> = {};
  for (const node of since) {
    for (const [name, value] of Object.entries(node.change.knobs)) if (base.assignment[name] !== value) knobs[name] = value;
  }
  for (const name of Object.keys(knobs)) if (donor.assignment[name] !== knobs[name]) delete knobs[name];
  if (edits.length === 0 && Object.keys(knobs).length === 0) return null;
  return { knobs, edits };
}

export interface Crossover { base: ExperimentSummary; donor: ExperimentSummary; change: Change }

/**
 * The next crossover worth trying: the incumbent as the base and another accepted experiment that is neither its
 * ancestor nor its descendant as the donor (the one accepted most recently first), not tried before (by origin).
 */
export function nextCrossover(history: readonly ExperimentSummary[], incumbent: ExperimentSummary): Crossover | null {
  const tried = new Set(history.filter((experiment) => experiment.origin?.strategy === 'crossover').map((experiment) => (experiment.origin?.parents ?? []).join('+')));
  const incumbentChain = new Set(chainOf(history, incumbent).map((node) => node.id));
  const donors = history.filter((experiment) => experiment.accepted && experiment.role === 'candidate' && !incumbentChain.has(experiment.id)
    && !chainOf(history, experiment).some((node) => node.id === incumbent.id)).reverse();
  for (const donor of donors) {
    if (tried.has(`${incumbent.id}+${donor.id}`)) continue;
    const change = crossoverChange(history, incumbent, donor);
    if (change) return { base: incumbent, donor, change };
  }
  return null;
}
