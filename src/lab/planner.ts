/**
 * The planner: from a run's journal rows to the next step. Pure: rows in, a step out, no writes and no clock of
 * its own, so every rule of the loop (calibrate, confirm a claim, gate it, re-verify, respect budgets and humans)
 * can be tested on plain rows, and a run killed at any moment resumes exactly where it was.
 * Is not: carrying a step out (loop.ts), the gate's statistics (gate.ts), or anything a researcher decides.
 */
import type { ExperimentRow } from '../journal/journal.js';
import type { GateRecord } from '../journal/metadata.js';
import type { ExperimentId } from '../task/ids.js';
import { type Outcome, isScored } from '../task/outcome.js';
import { decideGate, isBetter } from './gate.js';
import { attemptsOf, incumbentOf, mean, samplesOf, subjectOf } from './lineage.js';
import type { RunOptions } from './options.js';

/** What the planner needs to know of the task. */
export interface TaskFacts {
  direction: 'minimize' | 'maximize';
  /** `wall-seconds`: the harness's clock is the score, so a candidate can be capped near the incumbent's time. */
  metricSource: 'wall-seconds' | 'scorer';
  wallSecondsLimit: number;
}

export interface PlanInput {
  experiments: readonly ExperimentRow[];
  /** Experiments being run right now by this process. */
  inflight: ReadonlySet<ExperimentId>;
  options: RunOptions;
  task: TaskFacts;
  /** Seconds of the budget spent so far (all sessions of the run). */
  elapsedSeconds: number;
  /** Whether the run is being stopped: no new proposals. */
  stopping: boolean;
  /** Whether two experiments run the same configuration (their lineages materialise the same workspace). */
  sameConfiguration(left: ExperimentRow, right: ExperimentRow): boolean;
}

export type Step =
  /** Run an experiment that is proposed and not yet running. */
  | { kind: 'run'; experiment: ExperimentRow }
  /** Run `subject`'s configuration once more: a `repeat` for the gate or the calibration, a `verify` of the incumbent. */
  | { kind: 'rerun'; subject: ExperimentRow; role: 'repeat' | 'verify' }
  /** The gate's decision on a claim (or its failure to confirm). */
  | { kind: 'decide'; claim: ExperimentRow; passed: boolean; detail: string; record: Partial<GateRecord> }
  /** A fresh run of the baseline judged a cached calibration: `agrees`, or the cached samples are stale. */
  | { kind: 'calibration'; check: ExperimentRow; agrees: boolean; fresh: number | null; cached: ExperimentRow[]; cachedScores: number[] }
  /** Ask the researcher for the next candidate. */
  | { kind: 'propose' }
  /** Wait for an experiment in flight to finish. */
  | { kind: 'wait' }
  /** Nothing can move until a human approves or rejects. */
  | { kind: 'idle'; reason: string }
  | { kind: 'stop'; reason: string };

/** A single step that claims more than this factor is `suspect` until its repeats confirm it (Oversight). */
export const MAX_GAIN_PER_STEP = 10;

