/** The resampling scheme: its structure (what is drawn within what), its reproducibility and its fairness. */
import { describe, expect, it } from 'vitest';
import { buildHierarchy, resampleHierarchy } from '../../src/stats/hierarchical-bootstrap.js';
import { createRandom } from '../../src/stats/random.js';

// Two agents. Family 0: tasks 0, 1, 2; family 1: task 3. Agent 1 never ran task 2.
const runs = [
  { task: 0, family: 0, agent: 0 }, { task: 0, family: 0, agent: 0 }, { task: 0, family: 0, agent: 1 },
  { task: 1, family: 0, agent: 0 }, { task: 1, family: 0, agent: 1 }, { task: 1, family: 0, agent: 1 }, { task: 1, family: 0, agent: 1 },
  { task: 2, family: 0, agent: 0 },
  { task: 3, family: 1, agent: 0 }, { task: 3, family: 1, agent: 1 },
];
const hierarchy = buildHierarchy(runs.map((run) => run.task), runs.map((run) => run.family), runs.map((run) => run.agent));

describe('hierarchical bootstrap', () => {
  it('groups tasks by family and refuses a task in two families', () => {
    expect(hierarchy.families).toEqual([[0, 1, 2], [3]]);
    expect(() => buildHierarchy([0, 0], [0, 1], [0, 0])).toThrow(/two families/);
  });

  it('draws as many families as there are, as many tasks as each family has, as many runs as each task and agent has', () => {
    const random = createRandom(5);
    for (let trial = 0; trial < 200; trial++) {
      const sample = resampleHierarchy(hierarchy, random);
      const familyCopies = new Set(sample.familyCopy);
      expect(familyCopies.size).toBeLessThanOrEqual(2);
      const tasksByCopy = new Map<number, Set<number>>();
      const runCounts = new Map<string, number>();
      for (let i = 0; i < sample.runIndex.length; i++) {
        const run = runs[sample.runIndex[i]];
        // A task copy holds runs of one task only, and all within the family copy's family.
        if (!tasksByCopy.has(sample.taskCopy[i])) tasksByCopy.set(sample.taskCopy[i], new Set());
        tasksByCopy.get(sample.taskCopy[i])!.add(run.task);
        const key = `${sample.taskCopy[i]}/${run.agent}`;
        runCounts.set(key, (runCounts.get(key) ?? 0) + 1);
      }
      for (const taskSet of tasksByCopy.values()) expect(taskSet.size).toBe(1);
      for (const [key, count] of runCounts) {
        const [copy, agent] = key.split('/').map(Number);
        const task = [...tasksByCopy.get(copy)!][0];
        expect(count).toBe(runs.filter((run) => run.task === task && run.agent === agent).length);
      }
      // Family copy f holds exactly |family| task copies.
      for (const familyCopy of familyCopies) {
        const copies = new Set<number>();
        let family = -1;
        for (let i = 0; i < sample.runIndex.length; i++) {
          if (sample.familyCopy[i] !== familyCopy) continue;
          copies.add(sample.taskCopy[i]);
          family = runs[sample.runIndex[i]].family;
        }
        expect(copies.size).toBe(hierarchy.families[family].length);
      }
    }
  });

  it('is reproducible from the seed and draws families evenly', () => {
    const first = resampleHierarchy(hierarchy, createRandom(9));
    expect(resampleHierarchy(hierarchy, createRandom(9))).toEqual(first);
    const random = createRandom(10);
    let familyOneDraws = 0;
    const trials = 4000;
    for (let trial = 0; trial < trials; trial++) {
      const sample = resampleHierarchy(hierarchy, random);
      const copies = new Set<number>();
      for (let i = 0; i < sample.runIndex.length; i++) if (runs[sample.runIndex[i]].family === 1) copies.add(sample.familyCopy[i]);
      familyOneDraws += copies.size;
    }
    // Each of 2 draws picks family 1 with probability 1/2: mean 1 per resample (sd of the mean about 0.011).
    expect(familyOneDraws / trials).toBeGreaterThan(0.95);
    expect(familyOneDraws / trials).toBeLessThan(1.05);
  });
});
