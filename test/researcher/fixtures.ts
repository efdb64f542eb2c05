/**
 * Test fixtures for researchers: a realistic lm-speedrun-like space, a synthetic "seconds to target" objective
 * with a failure region, history builders, and a tiny loop that runs a researcher against the objective.
 * The loop here is a stand-in for src/lab (accept on a plain 1% improvement, no repeats): enough to
 * measure an optimiser, not a model of the gate.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRandom } from '../../src/stats/random.js';
import { ChangeError } from '../../src/task/errors.js';
import type { Random } from '../../src/stats/random.js';
import type { Change } from '../../src/task/change.js';
import { ExperimentId } from '../../src/task/ids.js';
import type { Outcome } from '../../src/task/outcome.js';
import { Space, defaultAssignment } from '../../src/task/space.js';
import type { Assignment } from '../../src/task/space.js';
import type { ExperimentSummary, ResearchContext, Researcher, WorkspaceAccess } from '../../src/researcher/types.js';

export const speedrunSpace: Space = Space.parse({
  learningRate: { type: 'float', scale: 'log', min: 1e-4, max: 1e-1, default: 1e-3 },
  batchSize: { type: 'int', scale: 'log', min: 4, max: 256, default: 32 },
  width: { type: 'categorical', choices: [64, 128, 256, 512], default: 128 },
  heads: { type: 'categorical', choices: [1, 2, 4, 8], default: 4 },
  warmupFraction: { type: 'float', min: 0, max: 0.3, default: 0.1 },
  optimizer: { type: 'categorical', choices: ['adamw', 'sgd'], default: 'adamw' },
  tieEmbeddings: { type: 'categorical', choices: [true, false], default: true },
});

/** Why a point fails, or null: divergence above lr 3e-2, or heads too many for the width (head dim < 32). */
export function failureOf(assignment: Assignment): string | null {
  if ((assignment.learningRate as number) > 3e-2) return 'loss diverged: missed the target';
  if ((assignment.width as number) / (assignment.heads as number) < 32) return 'crashed: head dimension below 32';
  return null;
}

/** Noise-free seconds to target: a smooth bowl with its lr optimum (1e-2) close to the divergence edge. */
export function trueSeconds(assignment: Assignment): number {
  const optimumLearningRate = assignment.optimizer === 'adamw' ? 1e-2 : 2.5e-2;
  const headDimension = (assignment.width as number) / (assignment.heads as number);
  const exponent =
    0.8 * (Math.log10(assignment.learningRate as number) - Math.log10(optimumLearningRate)) ** 2 +
    0.03 * (Math.log2(assignment.batchSize as number) - 6) ** 2 +
    0.1 * (Math.log2(assignment.width as number) - 8) ** 2 +
    0.05 * (Math.log2(headDimension) - 6) ** 2 +
    5 * ((assignment.warmupFraction as number) - 0.05) ** 2 +
    (assignment.optimizer === 'sgd' ? 0.3 : 0) + (assignment.tieEmbeddings ? 0 : 0.02);
  return 100 * Math.exp(exponent);
}

/** One noisy run: 3% multiplicative noise; slower than `capSeconds` is a timeout, as the lab caps candidates. */
export function runSynthetic(assignment: Assignment, random: Random, capSeconds = Infinity): Outcome {
  const failure = failureOf(assignment);
  if (failure) return { status: 'failed', reason: failure, metrics: {} };
  const seconds = trueSeconds(assignment) * Math.exp(0.03 * random.normal());
  if (seconds > capSeconds) return { status: 'timeout', reason: 'slower than the incumbent', metrics: {} };
  return { status: 'ok', score: seconds, metrics: {} };
}

export const experimentId = (index: number): ExperimentId => ExperimentId.parse(`exp_${index.toString().padStart(8, '0')}`);

export function summary(index: number, fields: Partial<ExperimentSummary> & { assignment: Assignment }): ExperimentSummary {
  const change: Change = fields.change ?? { knobs: {}, edits: [] };
  return {
    id: experimentId(index), parentId: index === 0 ? null : experimentId(0), role: index === 0 ? 'baseline' : 'candidate',
    description: 'fixture', outcome: null, accepted: index === 0, ...fields, change,
  };
}

