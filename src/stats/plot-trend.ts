/**
 * The trend plot: each model's horizon against its release date (log scale), the least-squares line extended
 * to the forecast, and the target horizon as a dashed rule. A Vega-Lite spec rendered to SVG. No statistics
 * here beyond evaluating the fitted line.
 */
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg } from './render-svg.js';
import { dateOfDay, dayOf, type TrendResult } from './trend.js';
import type { TrendPoint } from './trend-points.js';

/** The line is drawn up to the forecast, but never more than this many days past the last point. */
const maxExtensionDays = 10 * 365;

export function trendPlotSpec(points: readonly TrendPoint[], trend: TrendResult, title = '50% time horizon against release date'): TopLevelSpec {
  const days = points.map((point) => dayOf(point.releaseDate));
  const first = Math.min(...days);
  const last = Math.max(...days);
  const end = Number.isFinite(trend.forecastDay) ? Math.min(Math.max(trend.forecastDay, last), last + maxExtensionDays) : last;
  const lineAt = (day: number) => ({ date: dateOfDay(day), minutes: Math.exp(trend.interceptLnMinutes + trend.slopePerDay * day) });
  const x = { field: 'date', type: 'temporal', scale: { type: 'utc' }, axis: { format: '%Y', tickCount: 'year' }, title: 'Release date' } as const;
  const y = { field: 'minutes', type: 'quantitative', scale: { type: 'log' }, title: 'Horizon (minutes, log scale)' } as const;
  const forecast = dateOfDay(trend.forecastDay);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 640,
    height: 360,
    layer: [
      { data: { values: [lineAt(first), lineAt(end)] }, mark: { type: 'line', color: '#4c78a8' }, encoding: { x, y } },
      {
        data: { values: [{ minutes: trend.targetMinutes, label: `target ${(trend.targetMinutes / 60).toFixed(0)} h` }] },
        layer: [
          { mark: { type: 'rule', strokeDash: [4, 4], color: '#e45756' }, encoding: { y: { field: 'minutes', type: 'quantitative' } } },
          { mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: '#e45756' }, encoding: { y: { field: 'minutes', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } } },
        ],
      },
      {
        data: { values: points.map((point) => ({ date: point.releaseDate, minutes: point.horizonMinutes, agent: point.agent })) },
        layer: [
          { mark: { type: 'point', filled: true, size: 60, color: '#333' }, encoding: { x, y, tooltip: [{ field: 'agent' }, { field: 'minutes' }] } },
          { mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 10 }, encoding: { x, y, text: { field: 'agent' } } },
        ],
      },
      ...(forecast && trend.forecastDay <= last + maxExtensionDays
        ? [{ data: { values: [{ date: forecast, minutes: trend.targetMinutes, label: `forecast ${forecast}` }] }, layer: [
            { mark: { type: 'point' as const, shape: 'diamond', size: 90, color: '#e45756', filled: true }, encoding: { x, y } },
            { mark: { type: 'text' as const, align: 'right' as const, dx: -8, dy: 14, color: '#e45756' }, encoding: { x, y, text: { field: 'label' } } },
          ] }]
        : []),
    ],
  } as TopLevelSpec;
}

export async function renderTrendPlot(points: readonly TrendPoint[], trend: TrendResult): Promise<string> {
  return renderSvg(trendPlotSpec(points, trend));
}
