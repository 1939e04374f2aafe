// Coaches edit their own brand through the control plane (issue 28) on the real stack: Postgres
// with the migrations, PostgREST, two resolver data centers (CHANGES_POLL_SECONDS=1) and the
// control plane. Nora owns Northstar; Lee (Acme) is the hostile coach with a real account. Every
// write goes through the owner functions as the coach; nothing is lost (If-Match, versions,
// drafts), every wrong field is named before the database is touched, and a published edit
// reaches every data center within the feed's bound. The Branding page (demo/branding.html) is
// driven in headless Chromium: editing, the maintenance switch, and a preview link opened in a
// new tab that shows the draft.

import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, addWorker, freePort, psql, sleep, startControl, startStack } from '../scripts/stack.mjs';
import { launchBrowser } from './support/browser.mjs';
import { everywhere } from './support/centers.mjs';
import { request } from './support/http.mjs';
import { TENANTS, USERS, assertError, userToken } from './support/tenants.mjs';

const POLL_SECONDS = 1;
const NORA = TENANTS.northstar;

const ARTIFACTS = path.join(ROOT, 'test-artifacts');

let stack;
let control;
const centers = [];
let tokens;
/** Northstar's brand as seeded, restored before each test. */
let seeded;
/** The dashboard: Northstar's own domain on the Worker's port (the browser takes `*.localhost` home). */
let dashboard;
/** The dashboard on the platform's own host (PLATFORM_DOMAIN=localhost, as scripts/dev links it), not the tenant's. */
let platform;

before(async () => {
  const port = await freePort();
  dashboard = `http://${NORA.domain}:${port}`;
  platform = `http://localhost:${port}`;
  stack = await startStack({
    demo: true,
    workerPort: port,
    vars: { CHANGES_POLL_SECONDS: String(POLL_SECONDS), PLATFORM_DOMAIN: 'localhost' },
  });
  const [dcB] = await Promise.all([
    addWorker(stack),
    startControl(stack, { vars: { DASHBOARD_ORIGIN: `${dashboard},${platform}` } }).then((started) => {
      control = started;
    }),
  ]);
  centers.push({ name: 'dc-a', url: stack.worker.url }, { name: 'dc-b', url: dcB.url });
  tokens = { nora: userToken(stack, USERS.nora), lee: userToken(stack, USERS.lee) };
  seeded = JSON.parse(
    sql(`select row_to_json(t) from (select display_name, brand_config from public.tenant_profiles where id = '${NORA.id}') t`),
  );
});
after(async () => {
  await stack?.stop();
});

const sql = (text) => psql(stack.dbUrl, { sql: text });

/**
 * Every test starts from the seeded brand at version 1, no draft, no spent budget. The version
 * triggers would count the reset as an edit: they are held off for it (the stack's `postgres`
 * owns the table, as on a hosted project).
 */
beforeEach(() => {
  const triggers = ['tenant_profiles_next_brand_version', 'tenant_profiles_record_brand_version'];
  const each = (what) => triggers.map((t) => `alter table public.tenant_profiles ${what} trigger ${t};`).join('\n');
  // Three transactions: a table whose update has deferred triggers pending cannot be altered.
  sql(each('disable'));
  try {
    sql(`update public.tenant_profiles set display_name = ${literal(seeded.display_name)},
      brand_config = ${literal(JSON.stringify(seeded.brand_config))}::jsonb, brand_version = 1 where id = '${NORA.id}'`);
  } finally {
    sql(each('enable'));
  }
  sql(`delete from private.tenant_brand_versions where tenant_id = '${NORA.id}' and version > 1;
    delete from private.tenant_brand_drafts; delete from private.brand_write_budgets`);
});

const literal = (text) => `'${String(text).replaceAll("'", "''")}'`;