export function makeContext(
  history: readonly ExperimentSummary[], options: { space?: Space; seed?: number; budget?: number; signal?: AbortSignal } = {},
): ResearchContext {
  const accepted = history.filter((experiment) => experiment.accepted);
  const budget = options.budget ?? 40;
  return {
    task: {
      name: 'synthetic-speedrun', instructions: 'Reach the target loss fast.',
      metric: { name: 'seconds', direction: 'minimize', unit: 's' }, space: options.space ?? speedrunSpace,
    },
    history,
    incumbent: accepted[accepted.length - 1] ?? history[0],
    budget: { fractionUsed: Math.min(1, history.length / budget), experimentsLeft: Math.max(0, budget - history.length), secondsLeft: null },
    seed: options.seed ?? 1,
    signal: options.signal ?? new AbortController().signal,
    workspace: syntheticWorkspace(history),
  };
}

let workspaceRoot: string | null = null;

/**
 * Workspaces for researchers that read code (llm, mcp): each experiment's is a folder with its knob values in
 * config.json, plus a notes/ folder a researcher may write to. Made on first use, under one temporary folder.
 */
function syntheticWorkspace(history: readonly ExperimentSummary[]): WorkspaceAccess {
  return {
    editable: ['config.json', 'notes/**'],
    configFile: 'config.json',
    materialise: (id) => {
      if (!workspaceRoot) {
        const root = mkdtempSync(join(tmpdir(), 'successor-researcher-fixture-'));
        workspaceRoot = root;
        process.once('exit', () => rmSync(root, { recursive: true, force: true }));
      }
      const experiment = history.find((entry) => entry.id === id);
      if (!experiment) throw new ChangeError(`no experiment ${id}`);
      const dir = join(workspaceRoot, `${id}-${createHash('sha256').update(JSON.stringify(experiment.assignment)).digest('hex').slice(0, 12)}`);
      if (!existsSync(dir)) {
        mkdirSync(join(dir, 'notes'), { recursive: true });
        writeFileSync(join(dir, 'config.json'), `${JSON.stringify(experiment.assignment, null, 2)}\n`);
      }
      return dir;
    },
    readLog: () => null,
  };
}

/** A random history of `count` evaluated experiments (plus a baseline), some failed, the last few pending. */
export function randomHistory(count: number, seed: number, pending = 3): ExperimentSummary[] {
  const random = createRandom(seed);
  const history = [summary(0, { assignment: defaultAssignment(speedrunSpace), outcome: runSynthetic(defaultAssignment(speedrunSpace), random) })];
  for (let index = 1; index <= count; index++) {
    const assignment = randomAssignment(speedrunSpace, random);
    history.push(summary(index, { assignment, outcome: index > count - pending ? null : runSynthetic(assignment, random) }));
  }
  return history;
}

export function randomAssignment(space: Space, random: Random): Assignment {
  return Object.fromEntries(Object.entries(space).map(([name, knob]) => {
    if (knob.type === 'categorical') return [name, knob.choices[random.integer(knob.choices.length)]];
    const unit = random.uniform();
    const value = knob.scale === 'log' ? Math.exp(Math.log(knob.min) + unit * Math.log(knob.max / knob.min)) : knob.min + unit * (knob.max - knob.min);
    return [name, knob.type === 'int' ? Math.round(value) : value];
  }));
}

/**
 * Runs `researcher` for `evaluations` experiments (the baseline included) against the synthetic objective.
 * A candidate is accepted when it runs 1% faster than the incumbent's measured time; candidates are capped at
 * 2.5x the incumbent's time. Returns the history.
 */
export async function runLoop(researcher: Researcher, evaluations: number, seed: number): Promise<ExperimentSummary[]> {
  const random = createRandom(seed + 1000);
  const baseline = defaultAssignment(speedrunSpace);
  const history = [summary(0, { assignment: baseline, outcome: runSynthetic(baseline, random) })];
  let incumbent = history[0];
  while (history.length < evaluations) {
    const proposal = await researcher.propose(makeContext(history, { seed, budget: evaluations }));
    if (!proposal) break;
    const parent = history.find((experiment) => experiment.id === proposal.parentId);
    if (!parent) throw new Error('proposal names an unknown parent');
    const assignment = { ...parent.assignment, ...proposal.change.knobs };
    const incumbentSeconds = (incumbent.outcome as { score: number }).score;
    const outcome = runSynthetic(assignment, random, 2.5 * incumbentSeconds);
    const accepted = outcome.status === 'ok' && outcome.score < 0.99 * incumbentSeconds;
    const experiment = summary(history.length, { assignment, outcome, accepted, parentId: proposal.parentId, change: proposal.change, description: proposal.description });
    history.push(experiment);
    if (accepted) incumbent = experiment;
  }
  return history;
}

/** The best noise-free time among the points that ran successfully. */
export const bestTrueSeconds = (history: readonly ExperimentSummary[]): number =>
  Math.min(...history.filter((experiment) => experiment.outcome?.status === 'ok').map((experiment) => trueSeconds(experiment.assignment)));
