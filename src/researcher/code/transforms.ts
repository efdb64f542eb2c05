/**
 * A library of typed code transformations, in the spirit of genetic improvement of software: each finds the sites
 * it applies to in a source file and turns each into a move, a real search/replace edit of the file (plus, when the
 * site only runs under a knob's value, that knob set so the edit is live). The offline `search` researcher searches
 * over them; the lab, the harness and the task's scorer decide whether a move is correct and whether it gains.
 *  - loop-order: permute a rectangular, perfect nest of counting loops whose body accumulates into an array element
 *    (c[i * n + j] += ...): the same sums in another order, e.g. i-k-j that streams rows instead of columns; each
 *    order also comes with the array reads that no longer depend on the innermost loop hoisted out of it (as a
 *    compiler's scalar replacement would; it assumes arrays of different names do not alias: the scorer checks);
 *  - unroll: unroll an innermost counting loop by 2 or 4 (with a remainder loop), iterations kept in order;
 *  - constant: double or halve a module constant in UPPER_CASE (tile sizes, unroll factors, thresholds);
 *  - flag: flip a module boolean in UPPER_CASE (a pass that a flag already turns on, fuses or skips).
 * Is not: proof of correctness (only equal-order rewrites are exact; the scorer checks every result).
 */
import type { FileEdit } from '../../task/change.js';
import type { KnobValue, Space } from '../../task/space.js';
import { type ForLoop, codeMask, forLoops, guardedBlocks, mentions, statementsOf } from './source-scan.js';

export type TransformName = 'loop-order' | 'unroll' | 'constant' | 'flag';

export interface CodeMove {
  transform: TransformName;
  path: string;
  /** A few words for the journal: "loop-order i,k,j in matmul.mjs:5". */
  description: string;
  edit: FileEdit;
  /** Knobs that must take these values for the edited code to run (the value of the `if` it sits in). */
  knobs: Record<string, KnobValue>;
  /** How much the search should favour it (loop order changes the most, flags the least). */
  weight: number;
}

const lineOf = (source: string, index: number): number => source.slice(0, index).split('\n').length;

/** The single statement a loop's body holds (through braces), or null. */
function onlyStatement(loop: ForLoop): string | null {
  const statements = statementsOf(loop.body);
  return statements && statements.length === 1 ? statements[0] : null;
}

/** The nest of loops perfectly nested in `outer` (outer first), with its innermost statement. */
function perfectNest(outer: ForLoop, loops: readonly ForLoop[]): { nest: ForLoop[]; statement: string } | null {
  const nest = [outer];
  for (;;) {
    const last = nest[nest.length - 1];
    const statement = onlyStatement(last);
    if (statement === null) return null;
    const offset = last.body.indexOf(statement);
    const inner = loops.find((loop) => loop.start === last.bodyStart + offset);
    if (!inner) return nest.length >= 2 ? { nest, statement } : null;
    nest.push(inner);
  }
}

const ACCUMULATE = /^([A-Za-z_$][\w$]*)\s*\[[^;]*\]\s*([+\-])=\s*([^;]+);$/;

/**
 * The statement with every array read whose index does not involve `variable` (and whose array it does not write)
 * replaced by a constant declared before the loop: `const aik = a[i * n + k]`-style scalar replacement.
 */
export function hoistInvariantReads(statement: string, variable: string): { declarations: string[]; statement: string } | null {
  const written = ACCUMULATE.exec(statement.trim())?.[1];
  const reads = new Map<string, string>();
  const pattern = /([A-Za-z_$][\w$]*)\s*\[([^\[\]]*)\]/g;
  for (const match of statement.matchAll(pattern)) {
    const [whole, name, index] = match;
    if (name === written || mentions(index, variable) || reads.has(whole)) continue;
    reads.set(whole, `hoisted${reads.size}`);
  }
  if (reads.size === 0) return null;
  let rewritten = statement;
  const declarations: string[] = [];
  for (const [read, name] of reads) {
    // Only reads on the right-hand side: the written element keeps its form.
    const [left, right] = splitAssignment(rewritten);
    rewritten = `${left}${right.split(read).join(name)}`;
    declarations.push(`const ${name} = ${read};`);
  }
  return { declarations, statement: rewritten };
}

