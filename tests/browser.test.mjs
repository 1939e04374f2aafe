// Branded from the first paint, in a real browser (issue 11): headless Chromium (Debian's, driven
// by puppeteer-core) loads the demo app through the Worker on two tenant hosts. With the page's
// own scripts switched off, the HTML alone already carries the tenant's colours (nothing waits
// for a script or for brand.json); with them on, the values are the tenant's at DOMContentLoaded.
// Screenshots are saved to test-artifacts/ (git-ignored); docs/branding.md shows the side-by-side one.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, startStack } from '../scripts/stack.mjs';
import { launchBrowser } from './support/browser.mjs';
import { TENANTS, storedTenant } from './support/tenants.mjs';

const ARTIFACTS = path.join(ROOT, 'test-artifacts');

let stack;
let browser;
/** The two tenants, each on its own host of the local stack. */
let sites;
before(async () => {
  stack = await startStack({ demo: true, vars: { PLATFORM_DOMAIN: 'localhost' } });
  const port = new URL(stack.worker.url).port;
  sites = [
    { tenant: storedTenant(stack, TENANTS.northstar.slug), url: `http://${TENANTS.northstar.domain}:${port}/` },
    { tenant: storedTenant(stack, TENANTS.acme.slug), url: `http://${TENANTS.acme.slug}.localhost:${port}/` },
  ];
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** What the page shows of its branding, read in the page. */
const branding = () => {
  const root = document.documentElement;
  return {
    primary: getComputedStyle(root).getPropertyValue('--brand-primary').trim(),
    heading: getComputedStyle(document.querySelector('h1')).color,
    theme: document.querySelector('meta[name="theme-color"]')?.getAttribute('content') ?? null,
    tenant: root.dataset.tenant ?? null,
  };
};

/** `#rrggbb` or `#rgb` as the rgb() a computed style reports. */
function rgb(hex) {
  const h = hex.length === 4 ? [...hex.slice(1)].map((c) => c + c).join('') : hex.slice(1);
  return `rgb(${parseInt(h.slice(0, 2), 16)}, ${parseInt(h.slice(2, 4), 16)}, ${parseInt(h.slice(4, 6), 16)})`;
}

test("with the page's scripts off, the HTML alone carries each tenant's colours and theme colour", async () => {
  for (const { tenant, url } of sites) {
    const page = await browser.newPage();
    await page.setJavaScriptEnabled(false);
    const response = await page.goto(url, { waitUntil: 'load' });
    assert.equal(response.status(), 200, url);
    const seen = await page.evaluate(branding);
    assert.deepEqual(
      seen,
      {
        primary: tenant.brand.colors.primary,
        heading: rgb(tenant.brand.colors.primary),
        theme: tenant.brand.colors.primary,
        tenant: tenant.slug,
      },
      url,
    );
    await page.close();
  }
});

test("at DOMContentLoaded, before the page's scripts, each tenant's brand is there; then the page fills in its texts", async () => {
  const shots = [];
  for (const { tenant, url } of sites) {
    const page = await browser.newPage();
    await page.setViewport({ width: 640, height: 560 });
    // Runs before any script of the page: its listener is the first at DOMContentLoaded.
    await page.evaluateOnNewDocument(() => {
      document.addEventListener(
        'DOMContentLoaded',
        () => {
          window.__brandAtDomContentLoaded = {
            primary: getComputedStyle(document.documentElement).getPropertyValue('--brand-primary').trim(),
            theme: document.querySelector('meta[name="theme-color"]')?.getAttribute('content') ?? null,
          };
        },
        { once: true },
      );
    });
    await page.goto(url, { waitUntil: 'load' });
    const atDcl = await page.evaluate(() => window.__brandAtDomContentLoaded);
    assert.equal(atDcl.primary, tenant.brand.colors.primary, url);
    assert.equal(atDcl.theme, tenant.brand.colors.primary, url);
    assert.equal(await page.$eval('h1', (h) => h.textContent), tenant.displayName, 'the page read #tenant-data');
    const file = path.join(ARTIFACTS, `${tenant.slug}.png`);
    await page.screenshot({ path: file });
    shots.push(file);
    await page.close();
  }
  assert.notEqual(fs.readFileSync(shots[0]).toString('base64'), fs.readFileSync(shots[1]).toString('base64'), 'two tenants, two looks');
});

test('two tenants side by side (the screenshot in docs/branding.md)', async () => {
  const page = await browser.newPage();
  await page.setViewport({ width: 1300, height: 600 });
  await page.setContent(
    `<!doctype html><body style="margin:0;display:flex;gap:20px;background:#888">
    ${sites.map(({ url }) => `<iframe src="${url}" style="width:640px;height:600px;border:0;background:#fff"></iframe>`).join('')}
  </body>`,
    { waitUntil: 'load' },
  );
  const frames = page.frames().filter((f) => f !== page.mainFrame());
  assert.equal(frames.length, 2);
  for (const [i, frame] of frames.entries()) {
    assert.equal(await frame.evaluate(() => document.documentElement.dataset.tenant), sites[i].tenant.slug);
  }
  await page.screenshot({ path: path.join(ARTIFACTS, 'two-tenants.png') });
  await page.close();
});
