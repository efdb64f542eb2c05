/**
 * One proposal: the lab shows the researcher the task, the history (with the gate's evidence), the task's notebook,
 * read access to workspaces, logs and diffs, and probes; then checks what comes back (a researcher is untrusted) and
 * journals it as a candidate: `proposed` (or `awaiting-approval` under `--approval each`), or `failed` at once when
 * the change does not apply or repeats one already tried (the same workspace, by fingerprint.ts) — so it holds for
 * every researcher, and a repeat never costs a run.
 * Is not: deciding when to propose (planner.ts), running the candidate (loop.ts), or running probes (probes.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentRow, Journal, RunRow } from '../journal/journal.js';
import type { ExperimentSummary, GateEvidence, Proposal, WorkspaceAccess } from '../researcher/types.js';
import { ChangeError } from '../task/errors.js';
import type { ExperimentId } from '../task/ids.js';
import type { Task } from '../task/loader.js';
import { type Outcome, isScored } from '../task/outcome.js';
import { type Lineage, materialiseWorkspace } from '../task/workspace.js';
import { checkProposal } from './proposal-check.js';
import { incumbentOf, lineageOf } from './lineage.js';
import type { LabContext } from './context.js';
import { DEFAULT_NOTEBOOK_LIMITS, appendNote, readNotebook } from './notebook.js';
import type { RunOptions } from './options.js';
import type { PriorKnowledge } from './prior.js';
import { runProbe } from './probes.js';

export interface ProposalContext {
  elapsedSeconds: number;
  budgetLeftSeconds: number | null;
  signal: AbortSignal;
  /** The lineage an experiment runs (the loop caches these: they never change). */
  lineage(experiment: ExperimentRow): Lineage;
  /** What earlier runs on this task version know (null with --fresh, or before the baseline is measured). */
  prior: PriorKnowledge | null;
  /** The fingerprint of the workspace an experiment runs (fingerprint.ts; the loop caches these too). */
  fingerprint(experiment: ExperimentRow): string;
  /** Told of each probe's CPU-seconds, which count against the run's CPU budget. */
  onProbeCpuSeconds(seconds: number): void;
}

/** `proposed`: a candidate was journaled (perhaps failed at once); `exhausted`: the researcher has nothing left. */
export async function proposeCandidate(
  context: LabContext, run: RunRow, options: RunOptions, experiments: readonly ExperimentRow[], clock: ProposalContext,
): Promise<'proposed' | 'exhausted' | 'aborted'> {
  const { journal, task, researcher, stateDir } = context;
  const incumbent = incumbentOf(experiments);
  const seeded = seedFromPrior(clock.prior, incumbent, experiments, clock.lineage);
  if (seeded) {
    journalCandidate(context, run, options, incumbent, seeded, clock, []);
    return 'proposed';
  }
  const summarise = (experiment: ExperimentRow): ExperimentSummary => summaryOf(experiment, clock.lineage(experiment));
  const candidates = experiments.filter((experiment) => experiment.role === 'candidate').length;
  const transcript: number[] = [];
  const probeSession = { run, options, signal: clock.signal, lineage: clock.lineage, used: 0, onCpuSeconds: clock.onProbeCpuSeconds };
  const entries = readNotebook(journal, task.file.name, DEFAULT_NOTEBOOK_LIMITS);
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
    notebook: {
      entries,
      write: (text, experimentId) => appendNote(journal, run, researcher.name, text, experimentId),
    },
    probe: (request) => runProbe(context, probeSession, request),
    checkProposal: (proposal) => refusalOf(context, run, proposal, clock),
  });
  // A researcher stopped mid-proposal may reject with the signal's reason: that is the stop, not a failure.
  const proposal = await asked.catch((error: unknown) => {
    if (clock.signal.aborted) return null;
    throw error;
  });
  if (clock.signal.aborted) return 'aborted';
  if (!proposal) return 'exhausted';
  const parent = journal.getExperiment(proposal.parentId as ExperimentId) ?? incumbent;
  journalCandidate(context, run, options, parent, proposal, clock, transcript);
  return 'proposed';
}

/** An experiment as a researcher sees it: its knob values, its outcome once finished, the gate's evidence, its origin. */
export function summaryOf(experiment: ExperimentRow, lineage: Lineage): ExperimentSummary {
  const gate = experiment.metadata.gate;
  const evidence: GateEvidence | undefined = gate ? {
    accepted: gate.accepted, detail: gate.detail,
    ...(gate.pValue !== undefined ? { pValue: gate.pValue } : {}), ...(gate.ratio !== undefined ? { ratio: gate.ratio } : {}),
    ...(gate.ratioCi95 ? { ratioCi95: gate.ratioCi95 } : {}), ...(gate.level !== undefined ? { level: gate.level } : {}),
    ...(gate.pairs !== undefined ? { pairs: gate.pairs } : {}),
  } : undefined;
  const origin = experiment.metadata.origin;
  return {
    id: experiment.id,
    parentId: experiment.parentId,
    role: experiment.role,
    description: experiment.description,
    change: experiment.change,
    assignment: lineage.assignment,
    outcome: experiment.state === 'finished' ? experiment.outcome : null,
    accepted: experiment.accepted,
    ...(evidence ? { evidence } : {}),
    ...(origin ? { origin: { ...origin } } : {}),
  };
}

