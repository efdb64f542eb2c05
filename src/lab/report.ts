/**
 * The HTML report of a run: the verified result, score over time, the experiment tree, the winning change, and
 * what its model calls cost (in all and per experiment).
 * One self-contained file under `.successor/reports/`. Charts are Vega-Lite specs rendered to SVG in Node.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { type ExperimentRow, type Journal, type ModelUsage, describeUsage, formatDollars } from '../journal/journal.js';
import { formatNumber } from '../task/format-number.js';
import { renderSvg } from '../stats/render-svg.js';
import type { RunId } from '../task/ids.js';
import { isScored } from '../task/outcome.js';
import { finalSummaryOf } from './summary.js';

const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

type PointKind = 'accepted' | 'baseline' | 'not accepted' | 'repeat/verify' | 'failed';

/** One colour per kind of point, the same in every chart of the report. */
const KIND_COLOURS = { domain: ['baseline', 'accepted', 'not accepted', 'repeat/verify', 'failed'], range: ['#555555', '#2ca02c', '#1f77b4', '#aaaaaa', '#d62728'] };

function kindOf(experiment: ExperimentRow): PointKind {
  if (!experiment.outcome || !isScored(experiment.outcome)) return 'failed';
  if (experiment.role === 'baseline') return 'baseline';
  if (experiment.role !== 'candidate') return 'repeat/verify';
  return experiment.accepted ? 'accepted' : 'not accepted';
}

