// The runs list: status, task, researcher, best score, gain (speedup for seconds), budget used, model spend, and the lineage of
// generations (a run adopted from another is drawn under it).
import { getJson } from './api.js';
import { describeModel, formatDollars, formatGain, formatScore, formatTime, h, progressBar, shortId, statusBadge } from './dom.js';

/** Orders runs so each generation follows its parent, and returns each run's depth in its chain. */
function byLineage(runs) {
  const ids = new Set(runs.map((run) => run.id));
  const children = new Map();
  for (const run of runs) {
    const parent = run.parentRunId && ids.has(run.parentRunId) ? run.parentRunId : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(run);
  }
  const ordered = [];
  const visit = (run, depth) => {
    ordered.push({ run, depth });
    for (const child of (children.get(run.id) ?? []).sort((a, b) => a.createdAt.localeCompare(b.createdAt))) visit(child, depth + 1);
  };
  for (const root of children.get(null) ?? []) visit(root, 0);
  return ordered;
}

function draw(page, runs) {
  if (runs.length === 0) {
    page.replaceChildren(h('div', { class: 'empty' },
      h('h2', {}, 'No runs yet'),
      h('p', {}, 'Start one with ', h('code', {}, 'successor research --task NAME'), '; it appears here as soon as it begins.')));
    return;
  }
  const rows = byLineage(runs).map(({ run, depth }) => h('tr', { class: 'clickable', onclick: () => { location.hash = `#/runs/${run.id}`; } },
    h('td', {}, h('a', { href: `#/runs/${run.id}`, class: 'mono' }, depth > 0 ? `${'\u00a0\u00a0'.repeat(depth - 1)}↳ ` : '', shortId(run.id))),
    h('td', {}, statusBadge(run.status)),
    h('td', {}, run.task),
    h('td', {}, run.researcher),
    h('td', { class: 'num' }, run.generation),
    h('td', { class: 'num' }, `${run.experiments}`, run.pending ? h('span', { class: 'badge badge-pending small' }, `${run.pending} pending`) : ''),
    h('td', { class: 'num' }, formatScore(run.bestScore), h('span', { class: 'unit' }, ` ${run.metric}`)),
    h('td', { class: 'num strong' }, formatGain(run.gain)),
    h('td', {}, progressBar(run.budget.fraction, run.budget.text)),
    h('td', { class: 'num', title: describeModel(run.model) ?? 'no model calls' }, run.model?.calls ? formatDollars(run.model.dollars) : '–'),
    h('td', { class: 'muted' }, formatTime(run.createdAt))));
  page.replaceChildren(
    h('div', { class: 'page-head' }, h('h1', {}, 'Runs'), h('span', { class: 'muted' }, `${runs.length} in the journal · gain is speedup when the metric is seconds`)),
    h('div', { class: 'card' }, h('table', { class: 'table', id: 'runs-table' },
      h('thead', {}, h('tr', {}, ...['Run', 'Status', 'Task', 'Researcher', 'Gen', 'Experiments', 'Best', 'Gain', 'Budget used', 'Model $', 'Started'].map((title) => h('th', {}, title)))),
      h('tbody', {}, rows))));
}

export async function renderRunsPage(page) {
  let last = (await getJson('/api/runs')).runs;
  draw(page, last);
  // The list is small: a refresh every few seconds keeps statuses current without a stream per run.
  const timer = setInterval(async () => {
    if (document.hidden) return;
    const fresh = await getJson('/api/runs').catch(() => null);
    if (fresh && JSON.stringify(fresh.runs) !== JSON.stringify(last)) {
      last = fresh.runs;
      draw(page, last);
    }
  }, 3000);
  return () => clearInterval(timer);
}
