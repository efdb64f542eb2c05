/**
 * A small scanner for JavaScript and TypeScript source: which characters are code (not strings, template text,
 * comments or regular expressions), matching brackets, and the `for` loops, `if` blocks and declarations the code
 * transformations work on. Enough for the simple, hand-written kernels of the lab's workspaces; a file it cannot
 * read (unbalanced brackets, say) yields nothing rather than a wrong edit.
 * Is not: a parser (no AST); every edit it helps make is checked again by the lab, the harness and the scorer.
 */

/** For each character of `source`: true when it is code. */
export function codeMask(source: string): boolean[] {
  const mask = new Array<boolean>(source.length).fill(false);
  const templateDepth: number[] = []; // brace depth at which each open template's `${` began
  let braceDepth = 0;
  let index = 0;
  let lastSignificant = '';
  const regexMayStart = () => lastSignificant === '' || '(,=:[!&|?{};+-*%<>~^'.includes(lastSignificant);
  while (index < source.length) {
    const char = source[index];
    const next = source[index + 1];
    if (char === '/' && next === '/') {
      while (index < source.length && source[index] !== '\n') index++;
      continue;
    }
    if (char === '/' && next === '*') {
      const end = source.indexOf('*/', index + 2);
      index = end < 0 ? source.length : end + 2;
      continue;
    }
    if (char === '"' || char === "'") {
      index = skipQuoted(source, index, char);
      lastSignificant = char;
      continue;
    }
    if (char === '`' || (char === '}' && templateDepth.length > 0 && templateDepth.at(-1) === braceDepth)) {
      if (char === '}') templateDepth.pop();
      // Template text up to its end or the next `${`.
      index++;
      while (index < source.length && source[index] !== '`' && !(source[index] === '$' && source[index + 1] === '{')) index += source[index] === '\\' ? 2 : 1;
      if (source[index] === '$') {
        templateDepth.push(braceDepth);
        index += 2;
        lastSignificant = '{';
      } else {
        index++;
        lastSignificant = '`';
      }
      continue;
    }
    if (char === '/' && regexMayStart()) {
      index = skipRegex(source, index);
      lastSignificant = '/';
      continue;
    }
    mask[index] = true;
    if (char === '{') braceDepth++;
    if (char === '}') braceDepth--;
    if (!/\s/.test(char)) lastSignificant = /[\w$]/.test(char) ? 'a' : char;
    index++;
  }
  return mask;
}

function skipQuoted(source: string, start: number, quote: string): number {
  let index = start + 1;
  while (index < source.length && source[index] !== quote && source[index] !== '\n') index += source[index] === '\\' ? 2 : 1;
  return index + 1;
}

function skipRegex(source: string, start: number): number {
  let index = start + 1;
  let inClass = false;
  while (index < source.length && source[index] !== '\n') {
    const char = source[index];
    if (char === '\\') index += 2;
    else {
      if (char === '[') inClass = true;
      else if (char === ']') inClass = false;
      else if (char === '/' && !inClass) break;
      index++;
    }
  }
  index++;
  while (/[a-z]/i.test(source[index] ?? '')) index++;
  return index;
}

const PAIRS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** The index of the bracket closing the one at `open`, or -1. */
export function matchingBracket(source: string, mask: readonly boolean[], open: number): number {
  const stack: string[] = [];
  for (let index = open; index < source.length; index++) {
    if (!mask[index]) continue;
    const char = source[index];
    if (PAIRS[char]) stack.push(PAIRS[char]);
    else if (char === ')' || char === ']' || char === '}') {
      if (stack.pop() !== char) return -1;
      if (stack.length === 0) return index;
    }
  }
  return -1;
}

const skipSpace = (source: string, mask: readonly boolean[], index: number): number => {
  while (index < source.length && (/\s/.test(source[index]) || !mask[index])) index++;
  return index;
};

export interface ForLoop {
  /** Where `for` starts and where the whole statement (header and body) ends (exclusive). */
  start: number;
  end: number;
  header: string;
  variable: string;
  init: string;
  comparison: '<' | '<=';
  bound: string;
  /** The body as written (a block with its braces, or one statement) and where it starts. */
  body: string;
  bodyStart: number;
  braced: boolean;
}

