// Small DOM and formatting helpers shared by the pages. Everything from the journal is set as text, never as HTML:
// descriptions, diffs and logs are written by the researcher and are untrusted.

/** h('div', { class: 'x', onclick: fn }, child, 'text', ...) */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function formatScore(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 100) return value.toFixed(1);
  return value.toPrecision(4);
}

export function formatGain(value) {
  if (value === null || value === undefined) return '–';
  return `${value >= 1000 ? value.toPrecision(3) : value.toFixed(2)}×`;
}

/** Model spend for people: cents from a dollar up, four decimals below (a call costs fractions of a cent). */
export function formatDollars(value) {
  if (value === null || value === undefined) return '–';
  return value >= 1 ? `$${value.toFixed(2)}` : `$${value.toFixed(4)}`;
}

/** `3 calls · 3,000 in + 350 out tokens · $0.0238`, or null when there were none. */
export function describeModel(model) {
  if (!model || model.calls === 0) return null;
  const count = (value) => Math.round(value).toLocaleString('en-US');
  return `${model.calls} call${model.calls === 1 ? '' : 's'} · ${count(model.inputTokens)} in + ${count(model.outputTokens)} out tokens · ${formatDollars(model.dollars)}`;
}

export function formatTime(iso) {
  if (!iso) return '–';
  const date = new Date(iso);
  return date.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function statusBadge(status) {
  return h('span', { class: `badge badge-${status}` }, status);
}

export function outcomeBadge(line) {
  if (line.state === 'awaiting-approval') return h('span', { class: 'badge badge-pending' }, 'awaiting approval');
  if (line.state !== 'finished') return h('span', { class: `badge badge-${line.state}` }, line.state);
  if (line.approval === 'pending') return h('span', { class: 'badge badge-pending' }, 'promotion pending');
  if (line.accepted) return h('span', { class: 'badge badge-accepted' }, 'accepted');
  return h('span', { class: `badge badge-${line.status}` }, line.status);
}

export function progressBar(fraction, text) {
  const percent = fraction === null || fraction === undefined ? null : Math.round(fraction * 100);
  return h('div', { class: 'budget', title: text },
    h('div', { class: 'budget-track' }, h('div', { class: 'budget-fill', style: `width:${percent ?? 0}%` })),
    h('span', { class: 'budget-text' }, percent === null ? text : `${percent}% · ${text}`));
}

export function shortId(id) {
  return id ? id.replace(/^(run|exp)_/, '').slice(0, 8) : '–';
}
