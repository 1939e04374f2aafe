// Coaches edit their own brand through the control plane (issue 28) on the real stack: Postgres
// with the migrations, PostgREST, two resolver data centers (CHANGES_POLL_SECONDS=1) and the
// control plane. Nora owns Northstar; Lee (Acme) is the hostile coach with a real account. Every
// write goes through the owner functions as the coach; nothing is lost (If-Match, versions,
// drafts), every wrong field is named before the database is touched, and a published edit
// reaches every data center within the feed's bound.

import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, addWorker, freePort, psql, startControl, startStack } from '../scripts/stack.mjs';
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

before(async () => {
  const port = await freePort();
  dashboard = `http://${NORA.domain}:${port}`;
  stack = await startStack({ demo: true, workerPort: port, vars: { CHANGES_POLL_SECONDS: String(POLL_SECONDS) } });
  const [dcB] = await Promise.all([
    addWorker(stack),
    startControl(stack, { vars: { DASHBOARD_ORIGIN: dashboard } }).then((started) => {
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

test('the Branding page: edit with a live preview, a refused field marked, publish, draft and rollback, in a real browser', async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 900, height: 1400 });
    await page.goto(`${dashboard}/branding#api=${encodeURIComponent(control.url)}&token=${tokens.nora}`, { waitUntil: 'load' });
    await page.waitForSelector('#brand:not([hidden])');
    await page.waitForFunction(() => document.getElementById('version').textContent.startsWith('Published version 1'));
    const primary = 'input[name="colors.primary"]';
    const setValue = async (selector, value) => {
      await page.$eval(selector, (input) => {
        input.value = '';
      });
      await page.type(selector, value);
    };
    // The preview follows the form as the coach types.
    await setValue(primary, '#0a7d5a');
    assert.equal(await page.$eval('.preview-heading', (h) => getComputedStyle(h).color), 'rgb(10, 125, 90)');
    // A wrong value: the API names the field and the page marks it; nothing is published.
    await setValue(primary, 'green-ish');
    await page.click('#brand button[type=submit]');
    await page.waitForSelector(`${primary}[aria-invalid="true"]`);
    assert.match(await page.$eval('#form-error', (p) => p.textContent), /invalid|contract/i);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'branding-refused.png') });
    assert.equal(stored().version, 1);
    // Fixed and published.
    await setValue(primary, '#0a7d5a');
    await page.click('#brand button[type=submit]');
    await page.waitForFunction(() => document.getElementById('version').textContent.startsWith('Published version 2'));
    assert.equal(await page.$eval(primary, (i) => i.getAttribute('aria-invalid')), null);
    assert.deepEqual(stored(), { version: 2, primary: '#0a7d5a', name: seeded.display_name });
    // A draft, kept apart, then published.
    await setValue('input[name="tagline"]', 'Lead with clarity');
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
    await page.close();
  } finally {
    await browser.close();
  }
});
