/**
 * A research run in simulation, over the lab's real gate code: the planner (src/lab/planner.ts), the gate and its
 * paired test, and the very row changes the loop journals (src/lab/step-records.ts), applied to plain rows. Only the
 * world is simulated: how long a configuration takes (a true time, multiplicative noise the seed does not explain,
 * a drifting machine) and what the researcher proposes (changes with a known true effect).
 * Is not: the loop's sandbox, journal or researcher; `npm run bench:gate` (gate.ts) prints what this measures.
 */
import type { ExperimentRow } from '../src/journal/journal.js';
import { type RunOptions, parseRunOptions } from '../src/lab/options.js';
import { type PlanInput, capSeconds, planStep } from '../src/lab/planner.js';
import { calibrationRecords, decisionRecord, demotionRecord, finishedRecord, rerunRow } from '../src/lab/step-records.js';
import { incumbentOf } from '../src/lab/lineage.js';
import type { Random } from '../src/stats/random.js';
import { ExperimentId, RunId } from '../src/task/ids.js';
import type { Outcome } from '../src/task/outcome.js';

export interface World {
  /** Standard deviation of one run's log time: noise the seed does not explain (0.05 is 5%). */
  noise: number;
  /** Noise shape: normal, or Student t with 4 degrees of freedom (heavier tails, the same standard deviation). */
  tails: 'normal' | 't4';
  /** The machine's drift of log time: a slow wave of this amplitude and period, plus a random walk per run. */
  driftAmplitude: number;
  driftPeriodSeconds: number;
  driftWalkPerRun: number;
  baselineSeconds: number;
}

export interface SimulatedRun {
  /** True gains (log scale) of the candidates the gate accepted, in order. */
  acceptedEffects: number[];
  /** Accepted though its true effect was zero (or worse). */
  falseAcceptance: boolean;
  runs: number;
  simulatedSeconds: number;
  /** The final incumbent's true gain over the baseline (log scale). */
  finalEffect: number;
}

const AT = '2026-01-01T00:00:00.000Z';

function noiseDraw(world: World, random: Random): number {
  if (world.tails === 'normal') return world.noise * random.normal();
  // t4 has variance 2: scale it to the same standard deviation.
  const chiSquare = [0, 1, 2, 3].reduce((sum) => sum + random.normal() ** 2, 0);
  return (world.noise * random.normal()) / Math.sqrt(chiSquare / 4) / Math.SQRT2;
}

/** One run: `effects` are the true log gains of the candidates the researcher proposes, in order. */
export function simulateRun(world: World, effects: readonly number[], random: Random, overrides: Partial<RunOptions['gate']> = {}): SimulatedRun {
  const options = parseRunOptions({ task: 'simulated', researcher: 'simulated', maxExperiments: effects.length, gate: overrides, contentionLimit: null });
  const runId = RunId.parse('run_000000simul');
  const rows: ExperimentRow[] = [];
  const effectOf = new Map<string, number>();
  let clock = 0;
  let walk = 0;
  let proposed = 0;
  let runs = 0;
  const push = (row: Omit<ExperimentRow, 'id' | 'seq' | 'proposedAt' | 'startedAt' | 'finishedAt'>): ExperimentRow => {
    const seq = rows.length + 1;
    const full: ExperimentRow = { ...row, id: ExperimentId.parse(`exp_${String(seq).padStart(12, '0')}`), seq, proposedAt: AT, startedAt: null, finishedAt: null };
    rows.push(full);
    return full;
  };
  const update = (id: string, patch: Partial<ExperimentRow>) => {
    const index = rows.findIndex((row) => row.id === id);
    rows[index] = { ...rows[index], ...patch };
  };
  const configurationOf = (row: ExperimentRow): string => (row.role === 'baseline' || row.role === 'candidate' ? row.id : configurationOf(rows.find((other) => other.id === row.parentId)!));
  const task = { direction: 'minimize' as const, metricSource: 'wall-seconds' as const, wallSecondsLimit: world.baselineSeconds * 20 };
  const planInput = (): PlanInput => ({
    experiments: rows, inflight: new Set(), options, task, elapsedSeconds: clock, stopping: false, nowMs: Date.parse(AT) + clock * 1000,
    sameConfiguration: (left, right) => configurationOf(left) === configurationOf(right),
  });
  const execute = (row: ExperimentRow) => {
    runs += 1;
    const effect = effectOf.get(configurationOf(row)) ?? 0;
    walk += world.driftWalkPerRun * random.normal();
    const drift = world.driftAmplitude * Math.sin((2 * Math.PI * clock) / world.driftPeriodSeconds) + walk;
    const seconds = world.baselineSeconds * Math.exp(-effect + drift + noiseDraw(world, random));
    const cap = capSeconds(planInput(), row, row.role);
    const result: Outcome = seconds > cap
      ? { status: 'timeout', reason: 'cap', metrics: {} }
      : { status: 'ok', score: seconds, metrics: { wallSeconds: seconds } };
    clock += Math.min(seconds, cap);
    const finished = finishedRecord({ experiments: rows, options, task }, row, result, cap);
    update(row.id, { state: 'finished', outcome: finished.outcome, metadata: finished.metadata, finishedAt: new Date(Date.parse(AT) + clock * 1000).toISOString() });
  };
  push({ runId, parentId: null, role: 'baseline', description: 'baseline', change: { knobs: {}, edits: [] }, diff: '', state: 'proposed', outcome: null, fidelity: 1, accepted: false, logPath: null, artifactsPath: null, metadata: {} });
  for (let guard = 0; guard < 100_000; guard++) {
    const step = planStep(planInput());
    if (step.kind === 'stop' || step.kind === 'idle' || step.kind === 'wait') break;
    if (step.kind === 'run') execute(step.experiment);
    else if (step.kind === 'rerun') execute(push(rerunRow(runId, step, rows)));
    else if (step.kind === 'decide') {
      const { accepted, metadata } = decisionRecord(step, 'auto', new Date(Date.parse(AT) + clock * 1000).toISOString());
      update(step.claim.id, { accepted, metadata });
    } else if (step.kind === 'demote') update(step.incumbent.id, demotionRecord(step, AT));
    else if (step.kind === 'calibration') for (const { experiment, metadata } of calibrationRecords(step)) update(experiment.id, { metadata });
    else if (step.kind === 'propose') {
      const parent = incumbentOf(rows);
      const candidate = push({ runId, parentId: parent.id, role: 'candidate', description: `candidate ${proposed}`, change: { knobs: {}, edits: [] }, diff: '', state: 'proposed', outcome: null, fidelity: 1, accepted: false, logPath: null, artifactsPath: null, metadata: {} });
      // A change's effect adds to its parent's: the researcher builds on the incumbent.
      effectOf.set(candidate.id, (effectOf.get(configurationOf(parent)) ?? 0) + effects[proposed]);
      proposed += 1;
    }
  }
  const decided = rows.filter((row) => row.role === 'candidate' && row.metadata.gate?.accepted === true);
  const ownEffect = (row: ExperimentRow) => (effectOf.get(row.id) ?? 0) - (effectOf.get(configurationOf(rows.find((other) => other.id === row.parentId)!)) ?? 0);
  const acceptedEffects = decided.map(ownEffect);
  const final = incumbentOf(rows);
  return {
    acceptedEffects, falseAcceptance: acceptedEffects.some((effect) => effect <= 0), runs, simulatedSeconds: clock,
    finalEffect: effectOf.get(configurationOf(final)) ?? 0,
  };
}
