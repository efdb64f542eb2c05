// One run: summary cards, generations, pending approvals, the live score chart, the experiment tree (a page of
// rows at a time, so a 10,000-experiment run stays light), journal events, stop, and the audit log's status.
// Live through one EventSource; a click on a row opens the experiment drawer.
import { ApiError, getJson, postJson } from './api.js';
import { describeModel, formatDollars, formatGain, formatScore, formatTime, h, outcomeBadge, progressBar, shortId, statusBadge } from './dom.js';
import { openExperiment } from './experiment-panel.js';
import { ScoreChart } from './score-chart.js';

const PAGE_SIZE = 50;

/** The chart kind of a line; the same rule as pointKind() in src/ui/run-model.ts. */
const kindOf = (line) => (line.status !== 'ok' && line.status !== 'suspect' ? 4 : line.role === 'baseline' ? 0 : line.role !== 'candidate' ? 3 : line.accepted ? 1 : 2);

export async function renderRunPage(page, runId, selectedId) {
  const detail = await getJson(`/api/runs/${runId}`);
  const state = { run: detail.run, pending: new Map(detail.pending.map((item) => [item.id, item])), events: detail.events, offset: 0, order: 'tree', audit: detail.audit };
  const slots = {
    header: h('div', { class: 'page-head' }), cards: h('div', { class: 'cards' }), lineage: h('div'), pending: h('div'),
    tree: h('div', { class: 'card' }), events: h('div', { class: 'card' }),
  };
  const chartBox = h('div', { class: 'chart', id: 'score-chart' });
  page.replaceChildren(slots.header, slots.cards, slots.lineage, slots.pending,
    h('div', { class: 'card' }, h('h2', {}, 'Score over time'), chartBox),
    slots.tree, slots.events);
  const chart = new ScoreChart(chartBox, { metric: detail.run.metric, direction: detail.run.direction });
  chart.setAll(detail.points);

  const drawHeader = () => {
    const { run } = state;
    const stop = run.status === 'running'
      ? h('button', { class: 'button danger', id: 'stop-run', onclick: async () => {
        if (!confirm('Stop this run? It stays resumable.')) return;
        await act(() => postJson(`/api/runs/${runId}/stop`, {}));
      } }, 'Stop run') : null;
    slots.header.replaceChildren(
      h('div', {}, h('a', { href: '#/', class: 'muted back' }, '← Runs'),
        h('h1', {}, run.task, h('span', { class: 'muted light' }, ` · ${run.researcher} · `), h('span', { class: 'mono light' }, run.id))),
      h('div', { class: 'head-actions' }, auditBadge(state.audit), statusBadge(run.status), stop));
    const best = run.bestDescription && run.bestExperimentId ? h('a', { href: `#/runs/${runId}/experiments/${run.bestExperimentId}` }, run.bestDescription) : '–';
    slots.cards.replaceChildren(
      card('Best', formatScore(run.bestScore), run.metric, best),
      card('Baseline', formatScore(run.baselineScore), run.metric, 'mean of its runs'),
      card(run.isSpeedup ? 'Speedup' : 'Gain', formatGain(run.gain), '', run.gainCi95 ? `95% CI ${run.gainCi95.map((value) => value.toFixed(2)).join('–')}` : run.status === 'running' ? 'so far (no CI until the run ends)' : ''),
      card('Experiments', String(run.experiments), '', `${run.candidates} candidates · ${run.accepted} accepted · ${run.failed} failed`),
      h('div', { class: 'stat' }, h('div', { class: 'stat-label' }, 'Budget used'), progressBar(run.budget.fraction, run.budget.text),
        h('div', { class: 'stat-note' }, run.stopReason ?? `generation ${run.generation}`)),
      run.model?.calls ? card('Model spend', formatDollars(run.model.dollars), '', describeModel(run.model)) : null);
  };

  const drawLineage = () => {
    if (detail.lineage.length < 2) return slots.lineage.replaceChildren();
    slots.lineage.replaceChildren(h('div', { class: 'card' }, h('h2', {}, 'Generations'), h('div', { class: 'lineage' },
      detail.lineage.flatMap((run, index) => [
        index > 0 ? h('span', { class: 'arrow' }, '→') : null,
        h('a', { class: `chip ${run.id === runId ? 'current' : ''}`, href: `#/runs/${run.id}` },
          h('b', {}, `gen ${run.generation}`), ` ${shortId(run.id)} · best ${formatScore(run.bestScore)} · ${formatGain(run.gain)}`),
      ]))));
  };

  const drawPending = () => {
    const items = [...state.pending.values()].sort((a, b) => a.seq - b.seq);
    if (items.length === 0) return slots.pending.replaceChildren();
    slots.pending.replaceChildren(h('div', { class: 'card attention', id: 'pending' }, h('h2', {}, `Waiting for you (${items.length})`),
      ...items.map((item) => {
        const reason = h('input', { class: 'input', placeholder: 'reason to reject', 'aria-label': 'reason to reject' });
        return h('div', { class: 'pending-row', dataset: { id: item.id } },
          h('span', { class: 'mono' }, `#${item.seq}`),
          h('a', { href: `#/runs/${runId}/experiments/${item.id}` }, item.description),
          h('span', { class: 'muted' }, item.kind === 'run' ? 'wants to run' : 'wants to become the incumbent'),
          h('span', { class: 'spacer' }),
          reason,
          h('button', { class: 'button', onclick: () => act(() => postJson(`/api/experiments/${item.id}/reject`, { why: reason.value })) }, 'Reject'),
          h('button', { class: 'button primary', onclick: () => act(() => postJson(`/api/experiments/${item.id}/approve`, {})) }, 'Approve'));
      })));
  };

  let treeTimer = null;
  const drawTree = async () => {
    const pageData = await getJson(`/api/runs/${runId}/experiments?offset=${state.offset}&limit=${PAGE_SIZE}&order=${state.order}`);
    const last = Math.max(0, Math.ceil(pageData.total / PAGE_SIZE) - 1);
    const go = (offset) => { state.offset = Math.min(Math.max(0, offset), last * PAGE_SIZE); drawTree(); };
    const rows = pageData.rows.map((row) => h('tr', { class: `clickable ${row.id === selected ? 'selected' : ''}`, dataset: { id: row.id },
      onclick: () => { location.hash = `#/runs/${runId}/experiments/${row.id}`; } },
      h('td', { class: 'mono num' }, `#${row.seq}`),
      h('td', {}, h('span', { class: 'tree-indent', style: `width:${Math.min(row.depth, 12) * 14}px` }), row.depth > 0 ? h('span', { class: 'tree-link' }, '└ ') : '',
        h('span', { class: `role role-${row.role}` }, row.role), ' ', row.description),
      h('td', { class: 'mono muted' }, row.parentSeq ? `#${row.parentSeq}` : '–'),
      h('td', {}, outcomeBadge(row)),
      h('td', { class: 'num' }, formatScore(row.score))));
    slots.tree.replaceChildren(
      h('div', { class: 'card-head' }, h('h2', {}, 'Experiments'),
        h('div', { class: 'segmented' },
          h('button', { class: state.order === 'tree' ? 'on' : '', onclick: () => { state.order = 'tree'; go(0); } }, 'Tree'),
          h('button', { class: state.order === 'seq' ? 'on' : '', onclick: () => { state.order = 'seq'; go(0); } }, 'By time'))),
      h('table', { class: 'table', id: 'experiments-table' },
        h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Change (indented under its parent)'), h('th', {}, 'Parent'), h('th', {}, 'Outcome'), h('th', { class: 'num' }, detail.run.metric))),
        h('tbody', {}, rows)),
      h('div', { class: 'pager' },
        h('button', { class: 'button small', disabled: state.offset === 0, onclick: () => go(0) }, '« First'),
        h('button', { class: 'button small', disabled: state.offset === 0, onclick: () => go(state.offset - PAGE_SIZE) }, '‹ Prev'),
        h('span', { class: 'muted' }, `${pageData.total ? state.offset + 1 : 0}–${state.offset + pageData.rows.length} of ${pageData.total}`),
        h('button', { class: 'button small', disabled: state.offset >= last * PAGE_SIZE, onclick: () => go(state.offset + PAGE_SIZE) }, 'Next ›'),
        h('button', { class: 'button small', disabled: state.offset >= last * PAGE_SIZE, onclick: () => go(last * PAGE_SIZE) }, 'Last »')));
  };
  const refreshTreeSoon = () => {
    clearTimeout(treeTimer);
    treeTimer = setTimeout(() => drawTree().catch(() => {}), 250);
  };

  const drawEvents = () => {
    const items = state.events.slice(-30).reverse().map((event) => h('li', {},
      h('span', { class: 'muted mono' }, formatTime(event.at)), ' ', h('b', {}, event.type), ' ', describeEvent(event)));
    slots.events.replaceChildren(h('h2', {}, 'Journal events'), items.length ? h('ul', { class: 'events', id: 'events' }, items) : h('p', { class: 'muted' }, 'none yet'));
  };

  const act = async (request) => {
    try {
      await request();
    } catch (error) {
      alert(error instanceof ApiError ? error.message : String(error));
    }
  };

  // Live updates.
  const connection = document.getElementById('connection');
  const source = new EventSource(`/api/runs/${runId}/events?auditSeq=${detail.auditSeq}&lastEventId=${detail.lastEventId}`);
  source.addEventListener('ready', () => { connection.textContent = '● live'; connection.className = 'connection live'; });
  source.addEventListener('error', () => { connection.textContent = '○ reconnecting'; connection.className = 'connection'; });
  source.addEventListener('update', (message) => {
    const update = JSON.parse(message.data);
    const statusBefore = state.run.status;
    state.run = update.run;
    for (const line of update.experiments) {
      if (line.state === 'awaiting-approval' || line.approval === 'pending') {
        state.pending.set(line.id, { id: line.id, seq: line.seq, description: line.description, kind: line.state === 'awaiting-approval' ? 'run' : 'promotion' });
      } else {
        state.pending.delete(line.id);
      }
    }
    chart.upsert(update.experiments, kindOf);
    state.events.push(...update.events);
    drawHeader();
    drawPending();
    drawEvents();
    if (update.experiments.length) refreshTreeSoon();
    if (statusBefore !== state.run.status || update.experiments.length) pollAudit();
  });

  // The audit check runs in a worker on the server; ask again until it has caught up with the journal.
  let auditTimer = null;
  const pollAudit = () => {
    clearTimeout(auditTimer);
    auditTimer = setTimeout(async () => {
      state.audit = await getJson(`/api/runs/${runId}/audit`).catch(() => state.audit);
      drawHeader();
      if (state.audit.state === 'checking' || state.audit.stale) pollAudit();
    }, 1500);
  };

  let selected = null;
  const select = (experimentId) => {
    selected = experimentId;
    for (const row of document.querySelectorAll('#experiments-table tr.selected')) row.classList.remove('selected');
    if (experimentId) document.querySelector(`#experiments-table tr[data-id="${experimentId}"]`)?.classList.add('selected');
    openExperiment(experimentId, runId, act);
  };
  window.__runPage = { runId, select };

  drawHeader();
  drawLineage();
  drawPending();
  drawEvents();
  await drawTree();
  if (state.audit.state === 'checking' || state.audit.stale) pollAudit();
  select(selectedId);

  return () => {
    source.close();
    connection.textContent = '';
    clearTimeout(treeTimer);
    clearTimeout(auditTimer);
    chart.destroy();
    openExperiment(null);
    window.__runPage = null;
  };
}

