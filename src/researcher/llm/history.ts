/**
 * The history as the model sees it: bounded whatever the run's length. The incumbent, the best few, the most
 * recent few and counts of the rest — a 500-experiment run costs the same context as a 20-experiment one.
 * Is not: the journal (every detail stays there; get_experiment reads one in full).
 */
import { isScored } from '../../task/outcome.js';
import type { GateEvidence, ExperimentSummary, ResearchContext } from '../types.js';
import type { Space } from '../../task/space.js';

export interface HistoryLimits { best: number; recent: number; reasonChars: number }

export const DEFAULT_HISTORY_LIMITS: HistoryLimits = { best: 5, recent: 10, reasonChars: 300 };

/** The gate's numbers for a claim, in one bracket: verdict, gain with its interval, p-value against its level. */
export function describeEvidence(evidence: GateEvidence): string {
  const parts = [evidence.accepted ? 'gate ACCEPTED' : 'gate rejected'];
  if (evidence.ratio !== undefined) parts.push(`gain ${evidence.ratio.toFixed(3)}x${evidence.ratioCi95 ? ` (95% CI ${evidence.ratioCi95.map((value) => value.toFixed(3)).join('-')})` : ''}`);
  if (evidence.pValue !== undefined) parts.push(`p=${evidence.pValue.toPrecision(2)}${evidence.level !== undefined ? ` vs level ${evidence.level.toPrecision(2)}` : ''}`);
  if (evidence.pairs !== undefined) parts.push(`${evidence.pairs} pairs`);
  if (evidence.ratio === undefined) parts.push(evidence.detail.slice(0, 160));
  return `[${parts.join(', ')}]`;
}

/** The task's knobs as lines: type, range or choices, default, and the value the given assignment has. */
export function describeKnobs(space: Space, assignment?: Record<string, unknown>): string {
  const lines = Object.entries(space).map(([name, knob]) => {
    const range = knob.type === 'categorical' ? `one of ${JSON.stringify(knob.choices)}` : `${knob.type} in [${knob.min}, ${knob.max}]${knob.scale === 'log' ? ' (log scale)' : ''}`;
    const key = knob.key && knob.key !== name ? ` (config key ${knob.key})` : '';
    const now = assignment && name in assignment ? `, now ${JSON.stringify(assignment[name])}` : '';
    return `- ${name}${key}: ${range}, default ${JSON.stringify(knob.default)}${now}`;
  });
  return lines.length ? lines.join('\n') : '(none: only code changes can gain here)';
}

export function describeExperiment(experiment: ExperimentSummary, reasonChars = 300): string {
  const outcome = experiment.outcome;
  const result = !outcome
    ? 'pending'
    : isScored(outcome)
      ? `${outcome.status} score ${Number(outcome.score.toPrecision(5))}`
      : `${outcome.status}: ${outcome.reason.replace(/\s+/g, ' ').slice(0, reasonChars)}`;
  const parent = experiment.parentId ? ` (parent ${experiment.parentId})` : '';
  const evidence = experiment.evidence ? ` ${describeEvidence(experiment.evidence)}` : '';
  return `- ${experiment.id}${parent} ${experiment.role}${experiment.accepted ? ' ACCEPTED' : ''}: "${experiment.description.slice(0, 160)}" → ${result}${evidence}`;
}

export function summariseHistory(context: ResearchContext, limits: HistoryLimits = DEFAULT_HISTORY_LIMITS): string {
  const { metric } = context.task;
  const candidates = context.history.filter((experiment) => experiment.role === 'candidate' || experiment.role === 'baseline');
  const sign = metric.direction === 'minimize' ? 1 : -1;
  const scored = candidates.filter((experiment) => experiment.outcome && isScored(experiment.outcome));
  const best = [...scored]
    .sort((a, b) => sign * ((a.outcome as { score: number }).score - (b.outcome as { score: number }).score))
    .slice(0, limits.best);
  const recent = candidates.slice(-limits.recent);
  const counts: Record<string, number> = {};
  for (const experiment of candidates) counts[experiment.outcome?.status ?? 'pending'] = (counts[experiment.outcome?.status ?? 'pending'] ?? 0) + 1;
  const lines = [
    `Metric: ${metric.name} (${metric.direction}${metric.unit ? `, ${metric.unit}` : ''}).`,
    `Incumbent (the best accepted so far): ${describeExperiment(context.incumbent, limits.reasonChars).slice(2)}`,
    `Experiments: ${candidates.length} (${Object.entries(counts).map(([status, count]) => `${count} ${status}`).join(', ')}); ` +
      `${candidates.filter((experiment) => experiment.accepted).length} accepted by the gate.`,
  ];
  if (best.length > 0) lines.push('', `Best scores (one run each; the gate repeats a claimed win before accepting it):`, ...best.map((experiment) => describeExperiment(experiment, limits.reasonChars)));
  const hidden = candidates.length - recent.length;
  lines.push('', `Most recent${hidden > 0 ? ` (${hidden} older not shown)` : ''}:`, ...recent.map((experiment) => describeExperiment(experiment, limits.reasonChars)));
  const { budget } = context;
  const left = [
    budget.experimentsLeft !== null ? `${budget.experimentsLeft} experiments` : null,
    budget.secondsLeft !== null ? `${Math.round(budget.secondsLeft / 60)} minutes` : null,
  ].filter(Boolean);
  if (left.length > 0) lines.push('', `Budget left: ${left.join(', ')}.`);
  return lines.join('\n');
}