/**
 * A simple locality model of an innermost loop over `variable`: each array reference scores +2 when its index does
 * not involve the variable (a register, once hoisted), +1 when the variable is a bare term of the index (unit
 * stride), -2 when it is multiplied (a stride of a whole row). Loop orders that stream memory score higher.
 */
export function strideScore(statement: string, variable: string): number {
  let score = 0;
  for (const [, , index] of statement.matchAll(/([A-Za-z_$][\w$]*)\s*\[([^\[\]]*)\]/g)) {
    if (!mentions(index, variable)) score += 2;
    else if (index.split('+').some((term) => term.trim() === variable)) score += 1;
    else score -= 2;
  }
  return score;
}

function splitAssignment(statement: string): [string, string] {
  const at = statement.search(/[+\-*/]?=(?!=)/);
  return at < 0 ? ['', statement] : [statement.slice(0, at + 2), statement.slice(at + 2)];
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) => permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]));
}

function loopOrderMoves(path: string, source: string): Omit<CodeMove, 'knobs'>[] {
  const mask = codeMask(source);
  const loops = forLoops(source, mask);
  const moves: Omit<CodeMove, 'knobs'>[] = [];
  const inner = new Set<number>();
  for (const loop of loops) {
    if (inner.has(loop.start)) continue;
    const found = perfectNest(loop, loops);
    if (!found || found.nest.length > 3) continue;
    found.nest.slice(1).forEach((nested) => inner.add(nested.start));
    const { nest, statement } = found;
    const variables = nest.map((nested) => nested.variable);
    // Rectangular: no loop's start or bound depends on another loop of the nest; the body only accumulates.
    if (nest.some((nested) => variables.some((variable) => mentions(nested.init, variable) || mentions(nested.bound, variable)))) continue;
    const accumulation = ACCUMULATE.exec(statement.trim());
    if (!accumulation || variables.some((variable) => new RegExp(`(?<![\\w$])${variable}\\s*(=(?!=)|\\+\\+|--|[+\\-*/]=)`).test(statement))) continue;
    const original = source.slice(loop.start, loop.end);
    const headers = (order: ForLoop[]) => order.map((nested) => `for (${nested.header.trim()})`);
    // Orders that stream memory in the innermost loop are tried first (weight doubles per point of stride score).
    const weightOf = (order: ForLoop[], bonus: number) => Math.min(256, 2 ** Math.max(-4, (strideScore(statement, order[order.length - 1].variable) - strideScore(statement, variables[variables.length - 1])) / 2 + bonus));
    for (const order of permutations(nest)) {
      const orderText = `${order.map((nested) => nested.variable).join(',')} (was ${variables.join(',')}) in ${path}:${lineOf(source, loop.start)}`;
      if (order.some((nested, index) => nested !== nest[index])) {
        moves.push({ transform: 'loop-order', path, weight: weightOf(order, 0), description: `loop-order ${orderText}`, edit: { kind: 'replace', path, search: original, replace: `${headers(order).join(' ')} ${statement.trim()}` } });
      }
      const hoisted = hoistInvariantReads(statement.trim(), order[order.length - 1].variable);
      if (hoisted) {
        const outer = headers(order.slice(0, -1)).join(' ');
        const replace = `${outer} { ${hoisted.declarations.join(' ')} ${headers(order.slice(-1))[0]} ${hoisted.statement} }`;
        moves.push({ transform: 'loop-order', path, weight: weightOf(order, 1), description: `loop-order ${orderText}, invariant reads hoisted`, edit: { kind: 'replace', path, search: original, replace } });
      }
    }
  }
  return moves;
}

