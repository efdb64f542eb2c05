import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normaliseScore, normalisedLinear, normalisedLog } from '../../src/suites/normalise.js';
import { loadSuite } from '../../src/suites/suite.js';
import { loadTask } from '../../src/task/loader.js';
import type { TaskFile } from '../../src/task/schema.js';

const taskFile = (overrides: Partial<TaskFile>): TaskFile => ({ ...loadTask('fix-training').file, ...overrides });

describe('normalisation', () => {
  it('maps baseline to 0 and reference to 1 in either direction', () => {
    expect(normalisedLinear(3, 3, 2)).toBeCloseTo(0);
    expect(normalisedLinear(2, 3, 2)).toBe(1);
    expect(normalisedLinear(2.5, 3, 2)).toBeCloseTo(0.5);
    expect(normalisedLinear(0.8, 0.4, 0.9)).toBeCloseTo(0.8);
    expect(normalisedLinear(1.5, 3, 2)).toBeCloseTo(1.5); // beyond the reference: above 1, not clamped
  });

  it('uses log speedups for wall time: 2x of a 4x reference is 0.5', () => {
    expect(normalisedLog(10, 20, 4)).toBeCloseTo(0.5);
    expect(normalisedLog(5, 20, 4)).toBeCloseTo(1);
    expect(normalisedLog(40, 20, 4)).toBeCloseTo(-0.5);
  });

  it('prefers the measured baseline and falls back to the declared one', () => {
    const file = taskFile({ baseline: { score: 3 }, reference: { score: 2 } });
    expect(normaliseScore(file, 2.5, 3.5, undefined)).toMatchObject({ baselineSource: 'measured', baselineScore: 3.5, normalised: (3.5 - 2.5) / 1.5 });
    expect(normaliseScore(file, 2.5, null)).toMatchObject({ baselineSource: 'declared', normalised: 0.5 });
    expect(normaliseScore(taskFile({ baseline: undefined, reference: { score: 2 } }), 2.5, null)).toMatchObject({ baselineSource: 'none', normalised: null });
    expect(normaliseScore(taskFile({ reference: undefined }), 2.5, 3).normalised).toBeNull();
  });

  it('takes a wall-seconds reference as a ratio of declared scores or the suite speedup', () => {
    const matmul = loadTask('kernel-matmul').file; // declared 3.5 s -> 2.5 s: a 1.4x reference
    expect(normaliseScore(matmul, 2.5, 3.5)).toMatchObject({ scale: 'log', reference: 1.4 });
    expect(normaliseScore(matmul, 2.5, 3.5).normalised).toBeCloseTo(1);
    expect(normaliseScore(matmul, 3, 6, 4).normalised).toBeCloseTo(Math.log(2) / Math.log(4));
    expect(normaliseScore({ ...matmul, reference: undefined }, 3, 6).normalised).toBeNull();
  });
});

describe('suite.json', () => {
  it('loads the built-in suite: at least 8 tasks, each a loadable task with human minutes', () => {
    const suite = loadSuite('builtin');
    expect(suite.tasks.length).toBeGreaterThanOrEqual(8);
    expect(suite.file.successThreshold).toBe(0.5);
    for (const entry of suite.tasks.filter((candidate) => candidate.task !== 'lm-speedrun')) {
      const task = loadTask(entry.ref);
      expect(task.file.human?.minutes, task.file.name).toBeGreaterThan(0);
      expect(task.file.reference?.score, task.file.name).toBeTypeOf('number');
      expect(task.file.baseline?.score, task.file.name).toBeTypeOf('number');
    }
  });

  it('resolves folders relative to the suite and keeps families', () => {
    const suite = loadSuite(join(import.meta.dirname, 'fixtures/mini'));
    expect(suite.tasks.map((entry) => entry.ref)).toEqual(['reproduce-readme', join(import.meta.dirname, '../../tasks/tabular-wages')]);
    expect(suite.tasks[1].family).toBe('tabular');
    expect(suite.file.maxExperiments).toBe(1);
  });

  it('rejects a malformed suite with one line naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'suite-'));
    writeFileSync(join(dir, 'suite.json'), JSON.stringify({ name: 'x', tasks: [], successThreshold: -1 }));
    expect(() => loadSuite(dir)).toThrow(/suite\.json: .*(tasks|successThreshold)/);
    expect(() => loadSuite(join(dir, 'missing'))).toThrow(/no suite/);
  });
});
