/**
 * The research loop: propose -> run -> gate -> record, until a budget runs out.
 *
 * The loop keeps no state of its own between steps: every decision is planned from the journal (`plan`), so a run
 * killed at any moment (even kill -9) resumes exactly where it was: an experiment that was running is run again,
 * one that finished is never run twice, a claim of a win half-way through its repeats gets the rest of them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentRow, Journal, RunRow } from '../journal/journal.js';
import type { Researcher, ExperimentSummary, WorkspaceAccess } from '../researcher/types.js';
import type { Executor } from '../executor/types.js';
import { ChangeError } from '../task/errors.js';
import type { ExperimentId } from '../task/ids.js';
import type { Task } from '../task/loader.js';
import { isScored } from '../task/outcome.js';
import { materialiseWorkspace } from '../task/workspace.js';
import type { LabObserver } from './events.js';
import { decideGate, isBetter } from './gate.js';
import { attemptsOf, latestIncumbent, lineageOf, mean, samplesOf, subjectOf, unchangedExperiment } from './lineage.js';
import type { RunOptions } from './options.js';
import { summariseRun, type RunSummary } from './summary.js';
import { checkProposal } from './proposal-check.js';
import { DEFAULT_KEEP_ARTIFACTS, pruneArtifacts } from './retention.js';
import { harnessSeedOf } from './seeds.js';

export interface LabContext {
  journal: Journal;
  task: Task;
  executor: Executor;
  researcher: Researcher;
  stateDir: string;
  observe: LabObserver;
}

type Action =
  | { kind: 'run'; experiment: ExperimentRow }
  | { kind: 'propose' }
  | { kind: 'wait' }
  /** Nothing can move until a human approves or rejects. */
  | { kind: 'idle'; reason: string }
  | { kind: 'stop'; reason: string };

const APPROVAL_POLL_MS = 1000;
/** A single step that claims more than this factor is `suspect` until its repeats confirm it (Oversight). */
const MAX_GAIN_PER_STEP = 10;
const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

const now = (): string => new Date().toISOString();

export const optionsOf = (run: RunRow): RunOptions => run.options as unknown as RunOptions;

/** The current best: the last candidate the gate accepted, or the run's baseline. */
export function incumbentOf(experiments: readonly ExperimentRow[]): ExperimentRow {
  const incumbent = latestIncumbent(experiments, (experiment) => experiment.metadata.decidedAt);
  if (!incumbent) throw new Error('a run without a baseline experiment');
  return incumbent;
}

export class ResearchLoop {
  private readonly inflight = new Map<ExperimentId, Promise<void>>();
  private sessionStartMs = Date.now();
  private readonly options: RunOptions;

  constructor(private readonly context: LabContext, private run: RunRow) {
    this.options = optionsOf(run);
  }

  private get experiments(): ExperimentRow[] {
    return this.context.journal.listExperiments(this.run.id);
  }

  elapsedSeconds(): number {
    const previous = Number((this.run.summary as { elapsedSeconds?: number } | null)?.elapsedSeconds ?? 0);
    return previous + (Date.now() - this.sessionStartMs) / 1000;
  }

  private budgetLeftSeconds(): number | null {
    return this.options.budgetSeconds === null ? null : Math.max(0, this.options.budgetSeconds - this.elapsedSeconds());
  }

  private saveElapsed(): void {
    const elapsedSeconds = this.elapsedSeconds();
    this.sessionStartMs = Date.now();
    this.run = this.context.journal.updateRun(this.run.id, { summary: { ...(this.run.summary ?? {}), elapsedSeconds } });
  }

