/**
 * The dashboard under a 10,000-experiment run: fills a journal in one transaction through the journal's API, serves
 * it, and measures the API (run page data, one page of the tree, chart points) and the run page's load in
 * chromium until the chart and the first rows are drawn. A measurement, not a test: it prints numbers.
 *   node bin/run-ts.js bench/ui.ts [--experiments 10000] [--screenshot FILE]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { serveDashboard } from '../src/ui/server.js';
import { launchChromium } from '../test/ui/browser.js';
import { fillRun, openTemporaryJournal, removeTemporaryStateDirs } from '../test/ui/fixtures.js';

const { values } = parseArgs({ options: { experiments: { type: 'string', default: '10000' }, screenshot: { type: 'string' } } });
const count = Number(values.experiments);

const { journal, stateDir, path } = openTemporaryJournal();
let started = performance.now();
const run = fillRun(journal, count);
journal.close();
console.log(`fill: ${count} experiments in ${((performance.now() - started) / 1000).toFixed(1)} s`);

const server = await serveDashboard({ journalPath: path, stateDir, host: '127.0.0.1', port: 0, token: null });
const base = server.url.replace(/\/$/, '');
async function timed(label: string, url: string, repeats = 5): Promise<void> {
  const times: number[] = [];
  let bytes = 0;
  for (let index = 0; index < repeats; index++) {
    const start = performance.now();
    const response = await fetch(base + url);
    bytes = (await response.arrayBuffer()).byteLength;
    times.push(performance.now() - start);
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`${label}: first ${times[0].toFixed(0)} ms, median ${sorted[Math.floor(repeats / 2)].toFixed(0)} ms, ${(bytes / 1024).toFixed(0)} KiB`);
}
try {
  await timed('GET /api/runs', '/api/runs');
  await timed('GET /api/runs/:id', `/api/runs/${run.id}`);
  await timed('GET experiments page (tree, 50 rows)', `/api/runs/${run.id}/experiments?offset=5000&limit=50`);
  await timed('GET /api/runs/:id/points', `/api/runs/${run.id}/points`);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    for (let attempt = 0; attempt < 3; attempt++) {
      started = performance.now();
      await page.goto(`${base}/#/runs/${run.id}`);
      await page.waitForSelector('#experiments-table tbody tr');
      await page.waitForSelector('#score-chart canvas');
      const loadMs = performance.now() - started;
      const rows = await page.locator('tr').count();
      console.log(`run page load in chromium (attempt ${attempt + 1}): ${loadMs.toFixed(0)} ms to chart + first rows; ${rows} table rows in the DOM`);
    }
    started = performance.now();
    await page.click('text=Next ›');
    await page.waitForSelector('#experiments-table tbody tr >> text=#');
    console.log(`next page of the tree: ${(performance.now() - started).toFixed(0)} ms`);
    if (values.screenshot) await page.screenshot({ path: values.screenshot, fullPage: true });
  } finally {
    await browser.close();
  }
} finally {
  await server.close();
  removeTemporaryStateDirs();
}
