/**
 * The planner: from a run's journal rows to the next step. Pure: rows in, a step out, no writes and no clock of
 * its own, so every rule of the loop (calibrate, screen, confirm a claim in pairs, gate it, re-verify and demote,
 * respect budgets and humans) can be tested on plain rows, and a run killed at any moment resumes where it was.
 * Is not: carrying a step out (loop.ts), the gate's statistics (gate.ts), or anything a researcher decides.
 */
import type { ExperimentRow } from '../journal/journal.js';
import type { GateRecord } from '../journal/metadata.js';
import type { ExperimentId } from '../task/ids.js';
import { type Outcome, isScored } from '../task/outcome.js';
import { type GainScale, type RunNoise, claimLevel, decideConfirmation, gainScale, screeningThreshold } from './gate.js';
import { attemptsOf, incumbentOf, mean, samplesOf, subjectOf } from './lineage.js';
import type { RunOptions } from './options.js';
import type { EarlyStop } from '../task/progress.js';
import { isCounted, isFailed, measuredNoise, pairProgress, type PairPurpose, type PairSide } from './pairs.js';

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
  /** The wall clock, as an input (the planner keeps no clock of its own): for pauses while the machine is busy. */
  nowMs: number;
  /** Whether two experiments run the same configuration (their lineages materialise the same workspace). */
  sameConfiguration(left: ExperimentRow, right: ExperimentRow): boolean;
}

/** A run of `subject`'s configuration that belongs to a pair. */
export type PairTag = { forId: ExperimentId; purpose: PairPurpose; index: number; side: PairSide };

export type Step =
  /** Run an experiment that is proposed and not yet running. */
  | { kind: 'run'; experiment: ExperimentRow }
  /** Run `subject`'s configuration once more: a calibration `repeat`, a `verify`, or one side of a pair. */
  | { kind: 'rerun'; subject: ExperimentRow; role: 'repeat' | 'verify'; pair?: PairTag }
  /** The gate's decision on a claim (or its failure to confirm). */
  | { kind: 'decide'; claim: ExperimentRow; passed: boolean; detail: string; record: Partial<GateRecord> }
  /** The incumbent's re-verification shows it no better than what it replaced: it stops being the incumbent. */
  | { kind: 'demote'; incumbent: ExperimentRow; reason: string }
  /** A fresh run of the baseline judged a cached calibration: `agrees`, or the cached samples are stale. */
  | { kind: 'calibration'; check: ExperimentRow; agrees: boolean; fresh: number | null; cached: ExperimentRow[]; cachedScores: number[] }
  /** Ask the researcher for the next candidate. */
  | { kind: 'propose' }
  /** Wait for an experiment in flight to finish. */
  | { kind: 'wait' }
  /** Nothing can move until a human approves or rejects, or the machine is quiet again; look again after a pause. */
  | { kind: 'idle'; reason: string }
  | { kind: 'stop'; reason: string };

/** A single step that claims more than this factor is `suspect` until its repeats confirm it (Oversight). */
export const MAX_GAIN_PER_STEP = 10;
/** Runs in a row measured on a busy machine before the run pauses for the machine to be quiet, and how long. */
export const CONTENDED_IN_A_ROW = 3;
export const CONTENDED_PAUSE_SECONDS = 30;
/** An open claim may finish its confirmation past the time budget by this fraction of it, then it is decided as is. */
export const CONFIRMATION_GRACE = 0.1;