/** A call to the control plane's brand API as `token`. */
function api(method, path, { token = tokens.nora, body, ifMatch, tenant = NORA.id } = {}) {
  const headers = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(ifMatch ? { 'if-match': ifMatch } : {}) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return request(`${control.url}${path}?tenant_id=${tenant}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The brand as stored now: `{ version, primary, name }`. */
const stored = () =>
  JSON.parse(
    sql(
      `select json_build_object('version', brand_version, 'primary', brand_config->'colors'->>'primary', 'name', display_name) from public.tenant_profiles where id = '${NORA.id}'`,
    ),
  );

/** Northstar's seeded brand with `primary` as its primary colour. */
const withPrimary = (primary) => ({ ...seeded.brand_config, colors: { ...seeded.brand_config.colors, primary } });

test('the owner reads the brand with its version as ETag, and publishes an edit with If-Match, visible on every data center within the bound', async () => {
  const read = await api('GET', '/brand');
  assert.equal(read.status, 200, read.body);
  assert.equal(read.headers.etag, '"v1"');
  assert.match(read.headers['cache-control'], /no-store/);
  const state = read.json();
  assert.deepEqual(Object.keys(state).sort(), ['brandConfig', 'displayName', 'draft', 'version']);
  assert.equal(state.version, 1);
  assert.equal(state.draft, null);
  assert.deepEqual(state.brandConfig, seeded.brand_config);

  const started = Date.now();
  const put = await api('PUT', '/brand', {
    ifMatch: '"v1"',
    body: { displayName: 'Northstar Coaching', brandConfig: withPrimary('#0a7d5a') },
  });
  assert.equal(put.status, 200, put.body);
  assert.equal(put.headers.etag, '"v2"');
  assert.equal(put.json().version, 2);
  assert.deepEqual(stored(), { version: 2, primary: '#0a7d5a', name: 'Northstar Coaching' });
  const took = await everywhere(
    centers,
    started,
    '/_tenant/brand.json',
    NORA.domain,
    (res) => res.status === 200 && res.json().brand.colors.primary === '#0a7d5a',
    'the published colour',
  );
  assert.ok(took < (POLL_SECONDS + 1) * 1000 + 1500, `visible everywhere after ${took} ms`);
});

test('a write without If-Match is 428 and a stale one 412: nothing is overwritten unseen', async () => {
  assertError(
    await api('PUT', '/brand', { body: { displayName: 'X', brandConfig: withPrimary('#111111') } }),
    428,
    'precondition_required',
  );
  assert.equal(
    (await api('PUT', '/brand', { ifMatch: '"v1"', body: { displayName: 'First tab', brandConfig: withPrimary('#222222') } })).status,
    200,
  );
  for (const ifMatch of ['"v1"', '*', 'W/"v2"', '"2"']) {
    const stale = await api('PUT', '/brand', { ifMatch, body: { displayName: 'Second tab', brandConfig: withPrimary('#333333') } });
    assertError(stale, 412, 'precondition_failed', ifMatch);
  }
  assert.deepEqual(stored(), { version: 2, primary: '#222222', name: 'First tab' });
});

test('an invalid brand is 422 naming every wrong field, and the database is not touched', async () => {
  const bad = { ...withPrimary('blue'), logo: { ...seeded.brand_config.logo, url: 'javascript:alert(1)' } };
  const res = await api('PUT', '/brand', { ifMatch: '"v1"', body: { displayName: ' ', brandConfig: bad } });
  assertError(res, 422, 'invalid_brand');
  const pointers = res.json().error.fields.map((f) => f.pointer);
  assert.deepEqual(pointers.sort(), ['/colors/primary', '/displayName', '/logo/url']);
  assert.ok(res.json().error.fields.every((f) => typeof f.reason === 'string' && f.reason.length > 0));
  assert.deepEqual(stored(), { version: 1, primary: seeded.brand_config.colors.primary, name: seeded.display_name });
  // Only the brand: a body naming anything else is refused.
  const sneaky = await api('PUT', '/brand', {
    ifMatch: '"v1"',
    body: { displayName: 'Northstar', brandConfig: seeded.brand_config, slug: 'acme-leadership' },
  });
  assertError(sneaky, 400, 'invalid_body');
});

test('another coach can neither read nor write the brand, and the anon key reads no draft or history', async () => {
  assertError(await api('GET', '/brand', { token: tokens.lee }), 403, 'not_owner');
  assertError(await api('GET', '/brand/versions', { token: tokens.lee }), 403, 'not_owner');
  assertError(
    await api('PUT', '/brand', {
      token: tokens.lee,
      ifMatch: '"v1"',
      body: { displayName: 'Hijacked', brandConfig: withPrimary('#ff0000') },
    }),
    403,
    'not_owner',
  );
  assertError(
    await api('PUT', '/brand/draft', { token: tokens.lee, body: { displayName: 'Hijacked', brandConfig: withPrimary('#ff0000') } }),
    403,
    'not_owner',
  );
  assertError(await api('GET', '/brand', { token: null }), 401, 'unauthorized');
  assert.deepEqual(stored(), { version: 1, primary: seeded.brand_config.colors.primary, name: seeded.display_name });
  // Straight to PostgREST with the anon key: the functions and the private tables are not there.
  const anon = { apikey: stack.anonKey, authorization: `Bearer ${stack.anonKey}`, 'content-type': 'application/json' };
  for (const fn of ['tenant_brand', 'tenant_brand_versions']) {
    const res = await request(`${stack.postgrest.url}/rpc/${fn}`, {
      method: 'POST',
      headers: anon,
      body: JSON.stringify({ tenant_id: NORA.id }),
    });
    assert.ok([401, 403, 404].includes(res.status), `${fn} with the anon key: ${res.status} ${res.body}`);
    assert.ok(!res.body.includes('brandConfig'), `${fn}: ${res.body}`);
  }
  for (const table of ['tenant_brand_versions', 'tenant_brand_drafts']) {
    const res = await request(`${stack.postgrest.url}/${table}`, { headers: anon });
    assert.ok(res.status >= 400, `${table}: ${res.status} ${res.body}`);
  }
});

test('every published version is kept: history newest first, and a rollback publishes an old one again', async () => {
  await api('PUT', '/brand', { ifMatch: '"v1"', body: { displayName: 'Two', brandConfig: withPrimary('#222222') } });
  await api('PUT', '/brand', { ifMatch: '"v2"', body: { displayName: 'Three', brandConfig: withPrimary('#333333') } });
  const history = await api('GET', '/brand/versions');
  assert.equal(history.status, 200, history.body);
  const { versions } = history.json();
  assert.deepEqual(
    versions.map((v) => [v.version, v.displayName]),
    [
      [3, 'Three'],
      [2, 'Two'],
      [1, seeded.display_name],
    ],
  );
  assert.ok(versions.every((v) => v.brandConfig && v.publishedAt));
  assertError(await api('POST', '/brand/rollback', { body: { version: 2 } }), 428, 'precondition_required');
  const back = await api('POST', '/brand/rollback', { ifMatch: '"v3"', body: { version: 2 } });
  assert.equal(back.status, 200, back.body);
  assert.equal(back.headers.etag, '"v4"');
  assert.deepEqual(stored(), { version: 4, primary: '#222222', name: 'Two' });
  assertError(await api('POST', '/brand/rollback', { ifMatch: '"v4"', body: { version: 99 } }), 404, 'version_not_found');
});

test('a draft is kept apart from the published brand until it is published', async () => {
  const draft = await api('PUT', '/brand/draft', { body: { displayName: 'Draft', brandConfig: withPrimary('#444444') } });
  assert.equal(draft.status, 200, draft.body);
  assert.equal(draft.json().draft.displayName, 'Draft');
  assert.equal(draft.json().version, 1);
  assert.deepEqual(stored(), { version: 1, primary: seeded.brand_config.colors.primary, name: seeded.display_name });
  // Visitors see the published brand (the reset before this test reaches every data center
  // within the bound), never the draft.
  await everywhere(
    centers,
    Date.now(),
    '/_tenant/brand.json',
    NORA.domain,
    (res) => res.status === 200 && res.json().brand.colors.primary === seeded.brand_config.colors.primary,
    'the published brand, not the draft',
  );
  assertError(await api('PUT', '/brand/draft', { body: { displayName: 'Draft', brandConfig: withPrimary('nope') } }), 422, 'invalid_brand');
  assertError(await api('POST', '/brand/publish'), 428, 'precondition_required');
  const published = await api('POST', '/brand/publish', { ifMatch: '"v1"' });
  assert.equal(published.status, 200, published.body);
  assert.equal(published.json().draft, null);
  assert.equal(published.json().version, 2);
  assert.deepEqual(stored(), { version: 2, primary: '#444444', name: 'Draft' });
  assertError(await api('POST', '/brand/publish', { ifMatch: '"v2"' }), 404, 'no_draft');
});

/**
 * Runs `use(page, browser)` on Nora's Branding page in headless Chromium, signed in and showing
 * the published version 1; the browser is closed after, whatever happens.
 */
async function onBrandingPage(use, { origin = dashboard } = {}) {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 900, height: 1400 });
    await page.goto(`${origin}/branding#api=${encodeURIComponent(control.url)}&token=${tokens.nora}`, { waitUntil: 'load' });
    await page.waitForSelector('#brand:not([hidden])');
    await page.waitForFunction(() => document.getElementById('version').textContent.startsWith('Published version 1'));
    await use(page, browser);
    await page.close();
  } finally {
    await browser.close();
  }
}