  /** Runs until a budget is spent, the researcher has nothing left, or `signal` (or `successor stop`) stops it. */
  async execute(external: AbortSignal): Promise<RunSummary> {
    const { journal } = this.context;
    const controller = new AbortController();
    const signal = controller.signal;
    const onExternal = () => controller.abort();
    external.addEventListener('abort', onExternal, { once: true });
    const { stopRequested: _previousStop, ...options } = this.run.options;
    this.run = journal.updateRun(this.run.id, { status: 'running', stopReason: null, options });
    // Experiments left running by a killed process were not recorded: they run again.
    for (const experiment of this.experiments) {
      if (experiment.state === 'running') journal.updateExperiment(experiment.id, { state: 'proposed', startedAt: null });
    }
    // `successor stop RUN` from another process writes to the journal; this watches for it.
    const stopWatch = setInterval(() => {
      const latest = journal.getRun(this.run.id);
      if (latest?.options.stopRequested) controller.abort();
    }, 500);
    let stopReason = 'finished';
    let idleSince: number | null = null;
    try {
      while (!signal.aborted) {
        const action = await this.plan(signal);
        if (action.kind !== 'idle') idleSince = null;
        if (action.kind === 'stop') {
          if (this.inflight.size === 0) {
            stopReason = action.reason;
            break;
          }
        } else if (action.kind === 'run') {
          const promise = this.execute1(action.experiment, signal).finally(() => this.inflight.delete(action.experiment.id));
          this.inflight.set(action.experiment.id, promise);
          if (this.inflight.size < this.options.parallel) continue;
        } else if (action.kind === 'propose') {
          await this.propose(signal);
          continue;
        } else if (action.kind === 'idle' && this.inflight.size === 0) {
          if (idleSince === null) {
            idleSince = Date.now();
            this.context.observe({ type: 'note', message: `waiting: ${action.reason}` });
          }
          await sleep(APPROVAL_POLL_MS, signal);
          continue;
        } else if (this.inflight.size === 0) {
          throw new Error('the planner is waiting with nothing in flight');
        }
        await Promise.race(this.inflight.values());
      }
      await Promise.allSettled(this.inflight.values());
    } finally {
      clearInterval(stopWatch);
      external.removeEventListener('abort', onExternal);
    }
    this.saveElapsed();
    const stopped = signal.aborted;
    const requested = journal.getRun(this.run.id)?.options.stopRequested as { reason?: string } | undefined;
    const why = stopped ? (requested ? `stopped: ${requested.reason ?? 'stop requested'}` : 'stopped by the user') : stopReason;
    const summary = summariseRun(journal, this.context.task, this.run.id, why);
    this.run = journal.updateRun(this.run.id, {
      status: stopped ? 'stopped' : 'completed',
      stopReason: why,
      summary: { ...(this.run.summary ?? {}), ...summary },
    });
    return summary;
  }