export function planStep(input: PlanInput): Step {
  const { experiments, inflight, options } = input;
  const { gate } = options;
  const waiting = experiments.find((experiment) => experiment.state === 'proposed' && !inflight.has(experiment.id));
  if (waiting) return { kind: 'run', experiment: waiting };
  const inflightOf = (subject: ExperimentId): number =>
    experiments.filter((experiment) => inflight.has(experiment.id) && subjectOf(experiment) === subject).length;

  const root = experiments.find((experiment) => experiment.role === 'baseline');
  if (!root) throw new Error('the run has no baseline experiment');
  const rootSamples = samplesOf(experiments, root.id);
  const rootAttempts = attemptsOf(experiments, root.id).length + inflightOf(root.id);
  if (rootSamples.length + inflightOf(root.id) < gate.repeats) {
    if (rootAttempts >= gate.repeats + 2) return { kind: 'stop', reason: `the baseline keeps failing: ${describeFailure(experiments, root.id)}` };
    return { kind: 'rerun', subject: root, role: 'repeat' };
  }
  if (rootSamples.length < gate.repeats) return { kind: 'wait' };
  const calibration = checkCachedCalibration(experiments, root, inflightOf(root.id));
  if (calibration) return calibration;

  // Claims of a win get their repeats, then the gate.
  const undecided = experiments.filter((experiment) => experiment.metadata.claim === true && experiment.metadata.decidedAt === undefined);
  for (const claim of undecided) {
    const attempts = attemptsOf(experiments, claim.id);
    const pending = inflightOf(claim.id);
    const failed = attempts.find((attempt) => !attempt.outcome || !isScored(attempt.outcome));
    if (failed && pending === 0) return { kind: 'decide', claim, passed: false, detail: `a repeat did not succeed: ${failed.outcome?.status}`, record: {} };
    // A physical bound (FLOPs, tokens, entropy) broken in any run is never confirmed by repeating it.
    const impossible = attempts.find((attempt) => attempt.outcome?.status === 'suspect' && attempt.outcome.metrics.bound !== 'gain');
    if (impossible?.outcome && impossible.outcome.status === 'suspect' && pending === 0) {
      return { kind: 'decide', claim, passed: false, detail: `breaks a physical bound: ${impossible.outcome.reason}`, record: {} };
    }
    if (attempts.length + pending < gate.repeats) return { kind: 'rerun', subject: claim, role: 'repeat' };
    if (pending === 0) {
      const incumbent = incumbentOf(experiments);
      const decision = decideGate({
        direction: input.task.direction, gate, seed: options.seed,
        sameConfiguration: input.sameConfiguration(incumbent, claim),
        incumbentId: incumbent.id, incumbentSamples: samplesOf(experiments, incumbent.id), candidateSamples: samplesOf(experiments, claim.id),
      });
      return { kind: 'decide', claim, passed: decision.accepted, detail: decision.detail, record: decision.record };
    }
  }
  if (undecided.length > 0) {
    // A claim is still being confirmed; new candidates would be measured against a moving incumbent.
    return inflight.size > 0 ? { kind: 'wait' } : { kind: 'stop', reason: 'a claim could not be confirmed' };
  }

  const candidates = experiments.filter((experiment) => experiment.role === 'candidate');
  const incumbent = incumbentOf(experiments);
  const lastVerify = Math.max(0, ...experiments.filter((experiment) => experiment.role === 'verify').map((experiment) => experiment.seq));
  const candidatesSinceVerify = candidates.filter((experiment) => experiment.seq > lastVerify && experiment.state === 'finished').length;
  if (candidatesSinceVerify >= gate.verifyEvery && inflightOf(incumbent.id) === 0) return { kind: 'rerun', subject: incumbent, role: 'verify' };

  // Under `promote` a run does not end with a nominated incumbent undecided: its result (and the next generation's
  // baseline) waits for the human.
  const nominated = options.approval === 'promote' ? experiments.filter((experiment) => experiment.metadata.approval === 'pending') : [];
  const stop = (reason: string): Step => (nominated.length === 0 ? { kind: 'stop', reason } : inflight.size > 0 ? { kind: 'wait' } : {
    kind: 'idle', reason: `${reason}; ${nominated.map((experiment) => `#${experiment.seq} ${experiment.id}`).join(', ')} awaiting approval to become the incumbent (successor approve EXP | reject EXP --why TEXT)`,
  });
  const budgetLeft = budgetLeftSeconds(options, input.elapsedSeconds);
  if (budgetLeft !== null && budgetLeft <= 0) return stop('time budget spent');
  const cpuSeconds = cpuSecondsSpent(experiments);
  if (options.maxCpuSeconds !== null && cpuSeconds >= options.maxCpuSeconds) {
    return stop(`CPU budget spent (${Math.round(cpuSeconds)} of ${options.maxCpuSeconds} CPU-seconds)`);
  }
  // Candidates waiting for a human (policy `each`) were counted when they were proposed: the run waits for them.
  const awaiting = experiments.filter((experiment) => experiment.state === 'awaiting-approval');
  const waitForHuman = (): Step => (inflight.size > 0 ? { kind: 'wait' } : {
    kind: 'idle', reason: `${awaiting.map((experiment) => `#${experiment.seq} ${experiment.id}`).join(', ')} awaiting approval (successor approve EXP | reject EXP --why TEXT)`,
  });
  if (options.maxExperiments !== null && candidates.length >= options.maxExperiments) {
    return awaiting.length > 0 ? waitForHuman() : stop(`experiment budget spent (${options.maxExperiments})`);
  }
  if (budgetLeft !== null && budgetLeft < capSeconds(input, incumbent, 'candidate') * 0.5) return stop('time budget too small for another candidate');
  if (inflight.size >= options.parallel) return { kind: 'wait' };
  if (awaiting.length > 0) return waitForHuman();
  return input.stopping ? { kind: 'wait' } : { kind: 'propose' };
}

export function budgetLeftSeconds(options: RunOptions, elapsedSeconds: number): number | null {
  return options.budgetSeconds === null ? null : Math.max(0, options.budgetSeconds - elapsedSeconds);
}

/** CPU-seconds every finished experiment of the run used (as its sandbox measured them). */
export function cpuSecondsSpent(experiments: readonly ExperimentRow[]): number {
  return experiments.reduce((sum, experiment) => sum + Number(experiment.outcome?.metrics.cpuSeconds ?? 0), 0);
}