function unrollMoves(path: string, source: string): Omit<CodeMove, 'knobs'>[] {
  const mask = codeMask(source);
  const loops = forLoops(source, mask);
  const moves: Omit<CodeMove, 'knobs'>[] = [];
  for (const loop of loops) {
    const statement = onlyStatement(loop);
    if (statement === null || /^\s*(for|while|if|do)\b/.test(statement) || /\b(break|continue|return)\b/.test(statement)) continue;
    const { variable, bound } = loop;
    if (new RegExp(`(?<![\\w$])${variable}\\s*(=(?!=)|\\+\\+|--|[+\\-*/]=)|\\.${variable}\\b`).test(statement)) continue;
    // The bound must not change in the body: none of its names is assigned there.
    const boundNames = bound.match(/[A-Za-z_$][\w$]*/g) ?? [];
    if (boundNames.some((name) => new RegExp(`(?<![\\w$.])${name}\\s*(=(?!=)|\\+\\+|--|[+\\-*/]=)`).test(statement))) continue;
    const original = source.slice(loop.start, loop.end);
    const at = (offset: number) => statement.trim().replace(new RegExp(`(?<![\\w$.])${variable}(?![\\w$])`, 'g'), offset === 0 ? variable : `(${variable} + ${offset})`);
    for (const factor of [2, 4]) {
      const body = Array.from({ length: factor }, (_, offset) => at(offset)).join(' ');
      const replace = `{ let ${variable} = ${loop.init}; for (; ${variable} + ${factor - 1} ${loop.comparison} ${bound}; ${variable} += ${factor}) { ${body} } for (; ${variable} ${loop.comparison} ${bound}; ${variable}++) ${statement.trim()} }`;
      moves.push({
        transform: 'unroll', path, weight: 1.5, description: `unroll x${factor} the ${variable} loop in ${path}:${lineOf(source, loop.start)}`,
        edit: { kind: 'replace', path, search: original, replace },
      });
    }
  }
  return moves;
}

const CONSTANT = /^([ \t]*(?:export\s+)?const\s+([A-Z][A-Z0-9_]*)\s*(?::\s*number\s*)?=\s*)(\d+|true|false)(\s*;)/gm;

function constantMoves(path: string, source: string): Omit<CodeMove, 'knobs'>[] {
  const mask = codeMask(source);
  const moves: Omit<CodeMove, 'knobs'>[] = [];
  for (const match of source.matchAll(CONSTANT)) {
    const [line, prefix, name, value, suffix] = match;
    if (!mask[(match.index ?? 0) + line.indexOf('const')]) continue;
    const edit = (next: string): FileEdit => ({ kind: 'replace', path, search: line, replace: `${prefix}${next}${suffix}` });
    if (value === 'true' || value === 'false') {
      const flipped = value === 'true' ? 'false' : 'true';
      moves.push({ transform: 'flag', path, weight: 1, description: `flag ${name} ${value} -> ${flipped} in ${path}`, edit: edit(flipped) });
      continue;
    }
    const number = Number(value);
    if (number < 2) continue;
    for (const next of [number * 2, Math.floor(number / 2)]) {
      if (next >= 1 && next !== number) moves.push({ transform: 'constant', path, weight: 1, description: `constant ${name} ${number} -> ${next} in ${path}`, edit: edit(String(next)) });
    }
  }
  return moves;
}

/**
 * The knob values a site needs to run: for each `if (x === 'v')` block around it whose subject names a categorical
 * knob (`order`, `config.order`) with `v` among its choices, that knob set to `v`.
 */
function activation(source: string, index: number, space: Space): Record<string, KnobValue> | null {
  const knobs: Record<string, KnobValue> = {};
  for (const block of guardedBlocks(source)) {
    if (index < block.start || index >= block.end) continue;
    const subject = block.subject.split('.').at(-1) ?? block.subject;
    const knob = Object.entries(space).find(([name, entry]) => entry.type === 'categorical' && (name === subject || (entry.key ?? '').split('.').at(-1) === subject));
    if (!knob) continue;
    const [name, entry] = knob;
    if (entry.type !== 'categorical') continue;
    const value = entry.choices.find((choice) => String(choice) === block.value);
    if (value === undefined) return null; // guarded by a value the knob can never take: dead code
    knobs[name] = value;
  }
  return knobs;
}

/** Every move the library finds in one file, each with the knob values it needs to be live; unique edits only. */
export function findMoves(path: string, source: string, space: Space): CodeMove[] {
  const found = [...loopOrderMoves(path, source), ...unrollMoves(path, source), ...constantMoves(path, source)];
  const moves: CodeMove[] = [];
  for (const move of found) {
    if (move.edit.kind !== 'replace') continue;
    const first = source.indexOf(move.edit.search);
    if (first < 0 || source.indexOf(move.edit.search, first + 1) >= 0) continue;
    const knobs = activation(source, first, space);
    if (knobs) moves.push({ ...move, knobs });
  }
  return moves;
}

/** Files the library reads: JavaScript and TypeScript sources. */
export const isSourceFile = (path: string): boolean => /\.(m?js|cjs|m?ts)$/.test(path) && !path.endsWith('.d.ts');