export function planStep(input: PlanInput): Step {
  const { experiments, inflight, options } = input;
  const { gate } = options;
  const waiting = experiments.find((experiment) => experiment.state === 'proposed' && !inflight.has(experiment.id));
  if (waiting) return { kind: 'run', experiment: waiting };
  const inflightOf = (subject: ExperimentId): number =>
    experiments.filter((experiment) => inflight.has(experiment.id) && subjectOf(experiment) === subject).length;

  const root = experiments.find((experiment) => experiment.role === 'baseline');
  if (!root) throw new Error('the run has no baseline experiment');
  const budgetLeft = budgetLeftSeconds(options, input.elapsedSeconds);
  const busy = contendedInARow(experiments);
  if (busy.count >= CONTENDED_IN_A_ROW && inflight.size === 0 && input.nowMs - busy.lastFinishedMs < CONTENDED_PAUSE_SECONDS * 1000) {
    if (budgetLeft !== null && budgetLeft <= 0) return { kind: 'stop', reason: `time budget spent while the machine was busy with other work (the last ${busy.count} runs were contended)` };
    return { kind: 'idle', reason: `the machine is busy with other work (the last ${busy.count} runs were contended): pausing before measuring again` };
  }
  const rootSamples = samplesOf(experiments, root.id);
  const rootAttempts = attemptsOf(experiments, root.id).filter((attempt) => !attempt.metadata.contended).length + inflightOf(root.id);
  if (rootSamples.length + inflightOf(root.id) < gate.repeats) {
    if (rootAttempts >= gate.repeats + 2) return { kind: 'stop', reason: `the baseline keeps failing: ${describeFailure(experiments, root.id)}` };
    return { kind: 'rerun', subject: root, role: 'repeat' };
  }
  if (rootSamples.length < gate.repeats) return { kind: 'wait' };
  const calibration = checkCachedCalibration(input, root, inflightOf(root.id));
  if (calibration) return calibration;

  // Claims are confirmed one at a time, in the order they were made: each one's level depends on the ones before.
  const claims = experiments.filter((experiment) => experiment.metadata.claim === true).sort((left, right) => left.seq - right.seq);
  const open = claims.find((claim) => claim.metadata.decidedAt === undefined);
  if (open) {
    const overdue = options.budgetSeconds !== null && input.elapsedSeconds > options.budgetSeconds * (1 + CONFIRMATION_GRACE);
    if (overdue && !experiments.some((experiment) => inflight.has(experiment.id))) {
      return { kind: 'decide', claim: open, passed: false, detail: 'the time budget ran out before the claim was confirmed', record: {} };
    }
    return confirm(input, open, claims);
  }

  const incumbent = incumbentOf(experiments);
  const verification = reverify(input, incumbent);
  if (verification) return verification;

  // Under `promote` a run does not end with a nominated incumbent undecided: its result (and the next generation's
  // baseline) waits for the human.
  const nominated = options.approval === 'promote' ? experiments.filter((experiment) => experiment.metadata.approval === 'pending') : [];
  const stop = (reason: string): Step => (nominated.length === 0 ? { kind: 'stop', reason } : inflight.size > 0 ? { kind: 'wait' } : {
    kind: 'idle', reason: `${reason}; ${nominated.map((experiment) => `#${experiment.seq} ${experiment.id}`).join(', ')} awaiting approval to become the incumbent (successor approve EXP | reject EXP --why TEXT)`,
  });
  if (budgetLeft !== null && budgetLeft <= 0) return stop('time budget spent');
  const cpuSeconds = cpuSecondsSpent(experiments);
  if (options.maxCpuSeconds !== null && cpuSeconds >= options.maxCpuSeconds) {
    return stop(`CPU budget spent (${Math.round(cpuSeconds)} of ${options.maxCpuSeconds} CPU-seconds)`);
  }
  // Candidates waiting for a human (policy `each`) were counted when they were proposed: the run waits for them.
  const candidates = experiments.filter((experiment) => experiment.role === 'candidate');
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
  // A candidate whose first run is back may become a claim; wait for it before proposing past it.
  return input.stopping ? { kind: 'wait' } : { kind: 'propose' };
}

