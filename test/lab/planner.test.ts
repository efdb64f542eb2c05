/**
 * The planner on plain rows: no journal, no sandbox, no clock. Each rule of the loop (calibrate, repeat a claim,
 * gate it, re-verify, stop on a budget, wait for a human) is one input and the step it must give.
 */
import { describe, expect, it } from 'vitest';
import type { ExperimentRow } from '../../src/journal/journal.js';
import { parseRunOptions } from '../../src/lab/options.js';
import { type PlanInput, type Step, assessFinished, capSeconds, planStep } from '../../src/lab/planner.js';
import type { ExperimentId, RunId } from '../../src/task/ids.js';
import type { Outcome } from '../../src/task/outcome.js';

const RUN = 'run_000000000001' as RunId;
const AT = '2026-12-07T00:00:00.000Z';
let counter = 0;

function row(role: ExperimentRow['role'], fields: Partial<ExperimentRow> & { score?: number | null } = {}): ExperimentRow {
  counter += 1;
  const { score, ...rest } = fields;
  const outcome: Outcome | null = score === undefined ? null : score === null ? { status: 'failed', reason: 'crashed', metrics: {} } : { status: 'ok', score, metrics: {} };
  return {
    id: `exp_${String(counter).padStart(12, '0')}` as ExperimentId, runId: RUN, seq: counter, parentId: null, role,
    description: role, change: { knobs: {}, edits: [] }, diff: '', state: outcome ? 'finished' : 'proposed', outcome,
    fidelity: 1, accepted: false, logPath: null, artifactsPath: null, metadata: {}, proposedAt: AT, startedAt: null, finishedAt: null,
    ...rest,
  };
}

/** A baseline measured `scores.length` times: the row itself and its repeats. */
function baseline(scores: Array<number | null>): ExperimentRow[] {
  const root = row('baseline', { score: scores[0] });
  return [root, ...scores.slice(1).map((score) => row('repeat', { parentId: root.id, score }))];
}

function input(experiments: ExperimentRow[], overrides: Partial<PlanInput> = {}, options: Parameters<typeof parseRunOptions>[0] = { task: 't', researcher: 'search' }): PlanInput {
  return {
    experiments, inflight: new Set(), options: parseRunOptions(options), elapsedSeconds: 0, stopping: false,
    task: { direction: 'minimize', metricSource: 'wall-seconds', wallSecondsLimit: 600 },
    sameConfiguration: (left, right) => left.id === right.id,
    ...overrides,
  };
}

const kind = (step: Step) => step.kind;

