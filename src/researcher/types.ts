/**
 * The Researcher contract: given the task and everything tried so far, propose the next experiment.
 *
 * Is: the interface every researcher implements (`search`, `replay`, later `llm` and external agents) and the
 * typed errors they share. Is not: the loop that calls it (src/lab owns proposing, running, gating and recording),
 * nor validation of proposals — the lab parses and checks every proposal, since a researcher is untrusted.
 *
 * What the loop guarantees a researcher: scores are comparable only among `ok`/`suspect` outcomes; a `timeout`
 * means "slower than the incumbent" (the loop caps a candidate's wall time near the incumbent's), a `failed` may be
 * "missed the target" or "crashed" (see `outcome.reason`) — both are information, not noise. A claimed win is
 * re-run and accepted only through the gate; `accepted` marks the experiments that became the incumbent.
 */
import type { Change } from '../task/change.js';
import { BadInputError } from '../task/errors.js';
import type { ExperimentId } from '../task/ids.js';
import type { Outcome } from '../task/outcome.js';
import type { Assignment, Space } from '../task/space.js';

export type ExperimentRole = 'baseline' | 'candidate' | 'repeat' | 'verify';

export interface ExperimentSummary {
  id: ExperimentId;
  parentId: ExperimentId | null;
  role: ExperimentRole;
  description: string;
  change: Change;
  /** The full knob values this experiment ran with (the parent's plus the change). */
  assignment: Assignment;
  /** Null while pending or running. */
  outcome: Outcome | null;
  accepted: boolean;
  /** The gate's evidence when this experiment was a claim: its verdict and numbers. Absent otherwise. */
  evidence?: GateEvidence;
  /** Where the proposal came from (which model, which strategy, which parents); absent for the lab's own rows. */
  origin?: ProposalOrigin;
}

/** What the gate found for one claim (src/journal/metadata.ts's GateRecord, as a researcher sees it). */
export interface GateEvidence {
  accepted: boolean;
  detail: string;
  pValue?: number;
  /** The claim's score over the incumbent's (a ratio of means), with its 95% interval. */
  ratio?: number;
  ratioCi95?: [number, number];
  /** The claim's share of the run's alpha, and the pairs it took. */
  level?: number;
  pairs?: number;
}

/** Facts about a proposal its researcher states, journaled with the candidate (metadata.origin). */
export interface ProposalOrigin {
  /** The model that wrote it (`provider:model`), for researchers that use several. */
  model?: string;
  /** How its parent was chosen: `improve`, `debug`, `draft`, `diverse`, `recent`, `crossover`, `code`, ... */
  strategy?: string;
  /** The experiments it was built from (two for a crossover). */
  parents?: string[];
  /** A token that lets the proposer find its journaled candidate (the MCP server's submissions). */
  token?: string;
}

export interface MetricSpec { name: string; direction: 'minimize' | 'maximize'; unit?: string }

export interface ResearchContext {
  task: { name: string; instructions: string; metric: MetricSpec; space: Space };
  /** All experiments so far, in order, including pending ones (outcome null). */
  history: readonly ExperimentSummary[];
  /** The current accepted best (the baseline at first). */
  incumbent: ExperimentSummary;
  budget: { fractionUsed: number; experimentsLeft: number | null; secondsLeft: number | null };
  /** The run's seed: a researcher must be deterministic given its options, this seed and the history. */
  seed: number;
  signal: AbortSignal;
  /** Read access to experiments' files and logs, for researchers that read code (llm, mcp); absent in unit tests. */
  workspace?: WorkspaceAccess;
  /**
   * What earlier runs on this task version observed, their scores put in this run's units (the lab's prior; empty
   * with `--fresh`). Not part of `history`: these were measured elsewhere and are never compared with this run's.
   */
  prior?: readonly ExperimentSummary[];
  /** Journals a researcher's own record (a model call's transcript); returns the event's id. */
  record?: (type: string, payload: Record<string, unknown>) => number;
  /** What earlier episodes, runs and generations on this task wrote down (bounded), and a pen for this one. */
  notebook?: Notebook;
  /**
   * A short, budgeted trial of a change in the sandbox before proposing it: a type check, a run capped at a few
   * seconds, or a per-kernel profile. Journaled, counted against the run's budget, never evidence for the gate.
   */
  probe?: (request: ProbeRequest) => Promise<ProbeResult>;
  /** Why the lab would refuse this proposal without running it (it repeats one already tried), or null. */
  checkProposal?: (proposal: Proposal) => string | null;
}