/** The next step for the open claim: its pairs against the incumbent, then the gate's decision. */
function confirm(input: PlanInput, claim: ExperimentRow, claims: readonly ExperimentRow[]): Step {
  const { experiments, inflight, options } = input;
  const rejected = (detail: string): Step => ({ kind: 'decide', claim, passed: false, detail, record: {} });
  // A physical bound (FLOPs, tokens, entropy) broken in any run is never confirmed by repeating it.
  const ownRuns = [claim, ...experiments.filter((experiment) => experiment.metadata.pair?.forId === claim.id && experiment.metadata.pair.side === 'subject')];
  const impossible = ownRuns.find((run) => run.outcome?.status === 'suspect' && run.outcome.metrics.bound !== 'gain');
  if (impossible?.outcome && impossible.outcome.status === 'suspect') return rejected(`breaks a physical bound: ${impossible.outcome.reason}`);
  const incumbent = incumbentOf(experiments);
  const progress = pairProgress(experiments, claim.id, 'confirm', inflight, options.parallel);
  const failure = progress.subjectFailures[0]?.outcome;
  if (failure && 'reason' in failure) return rejected(`a confirmation run did not succeed: ${failure.status}: ${failure.reason}`);
  if (progress.referenceFailures.length >= 2) return rejected(`the incumbent failed ${progress.referenceFailures.length} of its paired runs: nothing to compare with`);
  const index = claims.indexOf(claim);
  const level = claimLevel(options.gate.alpha, index + 1, claims.slice(0, index).map((earlier) => earlier.metadata.gate?.accepted === true));
  const { scale, noise } = noiseOf(input);
  const decision = decideConfirmation({
    direction: input.task.direction, gate: options.gate, level, incumbentId: incumbent.id, scale, noise,
    screeningThreshold: claim.metadata.screening?.threshold ?? 0,
    pairs: progress.complete.map((pair) => ({ incumbent: scoreOf(pair.reference), claim: scoreOf(pair.subject) })),
    sameConfiguration: input.sameConfiguration(incumbent, claim),
  });
  if (decision.verdict !== 'continue') return { kind: 'decide', claim, passed: decision.verdict === 'accept', detail: decision.detail, record: decision.record };
  const { side } = progress.next;
  if (side === null) return inflight.size > 0 ? { kind: 'wait' } : { kind: 'stop', reason: 'a claim could not be confirmed' };
  return { kind: 'rerun', subject: side === 'subject' ? claim : incumbent, role: 'repeat', pair: { forId: claim.id, purpose: 'confirm', index: progress.next.index, side } };
}

/**
 * Re-verification of the incumbent after `verifyEvery` candidates: the baseline is simply run again (its samples
 * track the machine); an accepted candidate runs a pair against the incumbent it replaced, and is demoted when its
 * verification pairs show no gain (after two) or it fails two of its verification runs.
 */
function reverify(input: PlanInput, incumbent: ExperimentRow): Step | null {
  const { experiments, inflight, options } = input;
  const candidates = experiments.filter((experiment) => experiment.role === 'candidate');
  const lastVerify = Math.max(0, ...experiments.filter((experiment) => experiment.role === 'verify').map((experiment) => experiment.seq));
  const due = candidates.filter((experiment) => experiment.seq > lastVerify && experiment.state === 'finished').length >= options.gate.verifyEvery;
  const predecessorId = incumbent.role === 'baseline' ? undefined : incumbent.metadata.gate?.incumbentId;
  const predecessor = predecessorId ? experiments.find((experiment) => experiment.id === predecessorId) : undefined;
  if (!predecessor) {
    const inflightOfIncumbent = experiments.some((experiment) => inflight.has(experiment.id) && subjectOf(experiment) === incumbent.id);
    return due && !inflightOfIncumbent ? { kind: 'rerun', subject: incumbent, role: 'verify' } : null;
  }
  const progress = pairProgress(experiments, incumbent.id, 'verify', inflight, options.parallel);
  if (progress.subjectFailures.length >= 2) {
    return { kind: 'demote', incumbent, reason: `${progress.subjectFailures.length} of its re-verification runs failed (${progress.subjectFailures.map((run) => run.outcome?.status).join(', ')})` };
  }
  const scale = gainScale(input.task.direction, experiments.filter(isCounted).map(scoreOf));
  const gains = progress.complete.map((pair) => scale.gain(scoreOf(pair.subject), scoreOf(pair.reference)));
  const meanGain = gains.length ? mean(gains) : Number.NaN;
  if (gains.length >= 2 && meanGain <= 0) {
    return { kind: 'demote', incumbent, reason: `its re-verification against #${predecessor.seq} shows no gain (${scale.factor(meanGain).toFixed(3)}x over ${gains.length} pairs)` };
  }
  // A pair under way is finished; a first pair that shows no gain gets its second at once.
  const underWay = experiments.some((experiment) => experiment.metadata.pair?.forId === incumbent.id && experiment.metadata.pair.purpose === 'verify' && experiment.metadata.pair.index === progress.next.index);
  const worrying = gains.length === 1 && meanGain <= 0;
  if (!underWay && !due && !worrying) return null;
  const { side } = progress.next;
  if (side === null) return inflight.size > 0 ? { kind: 'wait' } : null;
  return { kind: 'rerun', subject: side === 'subject' ? incumbent : predecessor, role: 'verify', pair: { forId: incumbent.id, purpose: 'verify', index: progress.next.index, side } };
}

