/**
 * Several models in one run (`--model a --model b`): each proposal is asked of one model, chosen by a UCB1 bandit
 * whose reward is the gate's acceptance, so the model whose proposals are accepted more often gets more calls (and
 * every model keeps getting a few, as UCB's exploration term shrinks only with use). The counts behind each choice
 * are journaled as a `bandit` event; each candidate's origin names the model that wrote it. One token and dollar
 * budget is shared by all models. Deterministic given the history (UCB1 has no randomness; ties go to the order given).
 * Is not: a model of which model is better in general (the counts are this run's only).
 */
import type { ExperimentSummary, Proposal, ResearchContext, Researcher } from '../types.js';
import type { UsageMeter } from './budget.js';
import type { LlmResearcher } from './researcher.js';

export interface Arm { model: string; pulls: number; accepted: number; claims: number; score: number }

/** Each model's record in this run: candidates it wrote, how many the gate accepted, how many claimed a win. */
export function armsOf(models: readonly string[], history: readonly ExperimentSummary[]): Arm[] {
  const candidates = history.filter((experiment) => experiment.role === 'candidate');
  const total = candidates.filter((experiment) => experiment.origin?.model && models.includes(experiment.origin.model)).length;
  return models.map((model) => {
    const own = candidates.filter((experiment) => experiment.origin?.model === model);
    const accepted = own.filter((experiment) => experiment.accepted).length;
    const claims = own.filter((experiment) => experiment.evidence !== undefined).length;
    // UCB1: an arm never pulled goes first; then the acceptance rate plus an exploration bonus.
    const score = own.length === 0 ? Number.POSITIVE_INFINITY : accepted / own.length + Math.sqrt((2 * Math.log(Math.max(total, 1))) / own.length);
    return { model, pulls: own.length, accepted, claims, score };
  });
}

/** The arms in the order the bandit would ask them: highest UCB score first, ties in the order given. */
export function banditOrder(arms: readonly Arm[]): Arm[] {
  return arms.map((arm, index) => ({ arm, index })).sort((left, right) => right.arm.score - left.arm.score || left.index - right.index).map(({ arm }) => arm);
}

export class ModelEnsemble implements Researcher {
  readonly name = 'llm';

  constructor(private readonly members: readonly LlmResearcher[], readonly meter: UsageMeter) {
    if (members.length < 2) throw new Error('an ensemble needs at least two models');
  }

  get models(): string[] {
    return this.members.map((member) => member.modelName);
  }

  async propose(context: ResearchContext): Promise<Proposal | null> {
    context.signal.throwIfAborted();
    const arms = armsOf(this.models, context.history);
    const order = banditOrder(arms);
    const record = context.record ?? (() => 0);
    for (const arm of order) {
      const member = this.members.find((candidate) => candidate.modelName === arm.model);
      if (!member) continue;
      record('bandit', {
        policy: 'ucb1', chosen: arm.model,
        arms: arms.map(({ model, pulls, accepted, claims, score }) => ({ model, pulls, accepted, claims, score: Number.isFinite(score) ? score : null })),
      });
      const proposal = await member.propose(context);
      // A model that has nothing (its episode gave up, or the shared budget is spent) hands the turn on.
      if (proposal) return proposal;
    }
    return null;
  }
}
