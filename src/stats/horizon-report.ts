/**
 * The horizon report: one self-contained HTML file (inline SVG, inline CSS, no scripts, no network) with the
 * per-agent table, the plot and the settings that produced them. Takes finished results; computes nothing.
 */
import type { AgentHorizon, HorizonOptions } from './horizon.js';
import { formatInterval, formatMinutes } from './format.js';

export interface HorizonReportInput {
  source: string;
  horizons: readonly AgentHorizon[];
  options: HorizonOptions;
  /** The plot from plot-horizon.ts. */
  svg: string;
  generatedAt?: Date;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

const formatParameter = (value: number): string => (Number.isFinite(value) ? value.toFixed(3) : value === Number.NEGATIVE_INFINITY ? '-inf' : '—');

export function renderHorizonReport(input: HorizonReportInput): string {
  const rows = input.horizons
    .map(
      (horizon) => `<tr><td>${escapeHtml(horizon.agent)}</td><td>${horizon.runs}</td><td>${horizon.tasks}</td>` +
        `<td>${(100 * horizon.successRate).toFixed(1)}%</td>` +
        `<td>${formatMinutes(horizon.p50Minutes)}</td><td>${formatInterval(horizon.p50Ci95)}</td>` +
        `<td>${formatMinutes(horizon.p80Minutes)}</td><td>${formatInterval(horizon.p80Ci95)}</td>` +
        `<td>${formatParameter(horizon.slope)}</td><td>${formatParameter(horizon.intercept)}</td>` +
        `<td>${escapeHtml(horizon.note ?? '')}</td></tr>`,
    )
    .join('\n');
  const { weighting, inverseRegularization, bootstrapCount, seed } = input.options;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Time horizons — ${escapeHtml(input.source)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: right; }
th:first-child, td:first-child, td:last-child { text-align: left; }
.settings { color: #555; font-size: 0.9rem; }
</style>
</head>
<body>
<h1>Time horizons</h1>
<p class="settings">Runs: ${escapeHtml(input.source)} · weighting: ${weighting} · C = ${inverseRegularization} ·
bootstrap: ${bootstrapCount} hierarchical resamples (families, tasks, runs), seed ${seed} ·
generated ${(input.generatedAt ?? new Date()).toISOString()}</p>
<p class="settings">Logistic regression of success on log2(human minutes), L2 penalty on the slope only;
the p-horizon is 2^((logit(p) − intercept) / slope). Intervals are 95% percentile intervals.</p>
<table>
<thead><tr><th>agent</th><th>runs</th><th>tasks</th><th>weighted success</th><th>p50</th><th>p50 95% CI</th><th>p80</th><th>p80 95% CI</th><th>slope</th><th>intercept</th><th>note</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<figure>
${input.svg}
</figure>
</body>
</html>
`;
}