export function scoreOverTimeSpec(experiments: readonly ExperimentRow[], metric: string): TopLevelSpec {
  const finished = experiments.filter((experiment) => experiment.state === 'finished');
  const scores = finished.flatMap((experiment) => (experiment.outcome && isScored(experiment.outcome) ? [experiment.outcome.score] : []));
  const ceiling = scores.length ? Math.max(...scores) * 1.08 : 1;
  const points = finished.map((experiment) => ({
    seq: experiment.seq,
    score: experiment.outcome && isScored(experiment.outcome) ? experiment.outcome.score : ceiling,
    kind: kindOf(experiment),
    label: `#${experiment.seq} ${experiment.description}: ${experiment.outcome?.status ?? ''}`,
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${metric} by experiment (failures drawn at the top)`,
    width: 640,
    height: 280,
    data: { values: points },
    mark: { type: 'point', filled: true, size: 60 },
    encoding: {
      x: { field: 'seq', type: 'quantitative', title: 'experiment #' },
      y: { field: 'score', type: 'quantitative', title: metric, scale: { zero: false } },
      color: { field: 'kind', type: 'nominal', scale: KIND_COLOURS },
      shape: { field: 'kind', type: 'nominal' },
      tooltip: { field: 'label', type: 'nominal' },
    },
  };
}

export function experimentTreeSpec(experiments: readonly ExperimentRow[]): TopLevelSpec {
  const bySeq = new Map(experiments.map((experiment) => [experiment.id, experiment]));
  const depth = new Map<string, number>();
  const depthOf = (experiment: ExperimentRow): number => {
    const known = depth.get(experiment.id);
    if (known !== undefined) return known;
    const parent = experiment.parentId ? bySeq.get(experiment.parentId) : undefined;
    const value = parent ? depthOf(parent) + 1 : 0;
    depth.set(experiment.id, value);
    return value;
  };
  const nodes = experiments.filter((experiment) => experiment.role === 'baseline' || experiment.role === 'candidate');
  const rows = nodes.map((experiment) => {
    const parent = experiment.parentId ? bySeq.get(experiment.parentId) : undefined;
    return {
      seq: experiment.seq,
      depth: depthOf(experiment),
      parentSeq: parent && parent.runId === experiment.runId ? parent.seq : experiment.seq,
      parentDepth: parent && parent.runId === experiment.runId ? depthOf(parent) : depthOf(experiment),
      kind: kindOf(experiment),
      label: `#${experiment.seq} ${experiment.description}`,
    };
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'experiment tree (each candidate is drawn under its parent)',
    width: 640,
    height: 200,
    data: { values: rows },
    layer: [
      { mark: { type: 'rule', color: '#bbbbbb' }, encoding: { x: { field: 'parentSeq', type: 'quantitative', title: 'experiment #' }, x2: { field: 'seq' }, y: { field: 'parentDepth', type: 'quantitative', title: 'depth', scale: { reverse: true } }, y2: { field: 'depth' } } },
      { mark: { type: 'point', filled: true, size: 70 }, encoding: { x: { field: 'seq', type: 'quantitative' }, y: { field: 'depth', type: 'quantitative' }, color: { field: 'kind', type: 'nominal', scale: KIND_COLOURS }, tooltip: { field: 'label', type: 'nominal' } } },
    ],
  };
}

function experimentTable(experiments: readonly ExperimentRow[], usage: ReadonlyMap<string, ModelUsage>): string {
  const withModel = usage.size > 0;
  const rows = experiments.map((experiment) => {
    const outcome = experiment.outcome;
    const result = !outcome ? experiment.state : isScored(outcome) ? `${outcome.status} ${formatNumber(outcome.score)}` : `${outcome.status}: ${outcome.reason}`;
    const spent = usage.get(experiment.id);
    const model = withModel ? `<td>${spent ? `${spent.calls} calls, ${formatDollars(spent.dollars)}` : ''}</td>` : '';
    return `<tr><td>${experiment.seq}</td><td>${experiment.role}</td><td>${escapeHtml(experiment.description)}</td><td>${escapeHtml(result)}</td><td>${experiment.accepted ? 'yes' : ''}</td>${model}</tr>`;
  });
  return `<table><tr><th>#</th><th>role</th><th>change</th><th>outcome</th><th>accepted</th>${withModel ? '<th>model</th>' : ''}</tr>${rows.join('')}</table>`;
}

export async function writeRunReport(journal: Journal, runId: RunId, stateDirectory: string): Promise<string> {
  const run = journal.getRun(runId);
  if (!run) throw new Error(`no run ${runId}`);
  const summary = finalSummaryOf(run);
  if (!summary) throw new Error(`run ${runId} has no summary yet: its report is written when it ends`);
  const experiments = journal.listExperiments(runId);
  const usage = journal.modelUsage(runId);
  const [scoreSvg, treeSvg] = await Promise.all([renderSvg(scoreOverTimeSpec(experiments, summary.metric)), renderSvg(experimentTreeSpec(experiments))]);
  const gain = summary.gain === null ? '-' : `${summary.gain.toFixed(2)}x${summary.gainCi95 ? ` (95% CI ${summary.gainCi95.map((value) => value.toFixed(2)).join('–')})` : ''}`;
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>Successor run ${runId}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:1000px}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;font-size:13px}pre{background:#f6f6f6;padding:1rem;overflow:auto}</style></head><body>
<h1>Run ${runId}</h1>
<p>Task <b>${escapeHtml(summary.task)}</b>, researcher <b>${escapeHtml(summary.researcher)}</b>, generation ${run.generation}; ${escapeHtml(summary.stopReason)}.</p>
<table>
<tr><th>baseline</th><td>${summary.baselineScore?.toFixed(2) ?? '-'} (${summary.baselineSamples.map((value) => value.toFixed(2)).join(', ')})</td></tr>
<tr><th>best</th><td>${summary.bestScore?.toFixed(2) ?? '-'} (${summary.bestSamples.map((value) => value.toFixed(2)).join(', ')}) — ${escapeHtml(summary.bestDescription)}</td></tr>
<tr><th>${summary.speedup !== undefined ? 'speedup' : 'gain'}</th><td>${gain}</td></tr>
<tr><th>experiments</th><td>${summary.experiments} (${summary.candidates} candidates, ${summary.accepted} accepted)</td></tr>
${summary.timeSpent ? `<tr><th>time</th><td>calibrating ${summary.timeSpent.calibrating.toFixed(0)} s, screening ${summary.timeSpent.screening.toFixed(0)} s, confirming ${summary.timeSpent.confirming.toFixed(0)} s, re-verifying ${summary.timeSpent.reverifying.toFixed(0)} s</td></tr>` : ''}
${usage.total.calls > 0 ? `<tr><th>model</th><td>${escapeHtml(describeUsage(usage.total))}</td></tr>` : ''}
</table>
${[...(summary.demoted ?? []).map((line) => `demoted: ${line}`), ...(summary.notes ?? [])].map((line) => `<p>${escapeHtml(line)}</p>`).join('\n')}
<h2>Score over time</h2>${scoreSvg}
<h2>Experiment tree</h2>${treeSvg}
<h2>Winning change</h2><pre>${escapeHtml(summary.bestChange || '(none: the baseline stands)')}</pre>
<h2>Experiments</h2>${experimentTable(experiments, usage.byExperiment)}
</body></html>`;
  const dir = join(stateDirectory, 'reports');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${runId}.html`);
  writeFileSync(path, html);
  return path;
}
