/**
 * The research loop: ask the planner for the next step, carry it out, record it, until a budget runs out.
 *
 * The loop keeps no state of its own between steps: every decision comes from the planner (planner.ts) reading the
 * journal, so a run killed at any moment (even kill -9) resumes exactly where it was: an experiment that was running
 * is run again, one that finished is never run twice, a claim of a win half-way through its repeats gets the rest.
 * Is not: the rules (planner.ts, gate.ts), starting runs and generations (start.ts), or proposing (propose.ts).
 */
import type { ExperimentRow, Journal, RunRow } from '../journal/journal.js';
import type { ExperimentId } from '../task/ids.js';
import type { Lineage } from '../task/workspace.js';
import { isScored } from '../task/outcome.js';
import type { LabContext } from './context.js';
import { incumbentOf, lineageOf, mean, samplesOf } from './lineage.js';
import { type RunOptions, optionsOf } from './options.js';
import { type PlanInput, type Step, budgetLeftSeconds, capSeconds, earlyStopFor, planStep } from './planner.js';
import { pruneArtifacts } from './retention.js';
import { harnessSeedOf } from './seeds.js';
import { calibrationRecords, decisionRecord, demotionRecord, finishedRecord, rerunRow } from './step-records.js';
import { type PriorKnowledge, priorKnowledge, taskKey } from './prior.js';
import { proposeCandidate } from './propose.js';
import { storedSummaryOf, summariseRun, type RunSummary } from './summary.js';

const APPROVAL_POLL_MS = 1000;
const STOP_POLL_MS = 500;
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
/** Scores for people: three significant figures. */
const formatScore = (score: number): string => (Math.abs(score) >= 100 ? score.toFixed(0) : score.toPrecision(3));

export class ResearchLoop {
  private readonly inflight = new Map<ExperimentId, Promise<void>>();
  private sessionStartMs = Date.now();
  private options: RunOptions;
  private readonly lineages = new Map<ExperimentId, { lineage: Lineage; text: string }>();

  constructor(private readonly context: LabContext, private run: RunRow) {
    this.options = optionsOf(run);
  }

  private get experiments(): ExperimentRow[] {
    return this.context.journal.listExperiments(this.run.id);
  }

  elapsedSeconds(): number {
    return (storedSummaryOf(this.run).elapsedSeconds ?? 0) + (Date.now() - this.sessionStartMs) / 1000;
  }

  private saveElapsed(): void {
    const elapsedSeconds = this.elapsedSeconds();
    this.sessionStartMs = Date.now();
    this.run = this.context.journal.updateRun(this.run.id, { summary: { ...storedSummaryOf(this.run), elapsedSeconds } });
  }

