/**
 * One proposal: the lab shows the researcher the task, the history and read access to workspaces and logs, then
 * checks what comes back (a researcher is untrusted) and journals it as a candidate: `proposed` (or
 * `awaiting-approval` under `--approval each`), or `failed` at once when the change does not apply.
 * Is not: deciding when to propose (planner.ts) or running the candidate (loop.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentRow, Journal, RunRow } from '../journal/journal.js';
import type { ExperimentSummary, Proposal, WorkspaceAccess } from '../researcher/types.js';
import { ChangeError } from '../task/errors.js';
import type { ExperimentId } from '../task/ids.js';
import type { Task } from '../task/loader.js';
import { type Lineage, materialiseWorkspace } from '../task/workspace.js';
import { checkProposal } from './proposal-check.js';
import { incumbentOf, lineageOf } from './lineage.js';
import type { LabContext } from './context.js';
import type { RunOptions } from './options.js';
import type { PriorKnowledge } from './prior.js';

export interface ProposalContext {
  elapsedSeconds: number;
  budgetLeftSeconds: number | null;
  signal: AbortSignal;
  /** The lineage an experiment runs (the loop caches these: they never change). */
  lineage(experiment: ExperimentRow): Lineage;
  /** What earlier runs on this task version know (null with --fresh, or before the baseline is measured). */
  prior: PriorKnowledge | null;
}

/** `proposed`: a candidate was journaled (perhaps failed at once); `exhausted`: the researcher has nothing left. */
export async function proposeCandidate(
  context: LabContext, run: RunRow, options: RunOptions, experiments: readonly ExperimentRow[], clock: ProposalContext,
): Promise<'proposed' | 'exhausted' | 'aborted'> {
  const { journal, task, researcher, stateDir } = context;
  const incumbent = incumbentOf(experiments);
  const seeded = seedFromPrior(clock.prior, incumbent, experiments, clock.lineage);
  if (seeded) {
    journalCandidate(context, run, options, incumbent, seeded, clock.lineage, []);
    return 'proposed';
  }
  const summarise = (experiment: ExperimentRow): ExperimentSummary => ({
    id: experiment.id,
    parentId: experiment.parentId,
    role: experiment.role,
    description: experiment.description,
    change: experiment.change,
    assignment: clock.lineage(experiment).assignment,
    outcome: experiment.state === 'finished' ? experiment.outcome : null,
    accepted: experiment.accepted,
  });
  const candidates = experiments.filter((experiment) => experiment.role === 'candidate').length;
  const transcript: number[] = [];
  const asked = researcher.propose({
    task: { name: task.file.name, instructions: task.instructions, metric: task.file.metric, space: task.file.space },
    history: experiments.map(summarise),
    incumbent: summarise(incumbent),
    budget: {
      fractionUsed: options.budgetSeconds ? Math.min(1, clock.elapsedSeconds / options.budgetSeconds) : 0,
      experimentsLeft: options.maxExperiments === null ? null : options.maxExperiments - candidates,
      secondsLeft: clock.budgetLeftSeconds,
    },
    seed: options.seed,
    signal: clock.signal,
    prior: clock.prior?.history ?? [],
    workspace: workspaceAccess(journal, task, stateDir),
    record: (type, payload) => {
      const id = journal.appendEvent(run.id, type, payload).id;
      transcript.push(id);
      return id;
    },
  });
  // A researcher stopped mid-proposal may reject with the signal's reason: that is the stop, not a failure.
  const proposal = await asked.catch((error: unknown) => {
    if (clock.signal.aborted) return null;
    throw error;
  });
  if (clock.signal.aborted) return 'aborted';
  if (!proposal) return 'exhausted';
  const parent = journal.getExperiment(proposal.parentId as ExperimentId) ?? incumbent;
  journalCandidate(context, run, options, parent, proposal, clock.lineage, transcript);
  return 'proposed';
}

/**
 * The best configuration an earlier run on this task version reached, as this run's first candidate: only in a run
 * that starts from the task's own workspace (generation 0), only once, and only while the baseline is the incumbent.
 */
function seedFromPrior(
  prior: PriorKnowledge | null, incumbent: ExperimentRow, experiments: readonly ExperimentRow[], lineage: (experiment: ExperimentRow) => Lineage,
): (Proposal & { seededFrom: string }) | null {
  const best = prior?.best;
  if (!best || incumbent.role !== 'baseline' || incumbent.parentId !== null) return null;
  if (experiments.some((experiment) => experiment.metadata.seededFrom !== undefined || experiment.role === 'candidate')) return null;
  const base = lineage(incumbent);
  const knobs = Object.fromEntries(Object.entries(best.lineage.assignment).filter(([name, value]) => base.assignment[name] !== value));
  if (Object.keys(knobs).length === 0 && best.lineage.edits.length === 0) return null;
  return { parentId: incumbent.id, change: { knobs, edits: best.lineage.edits }, description: `best known configuration (run ${best.runId}, ${best.gain.toFixed(2)}x there): ${best.description}`, seededFrom: best.runId };
}

/** Checks a proposal (a researcher is untrusted) and journals it: proposed, awaiting approval, or failed at once. */
function journalCandidate(
  context: LabContext, run: RunRow, options: RunOptions, parent: ExperimentRow, proposal: Proposal & { seededFrom?: string },
  lineage: (experiment: ExperimentRow) => Lineage, transcript: number[],
): void {
  const { journal, task, stateDir } = context;
  const { diff, outcome } = checkProposal(task, lineage(parent), proposal.change, join(stateDir, 'scratch'));
  journal.createExperiment({
    runId: run.id,
    parentId: parent.id,
    role: 'candidate',
    description: proposal.description,
    change: proposal.change,
    diff,
    state: outcome ? 'finished' : options.approval === 'each' ? 'awaiting-approval' : 'proposed',
    outcome,
    fidelity: 1,
    accepted: false,
    logPath: null,
    artifactsPath: null,
    metadata: { ...(transcript.length > 0 ? { transcript } : {}), ...(proposal.seededFrom ? { seededFrom: proposal.seededFrom } : {}) },
  });
}

/** Researchers that read code get private copies of workspaces (under scratch/) and the captured logs. */
function workspaceAccess(journal: Journal, task: Task, stateDir: string): WorkspaceAccess {
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