/** What the lab knows of a proposal before running it: its diff, its fingerprint, and the experiment it repeats. */
interface Screened { diff: string; fingerprint: string | null; duplicateOf: ExperimentRow | null; invalidReason: string | null }

function screen(context: LabContext, parent: ExperimentRow, proposal: Proposal, experiments: readonly ExperimentRow[], clock: ProposalContext): Screened {
  const { task, stateDir } = context;
  const checked = checkProposal(task, clock.lineage(parent), proposal.change, join(stateDir, 'scratch'));
  if (checked.outcome || !checked.fingerprints) {
    const reason = checked.outcome && !isScored(checked.outcome) ? checked.outcome.reason : 'change did not apply';
    return { diff: checked.diff, fingerprint: null, duplicateOf: null, invalidReason: reason };
  }
  const { parent: before, candidate: after } = checked.fingerprints;
  // Tried: every candidate of the run (pending ones too) and the baseline; the parent itself (an effectively empty change).
  const tried = experiments.filter((experiment) => experiment.role === 'candidate' || experiment.role === 'baseline');
  const duplicateOf = after === before && !tried.includes(parent) ? parent
    : tried.find((experiment) => (experiment.role === 'candidate' ? experiment.metadata.fingerprint : clock.fingerprint(experiment)) === after) ?? null;
  return { diff: checked.diff, fingerprint: after, duplicateOf, invalidReason: null };
}

/** One line about a repeated proposal: which experiment it repeats and how that one ended. */
function duplicateReason(original: ExperimentRow): string {
  const outcome = original.outcome;
  const ended = original.state !== 'finished' || !outcome ? original.state : isScored(outcome) ? `${outcome.status}, score ${Number(outcome.score.toPrecision(5))}` : `${outcome.status}: ${outcome.reason.slice(0, 120)}`;
  return `refused before running: the same workspace as #${original.seq} ${original.id} ("${original.description.slice(0, 80)}", ${ended}${original.accepted ? ', accepted' : ''}); propose something not yet tried`;
}

/** For researchers that ask first: why the lab would refuse this proposal without running it, or null. */
function refusalOf(context: LabContext, run: RunRow, proposal: Proposal, clock: ProposalContext): string | null {
  const parent = context.journal.getExperiment(proposal.parentId);
  if (!parent || parent.runId !== run.id) return `no experiment ${proposal.parentId} in this run`;
  const screened = screen(context, parent, proposal, context.journal.listExperiments(run.id), clock);
  return screened.invalidReason ?? (screened.duplicateOf ? duplicateReason(screened.duplicateOf) : null);
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

/**
 * Checks a proposal (a researcher is untrusted) and journals it: proposed, awaiting approval, or failed at once (the
 * change does not apply, or it repeats an experiment already tried: refused before it costs a run).
 */
function journalCandidate(
  context: LabContext, run: RunRow, options: RunOptions, parent: ExperimentRow, proposal: Proposal & { seededFrom?: string },
  clock: ProposalContext, transcript: number[],
): void {
  const { journal } = context;
  // Rows journaled while the researcher thought (other experiments in flight) count as tried too.
  const { diff, fingerprint, duplicateOf, invalidReason } = screen(context, parent, proposal, journal.listExperiments(run.id), clock);
  const reason = invalidReason ?? (duplicateOf ? duplicateReason(duplicateOf) : null);
  const outcome: Outcome | null = reason ? { status: 'failed', reason, metrics: {} } : null;
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
    metadata: {
      ...(transcript.length > 0 ? { transcript } : {}), ...(proposal.seededFrom ? { seededFrom: proposal.seededFrom } : {}),
      ...(fingerprint ? { fingerprint } : {}), ...(duplicateOf ? { duplicateOf: duplicateOf.id } : {}),
      ...(proposal.origin ? { origin: { ...proposal.origin } } : {}),
    },
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
    readDiff: (id) => {
      const experiment = journal.getExperiment(id);
      // Only experiments of this task: another task's files are none of this researcher's business.
      const run = experiment ? journal.getRun(experiment.runId) : undefined;
      return experiment && run?.task === task.file.name ? experiment.diff : null;
    },
  };
}
