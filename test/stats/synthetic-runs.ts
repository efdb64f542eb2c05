/**
 * Synthetic run records with known parameters for the horizon tests: task lengths log-uniform between 1 minute
 * and ~17 hours, success ~ Bernoulli(sigmoid(slope * log2(minutes) + intercept + familyOffset + taskOffset)), where
 * the offsets are normal with sd `familyNoise` and `taskNoise` (default 0): families and tasks then differ in
 * difficulty beyond their length, as real ones do. The offsets are symmetric, so the population 50% horizon is
 * still 2^(-intercept / slope); other horizons are not (the population curve is flatter).
 */
import { createRandom } from '../../src/stats/random.js';
import { sigmoid } from '../../src/stats/logistic-regression.js';
import type { RunRecord } from '../../src/stats/records.js';

export interface SyntheticAgent {
  agent: string;
  slope: number;
  intercept: number;
}

export interface SyntheticOptions {
  families: number;
  tasksPerFamily: number;
  runsPerTask: number;
  familyNoise?: number;
  taskNoise?: number;
  seed: number;
}

export function trueHorizon(agent: SyntheticAgent, probability: number): number {
  return 2 ** ((Math.log(probability / (1 - probability)) - agent.intercept) / agent.slope);
}

export function syntheticRuns(agents: readonly SyntheticAgent[], options: SyntheticOptions): RunRecord[] {
  const random = createRandom(options.seed);
  const records: RunRecord[] = [];
  for (let family = 0; family < options.families; family++) {
    const familyOffset = (options.familyNoise ?? 0) * random.normal();
    for (let task = 0; task < options.tasksPerFamily; task++) {
      const humanMinutes = 2 ** (random.uniform() * 10);
      const offset = familyOffset + (options.taskNoise ?? 0) * random.normal();
      for (const agent of agents) {
        for (let run = 0; run < options.runsPerTask; run++) {
          const probability = sigmoid(agent.slope * Math.log2(humanMinutes) + agent.intercept + offset);
          records.push({
            line: records.length + 1,
            taskId: `family${family}/task${task}`,
            taskFamily: `family${family}`,
            agent: agent.agent,
            humanMinutes,
            success: random.uniform() < probability ? 1 : 0,
          });
        }
      }
    }
  }
  return records;
}
