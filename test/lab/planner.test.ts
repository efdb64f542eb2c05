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
    experiments, inflight: new Set(), options: parseRunOptions(options), elapsedSeconds: 0, stopping: false, nowMs: Date.parse(AT) + 3_600_000,
    task: { direction: 'minimize', metricSource: 'wall-seconds', wallSecondsLimit: 600 },
    sameConfiguration: (left, right) => left.id === right.id,
    ...overrides,
  };
}

const kind = (step: Step) => step.kind;

/** One run of a pair: `subject`'s configuration, serving `owner`'s confirmation or verification. */
function pairRun(subject: ExperimentRow, owner: ExperimentRow, purpose: 'confirm' | 'verify', index: number, side: 'reference' | 'subject', score: number | null): ExperimentRow {
  return row(purpose === 'verify' ? 'verify' : 'repeat', { parentId: subject.id, score, metadata: { pair: { forId: owner.id, purpose, index, side } } });
}

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

  it('confirms a claim in pairs against the incumbent, alternating which side runs first, then gates it', () => {
    const measured = baseline([10, 10.2, 9.9]);
    const root = measured[0];
    const claim = row('candidate', { score: 5, metadata: { claim: true } });
    expect(planStep(input([...measured, claim]))).toMatchObject({ kind: 'rerun', role: 'repeat', subject: { id: root.id }, pair: { forId: claim.id, index: 0, side: 'reference' } });
    const pair0 = [pairRun(root, claim, 'confirm', 0, 'reference', 10.1)];
    expect(planStep(input([...measured, claim, ...pair0]))).toMatchObject({ kind: 'rerun', subject: { id: claim.id }, pair: { index: 0, side: 'subject' } });
    pair0.push(pairRun(claim, claim, 'confirm', 0, 'subject', 5.1));
    // Pair 1 starts with the claim, so an order effect cancels too.
    expect(planStep(input([...measured, claim, ...pair0]))).toMatchObject({ kind: 'rerun', subject: { id: claim.id }, pair: { index: 1, side: 'subject' } });
    // The screening run is never evidence: with one pair there is nothing to decide yet.
    expect(planStep(input([...measured, claim, ...pair0], { inflight: new Set() }))).toMatchObject({ kind: 'rerun' });
    const pair1 = [pairRun(claim, claim, 'confirm', 1, 'subject', 4.9), pairRun(root, claim, 'confirm', 1, 'reference', 9.8)];
    const step = planStep(input([...measured, claim, ...pair0, ...pair1]));
    expect(step).toMatchObject({ kind: 'decide', passed: true, claim: { id: claim.id } });
    expect((step as Extract<Step, { kind: 'decide' }>).record).toMatchObject({ incumbentSamples: [10.1, 9.8], candidateSamples: [5.1, 4.9], pairs: 2 });
    // With room for two runs at once, both sides of a pair run together.
    const together = input([...measured, claim], {}, { task: 't', researcher: 's', parallel: 2 });
    expect(planStep(together)).toMatchObject({ pair: { side: 'reference' } });
    const first = { ...pairRun(root, claim, 'confirm', 0, 'reference', 0), state: 'running' as const, outcome: null };
    expect(planStep({ ...together, experiments: [...measured, claim, first], inflight: new Set([first.id]) })).toMatchObject({ pair: { index: 0, side: 'subject' } });
    // The same configuration as the incumbent is never a gain, whatever its samples say.
    const same = planStep(input([...measured, claim, ...pair0, ...pair1], { sameConfiguration: () => true }));
    expect(same).toMatchObject({ kind: 'decide', passed: false, detail: 'the candidate runs the same configuration as the incumbent' });
  });

  it('rejects a claim that shows no gain in its pairs, and one that is not shown after the last pair', () => {
    const measured = baseline([10, 10.3, 9.8]);
    const root = measured[0];
    const claim = row('candidate', { score: 8, metadata: { claim: true } });
    const flat = [0, 1, 2].flatMap((index) => [pairRun(root, claim, 'confirm', index, 'reference', 10), pairRun(claim, claim, 'confirm', index, 'subject', 10.2)]);
    expect(planStep(input([...measured, claim, ...flat]))).toMatchObject({ kind: 'decide', passed: false, detail: expect.stringMatching(/no gain in the paired runs/) });
    const noisy = [0, 1].flatMap((index) => [pairRun(root, claim, 'confirm', index, 'reference', 10), pairRun(claim, claim, 'confirm', index, 'subject', 9.7)]);
    const capped = input([...measured, claim, ...noisy], {}, { task: 't', researcher: 's', gate: { maxPairs: 2 } });
    expect(planStep(capped)).toMatchObject({ kind: 'decide', passed: false, detail: expect.stringMatching(/after the last look: not shown/) });
  });

  it('rejects a claim whose confirmation run failed, or that broke a physical bound, without more runs', () => {
    const measured = baseline([10, 10, 10]);
    const claim = row('candidate', { score: 5, metadata: { claim: true } });
    const failed = pairRun(claim, claim, 'confirm', 0, 'subject', null);
    expect(planStep(input([...measured, claim, failed]))).toMatchObject({ kind: 'decide', passed: false, detail: 'a confirmation run did not succeed: failed: crashed' });
    const suspect = { ...claim, outcome: { status: 'suspect' as const, score: 5, reason: 'flops bound: too fast', metrics: { bound: 'flops' } } };
    expect(planStep(input([...measured, suspect]))).toMatchObject({ kind: 'decide', passed: false, detail: 'breaks a physical bound: flops bound: too fast' });
    // A failed run of the incumbent voids its pair: the next pair starts.
    const voided = pairRun(measured[0], claim, 'confirm', 0, 'reference', null);
    expect(planStep(input([...measured, claim, voided]))).toMatchObject({ kind: 'rerun', pair: { index: 1 } });
  });

  it('spends the run\'s level over its claims: a rejected claim leaves the next one a smaller share, a passed one passes its share on', () => {
    const measured = baseline([10, 10.1, 9.9]);
    const root = measured[0];
    const first = row('candidate', { score: 9, metadata: { claim: true, decidedAt: AT, gate: { accepted: false, detail: 'x' } } });
    const second = row('candidate', { score: 9, metadata: { claim: true } });
    const pairs = [0, 1].flatMap((index) => [pairRun(root, second, 'confirm', index, 'reference', 10), pairRun(second, second, 'confirm', index, 'subject', 9)]);
    const lastLookAtTwo = { task: 't', researcher: 's', gate: { maxPairs: 2 } };
    const afterRejection = planStep(input([...measured, first, second, ...pairs], {}, lastLookAtTwo)) as Extract<Step, { kind: 'decide' }>;
    const passedFirst = { ...first, metadata: { ...first.metadata, gate: { accepted: true, detail: 'x' } } };
    const afterPass = planStep(input([...measured, passedFirst, second, ...pairs], {}, lastLookAtTwo)) as Extract<Step, { kind: 'decide' }>;
    expect(afterRejection.record.level).toBeCloseTo((0.05 * 6) / (Math.PI ** 2 * 4));
    expect(afterPass.record.level).toBeCloseTo((0.05 * 6) / Math.PI ** 2 + (0.05 * 6) / (Math.PI ** 2 * 4));
  });

  it('decides an open claim as is once the budget is spent past its grace', () => {
    const measured = baseline([10, 10, 10]);
    const claim = row('candidate', { score: 5, metadata: { claim: true } });
    const late = input([...measured, claim], { elapsedSeconds: 700 }, { task: 't', researcher: 's', budgetSeconds: 600 });
    expect(planStep(late)).toMatchObject({ kind: 'decide', passed: false, detail: 'the time budget ran out before the claim was confirmed' });
  });

  it('pauses while the machine is busy, then tries again', () => {
    const measured = baseline([10, 10, 10]);
    const contended = [1, 2, 3].map((minute) => row('candidate', { score: 12, metadata: { contended: true }, finishedAt: `2026-12-07T00:0${minute}:00.000Z` }));
    const justAfter = Date.parse('2026-12-07T00:03:10.000Z');
    expect(planStep(input([...measured, ...contended], { nowMs: justAfter }))).toMatchObject({ kind: 'idle', reason: expect.stringMatching(/last 3 runs were contended/) });
    expect(kind(planStep(input([...measured, ...contended], { nowMs: justAfter + 60_000 })))).toBe('propose');
  });

  it('re-verifies the incumbent after verifyEvery candidates: the baseline by a plain re-run, an accepted one in a pair', () => {
    const measured = baseline([10, 10, 10]);
    const root = measured[0];
    const candidates = Array.from({ length: 2 }, () => row('candidate', { score: 12 }));
    const options = { task: 't', researcher: 's', gate: { verifyEvery: 2 } };
    expect(planStep(input([...measured, ...candidates], {}, options))).toMatchObject({ kind: 'rerun', role: 'verify', subject: { id: root.id } });
    expect((planStep(input([...measured, ...candidates], {}, options)) as Extract<Step, { kind: 'rerun' }>).pair).toBeUndefined();
    const accepted = row('candidate', { score: 5, accepted: true, metadata: { claim: true, decidedAt: AT, gate: { accepted: true, detail: 'x', incumbentId: root.id } } });
    const later = Array.from({ length: 2 }, () => row('candidate', { score: 12 }));
    const rows = [...measured, accepted, ...later];
    expect(planStep(input(rows, {}, options))).toMatchObject({ kind: 'rerun', role: 'verify', subject: { id: root.id }, pair: { forId: accepted.id, purpose: 'verify', side: 'reference' } });
  });

  it('demotes an incumbent whose re-verification shows no gain, or whose re-verification runs fail', () => {
    const measured = baseline([10, 10, 10]);
    const root = measured[0];
    const accepted = row('candidate', { score: 5, accepted: true, metadata: { claim: true, decidedAt: AT, gate: { accepted: true, detail: 'x', incumbentId: root.id } } });
    const noGain = [0, 1].flatMap((index) => [pairRun(root, accepted, 'verify', index, 'reference', 10), pairRun(accepted, accepted, 'verify', index, 'subject', 10.4)]);
    expect(planStep(input([...measured, accepted, ...noGain]))).toMatchObject({ kind: 'demote', incumbent: { id: accepted.id }, reason: expect.stringMatching(/shows no gain/) });
    // One pair without a gain gets its second at once, whatever the candidate count.
    expect(planStep(input([...measured, accepted, ...noGain.slice(0, 2)]))).toMatchObject({ kind: 'rerun', pair: { purpose: 'verify', index: 1 } });
    const failing = [pairRun(accepted, accepted, 'verify', 0, 'subject', null), pairRun(accepted, accepted, 'verify', 0, 'subject', null)];
    expect(planStep(input([...measured, accepted, ...failing]))).toMatchObject({ kind: 'demote', reason: expect.stringMatching(/2 of its re-verification runs failed/) });
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

  it('claims a win past the noise-based threshold, holds a >10x step as suspect, and names a capped candidate slower', () => {
    const candidate = row('candidate');
    const noisy = input(baseline([10, 11, 9]));
    const quiet = input(baseline([10, 10.01, 9.99]));
    // 3% better: well past the noise of a quiet incumbent, within that of a noisy one.
    expect(assessFinished(quiet, candidate, { status: 'ok', score: 9.7, metrics: {} }, 16).claim).toBe(true);
    expect(assessFinished(noisy, candidate, { status: 'ok', score: 9.7, metrics: {} }, 16).claim).toBe(false);
    const clear = assessFinished(noisy, candidate, { status: 'ok', score: 8, metrics: {} }, 16);
    expect(clear.claim).toBe(true);
    expect(clear.screening?.gain).toBeCloseTo(Math.log(10 / 8));
    // By default any gain past the noise (0.5% on a quiet incumbent); never below the smallest gain the user asked
    // for (--min-gain 0.01), however quiet.
    expect(assessFinished(quiet, candidate, { status: 'ok', score: 9.95, metrics: {} }, 16).claim).toBe(true);
    const demanding = input(baseline([10, 10.01, 9.99]), {}, { task: 't', researcher: 'search', gate: { minRelativeGain: 0.01 } });
    expect(assessFinished(demanding, candidate, { status: 'ok', score: 9.95, metrics: {} }, 16).claim).toBe(false);
    const smuggled = assessFinished(facts, candidate, { status: 'ok', score: 0.5, metrics: {} }, 16);
    expect(smuggled).toMatchObject({ claim: true, outcome: { status: 'suspect', metrics: { bound: 'gain' } } });
    const capped = assessFinished(facts, candidate, { status: 'timeout', reason: 'killed', metrics: {} }, 16);
    expect(capped.outcome).toMatchObject({ status: 'timeout', reason: 'slower than the incumbent: stopped at the 16.0s cap' });
    expect(assessFinished(facts, measured[1], { status: 'ok', score: 1, metrics: {} }, 16).claim).toBe(false);
  });
});
