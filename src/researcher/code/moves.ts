/**
 * Code moves for the offline researcher: the transformations (transforms.ts) found in the incumbent's editable
 * source files, as proposals against the incumbent, leaving out every move already tried from that incumbent (the
 * same change in the history). Needs the lab's workspace access; without it (unit tests) there are none.
 * Is not: the policy of when to try code rather than knobs (search.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../../journal/canonical-json.js';
import type { Change } from '../../task/change.js';
import { listFiles, workspaceMatcher } from '../../task/workspace.js';
import type { Random } from '../../stats/random.js';
import type { Proposal, ResearchContext } from '../types.js';
import { type CodeMove, findMoves, isSourceFile } from './transforms.js';

/** More sites than this in one workspace are not searched (a big workspace would drown the budget). */
const MAX_MOVES = 400;
const MAX_FILE_CHARS = 200_000;

/** The change a move makes on top of the incumbent: its edit, and the knob values it needs that differ from the incumbent's. */
export function moveChange(move: CodeMove, incumbent: ResearchContext['incumbent']): Change {
  const knobs = Object.fromEntries(Object.entries(move.knobs).filter(([name, value]) => incumbent.assignment[name] !== value));
  return { knobs, edits: [move.edit] };
}

/** Every move found in the incumbent's editable source files (none without workspace access). */
export function codeMoves(context: ResearchContext): CodeMove[] {
  const access = context.workspace;
  if (!access) return [];
  let dir: string;
  try {
    dir = access.materialise(context.incumbent.id);
  } catch {
    return [];
  }
  const editable = workspaceMatcher([...access.editable]);
  const moves: CodeMove[] = [];
  for (const path of listFiles(dir)) {
    if (!editable(path) || !isSourceFile(path) || path === access.configFile) continue;
    const source = readFileSync(join(dir, path), 'utf8');
    if (source.length > MAX_FILE_CHARS) continue;
    moves.push(...findMoves(path, source, context.task.space));
    if (moves.length >= MAX_MOVES) break;
  }
  return moves.slice(0, MAX_MOVES);
}

/** The moves not yet tried from the incumbent (a candidate of the history with the same parent and change). */
export function untriedMoves(moves: readonly CodeMove[], context: ResearchContext): CodeMove[] {
  const tried = new Set(context.history.filter((experiment) => experiment.parentId === context.incumbent.id && experiment.role === 'candidate').map((experiment) => canonicalJson(experiment.change)));
  return moves.filter((move) => !tried.has(canonicalJson(moveChange(move, context.incumbent))));
}

/** One untried move, drawn in proportion to its transformation's weight. */
export function drawMove(moves: readonly CodeMove[], random: Random): CodeMove | null {
  const total = moves.reduce((sum, move) => sum + move.weight, 0);
  let draw = random.uniform() * total;
  for (const move of moves) {
    draw -= move.weight;
    if (draw < 0) return move;
  }
  return moves.at(-1) ?? null;
}

export function moveProposal(move: CodeMove, context: ResearchContext): Proposal {
  const change = moveChange(move, context.incumbent);
  const knobs = Object.entries(change.knobs).map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  return {
    parentId: context.incumbent.id,
    change,
    description: `code: ${move.description}${knobs.length ? ` (with ${knobs.join(', ')} so it runs)` : ''}`,
    origin: { strategy: `code:${move.transform}`, parents: [context.incumbent.id] },
  };
}
