/**
 * The dashboard's run view applies the lab's own rules to compact lines: the incumbent is the last accepted
 * candidate, repeats and verifications are samples of their parent, and a stale cached sample counts for nothing.
 */
import { describe, expect, it } from 'vitest';
import type { RunRow } from '../../src/journal/journal.js';
import type { ExperimentLine } from '../../src/journal/views.js';
import { incumbentOf } from '../../src/lab/lineage.js';
import { runView } from '../../src/ui/run-model.js';

const line = (id: string, role: ExperimentLine['role'], score: number | null, extra: Partial<ExperimentLine> = {}): ExperimentLine => ({
  id: id as ExperimentLine['id'], seq: Number(id.slice(-2)), parentId: null, role, description: id, state: 'finished', status: score === null ? 'failed' : 'ok',
  score, accepted: false, approval: null, decidedAt: null, stale: false, ...extra,
});

const run: RunRow = {
  id: 'run_000000000001' as RunRow['id'], task: 't', taskDir: '/nowhere', researcher: 'search', options: { budgetSeconds: 60, maxExperiments: 4 },
  status: 'completed', generation: 0, parentRunId: null, stopReason: null, summary: { metric: 'seconds', direction: 'minimize', elapsedSeconds: 30 },
  createdAt: '2026-11-30T00:00:00.000Z', updatedAt: '2026-11-30T00:00:30.000Z',
};

describe('runView', () => {
  const base = 'exp_0000000001' as ExperimentLine['id'];
  const lines = [
    line('exp_0000000001', 'baseline', 10),
    line('exp_0000000002', 'repeat', 100, { parentId: base, stale: true }), // a cached calibration a fresh run contradicted
    line('exp_0000000003', 'repeat', 12, { parentId: base }),
    line('exp_0000000004', 'candidate', 4, { parentId: base, accepted: true, decidedAt: '2026-11-30T00:00:20.000Z' }),
    line('exp_0000000005', 'candidate', 6, { parentId: base, accepted: true, decidedAt: '2026-11-30T00:00:10.000Z' }),
    line('exp_0000000006', 'verify', null, { parentId: 'exp_0000000004' as ExperimentLine['id'] }),
  ];

  it('leaves stale samples and failures out, and takes the latest accepted candidate as the best', () => {
    const view = runView(run, lines);
    expect(view.baselineScore).toBe(11);
    expect(view.bestExperimentId).toBe('exp_0000000004');
    expect(view.bestScore).toBe(4);
    expect(view.gain).toBeCloseTo(11 / 4, 12);
    expect(view).toMatchObject({ experiments: 6, candidates: 2, accepted: 2, failed: 1, budget: { text: '30 of 60 s · 2 of 4 candidates' } });
  });

  it('agrees with the lab on the incumbent', () => {
    const rows = lines.map((item) => ({ ...item, metadata: { decidedAt: item.decidedAt } }));
    expect(incumbentOf(rows as unknown as Parameters<typeof incumbentOf>[0]).id).toBe(runView(run, lines).bestExperimentId);
  });
});
