// The dashboard's entry: a hash router over three pages (runs, one run, benchmark). Each page returns a cleanup
// function that closes its event stream when the user navigates away.
import { renderBenchPage } from './bench-page.js';
import { h } from './dom.js';
import { renderRunPage } from './run-page.js';
import { renderRunsPage } from './runs-page.js';

const page = document.getElementById('page');
let cleanup = null;

async function route() {
  cleanup?.();
  cleanup = null;
  const hash = location.hash.replace(/^#/, '') || '/';
  const run = /^\/runs\/([a-z0-9_]+)(?:\/experiments\/([a-z0-9_]+))?$/.exec(hash);
  for (const link of document.querySelectorAll('[data-nav]')) {
    link.classList.toggle('active', (link.dataset.nav === 'bench') === hash.startsWith('/bench'));
  }
  try {
    if (run) cleanup = await renderRunPage(page, run[1], run[2] ?? null);
    else if (hash.startsWith('/bench')) cleanup = await renderBenchPage(page);
    else cleanup = await renderRunsPage(page);
  } catch (error) {
    page.replaceChildren(h('div', { class: 'empty' }, h('h2', {}, 'Could not load this page'), h('p', {}, String(error.message ?? error))));
  }
}

window.addEventListener('hashchange', () => {
  // Opening or closing an experiment keeps the run page (and its stream) as it is.
  const hash = location.hash.replace(/^#/, '');
  if (window.__runPage && hash.startsWith(`/runs/${window.__runPage.runId}`)) {
    const match = /\/experiments\/([a-z0-9_]+)$/.exec(hash);
    window.__runPage.select(match ? match[1] : null);
    return;
  }
  route();
});
route();
