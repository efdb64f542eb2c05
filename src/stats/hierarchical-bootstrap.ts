/**
 * Hierarchical bootstrap over run records, as METR resamples for time-horizon CIs: draw task families with
 * replacement, then tasks with replacement within each drawn family, then runs with replacement within each
 * drawn task and agent. Families and tasks are drawn once for all agents, so agents share the same resampled
 * task set (as in METR's code). Every drawn copy gets its own key, so a task drawn twice counts as two tasks
 * when weights are recomputed. This file only produces index lists; fitting is the caller's.
 */
import type { Random } from './random.js';

export interface Hierarchy {
  /** families[f] lists the task indices of family f. */
  families: number[][];
  /** runsByTask[t] maps agent index -> run indices of that agent on task t. */
  runsByTask: Map<number, number[]>[];
}

export interface Resample {
  runIndex: Int32Array; // (M,) indices into the original runs
  taskCopy: Int32Array; // (M,) a key per drawn task copy
  familyCopy: Int32Array; // (M,) a key per drawn family copy
}

/** Groups runs by family, task and agent. A task listed under two families is a data error. */
export function buildHierarchy(
  taskOf: ArrayLike<number>, // (N,) task index per run
  familyOf: ArrayLike<number>, // (N,) family index per run
  agentOf: ArrayLike<number>, // (N,) agent index per run
): Hierarchy {
  const familyOfTask = new Map<number, number>();
  const familyOrder = new Map<number, number[]>();
  const runsByTaskMap = new Map<number, Map<number, number[]>>();
  for (let run = 0; run < taskOf.length; run++) {
    const task = taskOf[run];
    const family = familyOf[run];
    const known = familyOfTask.get(task);
    if (known === undefined) {
      familyOfTask.set(task, family);
      if (!familyOrder.has(family)) familyOrder.set(family, []);
      familyOrder.get(family)!.push(task);
      runsByTaskMap.set(task, new Map());
    } else if (known !== family) {
      throw new RangeError(`task ${task} appears in two families (${known} and ${family})`);
    }
    const byAgent = runsByTaskMap.get(task)!;
    if (!byAgent.has(agentOf[run])) byAgent.set(agentOf[run], []);
    byAgent.get(agentOf[run])!.push(run);
  }
  const taskCount = Math.max(-1, ...familyOfTask.keys()) + 1;
  const runsByTask: Map<number, number[]>[] = Array.from({ length: taskCount }, () => new Map());
  for (const [task, byAgent] of runsByTaskMap) runsByTask[task] = byAgent;
  return { families: [...familyOrder.values()], runsByTask };
}

/** One bootstrap resample: families, then tasks within each family copy, then runs within each task copy and agent. */
export function resampleHierarchy(hierarchy: Hierarchy, random: Random): Resample {
  const runIndex: number[] = [];
  const taskCopy: number[] = [];
  const familyCopy: number[] = [];
  const { families, runsByTask } = hierarchy;
  let taskCopyKey = 0;
  for (let familyDraw = 0; familyDraw < families.length; familyDraw++) {
    const tasks = families[random.integer(families.length)];
    for (let taskDraw = 0; taskDraw < tasks.length; taskDraw++) {
      const task = tasks[random.integer(tasks.length)];
      for (const runs of runsByTask[task].values()) {
        for (let runDraw = 0; runDraw < runs.length; runDraw++) {
          runIndex.push(runs[random.integer(runs.length)]);
          taskCopy.push(taskCopyKey);
          familyCopy.push(familyDraw);
        }
      }
      taskCopyKey++;
    }
  }
  return { runIndex: Int32Array.from(runIndex), taskCopy: Int32Array.from(taskCopy), familyCopy: Int32Array.from(familyCopy) };
}