/** Replaces what the input at `selector` holds with `value`, typed as a coach would. */
async function setValue(page, selector, value) {
  await page.$eval(selector, (input) => {
    input.value = '';
  });
  await page.type(selector, value);
}

/** The maintenance setting as the API gives it now. */
async function maintenanceNow() {
  const res = await api('GET', '/maintenance');
  assert.equal(res.status, 200, res.body);
  return res.json();
}

/** Polls `check` (maybe async) until it holds; fails with `what()` after 10 s. */
async function waitFor(check, what) {
  const until = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(what());
    await sleep(50);
  }
}

/**
 * Clicks "Preview on your site", which opens a tab at once; resolves with that tab, the page
 * brought back to the front (in the background it would not paint for the waits).
 */
async function clickPreview(page) {
  const popup = new Promise((resolve) => page.once('popup', resolve));
  await page.click('#open-preview');
  const tab = await popup;
  await page.bringToFront();
  return tab;
}

/** The draft as stored now (`brand_config` and name), or null. */
const storedDraft = () =>
  JSON.parse(
    sql(`select coalesce((select row_to_json(d)::text from private.tenant_brand_drafts d where tenant_id = '${NORA.id}'), 'null')`),
  );

test('the Branding page: edit with a live preview, a refused field marked, publish, draft and rollback, in a real browser', async () => {
  await onBrandingPage(async (page) => {
    const primary = 'input[name="colors.primary"]';
    // The preview follows the form as the coach types.
    await setValue(page, primary, '#0a7d5a');
    assert.equal(await page.$eval('.preview-heading', (h) => getComputedStyle(h).color), 'rgb(10, 125, 90)');
    // A wrong value: the API names the field and the page marks it; nothing is published.
    await setValue(page, primary, 'green-ish');
    await page.click('#brand button[type=submit]');
    await page.waitForSelector(`${primary}[aria-invalid="true"]`);
    assert.match(await page.$eval('#form-error', (p) => p.textContent), /invalid|contract/i);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'branding-refused.png') });
    assert.equal(stored().version, 1);
    // Fixed and published.
    await setValue(page, primary, '#0a7d5a');
    await page.click('#brand button[type=submit]');
    await page.waitForFunction(() => document.getElementById('version').textContent.startsWith('Published version 2'));
    assert.equal(await page.$eval(primary, (i) => i.getAttribute('aria-invalid')), null);
    assert.deepEqual(stored(), { version: 2, primary: '#0a7d5a', name: seeded.display_name });
    // A draft, kept apart, then published.
    await setValue(page, 'input[name="tagline"]', 'Lead with clarity');
    await page.click('#save-draft');
    await page.waitForFunction(() => document.getElementById('version').textContent.includes('a draft is saved'));
    assert.equal(stored().version, 2);
    await page.click('#publish-draft');
    await page.waitForFunction(() => document.getElementById('version').textContent === 'Published version 3');
    // History and rollback to the seeded version.
    await page.waitForSelector('#history li[data-version="1"] button');
    await page.screenshot({ path: path.join(ARTIFACTS, 'branding.png'), fullPage: true });
    await page.click('#history li[data-version="1"] button');
    await page.waitForFunction(() => document.getElementById('version').textContent.startsWith('Published version 4'));
    assert.deepEqual(stored(), { version: 4, primary: seeded.brand_config.colors.primary, name: seeded.display_name });
  });
});

