/**
 * The llm researcher's pure parts: AIDE-style node choice, the bounded history, Retry-After parsing, prices.
 */
import { describe, expect, it } from 'vitest';
import { UsageMeter, pricesFor } from '../../src/researcher/llm/budget.js';
import { summariseHistory } from '../../src/researcher/llm/history.js';
import { retryAfterMs } from '../../src/researcher/llm/retry.js';
import { chooseNode } from '../../src/researcher/llm/strategy.js';
import type { ExperimentSummary, ResearchContext } from '../../src/researcher/types.js';
import { ExperimentId } from '../../src/task/ids.js';
import type { Outcome } from '../../src/task/outcome.js';

const id = (index: number) => ExperimentId.parse(`exp_${String(index).padStart(8, '0')}`);
const node = (index: number, parent: number | null, outcome: Outcome, role: ExperimentSummary['role'] = 'candidate', accepted = false): ExperimentSummary => ({
  id: id(index), parentId: parent === null ? null : id(parent), role, description: `idea ${index}`, change: { knobs: {}, edits: [] }, assignment: {}, outcome, accepted,
});
const ok = (score: number): Outcome => ({ status: 'ok', score, metrics: {} });
const crash: Outcome = { status: 'failed', reason: 'exited with code 1: TypeError', metrics: {} };

function context(history: ExperimentSummary[], seed = 1): ResearchContext {
  const incumbent = [...history].reverse().find((experiment) => experiment.accepted) ?? history[0];
  return {
    task: { name: 't', instructions: 'i', metric: { name: 'seconds', direction: 'minimize' }, space: {} },
    history, incumbent, budget: { fractionUsed: 0, experimentsLeft: null, secondsLeft: null }, seed, signal: new AbortController().signal,
  };
}

describe('chooseNode', () => {
  it('drafts first, then improves the incumbent', () => {
    expect(chooseNode(context([node(0, null, ok(10), 'baseline')])).mode).toBe('draft');
    const choice = chooseNode(context([node(0, null, ok(10), 'baseline'), node(1, 0, ok(9))]));
    expect(choice).toMatchObject({ mode: 'improve', parent: { id: id(0) } });
  });

  it('debugs the newest failure on top of it, a bounded number of times', () => {
    const history = [node(0, null, ok(10), 'baseline'), node(1, 0, crash)];
    expect(chooseNode(context(history))).toMatchObject({ mode: 'debug', parent: { id: id(1) }, failed: { id: id(1) } });
    const chain = [...history, node(2, 1, crash), node(3, 2, crash), node(4, 3, crash)];
    expect(chooseNode(context(chain), { maxDebugDepth: 3, draftProbability: 0 }).mode).toBe('improve');
  });

  it('debugs a change that did not apply from its parent', () => {
    const unapplied: Outcome = { status: 'failed', reason: 'change did not apply: the search text was not found', metrics: {} };
    expect(chooseNode(context([node(0, null, ok(10), 'baseline'), node(1, 0, unapplied)]))).toMatchObject({ mode: 'debug', parent: { id: id(0) } });
  });

  it('drafts from the baseline now and then once something was accepted', () => {
    const history = [node(0, null, ok(10), 'baseline'), node(1, 0, ok(5), 'candidate', true)];
    const modes = Array.from({ length: 200 }, (_, seed) => chooseNode(context(history, seed)).mode);
    const drafts = modes.filter((mode) => mode === 'draft').length;
    expect(drafts).toBeGreaterThan(10);
    expect(drafts).toBeLessThan(60);
  });
});

it('keeps the history summary bounded however long the run', () => {
  const long = [node(0, null, ok(100), 'baseline'), ...Array.from({ length: 500 }, (_, index) => node(index + 1, 0, index % 3 === 0 ? crash : ok(50 + (index % 40))))];
  const short = summariseHistory(context(long.slice(0, 30)));
  const text = summariseHistory(context(long));
  expect(text.length).toBeLessThan(short.length * 1.5);
  expect(text).toContain('491 older not shown');
  expect(text).toContain('score 50');
});

it('reads Retry-After in seconds, as a date, and retry-after-ms', () => {
  expect(retryAfterMs({ 'retry-after': '2' })).toBe(2000);
  expect(retryAfterMs({ 'Retry-After-Ms': '150' })).toBe(150);
  expect(retryAfterMs({ 'retry-after': new Date(10_000).toUTCString() }, 4000)).toBe(6000);
  expect(retryAfterMs({})).toBeNull();
});

it('prices calls by the table (a dated id takes its model\'s price) and stops at the budget', () => {
  expect(pricesFor('openai:gpt-4.1-mini-2025-04-14')).toEqual({ inputPerMillion: 0.4, outputPerMillion: 1.6 });
  expect(pricesFor('ollama:qwen2.5-coder:7b')).toEqual({ inputPerMillion: 0, outputPerMillion: 0 });
  expect(pricesFor('compatible:x')).toBeNull();
  const meter = new UsageMeter({ maxTokens: null, maxDollars: 0.01 }, { inputPerMillion: 1000, outputPerMillion: 0 });
  expect(meter.add({ inputTokens: 5, outputTokens: 0 })).toBeCloseTo(0.005, 12);
  expect(meter.spent()).toBeNull();
  meter.add({ inputTokens: 5, outputTokens: 0 });
  expect(meter.spent()).toMatch(/dollar budget spent/);
});
