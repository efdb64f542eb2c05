/**
 * Human control of a run, shared by the CLI and the dashboard: approve or reject an experiment waiting for a
 * human, and ask a run to stop. Each is a journal write (audited); the running loop polls the journal and acts.
 */
import { dirname } from 'node:path';
import type { ExperimentRow, Journal, RunRow } from '../journal/journal.js';
import type { ExperimentId, RunId } from '../task/ids.js';
import { BadInputError } from '../task/errors.js';
import { type Task, loadTask } from '../task/loader.js';
import { summariseRun } from './summary.js';

/** A decision on something that is not waiting for one, or an unknown id: bad input (exit 2). */
export class ControlError extends BadInputError {
  override name = 'ControlError';
}

const now = (): string => new Date().toISOString();

/** Lets an experiment that waits for approval run (policy `each`), or lets a new incumbent stand (policy `promote`). */
export function approveExperiment(journal: Journal, id: ExperimentId, by = 'human'): ExperimentRow {
  const decided = journal.transaction(() => {
    const experiment = journal.getExperiment(id);
    if (!experiment) throw new ControlError(`no experiment ${id}`);
    if (experiment.state !== 'awaiting-approval' && experiment.metadata.approval !== 'pending') {
      throw new ControlError(`experiment ${id} is not waiting for approval (state ${experiment.state})`);
    }
    const approval = { approval: 'approved' as const, approvedBy: by, approvedAt: now() };
    const row = journal.updateExperiment(id, {
      ...(experiment.state === 'awaiting-approval' ? { state: 'proposed' as const } : { accepted: true }),
      metadata: { ...experiment.metadata, ...approval, ...(experiment.state === 'awaiting-approval' ? {} : { decidedAt: now() }) },
    });
    journal.appendEvent(experiment.runId, 'approval', { decision: 'approved', by }, id);
    return row;
  });
  refreshSummary(journal, decided);
  return decided;
}

/** Rejects an experiment waiting for approval; it ends `rejected` with the reason, journaled. */
export function rejectExperiment(journal: Journal, id: ExperimentId, why: string, by = 'human'): ExperimentRow {
  if (!why.trim()) throw new ControlError('a rejection needs a reason');
  const decided = journal.transaction(() => {
    const experiment = journal.getExperiment(id);
    if (!experiment) throw new ControlError(`no experiment ${id}`);
    const pendingRun = experiment.state === 'awaiting-approval';
    const pendingPromotion = experiment.metadata.approval === 'pending';
    if (!pendingRun && !pendingPromotion) throw new ControlError(`experiment ${id} is not waiting for approval (state ${experiment.state})`);
    const metadata = { ...experiment.metadata, approval: 'rejected' as const, rejectedBy: by, rejectedAt: now(), rejectedWhy: why };
    const row = pendingRun
      ? journal.updateExperiment(id, { state: 'finished', outcome: { status: 'rejected', reason: why, metrics: {} }, metadata })
      : journal.updateExperiment(id, { accepted: false, metadata });
    journal.appendEvent(experiment.runId, 'approval', { decision: 'rejected', by, why }, id);
    return row;
  });
  refreshSummary(journal, decided);
  return decided;
}

/**
 * A decision on a nominated incumbent after its run has ended changes the run's result, so its summary is made
 * again (a running loop makes its own at the end). A task folder that no longer loads leaves the summary as it was.
 */
function refreshSummary(journal: Journal, experiment: ExperimentRow): void {
  const run = journal.getRun(experiment.runId);
  if (!run || run.status === 'running' || experiment.state === 'awaiting-approval' || experiment.role !== 'candidate') return;
  let task: Task;
  try {
    task = loadTask(run.taskDir);
  } catch {
    return;
  }
  const summary = summariseRun(journal, task, run.id, run.stopReason ?? 'finished', dirname(journal.path));
  journal.updateRun(run.id, { summary: { ...(run.summary ?? {}), ...summary } });
}

/**
 * Asks a running run to stop: a `stop.requested` event, which the loop watches for (loop.ts); it kills its
 * sandboxed processes and leaves the run resumable.
 */
export function requestStop(journal: Journal, runId: RunId, reason = 'stop requested'): RunRow {
  return journal.transaction(() => {
    const run = journal.getRun(runId);
    if (!run) throw new ControlError(`no run ${runId}`);
    if (run.status !== 'running') throw new ControlError(`run ${runId} is not running (${run.status})`);
    journal.appendEvent(runId, 'stop.requested', { reason, at: now() });
    return run;
  });
}

/** What waits for a human: experiments that may not run yet (policy `each`) and nominated incumbents (`promote`, or a >10x step). */
export function pendingApprovals(journal: Journal, runId: RunId): ExperimentRow[] {
  return journal.listExperiments(runId).filter((experiment) => experiment.state === 'awaiting-approval' || experiment.metadata.approval === 'pending');
}
