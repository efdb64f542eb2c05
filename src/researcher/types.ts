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
}

export interface Proposal {
  parentId: ExperimentId;
  change: Change;
  /** A few words: "lr 1e-3→3e-3, batch 32→16". */
  description: string;
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