// Opened from the Worker's own address: while Northstar is in maintenance its own domain
// answers with the maintenance page, this page included.
test('the Branding page shows the maintenance setting and turns it on, minutes as seconds, a refused delay marked, and off again, in a real browser', async () => {
  try {
    await onBrandingPage(
      async (page) => {
        await page.waitForSelector('#maintenance:not([hidden])');
        assert.equal(await page.$eval('#maintenance', (f) => f.dataset.on), 'false');
        await page.click('#maintenance input[name="on"]');
        await setValue(page, '#maintenance input[name="message"]', 'Back at noon');
        // No delay at all: the API names the field, the page marks it, nothing is switched on.
        await setValue(page, '#maintenance input[name="retryAfterMinutes"]', '0');
        await page.click('#maintenance button[type=submit]');
        await page.waitForSelector('#maintenance input[name="retryAfterMinutes"][aria-invalid="true"]');
        assert.notEqual(await page.$eval('#maintenance-error', (p) => p.textContent), '');
        assert.equal((await maintenanceNow()).on, false);
        await setValue(page, '#maintenance input[name="retryAfterMinutes"]', '15');
        await page.click('#maintenance button[type=submit]');
        await page.waitForSelector('#maintenance[data-on="true"]');
        assert.equal(await page.$eval('#maintenance input[name="retryAfterMinutes"]', (i) => i.getAttribute('aria-invalid')), null);
        assert.deepEqual(await maintenanceNow(), { on: true, message: 'Back at noon', retryAfterSeconds: 900 });
        // A page opened afresh shows what the API holds.
        await page.reload({ waitUntil: 'load' });
        await page.waitForSelector('#maintenance[data-on="true"]:not([hidden])');
        assert.deepEqual(
          await page.$eval('#maintenance', (f) => [f.elements.on.checked, f.elements.message.value, f.elements.retryAfterMinutes.value]),
          [true, 'Back at noon', '15'],
        );
        await page.click('#maintenance input[name="on"]');
        await page.click('#maintenance button[type=submit]');
        await page.waitForSelector('#maintenance[data-on="false"]');
        assert.equal((await maintenanceNow()).on, false);
      },
      { origin: platform },
    );
  } finally {
    await api('PUT', '/maintenance', { body: { on: false } });
  }
});

