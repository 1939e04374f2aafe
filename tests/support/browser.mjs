// The real browser of the tests: Debian's Chromium (scripts/provision installs it), headless,
// driven by puppeteer-core, which downloads nothing. Tests run as root, hence --no-sandbox.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import puppeteer from 'puppeteer-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Launches headless Chromium; fails with what to do when it is missing. */
export function launchBrowser() {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/provision installs Debian's chromium`);
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-dev-shm-usage',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
