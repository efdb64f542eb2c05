// The benchmark page: the normalised-score table (researcher x task, from `successor bench` results in the
// journal) and the time-horizon curves, drawn on the server by src/stats as SVG. An empty state says how to fill it.
import { getJson } from './api.js';
import { formatScore, h } from './dom.js';

const mean = (values) => (values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : null);

export async function renderBenchPage(page) {
  const body = await getJson('/api/bench');
  const head = h('div', { class: 'page-head' }, h('h1', {}, 'Benchmark'),
    body.results?.suite ? h('span', { class: 'muted' }, `suite ${body.results.suite}${body.results.createdAt ? ` · ${body.results.createdAt}` : ''}`) : null);
  if (!body.results) {
    page.replaceChildren(head, h('div', { class: 'empty', id: 'bench-empty' }, h('h2', {}, 'No benchmark results'), h('p', {}, body.hint)));
    return () => {};
  }
  const rows = body.results.rows;
  const researchers = [...new Set(rows.map((row) => row.researcher))];
  const tasks = [...new Set(rows.map((row) => row.task))];
  const cell = (researcher, task) => {
    const scores = rows.filter((row) => row.researcher === researcher && row.task === task && row.normalisedScore !== null).map((row) => row.normalisedScore);
    return mean(scores);
  };
  const table = h('table', { class: 'table', id: 'bench-table' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Researcher'), tasks.map((task) => h('th', { class: 'num' }, task)), h('th', { class: 'num' }, 'Mean'))),
    h('tbody', {}, researchers.map((researcher) => {
      const values = tasks.map((task) => cell(researcher, task));
      const shown = values.filter((value) => value !== null);
      return h('tr', {}, h('td', { class: 'strong' }, researcher), values.map((value) => h('td', { class: 'num' }, formatScore(value))), h('td', { class: 'num strong' }, formatScore(mean(shown))));
    })));
  const plot = h('div', { class: 'horizon' });
  // The SVG is drawn by vega on the server from our own spec; task and agent names in it are escaped by vega.
  if (body.horizonSvg) plot.innerHTML = body.horizonSvg;
  page.replaceChildren(head,
    h('div', { class: 'card' }, h('h2', {}, 'Normalised score'), h('p', { class: 'muted' }, 'Mean normalised score per researcher and task, as successor bench computed it.'), table),
    h('div', { class: 'card' }, h('h2', {}, 'Time horizons'), body.horizonSvg ? plot : h('p', { class: 'muted' }, 'Not enough results for a fit.')));
  return () => {};
}