function card(label, value, unit, note) {
  return h('div', { class: 'stat' }, h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value' }, value, unit ? h('span', { class: 'unit' }, ` ${unit}`) : ''), h('div', { class: 'stat-note' }, note));
}

function auditBadge(audit) {
  if (!audit) return null;
  if (audit.state === 'verified') {
    const text = audit.stale ? 'audit verified (re-checking)' : 'audit verified';
    return h('span', { class: 'badge badge-verified', id: 'audit-status', title: `${audit.report.entries} entries · head ${audit.report.headHash.slice(0, 12)}… · up to #${audit.checkedSeq}` }, `✓ ${text}`);
  }
  if (audit.state === 'failed') {
    const bad = audit.report.firstBad;
    return h('span', { class: 'badge badge-failed', id: 'audit-status', title: bad ? `entry ${bad.seq}: ${bad.reason}` : '' }, `✗ audit FAILED${bad ? ` at entry ${bad.seq}` : ''}`);
  }
  if (audit.state === 'error') return h('span', { class: 'badge badge-failed', id: 'audit-status', title: audit.error }, 'audit check error');
  return h('span', { class: 'badge badge-running', id: 'audit-status' }, 'verifying audit…');
}

function describeEvent(event) {
  const payload = event.payload ?? {};
  if (event.type === 'experiment.finished') return `${payload.status}${payload.score !== null && payload.score !== undefined ? ` ${formatScore(payload.score)}` : ''}${payload.claim ? ' · claims a win' : ''}`;
  if (event.type === 'gate') return `${payload.accepted ? 'accepted' : 'not accepted'}: ${payload.detail ?? ''}`;
  if (event.type === 'approval') return `${payload.decision} by ${payload.by}${payload.why ? `: ${payload.why}` : ''}`;
  if (event.type === 'stop.requested') return payload.reason ?? '';
  const text = JSON.stringify(payload);
  return text === '{}' ? '' : text.slice(0, 160);
}
