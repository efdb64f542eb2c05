/**
 * The `replay` researcher: proposes a recorded list of changes, one per candidate, in order, against the current
 * incumbent (or, where a recorded proposal says `"parent": "previous"`, against the candidate proposed just before
 * it, as a researcher chaining its own changes would); null once the list is exhausted. For tests, for re-running a session's proposals on another
 * machine, and for the red-team suite (recorded hostile patches).
 *
 * The position in the list is the number of `candidate` experiments in the history, so replay is stateless and
 * resumes where it left off. Recorded changes are passed through as they are — knob names and values outside the
 * space included: the lab, not the researcher, decides what is acceptable.
 * Is not: a recorder (the journal holds what was proposed).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { Change, isEmptyChange } from '../task/change.js';
import { describeKnobChange } from './space-geometry.js';
import { ReplayFileError } from './types.js';
import type { Proposal, ResearchContext, Researcher } from './types.js';

export const RecordedProposal = z
  .object({ change: Change, description: z.string().min(1).optional(), parent: z.enum(['incumbent', 'previous']).optional() })
  .strict()
  .refine((proposal) => !isEmptyChange(proposal.change), { message: 'a recorded change must set a knob or edit a file' });
export type RecordedProposal = z.infer<typeof RecordedProposal>;
export const ReplayRecording = z.array(RecordedProposal);

/** Reads and parses a replay file (a JSON array of {change, description?}); throws ReplayFileError. */
export function loadReplayFile(path: string): RecordedProposal[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ReplayFileError(path, (error as Error).message);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ReplayFileError(path, `not JSON: ${(error as Error).message}`);
  }
  const parsed = ReplayRecording.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ReplayFileError(path, `${issue.path.join('.') || 'top level'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Describes the edits of a change when the recording gave no description: "edit train.ts, write notes.md". */
function describeEdits(change: Change): string {
  return change.edits.map((edit) => `${edit.kind === 'replace' ? 'edit' : edit.kind} ${edit.path}`).join(', ');
}

export class ReplayResearcher implements Researcher {
  readonly name = 'replay';
  private readonly recording: readonly RecordedProposal[];

  constructor(recording: readonly RecordedProposal[]) {
    this.recording = ReplayRecording.parse(recording);
  }

  async propose(context: ResearchContext): Promise<Proposal | null> {
    context.signal.throwIfAborted();
    const position = context.history.filter((experiment) => experiment.role === 'candidate').length;
    const recorded = this.recording[position];
    if (!recorded) return null;
    const description = recorded.description
      ?? [describeKnobChange(context.task.space, context.incumbent.assignment, recorded.change.knobs), describeEdits(recorded.change)]
        .filter(Boolean).join('; ');
    const previous = recorded.parent === 'previous' ? context.history.filter((experiment) => experiment.role === 'candidate').at(-1) : undefined;
    return { parentId: previous?.id ?? context.incumbent.id, change: structuredClone(recorded.change), description };
  }
}
