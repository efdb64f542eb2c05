/**
 * The dashboard end to end in Debian's chromium: a real short run (`successor research --approval each` on the
 * sleepy task) in a child process, the dashboard in this one. The page must show the baseline's experiments appear
 * live (no reload), then the candidate waiting for approval; a click on Approve must move it out of
 * 'awaiting-approval' with an 'approval' event journaled; its diff must open; and a screenshot must not be blank.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { openJournal } from '../../src/journal/journal.js';
import { serveDashboard, type RunningDashboard } from '../../src/ui/server.js';
import { chromiumMissing, launchChromium } from './browser.js';
import { removeTemporaryStateDirs, temporaryStateDir } from './fixtures.js';
import { llmLab } from '../cli/fixtures.js';

let browser: Browser | undefined;
let server: RunningDashboard | undefined;
let child: ChildProcess | undefined;
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGTERM');
  await browser?.close();
  await server?.close();
  removeTemporaryStateDirs();
});

describe.skipIf(chromiumMissing())('dashboard in chromium', () => {
  it('watches a run live, approves a pending candidate, opens its diff, and renders a non-blank page', async () => {
    const stateDir = temporaryStateDir();
    const journalPath = join(stateDir, 'successor.db');
    openJournal(journalPath).close();
    server = await serveDashboard({ journalPath, stateDir, host: '127.0.0.1', port: 0, token: null, pollIntervalMs: 200 });
    const base = server.url.replace(/\/$/, '');

    let output = '';
    child = spawn(process.execPath, ['bin/successor.js', 'research', '--task', 'test/fixtures/tasks/sleepy', '--approval', 'each',
      '--max-experiments', '1', '--repeats', '2', '--seed', '3'], { env: { ...process.env, SUCCESSOR_HOME: stateDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk) => { output += chunk; });
    child.stderr?.on('data', (chunk) => { output += chunk; });

    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
    // The run appears on the runs list once the lab has created it.
    await page.goto(`${base}/#/`);
    await page.waitForSelector('#runs-table tbody tr a', { timeout: 20_000 });
    await page.click('#runs-table tbody tr a');
    await page.waitForSelector('#experiments-table');
    const rowsAtLoad = await page.locator('#experiments-table tbody tr').count();

    // Live: without a reload, more experiments appear and the candidate shows up waiting for approval.
    await page.waitForSelector('#pending .pending-row', { timeout: 30_000 });
    await expect.poll(() => page.locator('#experiments-table tbody tr').count(), { timeout: 10_000 }).toBeGreaterThan(rowsAtLoad);
    const pendingId = await page.locator('#pending .pending-row').first().getAttribute('data-id');
    expect(pendingId, output).toMatch(/^exp_/);

    await page.locator('#pending .pending-row button', { hasText: 'Approve' }).first().click();
    await page.waitForSelector('#pending', { state: 'detached', timeout: 10_000 });
    const reader = openJournal(journalPath, { readonly: true });
    try {
      const experiment = reader.getExperiment(pendingId as never);
      expect(experiment?.state).not.toBe('awaiting-approval');
      expect(experiment?.metadata.approval).toBe('approved');
      const approvals = reader.listEvents(experiment!.runId).filter((event) => event.type === 'approval');
      expect(approvals.map((event) => [event.experimentId, event.payload.decision])).toEqual([[pendingId, 'approved']]);
    } finally {
      reader.close();
    }

    // Its diff opens in the drawer, rendered by diff2html.
    await page.click(`#experiments-table tr[data-id="${pendingId}"]`);
    await page.waitForSelector('#diff-view .d2h-file-wrapper', { timeout: 10_000 });
    expect(await page.locator('#diff-view').innerText()).toContain('config.json');

    // Not blank: the screenshot, decoded in the page, has many distinct colours (a blank page has one or two).
    const png = await page.screenshot({ fullPage: true });
    // Runs in the page (a string: this project's TypeScript has no DOM types).
    const colours = await page.evaluate(`(async () => {
      const image = new Image();
      image.src = 'data:image/png;base64,${png.toString('base64')}';
      await image.decode();
      const canvas = new OffscreenCanvas(image.width, image.height);
      const context = canvas.getContext('2d');
      context.drawImage(image, 0, 0);
      const pixels = context.getImageData(0, 0, image.width, image.height).data;
      const seen = new Set();
      for (let index = 0; index < pixels.length; index += 4 * 7) seen.add((pixels[index] << 16) | (pixels[index + 1] << 8) | pixels[index + 2]);
      return seen.size;
    })()`) as number;
    expect(colours).toBeGreaterThan(50);
    expect(await page.locator('#score-chart canvas').count()).toBeGreaterThan(0);
  }, 90_000);

  it('shows what model calls cost on the runs list and run page, and an experiment\'s transcript as text', async () => {
    const stateDir = temporaryStateDir();
    const lab = llmLab(stateDir);
    lab.journal.close();
    const dashboard = await serveDashboard({ journalPath: join(stateDir, 'successor.db'), stateDir, host: '127.0.0.1', port: 0, token: null, pollIntervalMs: 200 });
    try {
      browser ??= await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
      const base = dashboard.url.replace(/\/$/, '');
      await page.goto(`${base}/#/`);
      await page.waitForSelector('#runs-table tbody tr');
      expect(await page.locator('#runs-table tbody tr').first().innerText()).toContain('$0.0238');
      await page.goto(`${base}/#/runs/${lab.runId}/experiments/${lab.proposedId}`);
      await page.waitForSelector('text=Model spend');
      const transcript = page.locator('details', { hasText: 'Transcript: 2 calls' });
      await transcript.locator('summary').click();
      await page.waitForSelector('#transcript .call');
      expect(await page.locator('#transcript .call').count()).toBe(2);
      const text = await page.locator('#transcript').innerText();
      expect(text).toContain('read_file');
      expect(text).toContain('Halving the delay.');
      expect(text).not.toContain('I give up'); // a call that proposed nothing is the run's cost, not this experiment's
      await page.close();
    } finally {
      await dashboard.close();
    }
  }, 90_000);
});