  /** Decides the next step from the journal alone. */
  private async plan(signal: AbortSignal): Promise<Action> {
    const { journal } = this.context;
    const { gate } = this.options;
    const experiments = this.experiments;
    const waiting = experiments.find((experiment) => experiment.state === 'proposed' && !this.inflight.has(experiment.id));
    if (waiting) return { kind: 'run', experiment: waiting };
    const inflightOf = (subject: ExperimentId): number =>
      experiments.filter((experiment) => this.inflight.has(experiment.id) && subjectOf(experiment) === subject).length;

    const root = experiments.find((experiment) => experiment.role === 'baseline');
    if (!root) throw new Error(`run ${this.run.id} has no baseline experiment`);
    const rootSamples = samplesOf(experiments, root.id);
    const rootAttempts = attemptsOf(experiments, root.id).length + inflightOf(root.id);
    if (rootSamples.length + inflightOf(root.id) < gate.repeats) {
      if (rootAttempts >= gate.repeats + 2) return { kind: 'stop', reason: `the baseline keeps failing: ${describeFailure(experiments, root.id)}` };
      return { kind: 'run', experiment: this.createRepeat(root, 'repeat') };
    }
    if (rootSamples.length < gate.repeats) return { kind: 'wait' };
    const calibration = this.checkCachedCalibration(experiments, root, inflightOf(root.id));
    if (calibration) return calibration;

    // Claims of a win get their repeats, then the gate.
    for (const claim of experiments.filter((experiment) => experiment.metadata.claim === true && experiment.metadata.decidedAt === undefined)) {
      const attempts = attemptsOf(experiments, claim.id);
      const pending = inflightOf(claim.id);
      const failed = attempts.find((attempt) => !attempt.outcome || !isScored(attempt.outcome));
      if (failed && pending === 0) {
        this.decide(claim, false, `a repeat did not succeed: ${failed.outcome?.status}`, {});
        return this.plan(signal);
      }
      // A physical bound (FLOPs, tokens, entropy) broken in any run is never confirmed by repeating it.
      const impossible = attempts.find((attempt) => attempt.outcome?.status === 'suspect' && attempt.outcome.metrics.bound !== 'gain');
      if (impossible?.outcome && impossible.outcome.status === 'suspect' && pending === 0) {
        this.decide(claim, false, `breaks a physical bound: ${impossible.outcome.reason}`, {});
        return this.plan(signal);
      }
      if (attempts.length + pending < gate.repeats) return { kind: 'run', experiment: this.createRepeat(claim, 'repeat') };
      if (pending === 0) {
        const incumbent = incumbentOf(experiments);
        const decision = decideGate(this.context.task, journal, incumbent, claim, samplesOf(experiments, incumbent.id), samplesOf(experiments, claim.id), gate, this.options.seed);
        this.decide(claim, decision.accepted, decision.detail, decision.record);
        return this.plan(signal);
      }
    }
    if (experiments.some((experiment) => experiment.metadata.claim === true && experiment.metadata.decidedAt === undefined)) {
      // A claim is still being confirmed; new candidates would be measured against a moving incumbent.
      return this.inflight.size > 0 ? { kind: 'wait' } : { kind: 'stop', reason: 'a claim could not be confirmed' };
    }

    const candidates = experiments.filter((experiment) => experiment.role === 'candidate');
    const incumbent = incumbentOf(experiments);
    const lastVerify = Math.max(0, ...experiments.filter((experiment) => experiment.role === 'verify').map((experiment) => experiment.seq));
    const candidatesSinceVerify = candidates.filter((experiment) => experiment.seq > lastVerify && experiment.state === 'finished').length;
    if (candidatesSinceVerify >= gate.verifyEvery && inflightOf(incumbent.id) === 0) {
      return { kind: 'run', experiment: this.createRepeat(incumbent, 'verify') };
    }
    // Under `promote` a run does not end with a nominated incumbent undecided: its result (and the next generation's
    // baseline) waits for the human.
    const nominated = this.options.approval === 'promote' ? experiments.filter((experiment) => experiment.metadata.approval === 'pending') : [];
    const stop = (reason: string): Action => (nominated.length === 0 ? { kind: 'stop', reason } : this.inflight.size > 0 ? { kind: 'wait' } : {
      kind: 'idle', reason: `${reason}; ${nominated.map((experiment) => `#${experiment.seq} ${experiment.id}`).join(', ')} awaiting approval to become the incumbent (successor approve EXP | reject EXP --why TEXT)`,
    });
    const budgetLeft = this.budgetLeftSeconds();
    if (budgetLeft !== null && budgetLeft <= 0) return stop('time budget spent');
    const cpuSeconds = experiments.reduce((sum, experiment) => sum + Number(experiment.outcome?.metrics.cpuSeconds ?? 0), 0);
    if (this.options.maxCpuSeconds !== null && cpuSeconds >= this.options.maxCpuSeconds) {
      return stop(`CPU budget spent (${Math.round(cpuSeconds)} of ${this.options.maxCpuSeconds} CPU-seconds)`);
    }
    // Candidates waiting for a human (policy `each`) were counted when they were proposed: the run waits for them.
    const awaiting = experiments.filter((experiment) => experiment.state === 'awaiting-approval');
    const waitForHuman = (): Action => (this.inflight.size > 0 ? { kind: 'wait' } : {
      kind: 'idle', reason: `${awaiting.map((experiment) => `#${experiment.seq} ${experiment.id}`).join(', ')} awaiting approval (successor approve EXP | reject EXP --why TEXT)`,
    });
    if (this.options.maxExperiments !== null && candidates.length >= this.options.maxExperiments) {
      return awaiting.length > 0 ? waitForHuman() : stop(`experiment budget spent (${this.options.maxExperiments})`);
    }
    if (budgetLeft !== null && budgetLeft < this.capSeconds(incumbent, 'candidate') * 0.5) {
      return stop('time budget too small for another candidate');
    }
    if (this.inflight.size >= this.options.parallel) return { kind: 'wait' };
    if (awaiting.length > 0) return waitForHuman();
    return signal.aborted ? { kind: 'wait' } : { kind: 'propose' };
  }

