/**
 * The one contract suite every Researcher implementation runs (STYLE.md 6): call `researcherContract` from the
 * implementation's test file. It checks what the lab relies on, whatever the researcher's strategy:
 * proposals parse as a Change, name a parent from the history, set only knobs of the space to values the knob
 * accepts, are never empty, come out the same for the same seed and history, leave the context untouched, come
 * back within a generous bound on a 200-experiment history, and honour an aborted signal.
 */
import { describe, expect, it } from 'vitest';
import { isValidKnobValue } from '../../src/researcher/space-geometry.js';
import type { ExperimentSummary, Proposal, ResearchContext, Researcher } from '../../src/researcher/types.js';
import { Change, isEmptyChange } from '../../src/task/change.js';
import { defaultAssignment } from '../../src/task/space.js';
import { makeContext, randomHistory, runSynthetic, speedrunSpace, summary } from './fixtures.js';
import { createRandom } from '../../src/stats/random.js';

/** Histories of several shapes: baseline only, a few evaluated, pending at the end, an accepted incumbent, 200. */
export function contractHistories(): { label: string; history: ExperimentSummary[] }[] {
  const baselineOnly = [summary(0, { assignment: defaultAssignment(speedrunSpace), outcome: runSynthetic(defaultAssignment(speedrunSpace), createRandom(9)) })];
  const withIncumbent = randomHistory(12, 5, 0).map((experiment, index) => ({ ...experiment, accepted: index === 0 || index === 7 }));
  return [
    { label: 'baseline only', history: baselineOnly },
    { label: '10 evaluated', history: randomHistory(10, 2, 0) },
    { label: '25 with 4 pending', history: randomHistory(25, 3, 4) },
    { label: 'incumbent is not the baseline', history: withIncumbent },
    { label: '200 experiments', history: randomHistory(200, 4) },
  ];
}

function expectWellFormed(proposal: Proposal, context: ResearchContext): void {
  expect(() => Change.parse(proposal.change)).not.toThrow();
  expect(isEmptyChange(proposal.change)).toBe(false);
  expect(context.history.map((experiment) => experiment.id)).toContain(proposal.parentId);
  expect(typeof proposal.description).toBe('string');
  expect(proposal.description.trim().length).toBeGreaterThan(0);
  for (const [name, value] of Object.entries(proposal.change.knobs)) {
    const knob = context.task.space[name];
    expect(knob, `knob "${name}" is not in the space`).toBeDefined();
    expect(isValidKnobValue(knob, value), `${name} = ${String(value)} is not a valid value`).toBe(true);
  }
}

export function researcherContract(label: string, create: (seed: number) => Researcher): void {
  describe(`Researcher contract: ${label}`, () => {
    for (const { label: historyLabel, history } of contractHistories()) {
      it(`proposes a well-formed change (${historyLabel})`, async () => {
        const context = makeContext(history, { budget: history.length + 30 });
        const proposal = await create(1).propose(context);
        if (historyLabel === 'baseline only') expect(proposal).not.toBeNull();
        if (proposal) expectWellFormed(proposal, context);
      });
    }

    it('is deterministic for the same seed and history, across instances and calls', async () => {
      for (const { history } of contractHistories()) {
        const context = makeContext(history, { seed: 42 });
        const first = await create(7).propose(context);
        const again = create(7);
        expect(await again.propose(context)).toEqual(first);
        expect(await again.propose(makeContext(history, { seed: 42 }))).toEqual(first);
      }
    });

    it('leaves the context untouched', async () => {
      const history = randomHistory(30, 6, 2);
      const frozen = deepFreeze(structuredClone(history));
      const context = makeContext(frozen);
      await create(3).propose(context);
      expect(frozen).toEqual(history);
    });

    it('answers within a generous bound on a 200-experiment history (a guard against blow-ups, not a benchmark)', async () => {
      const context = makeContext(randomHistory(200, 8), { budget: 250 });
      const researcher = create(5);
      const started = performance.now();
      await researcher.propose(context);
      expect(performance.now() - started).toBeLessThan(5_000);
    });

    it('rejects when the signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort(new Error('stopped by the test'));
      const context = makeContext(randomHistory(5, 1, 0), { signal: controller.signal });
      await expect(create(1).propose(context)).rejects.toThrow('stopped by the test');
    });
  });
}

function deepFreeze<Value>(value: Value): Value {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