/** The end (exclusive) of the statement starting at `start`: a block, a `for`/`if`/`while` with its body, or up to `;`. */
export function statementEnd(source: string, mask: readonly boolean[], start: number): number {
  const at = skipSpace(source, mask, start);
  if (source[at] === '{') {
    const close = matchingBracket(source, mask, at);
    return close < 0 ? -1 : close + 1;
  }
  const keyword = /^(for|while|if)\s*\(/.exec(source.slice(at, at + 8));
  if (keyword) {
    const open = source.indexOf('(', at);
    const close = matchingBracket(source, mask, open);
    if (close < 0) return -1;
    const end = statementEnd(source, mask, close + 1);
    if (end < 0 || keyword[1] !== 'if') return end;
    const after = skipSpace(source, mask, end);
    return source.startsWith('else', after) && !/[\w$]/.test(source[after + 4] ?? '') ? statementEnd(source, mask, after + 4) : end;
  }
  const depth: string[] = [];
  for (let index = at; index < source.length; index++) {
    if (!mask[index]) continue;
    const char = source[index];
    if (PAIRS[char]) depth.push(PAIRS[char]);
    else if (char === ')' || char === ']' || char === '}') {
      if (depth.pop() !== char) return -1;
    } else if (char === ';' && depth.length === 0) return index + 1;
  }
  return -1;
}

const HEADER = /^\s*(?:let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*([^;]+?)\s*;\s*\1\s*(<=|<)\s*([^;]+?)\s*;\s*(?:\1\s*\+\+|\+\+\s*\1|\1\s*\+=\s*1)\s*$/;

/** Every counting `for` loop of the source: `for (let v = A; v < B; v++) BODY` (also `<=`, `++v`, `v += 1`). */
export function forLoops(source: string, mask: readonly boolean[] = codeMask(source)): ForLoop[] {
  const loops: ForLoop[] = [];
  const pattern = /\bfor\s*\(/g;
  for (let match = pattern.exec(source); match; match = pattern.exec(source)) {
    if (!mask[match.index]) continue;
    const open = match.index + match[0].length - 1;
    const close = matchingBracket(source, mask, open);
    if (close < 0) continue;
    const header = source.slice(open + 1, close);
    const parsed = HEADER.exec(header);
    if (!parsed) continue;
    const bodyStart = skipSpace(source, mask, close + 1);
    const end = statementEnd(source, mask, bodyStart);
    if (end < 0) continue;
    loops.push({
      start: match.index, end, header, variable: parsed[1], init: parsed[2], comparison: parsed[3] as '<' | '<=', bound: parsed[4],
      body: source.slice(bodyStart, end), bodyStart, braced: source[bodyStart] === '{',
    });
  }
  return loops;
}

/** The statements directly inside a block's braces (or the one statement that is the body), as text. */
export function statementsOf(body: string): string[] | null {
  const mask = codeMask(body);
  const inner = body.trimStart().startsWith('{') ? { from: body.indexOf('{') + 1, to: matchingBracket(body, mask, body.indexOf('{')) } : { from: 0, to: body.length };
  if (inner.to < 0) return null;
  const statements: string[] = [];
  for (let at = skipSpace(body, mask, inner.from); at < inner.to; at = skipSpace(body, mask, at)) {
    const end = statementEnd(body, mask, at);
    if (end < 0 || end > (body.trimStart().startsWith('{') ? inner.to : body.length)) return null;
    statements.push(body.slice(at, end));
    at = end;
  }
  return statements;
}

/** Whether `name` occurs in `text` as a whole identifier (not a property after a dot). */
export const mentions = (text: string, name: string): boolean => new RegExp(`(?<![\\w$.])${name.replace(/\$/g, '\\$')}(?![\\w$])`).test(text);

export interface GuardedBlock { start: number; end: number; subject: string; value: string }

/** `if (NAME === 'value') { ... }` blocks (either side, `==` too): what a code change inside them depends on. */
export function guardedBlocks(source: string, mask: readonly boolean[] = codeMask(source)): GuardedBlock[] {
  const blocks: GuardedBlock[] = [];
  const pattern = /\bif\s*\(/g;
  for (let match = pattern.exec(source); match; match = pattern.exec(source)) {
    if (!mask[match.index]) continue;
    const open = match.index + match[0].length - 1;
    const close = matchingBracket(source, mask, open);
    if (close < 0) continue;
    const condition = source.slice(open + 1, close).trim();
    const parsed = /^([\w$.]+)\s*===?\s*(['"])([^'"]*)\2$/.exec(condition) ?? /^(['"])([^'"]*)\1\s*===?\s*([\w$.]+)$/.exec(condition);
    if (!parsed) continue;
    const [subject, value] = parsed[2] === "'" || parsed[2] === '"' ? [parsed[1], parsed[3]] : [parsed[3], parsed[2]];
    const end = statementEnd(source, mask, close + 1);
    if (end > 0) blocks.push({ start: close + 1, end, subject, value });
  }
  return blocks;
}
