// The experiment drawer: outcome, metrics, the change as a rendered diff (diff2html), the tail of its logs, the
// transcript of the model calls that proposed it (with their tokens and dollars), and
// approve/reject when it waits for a human. Opened by a click in the tree or the pending list (the URL keeps it).
import { getJson, postJson } from './api.js';
import { describeModel, formatDollars, formatScore, formatTime, h, outcomeBadge } from './dom.js';

const drawer = () => document.getElementById('drawer');

function diffView(diff) {
  if (!diff) return h('p', { class: 'muted' }, 'No file changes (a repeat, the baseline, or knobs only).');
  const box = h('div', { class: 'diff', id: 'diff-view' });
  if (window.Diff2Html) {
    // diff2html escapes the diff's text itself; its output is markup built from escaped lines.
    box.innerHTML = window.Diff2Html.html(diff, { drawFileList: false, matching: 'lines', outputFormat: 'line-by-line' });
  } else {
    box.append(h('pre', {}, diff));
  }
  return box;
}

function metricsTable(metrics) {
  const entries = Object.entries(metrics ?? {});
  if (entries.length === 0) return h('p', { class: 'muted' }, 'No metrics.');
  return h('table', { class: 'table compact' }, h('tbody', {}, entries.map(([name, value]) =>
    h('tr', {}, h('td', { class: 'mono' }, name), h('td', { class: 'num' }, typeof value === 'number' ? formatScore(value) : String(value))))));
}

function logView(name, log) {
  if (!log) return null;
  return h('details', { class: 'log', open: name === 'stderr' && log.text.trim().length > 0 },
    h('summary', {}, `${name}${log.truncated ? ' (last 32 KB)' : ''}`), h('pre', {}, log.text || '(empty)'));
}

const asText = (value) => (typeof value === 'string' ? value : JSON.stringify(value));
const clip = (text, limit = 4000) => (text.length > limit ? `${text.slice(0, limit)} … (${text.length - limit} more characters)` : text);

/** One message of the AI SDK's shape ({role, content: text | parts}) as rows: text, tool calls, tool results. */
function messageRows(message) {
  const role = message?.role ?? '?';
  const parts = typeof message?.content === 'string' ? [{ type: 'text', text: message.content }] : Array.isArray(message?.content) ? message.content : [];
  return parts.map((part) => {
    if (part.type === 'text' || part.type === 'reasoning') return h('div', { class: `message role-${role}` }, h('span', { class: 'message-role' }, part.type === 'reasoning' ? `${role} (reasoning)` : role), h('pre', {}, clip(asText(part.text))));
    if (part.type === 'tool-call') return h('div', { class: 'message tool-call' }, h('span', { class: 'message-role' }, `${role} → ${asText(part.toolName)}`), h('pre', {}, clip(asText(part.input))));
    if (part.type === 'tool-result') return h('div', { class: 'message tool-result' }, h('span', { class: 'message-role' }, `← ${asText(part.toolName)}`), h('pre', {}, clip(asText(part.output?.value ?? part.output))));
    return h('div', { class: 'message' }, h('span', { class: 'message-role' }, role), `[${asText(part.type)}]`);
  });
}

/** The model calls that proposed the experiment, fetched when the section is opened (they can be long). */
function transcriptView(experimentId, model) {
  const summary = describeModel(model);
  if (!summary) return h('p', { class: 'muted' }, 'No model calls (not proposed by a model researcher).');
  const body = h('div', { class: 'transcript', id: 'transcript' }, h('p', { class: 'muted' }, 'Loading…'));
  let loaded = false;
  return h('details', { class: 'log', ontoggle: async (event) => {
    if (!event.target.open || loaded) return;
    loaded = true;
    try {
      const { calls } = await getJson(`/api/experiments/${experimentId}/calls`);
      body.replaceChildren(...calls.map(({ id, at, call }, index) => h('div', { class: 'call' },
        h('div', { class: 'call-head mono small-text' }, `call ${index + 1} · ${call.model ?? '?'} · step ${call.step ?? '?'} · ${(call.usage?.inputTokens ?? 0).toLocaleString('en-US')} in + ${(call.usage?.outputTokens ?? 0).toLocaleString('en-US')} out · ${formatDollars(call.costDollars ?? 0)} · ${formatTime(at)} · event ${id}`),
        ...(call.prompt ?? []).flatMap(messageRows),
        h('div', { class: 'muted small-text' }, 'response'),
        ...(call.response ?? []).flatMap(messageRows))));
    } catch (error) {
      body.replaceChildren(h('p', {}, String(error.message)));
    }
  } }, h('summary', {}, `Transcript: ${summary}`), body);
}

