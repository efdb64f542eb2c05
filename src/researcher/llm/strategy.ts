/**
 * Which node to work from, in AIDE's manner: debug the newest failed candidate (a bounded number of times in a
 * chain), else improve the incumbent, with an occasional fresh draft from the baseline so the search does not
 * tunnel on one line of ideas. Deterministic given the seed and the history.
 * Is not: the acceptance rule (the lab's gate decides what is better).
 */
import type { ExperimentSummary, ResearchContext } from '../types.js';

export type Mode = 'draft' | 'improve' | 'debug';

export interface NodeChoice {
  mode: Mode;
  /** The experiment whose workspace the episode starts from. */
  parent: ExperimentSummary;
  /** For debug: the failed experiment whose logs the model reads. */
  failed: ExperimentSummary | null;
}

export interface StrategyOptions { maxDebugDepth: number; draftProbability: number }

export const DEFAULT_STRATEGY: StrategyOptions = { maxDebugDepth: 3, draftProbability: 0.15 };

const DEBUGGABLE = new Set(['failed', 'oom']);

/** A small deterministic hash to [0, 1): the seed and the history's length pick the draft episodes. */
function unitHash(seed: number, step: number): number {
  let value = (seed * 2654435761 + step * 40503 + 0x9e3779b9) >>> 0;
  value = Math.imul(value ^ (value >>> 16), 0x45d9f3b) >>> 0;
  value = Math.imul(value ^ (value >>> 16), 0x45d9f3b) >>> 0;
  return ((value ^ (value >>> 16)) >>> 0) / 2 ** 32;
}

export function chooseNode(context: ResearchContext, options: StrategyOptions = DEFAULT_STRATEGY): NodeChoice {
  const byId = new Map(context.history.map((experiment) => [experiment.id, experiment]));
  const candidates = context.history.filter((experiment) => experiment.role === 'candidate' && experiment.outcome !== null);
  const last = candidates.at(-1);
  if (last?.outcome && DEBUGGABLE.has(last.outcome.status)) {
    // The chain of failed ancestors: each one is an earlier attempt to fix the same line.
    let depth = 0;
    for (let node: ExperimentSummary | undefined = last; node && node.role === 'candidate' && node.outcome && DEBUGGABLE.has(node.outcome.status); node = node.parentId ? byId.get(node.parentId) : undefined) depth++;
    if (depth <= options.maxDebugDepth) {
      const unapplied = 'reason' in last.outcome && last.outcome.reason.startsWith('change did not apply');
      const parent = unapplied ? (last.parentId ? byId.get(last.parentId) : undefined) ?? context.incumbent : last;
      return { mode: 'debug', parent, failed: last };
    }
  }
  const baseline = context.history.find((experiment) => experiment.role === 'baseline') ?? context.incumbent;
  if (candidates.length > 0 && context.incumbent.id !== baseline.id && unitHash(context.seed, context.history.length) < options.draftProbability) {
    return { mode: 'draft', parent: baseline, failed: null };
  }
  return { mode: candidates.length === 0 ? 'draft' : 'improve', parent: context.incumbent, failed: null };
}