export function budgetLeftSeconds(options: RunOptions, elapsedSeconds: number): number | null {
  return options.budgetSeconds === null ? null : Math.max(0, options.budgetSeconds - elapsedSeconds);
}

/** CPU-seconds every finished experiment of the run used (as its sandbox measured them). */
export function cpuSecondsSpent(experiments: readonly ExperimentRow[]): number {
  return experiments.reduce((sum, experiment) => sum + Number(experiment.outcome?.metrics.cpuSeconds ?? 0), 0);
}

const scoreOf = (experiment: ExperimentRow): number => (experiment.outcome && isScored(experiment.outcome) ? experiment.outcome.score : Number.NaN);

/** The run's gain scale and its noise, measured without drift: pairs and the baseline's back-to-back calibration. */
export function noiseOf(input: Pick<PlanInput, 'experiments' | 'options' | 'task'>): { scale: GainScale; noise: RunNoise } {
  const { experiments } = input;
  const scale = gainScale(input.task.direction, experiments.filter(isCounted).map(scoreOf));
  const root = experiments.find((experiment) => experiment.role === 'baseline');
  const calibration = root ? samplesOf(experiments, root.id).slice(0, input.options.gate.repeats) : [];
  return { scale, noise: measuredNoise(experiments, scale, calibration) };
}

/** How many of the incumbent's latest runs a screening run is compared with: recent ones track the machine. */
const SCREENING_REFERENCE_RUNS = 3;

/** How many of the most recently finished runs were measured on a busy machine, in a row, and when the last ended. */
function contendedInARow(experiments: readonly ExperimentRow[]): { count: number; lastFinishedMs: number } {
  const finished = experiments.filter((experiment) => experiment.state === 'finished' && experiment.finishedAt !== null)
    .sort((left, right) => String(left.finishedAt).localeCompare(String(right.finishedAt)));
  let count = 0;
  for (let index = finished.length - 1; index >= 0 && finished[index].metadata.contended; index--) count++;
  return { count, lastFinishedMs: finished.length ? Date.parse(String(finished.at(-1)?.finishedAt)) : 0 };
}

/**
 * A cached calibration was measured by an earlier run, perhaps on a busier (or quieter) machine. One fresh run of
 * the baseline checks it: when the fresh score falls more than three of the cached runs' standard deviations (and at
 * least 10%) from their mean, the cached runs are stale and the baseline is measured again.
 */
