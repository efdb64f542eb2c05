/**
 * What each of the planner's steps writes: the rows and row changes the loop journals, as pure functions of the rows.
 * The loop (loop.ts) applies them to the journal; the gate's simulation (bench/gate.ts) applies the very same ones to
 * plain rows, so what it measures is what the lab does.
 * Is not: deciding (planner.ts, gate.ts) nor writing (loop.ts).
 */
import type { ExperimentMetadata, ExperimentRow } from '../journal/journal.js';
import type { RunId } from '../task/ids.js';
import type { Outcome } from '../task/outcome.js';
import type { ProgressCurve } from '../task/progress.js';
import { unchangedExperiment } from './lineage.js';
import type { RunOptions } from './options.js';
import { type PlanInput, type Step, assessFinished } from './planner.js';

/** The new row for a `rerun` step: a re-run of a configuration, tagged with its pair if it belongs to one. */
export function rerunRow(runId: RunId, step: Extract<Step, { kind: 'rerun' }>, experiments: readonly ExperimentRow[]) {
  const { subject, role, pair } = step;
  const forSeq = pair ? experiments.find((experiment) => experiment.id === pair.forId)?.seq : undefined;
  const description = !pair ? `${role} of #${subject.seq}`
    : `#${subject.seq} in ${pair.purpose === 'confirm' ? 'confirmation' : 're-verification'} pair ${pair.index + 1} of #${forSeq}`;
  return { ...unchangedExperiment(runId, subject.id, role, description), metadata: pair ? { pair } : {} };
}

/**
 * The claim's row after the gate decided. Under the `promote` policy a pass only nominates: the new incumbent waits
 * for a human. So does a gain of more than 10x in one step whatever the policy: repeats confirm it is reproducible,
 * not that it is honest (weights smuggled in reproduce perfectly), so a human looks before it becomes the incumbent.
 */
export function decisionRecord(step: Extract<Step, { kind: 'decide' }>, approval: RunOptions['approval'], at: string) {
  const { claim, passed, detail, record } = step;
  const implausible = claim.outcome?.status === 'suspect' && claim.outcome.metrics.bound === 'gain';
  const needsApproval = passed && (approval === 'promote' || implausible);
  const metadata: ExperimentMetadata = { ...claim.metadata, decidedAt: at, gate: { accepted: passed, detail, ...record }, ...(needsApproval ? { approval: 'pending' as const } : {}) };
  return { accepted: passed && !needsApproval, metadata, needsApproval, implausible };
}

export function demotionRecord(step: Extract<Step, { kind: 'demote' }>, at: string) {
  return { accepted: false, metadata: { ...step.incumbent.metadata, demoted: { at, reason: step.reason } } };
}

/** The check's verdict, and (when it disagrees) every cached sample marked stale. */
export function calibrationRecords(step: Extract<Step, { kind: 'calibration' }>): Array<{ experiment: ExperimentRow; metadata: ExperimentMetadata }> {
  const verdict = { experiment: step.check, metadata: { ...step.check.metadata, calibrationCheck: step.agrees ? 'agrees' as const : 'stale' as const } };
  return [verdict, ...(step.agrees ? [] : step.cached.map((experiment) => ({ experiment, metadata: { ...experiment.metadata, stale: true } })))];
}

/**
 * A finished run as the lab records it: measured on a busy machine (other work took more than `contentionLimit` of
 * the cores it was given) it is only marked contended, neither a claim nor counted; otherwise assessFinished reads it.
 */
export function finishedRecord(
  input: Pick<PlanInput, 'experiments' | 'options' | 'task'>, experiment: ExperimentRow, result: Outcome, cap: number, progress?: ProgressCurve,
): { outcome: Outcome; claim: boolean; metadata: ExperimentMetadata } {
  const curve = progress && progress.length > 0 ? { progress } : {};
  const contention = result.metrics.contention;
  const limit = input.options.contentionLimit;
  if (limit !== null && typeof contention === 'number' && contention > limit) {
    return { outcome: result, claim: false, metadata: { ...experiment.metadata, ...curve, contended: true } };
  }
  const assessed = assessFinished(input, experiment, result, cap);
  const metadata = { ...experiment.metadata, ...curve, ...(assessed.claim ? { claim: true } : {}), ...(assessed.screening ? { screening: assessed.screening } : {}) };
  return { outcome: assessed.outcome, claim: assessed.claim, metadata };
}
