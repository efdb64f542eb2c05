/**
 * The horizon plot: each agent's per-task success rate against human minutes (log scale) with its fitted
 * logistic curve, as a Vega-Lite spec rendered to SVG. Agents whose fit is degenerate (no success, every run a
 * success, one length) show their points but no curve. Not the report page (see horizon-report.ts).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { AgentHorizon } from './horizon.js';
import { sigmoid } from './logistic-regression.js';
import type { RunRecord } from './records.js';
import { renderSvg } from './render-svg.js';

const curveSamples = 120;

/** Mean success per agent and task, at the task's mean human minutes. */
function taskSuccessRates(records: readonly RunRecord[]): { agent: string; task: string; minutes: number; success: number; runs: number }[] {
  const groups = new Map<string, { agent: string; task: string; minutes: number; success: number; runs: number }>();
  for (const record of records) {
    const key = `${record.agent}\u0000${record.taskId}`;
    const group = groups.get(key) ?? { agent: record.agent, task: record.taskId, minutes: 0, success: 0, runs: 0 };
    group.minutes += record.humanMinutes;
    group.success += record.success;
    group.runs += 1;
    groups.set(key, group);
  }
  return [...groups.values()].map((group) => ({ ...group, minutes: group.minutes / group.runs, success: group.success / group.runs }));
}

export function horizonPlotSpec(records: readonly RunRecord[], horizons: readonly AgentHorizon[], title = 'Success against human task length'): TopLevelSpec {
  const minutes = records.map((record) => record.humanMinutes);
  const low = Math.log2(Math.min(...minutes));
  const high = Math.log2(Math.max(...minutes));
  const curves = horizons
    .filter((horizon) => horizon.status === 'ok')
    .flatMap((horizon) =>
      Array.from({ length: curveSamples }, (_, index) => {
        const log2Minutes = low + ((high - low) * index) / (curveSamples - 1);
        return { agent: horizon.agent, minutes: 2 ** log2Minutes, success: sigmoid(horizon.slope * log2Minutes + horizon.intercept) };
      }),
    );
  const agentOrder = horizons.map((horizon) => horizon.agent);
  // An explicit domain: a "nice" log axis would stretch to the next power of ten and squash the data.
  const x = { field: 'minutes', type: 'quantitative' as const, scale: { type: 'log' as const, domain: [2 ** low, 2 ** high], nice: false }, title: 'Human time (minutes, log scale)' };
  const y = { field: 'success', type: 'quantitative' as const, scale: { domain: [0, 1] }, title: 'Success rate' };
  const color = {
    field: 'agent',
    type: 'nominal' as const,
    sort: agentOrder,
    scale: { scheme: agentOrder.length <= 10 ? 'tableau10' : 'category20' },
    legend: { labelLimit: 320 },
    title: 'Agent',
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 640,
    height: 360,
    layer: [
      { data: { values: taskSuccessRates(records) }, mark: { type: 'circle', opacity: 0.45, size: 30 }, encoding: { x, y, color } },
      { data: { values: curves }, mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y, color } },
      { data: { values: [{ success: 0.5 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { y: { field: 'success', type: 'quantitative' } } },
    ],
  };
}

export async function renderHorizonPlot(records: readonly RunRecord[], horizons: readonly AgentHorizon[]): Promise<string> {
  return renderSvg(horizonPlotSpec(records, horizons));
}