  /**
   * A cached calibration was measured by an earlier run, perhaps on a busier (or quieter) machine. One fresh run of
   * the baseline checks it: when the fresh time falls outside the cached runs' range (widened by 15%) or more than
   * 25% (in log terms) from their mean, the cached runs are marked stale and the baseline is measured again, so no
   * gain is claimed against stale numbers.
   */
  private checkCachedCalibration(experiments: readonly ExperimentRow[], root: ExperimentRow, inflight: number): Action | null {
    if (!root.metadata.cached) return null;
    const check = experiments.find((experiment) => experiment.role === 'verify' && experiment.parentId === root.id);
    if (!check) return inflight > 0 ? { kind: 'wait' } : { kind: 'run', experiment: this.createRepeat(root, 'verify') };
    if (check.state !== 'finished') return { kind: 'wait' };
    if (check.metadata.calibrationCheck) return null;
    const { journal } = this.context;
    const cached = experiments.filter((experiment) => experiment.metadata.cached && !experiment.metadata.stale);
    const cachedScores = cached.flatMap((experiment) => (experiment.outcome && isScored(experiment.outcome) ? [experiment.outcome.score] : []));
    const fresh = check.outcome && isScored(check.outcome) ? check.outcome.score : null;
    const cachedMean = cachedScores.length ? mean(cachedScores) : Number.NaN;
    const agrees = fresh !== null && cachedScores.length > 0 && fresh >= Math.min(...cachedScores) * 0.85 && fresh <= Math.max(...cachedScores) * 1.15 &&
      Math.abs(Math.log(fresh / cachedMean)) <= 0.25;
    journal.transaction(() => {
      journal.updateExperiment(check.id, { metadata: { ...check.metadata, calibrationCheck: agrees ? 'agrees' : 'stale' } });
      if (!agrees) for (const experiment of cached) journal.updateExperiment(experiment.id, { metadata: { ...experiment.metadata, stale: true } });
      journal.appendEvent(this.run.id, 'calibration.check', { fresh, cached: cachedScores, agrees });
    });
    this.context.observe({ type: 'note', message: agrees
      ? `cached calibration confirmed by a fresh run (${fresh?.toFixed(1)} within [${cachedScores.map((score) => score.toFixed(1)).join(', ')}])`
      : `cached calibration is stale (fresh ${fresh === null ? 'failed' : fresh.toFixed(1)} against [${cachedScores.map((score) => score.toFixed(1)).join(', ')}]): measuring the baseline again` });
    return null;
  }

  private decide(claim: ExperimentRow, passed: boolean, detail: string, record: Record<string, unknown>): void {
    const { journal } = this.context;
    // Under the `promote` policy a gate pass only nominates: the new incumbent waits for a human. So does a gain
    // of more than MAX_GAIN_PER_STEP in one step whatever the policy: repeats confirm it is reproducible, not that
    // it is honest (weights smuggled in reproduce perfectly), so a human looks before it becomes the incumbent.
    const implausible = claim.outcome?.status === 'suspect' && claim.outcome.metrics.bound === 'gain';
    const needsApproval = passed && (this.options.approval === 'promote' || implausible);
    const accepted = passed && !needsApproval;
    const updated = journal.transaction(() => {
      const row = journal.updateExperiment(claim.id, {
        accepted,
        metadata: { ...claim.metadata, decidedAt: now(), gate: { accepted: passed, detail, ...record }, ...(needsApproval ? { approval: 'pending' } : {}) },
      });
      journal.appendEvent(this.run.id, 'gate', { accepted, detail, ...record }, claim.id);
      return row;
    });
    const waiting = implausible ? `; a gain over ${MAX_GAIN_PER_STEP}x in one step awaits a human's approval to become the incumbent` : '; awaiting approval to become the incumbent';
    this.context.observe({ type: 'gate', experiment: updated, accepted: passed, detail: needsApproval ? `${detail}${waiting}` : detail });
  }

  /** A re-run of `subject`'s configuration with the next seed in its sequence. */
  private createRepeat(subject: ExperimentRow, role: 'repeat' | 'verify'): ExperimentRow {
    return this.context.journal.createExperiment(unchangedExperiment(this.run.id, subject.id, role, `${role} of #${subject.seq}`));
  }