function checkCachedCalibration(input: PlanInput, root: ExperimentRow, inflight: number): Step | null {
  const { experiments } = input;
  if (!root.metadata.cached) return null;
  const check = experiments.find((experiment) => experiment.role === 'verify' && experiment.parentId === root.id && !experiment.metadata.contended);
  if (!check) return inflight > 0 ? { kind: 'wait' } : { kind: 'rerun', subject: root, role: 'verify' };
  if (check.state !== 'finished') return { kind: 'wait' };
  if (check.metadata.calibrationCheck) return null;
  const cached = experiments.filter((experiment) => experiment.metadata.cached && !experiment.metadata.stale);
  const cachedScores = cached.flatMap((experiment) => (experiment.outcome && isScored(experiment.outcome) ? [experiment.outcome.score] : []));
  const fresh = check.outcome && isScored(check.outcome) ? check.outcome.score : null;
  let agrees = false;
  if (fresh !== null && cachedScores.length >= 2) {
    const scale = gainScale(input.task.direction, [...cachedScores, fresh]);
    const values = cachedScores.map(scale.transform);
    const spread = Math.sqrt(values.reduce((sum, value) => sum + (value - mean(values)) ** 2, 0) / (values.length - 1));
    agrees = Math.abs(scale.transform(fresh) - mean(values)) <= Math.max(Math.log1p(0.1), 3 * spread);
  }
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

/** A screening run may be stopped once it has run this share of the incumbent's time, by more than this margin behind. */
export const EARLY_STOP_AFTER = 0.3;
export const EARLY_STOP_TOLERANCE = 0.02;

/**
 * When a candidate's screening run may be stopped early: a task whose progress lines the lab reads (run.progress),
 * a score that is the harness's clock, and an incumbent with a recorded curve. Its progress must keep up with the
 * incumbent's at 1/capFactor of its pace, as the cap asks of its time. Never for runs the gate counts (pairs,
 * repeats, verifications): stopping those on the run's own claims would bias the evidence.
 */
export function earlyStopFor(
  input: Pick<PlanInput, 'experiments' | 'options' | 'task'>, experiment: ExperimentRow, hasProgress: boolean,
): EarlyStop | undefined {
  if (!hasProgress || !input.options.earlyStop || experiment.role !== 'candidate' || input.task.metricSource !== 'wall-seconds') return undefined;
  const incumbent = incumbentOf(input.experiments);
  const runs = input.experiments.filter((other) => subjectOf(other) === incumbent.id && isCounted(other) && (other.metadata.progress?.length ?? 0) >= 2)
    .sort((left, right) => String(left.finishedAt).localeCompare(String(right.finishedAt)));
  const reference = runs.at(-1)?.metadata.progress;
  const samples = samplesOf(input.experiments, incumbent.id);
  if (!reference || samples.length === 0) return undefined;
  return { reference, factor: input.options.gate.capFactor, afterSeconds: EARLY_STOP_AFTER * mean(samples), tolerance: EARLY_STOP_TOLERANCE };
}

/**
 * How the lab reads a finished run before recording it: a candidate stopped at a cap below the task's limit was
 * slower than the incumbent; one more than MAX_GAIN_PER_STEP better is `suspect` until repeats confirm it; one that
 * beats the incumbent by more than the screening threshold (gate.ts) is a claim, and gets confirmation pairs.
 */
export function assessFinished(
  input: Pick<PlanInput, 'experiments' | 'options' | 'task'>, experiment: ExperimentRow, outcome: Outcome, cap: number,
): { outcome: Outcome; claim: boolean; screening?: { gain: number; threshold: number } } {
  const { task, options } = input;
  if (outcome.status === 'timeout' && experiment.role === 'candidate' && cap < task.wallSecondsLimit && outcome.metrics.stoppedEarly !== true) {
    outcome = { ...outcome, reason: `slower than the incumbent: stopped at the ${cap.toFixed(1)}s cap` };
  }
  const incumbent = incumbentOf(input.experiments);
  const recent = input.experiments.filter((other) => subjectOf(other) === incumbent.id && isCounted(other))
    .sort((left, right) => String(left.finishedAt).localeCompare(String(right.finishedAt))).slice(-SCREENING_REFERENCE_RUNS).map(scoreOf);
  if (experiment.role !== 'candidate' || recent.length === 0 || !isScored(outcome)) return { outcome, claim: false };
  const reference = mean(recent);
  const factor = task.direction === 'minimize' ? reference / outcome.score : outcome.score / reference;
  if (outcome.status === 'ok' && factor > MAX_GAIN_PER_STEP) {
    outcome = {
      status: 'suspect', score: outcome.score, metrics: { ...outcome.metrics, bound: 'gain' },
      reason: `gain bound: ${factor.toFixed(1)}x over the incumbent in one step; held until repeats confirm it`,
    };
  }
  const { scale, noise } = noiseOf(input);
  const gain = gainScale(task.direction, [...recent, outcome.score]).gain(outcome.score, reference);
  const threshold = screeningThreshold(noise, recent.length, options.gate);
  return { outcome, claim: gain > threshold, screening: { gain, threshold } };
}

function describeFailure(experiments: readonly ExperimentRow[], subject: ExperimentId): string {
  const failed = attemptsOf(experiments, subject).find(isFailed);
  return failed?.outcome && 'reason' in failed.outcome ? `${failed.outcome.status}: ${failed.outcome.reason}` : 'unknown';
}