export async function openExperiment(experimentId, runId, act) {
  const panel = drawer();
  if (!experimentId) {
    panel.hidden = true;
    panel.replaceChildren();
    return;
  }
  panel.hidden = false;
  panel.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  let detail;
  try {
    detail = await getJson(`/api/experiments/${experimentId}`);
  } catch (error) {
    panel.replaceChildren(h('p', {}, String(error.message)));
    return;
  }
  const { experiment, parent, logs, metrics, model, artifacts } = detail;
  const seed = typeof experiment.metadata.seed === 'number' ? ` · harness seed ${experiment.metadata.seed}` : '';
  const artifactsLine = !artifacts || artifacts.state === 'none' ? `artifacts: none${seed}`
    : artifacts.state === 'pruned' ? `artifacts: pruned ${formatTime(artifacts.prunedAt)} (retention keeps the incumbent's, the accepted and the latest)${seed}`
    : `artifacts: ${artifacts.path}${seed}`;
  const outcome = experiment.outcome;
  const line = { state: experiment.state, status: outcome?.status ?? null, accepted: experiment.accepted, approval: experiment.metadata.approval ?? null };
  const waiting = experiment.state === 'awaiting-approval' || experiment.metadata.approval === 'pending';
  const reason = h('input', { class: 'input', placeholder: 'reason to reject', 'aria-label': 'reason to reject' });
  const close = () => { location.hash = `#/runs/${runId}`; };
  panel.replaceChildren(
    h('div', { class: 'drawer-head' },
      h('div', {}, h('div', { class: 'muted mono' }, `#${experiment.seq} · ${experiment.role} · ${experiment.id}`), h('h2', {}, experiment.description)),
      h('button', { class: 'button small', onclick: close, 'aria-label': 'close' }, '✕')),
    h('div', { class: 'drawer-meta' }, outcomeBadge(line),
      outcome && 'score' in outcome ? h('span', { class: 'strong' }, ` ${formatScore(outcome.score)}`) : '',
      outcome && 'reason' in outcome ? h('span', { class: 'muted' }, ` ${outcome.reason}`) : '',
      parent ? h('span', { class: 'muted' }, ' · parent ', h('a', { href: `#/runs/${parent.runId}/experiments/${parent.id}` }, `#${parent.seq} ${parent.description}`)) : '',
      h('div', { class: 'muted small-text' }, `proposed ${formatTime(experiment.proposedAt)} · started ${formatTime(experiment.startedAt)} · finished ${formatTime(experiment.finishedAt)}`)),
    waiting ? h('div', { class: 'pending-row attention' }, reason,
      h('button', { class: 'button', onclick: () => act(() => postJson(`/api/experiments/${experiment.id}/reject`, { why: reason.value })).then(() => openExperiment(experimentId, runId, act)) }, 'Reject'),
      h('button', { class: 'button primary', id: 'approve-selected', onclick: () => act(() => postJson(`/api/experiments/${experiment.id}/approve`, {})).then(() => openExperiment(experimentId, runId, act)) }, 'Approve')) : null,
    h('h3', {}, 'Change'), diffView(experiment.diff),
    Object.keys(experiment.change.knobs).length ? h('p', { class: 'mono small-text' }, `knobs: ${JSON.stringify(experiment.change.knobs)}`) : null,
    h('h3', {}, 'Metrics'), metricsTable(metrics),
    h('p', { class: 'muted small-text mono', id: 'artifacts-line' }, artifactsLine),
    h('h3', {}, 'Model calls'), transcriptView(experiment.id, model),
    h('h3', {}, 'Logs'), logView('stdout', logs.stdout) ?? h('p', { class: 'muted' }, 'No logs recorded.'), logView('stderr', logs.stderr),
    experiment.metadata.gate ? h('div', {}, h('h3', {}, 'Gate'), h('pre', { class: 'small-text' }, JSON.stringify(experiment.metadata.gate, null, 2))) : null);
}