  private async propose(signal: AbortSignal): Promise<void> {
    const { journal, task, researcher } = this.context;
    const experiments = this.experiments;
    const incumbent = incumbentOf(experiments);
    const summaries = experiments.map((experiment) => this.summarise(experiment));
    const budgetLeft = this.budgetLeftSeconds();
    const candidates = experiments.filter((experiment) => experiment.role === 'candidate').length;
    const transcript: number[] = [];
    const proposal = await researcher.propose({
      task: { name: task.file.name, instructions: task.instructions, metric: task.file.metric, space: task.file.space },
      history: summaries,
      incumbent: this.summarise(incumbent),
      budget: {
        fractionUsed: this.options.budgetSeconds ? Math.min(1, this.elapsedSeconds() / this.options.budgetSeconds) : 0,
        experimentsLeft: this.options.maxExperiments === null ? null : this.options.maxExperiments - candidates,
        secondsLeft: budgetLeft,
      },
      seed: this.options.seed,
      signal,
      workspace: this.workspaceAccess(),
      record: (type, payload) => {
        const id = journal.appendEvent(this.run.id, type, payload).id;
        transcript.push(id);
        return id;
      },
    });
    if (signal.aborted) return;
    if (!proposal) {
      journal.appendEvent(this.run.id, 'researcher.done', {});
      this.run = journal.updateRun(this.run.id, { options: { ...this.run.options, maxExperiments: candidates } });
      (this.options as { maxExperiments: number | null }).maxExperiments = candidates;
      return;
    }
    const parent = journal.getExperiment(proposal.parentId as ExperimentId) ?? incumbent;
    const { diff, outcome } = checkProposal(task, lineageOf(journal, task, parent), proposal.change, join(this.context.stateDir, 'scratch'));
    journal.createExperiment({
      runId: this.run.id,
      parentId: parent.id,
      role: 'candidate',
      description: proposal.description,
      change: proposal.change,
      diff,
      state: outcome ? 'finished' : this.options.approval === 'each' ? 'awaiting-approval' : 'proposed',
      outcome,
      fidelity: 1,
      accepted: false,
      logPath: null,
      artifactsPath: null,
      metadata: transcript.length > 0 ? { transcript } : {},
    });
  }

  /** Researchers that read code get private copies of workspaces (under scratch/) and the captured logs. */
  private workspaceAccess(): WorkspaceAccess {
    const { journal, task, stateDir } = this.context;
    const experimentOf = (id: ExperimentId): ExperimentRow => {
      const experiment = journal.getExperiment(id);
      if (!experiment) throw new ChangeError(`no experiment ${id}`);
      return experiment;
    };
    return {
      editable: task.file.workspace.editable,
      configFile: task.file.run.configFile ?? null,
      materialise: (id) => {
        const dir = join(stateDir, 'scratch', 'researcher', id);
        if (!existsSync(dir)) materialiseWorkspace(task, lineageOf(journal, task, experimentOf(id)), dir);
        return dir;
      },
      readLog: (id, stream) => {
        const logPath = experimentOf(id).logPath;
        const path = logPath ? join(logPath, `${stream}.log`) : null;
        return path && existsSync(path) ? readFileSync(path, 'utf8') : null;
      },
    };
  }

  private readonly lineageCache = new Map<ExperimentId, ReturnType<typeof lineageOf>>();

  private summarise(experiment: ExperimentRow): ExperimentSummary {
    let lineage = this.lineageCache.get(experiment.id);
    if (!lineage) {
      lineage = lineageOf(this.context.journal, this.context.task, experiment);
      this.lineageCache.set(experiment.id, lineage);
    }
    return {
      id: experiment.id,
      parentId: experiment.parentId,
      role: experiment.role,
      description: experiment.description,
      change: experiment.change,
      assignment: lineage.assignment,
      outcome: experiment.state === 'finished' ? experiment.outcome : null,
      accepted: experiment.accepted,
    };
  }

