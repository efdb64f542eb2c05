/**
 * The code transformations of the offline researcher (src/researcher/code): each move is a real edit, and the
 * edited code computes what the original computed. Checked by running both versions of small kernels written here
 * (an independent reference: the original source) on random inputs, and on kernel-matmul's own workspace file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeMask, forLoops, guardedBlocks, matchingBracket } from '../../src/researcher/code/source-scan.js';
import { findMoves, hoistInvariantReads, strideScore } from '../../src/researcher/code/transforms.js';
import type { FileEdit } from '../../src/task/change.js';
import { loadTask } from '../../src/task/loader.js';
import type { Space } from '../../src/task/space.js';

const apply = (source: string, edit: FileEdit): string => {
  if (edit.kind !== 'replace') throw new Error('moves are search/replace edits');
  const first = source.indexOf(edit.search);
  expect(first).toBeGreaterThanOrEqual(0);
  expect(source.indexOf(edit.search, first + 1)).toBe(-1);
  return source.slice(0, first) + edit.replace + source.slice(first + edit.search.length);
};

/** Evaluates `source` (a module body that defines `kernel`) and returns the function. */
const kernelOf = (source: string): ((...args: unknown[]) => unknown) => new Function(`${source.replace(/export /g, '')}\nreturn kernel;`)() as never;

const random = (length: number, seed: number): Float64Array => {
  let state = seed;
  return Float64Array.from({ length }, () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5);
};

const MATMUL = `// C (n, n) = A · B, three orders behind a flag.
export function kernel(a, b, n, order) {
  const c = new Float64Array(n * n);
  if (order === 'kji') {
    for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) c[i * n + j] += a[i * n + k] * b[k * n + j];
    return c;
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += a[i * n + k] * b[k * n + j];
      c[i * n + j] = sum;
    }
  }
  return c;
}
const TILE = 16;
const FUSED = false;
const label = "for (let x = 0; x < 3; x++) { not code }"; // for (let y = 0; y < 2; y++) nor this
`;

const space: Space = { order: { type: 'categorical', choices: ['ijk', 'kji'], default: 'ijk' } };

describe('the source scanner', () => {
  it('tells code from strings and comments, and matches brackets across them', () => {
    const source = 'f("(", `${g(1)}`, /[)]/, 2) // )\n';
    const mask = codeMask(source);
    expect(mask[source.indexOf('"(')+1]).toBe(false);
    expect(mask[source.indexOf('g(1)')]).toBe(true);
    expect(matchingBracket(source, mask, 1)).toBe(source.indexOf(', 2)') + 3);
  });

  it('finds counting loops and their bodies, not loops inside strings or comments', () => {
    const loops = forLoops(MATMUL);
    expect(loops.map((loop) => loop.variable)).toEqual(['k', 'j', 'i', 'i', 'j', 'k']);
    expect(loops[2].body).toBe('c[i * n + j] += a[i * n + k] * b[k * n + j];');
    expect(loops[3].braced).toBe(true);
  });

  it('finds the blocks guarded by a comparison with a string', () => {
    const [guard] = guardedBlocks(MATMUL);
    expect(guard).toMatchObject({ subject: 'order', value: 'kji' });
    expect(MATMUL.slice(guard.start, guard.end)).toContain('return c;');
  });
});

