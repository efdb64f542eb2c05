/**
 * Debian's chromium driven by playwright-core, for the dashboard's browser tests and its 10k measurement.
 * Never downloads a browser. Under CI=true a missing chromium is an error (the test fails), never a skip.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export const chromiumMissing = (): boolean => !existsSync(CHROMIUM) && process.env.CI !== 'true';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
}
