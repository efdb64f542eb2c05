/**
 * Which node to work from: AIDE's rules (debug the newest failed candidate a bounded number of times in a chain,
 * now and then a fresh draft from the baseline) over a population of ideas (population.ts): a crossover of two
 * accepted branches when one is untried, else a parent drawn from the MAP-Elites population — mostly the incumbent
 * (improve), sometimes a diverse elite or the newest good candidate (explore). Deterministic given the seed and the
 * history. Is not: the acceptance rule (the lab's gate decides what is better).
 */
import { type Crossover, type ParentKind, chooseParent, nextCrossover, unitHash } from '../population.js';
import type { ExperimentSummary, ResearchContext } from '../types.js';

export type Mode = 'draft' | 'improve' | 'debug' | 'crossover' | 'explore';

export interface NodeChoice {
  mode: Mode;
  /** The experiment whose workspace the episode starts from. */
  parent: ExperimentSummary;
  /** For debug: the failed experiment whose logs the model reads. */
  failed: ExperimentSummary | null;
  /** For crossover: the donor branch and the change that lays its edits onto the parent. */
  crossover?: Crossover;
  /** How the population chose the parent (improve: best; explore: diverse or recent). */
  parentKind?: ParentKind;
}

export interface StrategyOptions { maxDebugDepth: number; draftProbability: number; crossover: boolean }

export const DEFAULT_STRATEGY: StrategyOptions = { maxDebugDepth: 3, draftProbability: 0.15, crossover: true };

const DEBUGGABLE = new Set(['failed', 'oom']);
/** A proposal the lab refused as a repeat: nothing ran, so there is nothing to debug. */
const isRefused = (experiment: ExperimentSummary): boolean => experiment.outcome !== null && 'reason' in experiment.outcome && experiment.outcome.reason.startsWith('refused before running');

export function chooseNode(context: ResearchContext, options: StrategyOptions = DEFAULT_STRATEGY): NodeChoice {
  const byId = new Map(context.history.map((experiment) => [experiment.id, experiment]));
  const candidates = context.history.filter((experiment) => experiment.role === 'candidate' && experiment.outcome !== null);
  const last = candidates.at(-1);
  if (last?.outcome && DEBUGGABLE.has(last.outcome.status) && !isRefused(last)) {
    // The chain of failed ancestors: each one is an earlier attempt to fix the same line.
    let depth = 0;
    for (let node: ExperimentSummary | undefined = last; node && node.role === 'candidate' && node.outcome && DEBUGGABLE.has(node.outcome.status); node = node.parentId ? byId.get(node.parentId) : undefined) depth++;
    if (depth <= options.maxDebugDepth) {
      const unapplied = 'reason' in last.outcome && last.outcome.reason.startsWith('change did not apply');
      const parent = unapplied ? (last.parentId ? byId.get(last.parentId) : undefined) ?? context.incumbent : last;
      return { mode: 'debug', parent, failed: last };
    }
  }
  if (candidates.length === 0) return { mode: 'draft', parent: context.incumbent, failed: null };
  const crossover = options.crossover ? nextCrossover(context.history, context.incumbent) : null;
  if (crossover) return { mode: 'crossover', parent: crossover.base, failed: null, crossover };
  const baseline = context.history.find((experiment) => experiment.role === 'baseline') ?? context.incumbent;
  if (context.incumbent.id !== baseline.id && unitHash(context.seed, context.history.length) < options.draftProbability) {
    return { mode: 'draft', parent: baseline, failed: null };
  }
  const chosen = chooseParent(context.history, context.incumbent, context.task.metric.direction, context.seed);
  return { mode: chosen.kind === 'best' ? 'improve' : 'explore', parent: chosen.parent, failed: null, parentKind: chosen.kind };
}