/**
 * A cached calibration was measured by an earlier run, perhaps on a busier (or quieter) machine. One fresh run of
 * the baseline checks it: when the fresh time falls outside the cached runs' range (widened by 15%) or more than
 * 25% (in log terms) from their mean, the cached runs are stale and the baseline is measured again, so no gain is
 * claimed against stale numbers.
 */
function checkCachedCalibration(experiments: readonly ExperimentRow[], root: ExperimentRow, inflight: number): Step | null {
  if (!root.metadata.cached) return null;
  const check = experiments.find((experiment) => experiment.role === 'verify' && experiment.parentId === root.id);
  if (!check) return inflight > 0 ? { kind: 'wait' } : { kind: 'rerun', subject: root, role: 'verify' };
  if (check.state !== 'finished') return { kind: 'wait' };
  if (check.metadata.calibrationCheck) return null;
  const cached = experiments.filter((experiment) => experiment.metadata.cached && !experiment.metadata.stale);
  const cachedScores = cached.flatMap((experiment) => (experiment.outcome && isScored(experiment.outcome) ? [experiment.outcome.score] : []));
  const fresh = check.outcome && isScored(check.outcome) ? check.outcome.score : null;
  const cachedMean = cachedScores.length ? mean(cachedScores) : Number.NaN;
  const agrees = fresh !== null && cachedScores.length > 0 && fresh >= Math.min(...cachedScores) * 0.85 && fresh <= Math.max(...cachedScores) * 1.15 &&
    Math.abs(Math.log(fresh / cachedMean)) <= 0.25;
  return { kind: 'calibration', check, agrees, fresh, cached, cachedScores };
}

/** How long an experiment may run: slower than the incumbent by capFactor is no gain worth waiting for. */
export function capSeconds(input: Pick<PlanInput, 'experiments' | 'options' | 'task'>, experiment: ExperimentRow, role: ExperimentRow['role']): number {
  const { gate } = input.options;
  const limit = input.task.wallSecondsLimit;
  if (role === 'baseline') return limit;
  const reference = role === 'candidate' ? incumbentOf(input.experiments) : (input.experiments.find((other) => other.id === subjectOf(experiment)) ?? experiment);
  const samples = samplesOf(input.experiments, reference.id);
  if (samples.length === 0 || input.task.metricSource !== 'wall-seconds') return limit;
  const factor = role === 'candidate' ? gate.capFactor : Math.max(2, gate.capFactor);
  return Math.min(limit, mean(samples) * factor + gate.capSlackSeconds);
}

/**
 * How the lab reads a finished run before recording it: a candidate stopped at a cap below the task's limit was
 * slower than the incumbent; one more than MAX_GAIN_PER_STEP better is `suspect` until repeats confirm it; one that
 * beats the incumbent by the gate's threshold claims a win (and gets repeats).
 */
export function assessFinished(
  input: Pick<PlanInput, 'experiments' | 'options' | 'task'>, experiment: ExperimentRow, outcome: Outcome, cap: number,
): { outcome: Outcome; claim: boolean } {
  const { task, options } = input;
  if (outcome.status === 'timeout' && experiment.role === 'candidate' && cap < task.wallSecondsLimit) {
    outcome = { ...outcome, reason: `slower than the incumbent: stopped at the ${cap.toFixed(1)}s cap` };
  }
  const incumbentSamples = samplesOf(input.experiments, incumbentOf(input.experiments).id);
  if (experiment.role !== 'candidate' || incumbentSamples.length === 0) return { outcome, claim: false };
  const reference = mean(incumbentSamples);
  if (outcome.status === 'ok') {
    const gain = task.direction === 'minimize' ? reference / outcome.score : outcome.score / reference;
    if (gain > MAX_GAIN_PER_STEP) {
      outcome = {
        status: 'suspect', score: outcome.score, metrics: { ...outcome.metrics, bound: 'gain' },
        reason: `gain bound: ${gain.toFixed(1)}x over the incumbent in one step; held until repeats confirm it`,
      };
    }
  }
  const claim = isScored(outcome) && isBetter(task.direction, outcome.score, reference, options.gate.minRelativeGain);
  return { outcome, claim };
}

function describeFailure(experiments: readonly ExperimentRow[], subject: ExperimentId): string {
  const failed = attemptsOf(experiments, subject).find((attempt) => attempt.outcome && !isScored(attempt.outcome));
  return failed?.outcome && 'reason' in failed.outcome ? `${failed.outcome.status}: ${failed.outcome.reason}` : 'unknown';
}