export interface NotebookEntry {
  id: number;
  at: string;
  runId: string;
  /** Who wrote it: a researcher's name, a model, or a person. */
  author: string;
  text: string;
  experimentId?: string;
}

/** The task's research notebook as one proposal sees it: the latest entries (bounded) and a way to add one. */
export interface Notebook {
  readonly entries: readonly NotebookEntry[];
  /** Adds an entry (cut to a bounded length); returns it. */
  write(text: string, experimentId?: ExperimentId): NotebookEntry;
}

/** `check`: the staged workspace type-checks (or parses); `run`: the task's command, capped; `profile`: a run with a per-kernel timer. */
export type ProbeKind = 'check' | 'run' | 'profile';
export const PROBE_KINDS: readonly ProbeKind[] = ['check', 'run', 'profile'];

export interface ProbeRequest {
  kind: ProbeKind;
  parentId: ExperimentId;
  change: Change;
  /** Wall-clock seconds the trial may take (the lab caps it further). */
  seconds?: number;
}

export interface ProbeResult {
  kind: ProbeKind;
  /** `refused`: not run (no probes left, or the change does not apply); otherwise the run's outcome status. */
  status: Outcome['status'] | 'refused';
  /** One line: what happened. */
  summary: string;
  wallSeconds: number | null;
  /** The ends of the trial's output. */
  stdout: string;
  stderr: string;
  /** For `profile`: the per-kernel time table, when the workspace has a kernel backend to time. */
  profile: string | null;
  /** Probes this proposal may still make. */
  probesLeft: number;
}

/** What the lab lets a researcher see of experiments beyond their summaries. Read-only: edits go in a Proposal. */
export interface WorkspaceAccess {
  /** The task's editable globs and its config file (whose knob keys the harness writes over edits). */
  editable: readonly string[];
  configFile: string | null;
  /** A private copy of the experiment's workspace (task files + lineage + knobs); throws ChangeError if it does not apply. */
  materialise(experimentId: ExperimentId): string;
  /** The run's captured output, or null when the experiment has no logs (never ran, or pending). */
  readLog(experimentId: ExperimentId, stream: 'stdout' | 'stderr'): string | null;
  /** The experiment's diff against its parent (any run of this task), or null when the journal has none. */
  readDiff(experimentId: ExperimentId): string | null;
}

export interface Proposal {
  parentId: ExperimentId;
  change: Change;
  /** A few words: "lr 1e-3→3e-3, batch 32→16". */
  description: string;
  origin?: ProposalOrigin;
}

export interface Researcher {
  readonly name: string;
  /** The next experiment to run, or null when there is nothing left to try. */
  propose(context: ResearchContext): Promise<Proposal | null>;
}

/** `createBuiltinResearcher` was given a name it does not know. Not retryable: a usage error. */
export class UnknownResearcherError extends BadInputError {
  override name = 'UnknownResearcherError';
  constructor(readonly requested: string, readonly known: readonly string[]) {
    super(`unknown researcher "${requested}"; known: ${known.join(', ')}`);
  }
}

/** A replay file that cannot be read or does not parse. Not retryable: the file must be fixed. */
export class ReplayFileError extends BadInputError {
  override name = 'ReplayFileError';
  constructor(readonly path: string, detail: string) {
    super(`replay file ${path}: ${detail}`);
  }
}