  /** How long an experiment may run: slower than the incumbent by capFactor is no gain worth waiting for. */
  private capSeconds(experiment: ExperimentRow, role: ExperimentRow['role']): number {
    const { gate } = this.options;
    const limit = this.context.task.file.run.limits.wallSeconds;
    if (role === 'baseline') return limit;
    const experiments = this.experiments;
    const reference = role === 'candidate' ? incumbentOf(experiments) : (this.context.journal.getExperiment(subjectOf(experiment) as ExperimentId) ?? experiment);
    const samples = samplesOf(experiments, reference.id);
    if (samples.length === 0 || this.context.task.file.metric.source !== 'wall-seconds') return limit;
    const factor = role === 'candidate' ? gate.capFactor : Math.max(2, gate.capFactor);
    return Math.min(limit, mean(samples) * factor + gate.capSlackSeconds);
  }

  private async execute1(experiment: ExperimentRow, signal: AbortSignal): Promise<void> {
    const { journal, task, executor, observe } = this.context;
    const seed = harnessSeedOf(experiment);
    const capSeconds = this.capSeconds(experiment, experiment.role);
    const started = journal.updateExperiment(experiment.id, { state: 'running', startedAt: now(), metadata: { ...experiment.metadata, seed, capSeconds } });
    observe({ type: 'experiment.started', experiment: started, capSeconds });
    const result = await executor.run(
      {
        runId: this.run.id,
        experimentId: experiment.id,
        taskDir: task.dir,
        taskName: task.file.name,
        taskVersion: task.file.version,
        lineage: lineageOf(journal, task, experiment),
        capSeconds,
        seed,
      },
      signal,
    );
    if (signal.aborted) {
      journal.updateExperiment(experiment.id, { state: 'proposed', startedAt: null });
      return;
    }
    let outcome = result.outcome;
    if (outcome.status === 'timeout' && experiment.role === 'candidate' && capSeconds < task.file.run.limits.wallSeconds) {
      outcome = { ...outcome, reason: `slower than the incumbent: stopped at the ${capSeconds.toFixed(1)}s cap` };
    }
    const experiments = this.experiments;
    const incumbent = incumbentOf(experiments);
    const incumbentSamples = samplesOf(experiments, incumbent.id);
    if (experiment.role === 'candidate' && outcome.status === 'ok' && incumbentSamples.length > 0) {
      const reference = mean(incumbentSamples);
      const gain = task.file.metric.direction === 'minimize' ? reference / outcome.score : outcome.score / reference;
      if (gain > MAX_GAIN_PER_STEP) {
        outcome = { status: 'suspect', score: outcome.score, reason: `gain bound: ${gain.toFixed(1)}x over the incumbent in one step; held until repeats confirm it`, metrics: { ...outcome.metrics, bound: 'gain' } };
      }
    }
    const claim =
      experiment.role === 'candidate' && isScored(outcome) && incumbentSamples.length > 0 &&
      isBetter(task.file.metric.direction, outcome.score, mean(incumbentSamples), this.options.gate.minRelativeGain);
    const finished = journal.transaction(() => {
      const row = journal.updateExperiment(experiment.id, {
        state: 'finished',
        outcome,
        finishedAt: now(),
        logPath: result.logDir,
        artifactsPath: result.artifactsDir,
        metadata: { ...started.metadata, ...(claim ? { claim: true } : {}) },
      });
      journal.appendEvent(this.run.id, 'experiment.finished', { status: outcome.status, score: isScored(outcome) ? outcome.score : null, claim }, experiment.id);
      return row;
    });
    await pruneArtifacts(journal, this.run.id, this.options.keepArtifacts ?? DEFAULT_KEEP_ARTIFACTS);
    this.saveElapsed();
    const best = samplesOf(this.experiments, incumbentOf(this.experiments).id);
    observe({ type: 'experiment.finished', experiment: finished, best: best.length ? mean(best) : null, budgetLeftSeconds: this.budgetLeftSeconds() });
  }
}

function describeFailure(experiments: readonly ExperimentRow[], subject: ExperimentId): string {
  const failed = attemptsOf(experiments, subject).find((attempt) => attempt.outcome && !isScored(attempt.outcome));
  return failed?.outcome && 'reason' in failed.outcome ? `${failed.outcome.status}: ${failed.outcome.reason}` : 'unknown';
}