  /** Runs until a budget is spent, the researcher has nothing left, or `signal` (or `successor stop`) stops it. */
  async execute(external: AbortSignal): Promise<RunSummary> {
    const { journal } = this.context;
    const controller = new AbortController();
    const signal = controller.signal;
    const onExternal = () => controller.abort();
    external.addEventListener('abort', onExternal, { once: true });
    this.run = journal.updateRun(this.run.id, { status: 'running', stopReason: null });
    // Experiments left running by a killed process were not recorded: they run again.
    for (const experiment of this.experiments) {
      if (experiment.state === 'running') journal.updateExperiment(experiment.id, { state: 'proposed', startedAt: null });
    }
    // `successor stop RUN` from another process journals a stop request; requests from before this session are old.
    let stopRequest: string | null = null;
    const stopWatch = watchStopRequests(journal, this.run.id, (reason) => {
      stopRequest = reason;
      controller.abort();
    });
    let stopReason = 'finished';
    let idleSince: number | null = null;
    try {
      while (!signal.aborted) {
        const step = planStep(this.planInput(signal.aborted));
        if (step.kind !== 'idle') idleSince = null;
        if (step.kind === 'stop') {
          if (this.inflight.size === 0) {
            stopReason = step.reason;
            break;
          }
        } else if (step.kind === 'run' || step.kind === 'rerun') {
          const experiment = step.kind === 'run' ? step.experiment : this.createRerun(step);
          const promise = this.runExperiment(experiment, signal).finally(() => this.inflight.delete(experiment.id));
          this.inflight.set(experiment.id, promise);
          if (this.inflight.size < this.options.parallel) continue;
        } else if (step.kind === 'decide' || step.kind === 'calibration' || step.kind === 'demote') {
          this.record(step);
          continue;
        } else if (step.kind === 'propose') {
          await this.propose(signal);
          continue;
        } else if (step.kind === 'idle' && this.inflight.size === 0) {
          if (idleSince === null) {
            idleSince = Date.now();
            this.context.observe({ type: 'note', message: `waiting: ${step.reason}` });
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
    const why = stopped ? (stopRequest !== null ? `stopped: ${stopRequest}` : 'stopped by the user') : stopReason;
    const summary = summariseRun(journal, this.context.task, this.run.id, why, this.context.stateDir);
    this.run = journal.updateRun(this.run.id, {
      status: stopped ? 'stopped' : 'completed',
      stopReason: why,
      summary: { ...storedSummaryOf(this.run), ...summary },
    });
    return summary;
  }

  private planInput(stopping: boolean): PlanInput {
    const { task } = this.context;
    return {
      experiments: this.experiments,
      inflight: new Set(this.inflight.keys()),
      options: this.options,
      task: { direction: task.file.metric.direction, metricSource: task.file.metric.source, wallSecondsLimit: task.file.run.limits.wallSeconds },
      elapsedSeconds: this.elapsedSeconds(),
      stopping,
      nowMs: Date.now(),
      sameConfiguration: (left, right) => this.lineageEntry(left).text === this.lineageEntry(right).text,
    };
  }

  /** The lineage an experiment runs (fixed once it exists), and as text: equal texts run the same workspace. */
  private lineageEntry(experiment: ExperimentRow): { lineage: Lineage; text: string } {
    let entry = this.lineages.get(experiment.id);
    if (!entry) {
      const lineage = lineageOf(this.context.journal, this.context.task, experiment);
      entry = { lineage, text: JSON.stringify(lineage) };
      this.lineages.set(experiment.id, entry);
    }
    return entry;
  }

  /** Journals a decision the planner made: the gate's verdict on a claim, a demotion, or a calibration check's. */
  private record(step: Extract<Step, { kind: 'decide' | 'calibration' | 'demote' }>): void {
    const { journal, observe } = this.context;
    if (step.kind === 'demote') {
      journal.transaction(() => {
        journal.updateExperiment(step.incumbent.id, demotionRecord(step, now()));
        journal.appendEvent(this.run.id, 'demoted', { reason: step.reason }, step.incumbent.id);
      });
      observe({ type: 'note', message: `#${step.incumbent.seq} is no longer the incumbent: ${step.reason}` });
      return;
    }
    if (step.kind === 'calibration') {
      const { agrees, fresh, cachedScores } = step;
      journal.transaction(() => {
        for (const { experiment, metadata } of calibrationRecords(step)) journal.updateExperiment(experiment.id, { metadata });
        journal.appendEvent(this.run.id, 'calibration.check', { fresh, cached: cachedScores, agrees });
      });
      const listed = cachedScores.map(formatScore).join(', ');
      observe({ type: 'note', message: agrees
        ? `cached calibration confirmed by a fresh run (${fresh === null ? '-' : formatScore(fresh)} within [${listed}])`
        : `cached calibration is stale (fresh ${fresh === null ? 'failed' : formatScore(fresh)} against [${listed}]): measuring the baseline again` });
      return;
    }
    const { accepted, metadata, needsApproval, implausible } = decisionRecord(step, this.options.approval, now());
    const updated = journal.transaction(() => {
      const row = journal.updateExperiment(step.claim.id, { accepted, metadata });
      journal.appendEvent(this.run.id, 'gate', { accepted, detail: step.detail, ...step.record }, step.claim.id);
      return row;
    });
    const waiting = implausible ? '; a gain over 10x in one step awaits a human\'s approval to become the incumbent' : '; awaiting approval to become the incumbent';
    observe({ type: 'gate', experiment: updated, accepted: step.passed, detail: needsApproval ? `${step.detail}${waiting}` : step.detail });
  }

  /** A re-run of a configuration (for a pair, tagged with it); the harness gives it a seed of its own. */
  private createRerun(step: Extract<Step, { kind: 'rerun' }>): ExperimentRow {
    return this.context.journal.createExperiment(rerunRow(this.run.id, step, this.experiments));
  }

  private priorCache: PriorKnowledge | null | undefined;

  /** What earlier runs on this task version know, read once per session (null with --fresh). */
  private prior(): PriorKnowledge | null {
    if (this.priorCache === undefined) {
      const { journal, task } = this.context;
      this.priorCache = this.options.usePrior ? priorKnowledge(journal, task, taskKey(task), this.run) : null;
      if (this.priorCache && this.priorCache.runs > 0) {
        const best = this.priorCache.best ? `; trying first its best configuration (${this.priorCache.best.gain.toFixed(2)}x there)` : '';
        this.context.observe({ type: 'note', message: `starting from ${this.priorCache.runs} earlier run(s) of this task version: ${this.priorCache.history.length} observations${best} (--fresh to start from nothing)` });
      }
    }
    return this.priorCache;
  }

  private async propose(signal: AbortSignal): Promise<void> {
    const { journal } = this.context;
    const experiments = this.experiments;
    const result = await proposeCandidate(this.context, this.run, this.options, experiments, {
      elapsedSeconds: this.elapsedSeconds(),
      budgetLeftSeconds: budgetLeftSeconds(this.options, this.elapsedSeconds()),
      signal,
      lineage: (experiment) => this.lineageEntry(experiment).lineage,
      prior: this.prior(),
    });
    if (result === 'exhausted') {
      // The researcher has nothing left: the run's experiment budget ends where it stands.
      const candidates = experiments.filter((experiment) => experiment.role === 'candidate').length;
      journal.appendEvent(this.run.id, 'researcher.done', {});
      this.options = { ...this.options, maxExperiments: candidates };
      this.run = journal.updateRun(this.run.id, { options: this.options });
    }
  }

  private async runExperiment(experiment: ExperimentRow, signal: AbortSignal): Promise<void> {
    const { journal, task, executor, observe } = this.context;
    const seed = harnessSeedOf(experiment);
    const planned = { experiments: this.experiments, options: this.options, task: this.planInput(false).task };
    const cap = capSeconds(planned, experiment, experiment.role);
    const earlyStop = earlyStopFor(planned, experiment, task.file.run.progress !== undefined);
    const started = journal.updateExperiment(experiment.id, { state: 'running', startedAt: now(), metadata: { ...experiment.metadata, seed, capSeconds: cap } });
    observe({ type: 'experiment.started', experiment: started, capSeconds: cap });
    const result = await executor.run(
      {
        runId: this.run.id,
        experimentId: experiment.id,
        taskDir: task.dir,
        taskName: task.file.name,
        taskVersion: task.file.version,
        lineage: this.lineageEntry(experiment).lineage,
        capSeconds: cap,
        seed,
        ...(earlyStop ? { earlyStop } : {}),
      },
      signal,
      (line, elapsedSeconds) => observe({ type: 'experiment.progress', experiment: started, elapsedSeconds, line }),
    );
    if (signal.aborted) {
      journal.updateExperiment(experiment.id, { state: 'proposed', startedAt: null });
      return;
    }
    const { outcome, claim, metadata } = finishedRecord({ ...planned, experiments: this.experiments }, started, result.outcome, cap, result.progress);
    const finished = journal.transaction(() => {
      const row = journal.updateExperiment(experiment.id, {
        state: 'finished',
        outcome,
        finishedAt: now(),
        logPath: result.logDir,
        artifactsPath: result.artifactsDir,
        metadata,
      });
      journal.appendEvent(this.run.id, 'experiment.finished', { status: outcome.status, score: isScored(outcome) ? outcome.score : null, claim }, experiment.id);
      return row;
    });
    await pruneArtifacts(journal, this.run.id, this.options.keepArtifacts);
    this.saveElapsed();
    const best = samplesOf(this.experiments, incumbentOf(this.experiments).id);
    observe({ type: 'experiment.finished', experiment: finished, best: best.length ? mean(best) : null, budgetLeftSeconds: budgetLeftSeconds(this.options, this.elapsedSeconds()) });
  }
}

/** Polls the journal for `stop.requested` events journaled after now; returns the timer. */
function watchStopRequests(journal: Journal, runId: RunRow['id'], onStop: (reason: string) => void): NodeJS.Timeout {
  let lastSeen = journal.listEvents(runId).at(-1)?.id ?? 0;
  return setInterval(() => {
    for (const event of journal.listEvents(runId, lastSeen)) {
      lastSeen = event.id;
      if (event.type === 'stop.requested') onStop(typeof event.payload.reason === 'string' ? event.payload.reason : 'stop requested');
    }
  }, STOP_POLL_MS);
}