describe('the transformations', () => {
  const moves = findMoves('matmul.mjs', MATMUL, space);
  const a = random(36, 1);
  const b = random(36, 2);
  const reference = kernelOf(MATMUL)(a, b, 6, 'ijk') as Float64Array;

  it('finds loop orders (with and without hoisted reads), unrolls, constants and flags', () => {
    const kinds = new Set(moves.map((move) => move.transform));
    expect([...kinds].sort()).toEqual(['constant', 'flag', 'loop-order', 'unroll']);
    // Five other orders, and the four orders (the original's too) whose innermost loop leaves a read to hoist.
    expect(moves.filter((move) => move.transform === 'loop-order')).toHaveLength(5 + 4);
    expect(moves.find((move) => move.description.startsWith('constant TILE 16 -> 32'))).toBeDefined();
    expect(moves.find((move) => move.description.startsWith('flag FUSED false -> true'))).toBeDefined();
  });

  it('sets the knob that makes a move in a guarded branch run, and no knob elsewhere', () => {
    for (const move of moves) {
      const inKji = move.description.includes(':5');
      expect(move.knobs, move.description).toEqual(inKji ? { order: 'kji' } : {});
    }
  });

  it('every loop order and unroll computes the same product (to rounding)', () => {
    const checked = moves.filter((move) => move.transform === 'loop-order' || move.transform === 'unroll');
    expect(checked.length).toBe(13);
    for (const move of checked) {
      const edited = kernelOf(apply(MATMUL, move.edit));
      for (const order of ['ijk', 'kji']) {
        const result = edited(a, b, 6, order) as Float64Array;
        for (let index = 0; index < reference.length; index++) expect(result[index], `${move.description} (${order})`).toBeCloseTo(reference[index], 12);
      }
    }
  });

  it('unrolls keep the remainder: odd sizes too', () => {
    const odd = random(49, 3);
    const oddB = random(49, 4);
    const expected = kernelOf(MATMUL)(odd, oddB, 7, 'ijk') as Float64Array;
    for (const move of moves.filter((candidate) => candidate.transform === 'unroll')) {
      const result = kernelOf(apply(MATMUL, move.edit))(odd, oddB, 7, move.knobs.order ?? 'ijk') as Float64Array;
      expect(Array.from(result).map((value) => value.toFixed(12))).toEqual(Array.from(expected).map((value) => value.toFixed(12)));
    }
  });

  it('hoists only the reads the innermost loop does not change, and favours orders that stream memory', () => {
    const hoisted = hoistInvariantReads('c[i * n + j] += a[i * n + k] * b[k * n + j];', 'j');
    expect(hoisted).toEqual({ declarations: ['const hoisted0 = a[i * n + k];'], statement: 'c[i * n + j] += hoisted0 * b[k * n + j];' });
    expect(hoistInvariantReads('c[i * n + j] += a[i * n + k] * b[k * n + j];', 'i')?.declarations).toEqual(['const hoisted0 = b[k * n + j];']);
    expect(hoistInvariantReads('c[i * n + j] += a[i * n + k] * b[k * n + j];', 'k')).toBeNull();
    const body = 'c[i * n + j] += a[i * n + k] * b[k * n + j];';
    expect(strideScore(body, 'j')).toBeGreaterThan(strideScore(body, 'k'));
    expect(strideScore(body, 'k')).toBeGreaterThan(strideScore(body, 'i'));
    const best = [...moves].sort((left, right) => right.weight - left.weight)[0];
    expect(best.description).toMatch(/^loop-order (i,k,j|k,i,j) .*hoisted/);
  });

  it('leaves loops whose body is not an accumulation, or whose bound moves, alone', () => {
    const source = 'export function kernel(x, n) { for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) x[i] = x[j] + 1; for (let i = 0; i < n; i++) n--; return x; }';
    const found = findMoves('k.mjs', source, {});
    expect(found.filter((move) => move.transform === 'loop-order')).toEqual([]);
    expect(found.filter((move) => move.description.includes(':1') && move.transform === 'unroll' && move.edit.kind === 'replace' && move.edit.search.includes('n--'))).toEqual([]);
  });
});

it("finds the i-k-j order in kernel-matmul's own kernel, behind its order knob", () => {
  const task = loadTask('kernel-matmul');
  const source = readFileSync(join(task.workspaceDir, 'matmul.mjs'), 'utf8');
  const found = findMoves('matmul.mjs', source, task.file.space);
  const ikj = found.find((move) => move.description.startsWith('loop-order i,k,j') && move.description.includes('hoisted'));
  expect(ikj?.knobs).toEqual({ order: 'kji' });
});