test("the Branding page's Preview saves the draft and opens it in a new tab on the tenant's host, reached as the page was", async () => {
  const draftPrimary = '#7a1fa2';
  await onBrandingPage(
    async (page) => {
      await setValue(page, 'input[name="colors.primary"]', draftPrimary);
      await setValue(page, 'input[name="favicon"]', 'https://cdn.northstar.test/favicon.png');
      await setValue(page, 'input[name="locale"]', 'en-GB');
      const tab = await clickPreview(page);
      await page.waitForSelector('#preview-link:not([hidden]), #form-error:not([hidden])');
      assert.equal(await page.$eval('#form-error', (p) => p.textContent), '');
      const link = new URL(await page.$eval('#preview-url', (a) => a.href));
      // The control plane names https://<tenant host>/; the page reaches it through this stack's Worker.
      assert.equal(link.origin, dashboard);
      assert.equal(link.pathname, '/');
      assert.match(link.searchParams.get('tenant_preview') ?? '', /\S/, link.href);
      const expires = Date.parse(await page.$eval('#preview-expires', (t) => t.dateTime));
      assert.ok(expires > Date.now(), `the link expires at ${expires}`);
      const draft = storedDraft()?.brand_config;
      assert.deepEqual(
        [draft?.colors.primary, draft?.favicon, draft?.locale],
        [draftPrimary, 'https://cdn.northstar.test/favicon.png', 'en-GB'],
        'the preview saved the form as the draft',
      );
      assert.equal(await page.$eval('input[name="colors.primary"]', (i) => i.value), draftPrimary, 'the form still shows the draft');
      assert.equal(stored().version, 1, 'nothing published');
      await waitFor(
        () => new URL(tab.url()).origin === dashboard,
        () => `the new tab is at ${tab.url()}`,
      );
      // The link works: the tab shows the draft, not the published brand.
      await tab.bringToFront();
      await tab.waitForFunction(
        (primary) => getComputedStyle(document.documentElement).getPropertyValue('--brand-primary').trim() === primary,
        { timeout: 10_000 },
        draftPrimary,
      );
      // That very link: the Worker kept its token as the tab's cookie (and took it off the URL).
      const cookie = (await tab.cookies()).find((c) => c.name === 'tenant_preview');
      assert.equal(cookie?.value, link.searchParams.get('tenant_preview'));
      await page.bringToFront();
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'branding-preview.png'), fullPage: true });
    },
    { origin: platform },
  );
});

test('the Branding page marks an invalid favicon and locale the API names, opens no preview for them, and saves valid ones', async () => {
  await onBrandingPage(async (page) => {
    await setValue(page, 'input[name="favicon"]', 'http://cdn.example.com/icon.png');
    await setValue(page, 'input[name="locale"]', 'not a locale');
    const tab = await clickPreview(page);
    await page.waitForSelector('input[name="locale"][aria-invalid="true"]');
    assert.equal(await page.$eval('input[name="favicon"]', (i) => i.getAttribute('aria-invalid')), 'true');
    assert.notEqual(await page.$eval('input[name="locale"]', (i) => i.title), '');
    assert.equal(await page.$eval('#preview-link', (p) => p.hidden), true);
    await waitFor(
      () => tab.isClosed(),
      () => `the tab opened for the preview is still open at ${tab.url()}`,
    );
    assert.equal(storedDraft(), null);
    await setValue(page, 'input[name="favicon"]', 'https://cdn.example.com/icon.png');
    await setValue(page, 'input[name="locale"]', 'fr-CA');
    await page.click('#save-draft');
    await page.waitForFunction(() => document.getElementById('version').textContent.includes('a draft is saved'));
    assert.equal(await page.$eval('input[name="locale"]', (i) => i.getAttribute('aria-invalid')), null);
    const { favicon, locale } = storedDraft().brand_config;
    assert.deepEqual({ favicon, locale }, { favicon: 'https://cdn.example.com/icon.png', locale: 'fr-CA' });
  });
});