describe('planStep', () => {
  it('runs what is proposed, then measures the baseline until it has its repeats', () => {
    counter = 0;
    const proposed = row('baseline');
    expect(planStep(input([proposed]))).toEqual({ kind: 'run', experiment: proposed });
    const root = row('baseline', { score: 10 });
    const step = planStep(input([root]));
    expect(step).toMatchObject({ kind: 'rerun', role: 'repeat', subject: { id: root.id } });
    // Two more runs in flight count towards the repeats: wait for them rather than start a third.
    const repeats = [row('repeat', { parentId: root.id, state: 'running' }), row('repeat', { parentId: root.id, state: 'running' })];
    expect(kind(planStep(input([root, ...repeats], { inflight: new Set(repeats.map((repeat) => repeat.id)) })))).toBe('wait');
  });

  it('stops when the baseline keeps failing, naming why', () => {
    const step = planStep(input(baseline([null, null, null, null, null])));
    expect(step).toMatchObject({ kind: 'stop' });
    expect((step as { reason: string }).reason).toMatch(/baseline keeps failing: failed: crashed/);
  });

  it('asks the researcher once the baseline is measured, and stops on each budget', () => {
    const measured = baseline([10, 11, 10.5]);
    expect(kind(planStep(input(measured)))).toBe('propose');
    expect(kind(planStep(input(measured, { stopping: true })))).toBe('wait');
    expect(planStep(input(measured, { elapsedSeconds: 700 }, { task: 't', researcher: 's', budgetSeconds: 600 }))).toEqual({ kind: 'stop', reason: 'time budget spent' });
    const candidates = [row('candidate', { score: 12 }), row('candidate', { score: 13 })];
    expect(planStep(input([...measured, ...candidates], {}, { task: 't', researcher: 's', maxExperiments: 2 }))).toEqual({ kind: 'stop', reason: 'experiment budget spent (2)' });
    const costly = baseline([10, 10, 10]).map((experiment) => ({ ...experiment, outcome: { status: 'ok' as const, score: 10, metrics: { cpuSeconds: 40 } } }));
    expect(planStep(input(costly, {}, { task: 't', researcher: 's', maxCpuSeconds: 100 }))).toMatchObject({ kind: 'stop', reason: expect.stringMatching(/CPU budget spent \(120 of 100/) });
  });

  it('repeats a claim, then gates it against the incumbent with all its samples', () => {
    const measured = baseline([10, 10.2, 9.9]);
    const claim = row('candidate', { score: 5, metadata: { claim: true } });
    expect(planStep(input([...measured, claim]))).toMatchObject({ kind: 'rerun', role: 'repeat', subject: { id: claim.id } });
    const repeats = [row('repeat', { parentId: claim.id, score: 5.1 }), row('repeat', { parentId: claim.id, score: 4.9 })];
    const step = planStep(input([...measured, claim, ...repeats]));
    expect(step).toMatchObject({ kind: 'decide', passed: true, claim: { id: claim.id } });
    expect((step as Extract<Step, { kind: 'decide' }>).record).toMatchObject({ incumbentSamples: [10, 10.2, 9.9], candidateSamples: [5, 5.1, 4.9] });
    // The same configuration as the incumbent is never a gain, whatever its samples say.
    const same = planStep(input([...measured, claim, ...repeats], { sameConfiguration: () => true }));
    expect(same).toMatchObject({ kind: 'decide', passed: false, detail: 'the candidate runs the same configuration as the incumbent' });
  });

  it('rejects a claim whose repeat failed, or that broke a physical bound, without more runs', () => {
    const measured = baseline([10, 10, 10]);
    const claim = row('candidate', { score: 5, metadata: { claim: true } });
    const failed = row('repeat', { parentId: claim.id, score: null });
    expect(planStep(input([...measured, claim, failed]))).toMatchObject({ kind: 'decide', passed: false, detail: 'a repeat did not succeed: failed' });
    const suspect = { ...claim, outcome: { status: 'suspect' as const, score: 5, reason: 'flops bound: too fast', metrics: { bound: 'flops' } } };
    expect(planStep(input([...measured, suspect]))).toMatchObject({ kind: 'decide', passed: false, detail: 'breaks a physical bound: flops bound: too fast' });
  });

  it('re-verifies the incumbent after verifyEvery candidates', () => {
    const measured = baseline([10, 10, 10]);
    const candidates = Array.from({ length: 2 }, () => row('candidate', { score: 12 }));
    const step = planStep(input([...measured, ...candidates], {}, { task: 't', researcher: 's', gate: { verifyEvery: 2 } }));
    expect(step).toMatchObject({ kind: 'rerun', role: 'verify', subject: { id: measured[0].id } });
  });

  it('waits for a human: candidates under `each`, and a nominee under `promote` before the run may end', () => {
    const measured = baseline([10, 10, 10]);
    const waiting = row('candidate', { state: 'awaiting-approval' });
    expect(planStep(input([...measured, waiting]))).toMatchObject({ kind: 'idle', reason: expect.stringContaining(`#${waiting.seq} ${waiting.id} awaiting approval`) });
    const nominee = row('candidate', { score: 5, metadata: { claim: true, decidedAt: AT, approval: 'pending' } });
    const options = { task: 't', researcher: 's', maxExperiments: 1, approval: 'promote' as const };
    expect(planStep(input([...measured, nominee], {}, options))).toMatchObject({ kind: 'idle', reason: expect.stringContaining('awaiting approval to become the incumbent') });
  });

  it('checks a cached calibration with one fresh run, and calls it stale when it disagrees', () => {
    const cached = baseline([10, 10.5, 9.8]).map((experiment) => ({ ...experiment, metadata: { cached: { key: 'k', measuredAt: AT, runId: 'run_x' } } }));
    expect(planStep(input(cached))).toMatchObject({ kind: 'rerun', role: 'verify' });
    const agreeing = row('verify', { parentId: cached[0].id, score: 10.1 });
    expect(planStep(input([...cached, agreeing]))).toMatchObject({ kind: 'calibration', agrees: true, fresh: 10.1 });
    const busy = row('verify', { parentId: cached[0].id, score: 16 });
    expect(planStep(input([...cached, busy]))).toMatchObject({ kind: 'calibration', agrees: false, cachedScores: [10, 10.5, 9.8] });
  });
});

describe('capSeconds and assessFinished', () => {
  const measured = baseline([10, 10, 10]);
  const facts = input(measured);

  it('caps a candidate near the incumbent, a repeat at twice it, the baseline at the task limit', () => {
    const candidate = row('candidate');
    expect(capSeconds(facts, candidate, 'candidate')).toBeCloseTo(10 * 1.3 + 3);
    expect(capSeconds(facts, row('repeat', { parentId: measured[0].id }), 'repeat')).toBeCloseTo(10 * 2 + 3);
    expect(capSeconds(facts, measured[0], 'baseline')).toBe(600);
    expect(capSeconds({ ...facts, task: { ...facts.task, metricSource: 'scorer' } }, candidate, 'candidate')).toBe(600);
  });

  it('claims a win past the threshold, holds a >10x step as suspect, and names a capped candidate slower', () => {
    const candidate = row('candidate');
    expect(assessFinished(facts, candidate, { status: 'ok', score: 8, metrics: {} }, 16).claim).toBe(true);
    expect(assessFinished(facts, candidate, { status: 'ok', score: 9.5, metrics: {} }, 16).claim).toBe(false);
    const smuggled = assessFinished(facts, candidate, { status: 'ok', score: 0.5, metrics: {} }, 16);
    expect(smuggled).toMatchObject({ claim: true, outcome: { status: 'suspect', metrics: { bound: 'gain' } } });
    const capped = assessFinished(facts, candidate, { status: 'timeout', reason: 'killed', metrics: {} }, 16);
    expect(capped.outcome).toMatchObject({ status: 'timeout', reason: 'slower than the incumbent: stopped at the 16.0s cap' });
    expect(assessFinished(facts, measured[1], { status: 'ok', score: 1, metrics: {} }, 16).claim).toBe(false);
  });
});
