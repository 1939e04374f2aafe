// Coaches switch their site into maintenance and make preview links of their brand draft through
// the control plane (issue 28), on the real stack: Postgres with the migrations, PostgREST and
// the control plane (the resolver's side of both is tested with the resolver). Nora owns
// Northstar; Lee (Acme) is the hostile coach with a real account. Every call goes through the
// owner functions as the coach; a wrong switch is refused, every field named, before the
// database is touched; a preview link's token is signed with the stack's
// PREVIEW_SIGNING_SECRET, which the resolver holds too.

import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { PREVIEW_SIGNING_SECRET, psql, startControl, startStack } from '../scripts/stack.mjs';
import { request } from './support/http.mjs';
import { TENANTS, USERS, assertError, userToken } from './support/tenants.mjs';

const NORA = TENANTS.northstar;
const DASHBOARD = 'http://dashboard.localhost:5173';
const OFF = { on: false, message: null, retryAfterSeconds: null };

let stack;
let control;
let tokens;

before(async () => {
  // No resolver: the control plane alone answers these routes.
  stack = await startStack({ worker: false });
  control = await startControl(stack, { vars: { DASHBOARD_ORIGIN: DASHBOARD } });
  tokens = { nora: userToken(stack, USERS.nora), lee: userToken(stack, USERS.lee) };
});
after(async () => {
  await stack?.stop();
});

const sql = (text) => psql(stack.dbUrl, { sql: text }).trim();

/** Every test starts with maintenance off, no draft, no preview and no spent budget. */
beforeEach(() => {
  sql(`update public.tenant_profiles set maintenance = null where maintenance is not null;
    delete from private.tenant_brand_drafts; delete from private.brand_previews; delete from private.brand_write_budgets`);
});

/** A call to the control plane as `token`, for Northstar unless `tenant` says otherwise. */
function api(method, path, { token = tokens.nora, body, tenant = NORA.id, headers = {} } = {}) {
  const all = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers };
  if (body !== undefined) all['content-type'] = 'application/json';
  return request(`${control.url}${path}?tenant_id=${tenant}`, {
    method,
    headers: all,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Northstar's switch, brand version and brand writes spent (of 20, refilled 1 per 10 s), as stored. */
const stored = () =>
  JSON.parse(
    sql(`select json_build_object('maintenance', maintenance, 'version', brand_version,
      'budget', coalesce((select round(20 - b.tokens)::int from private.brand_write_budgets as b where b.tenant_id = t.id), 0))
      from public.tenant_profiles as t where id = '${NORA.id}'`),
  );

/** The feed's latest change of Northstar, as epoch ms (0: none). */
const lastChange = () =>
  Number(
    sql(`select coalesce(extract(epoch from max(changed_at)) * 1000, 0)::bigint from public.tenant_changes
      where tenant_hash = encode(sha256(convert_to('${NORA.id}', 'UTF8')), 'hex')`),
  );

test('the owner switches maintenance on with a message and a delay, reads it back, and off again; each switch is in the feed and makes no brand version', async () => {
  const before = stored();
  const read = await api('GET', '/maintenance');
  assert.equal(read.status, 200, read.body);
  assert.match(read.headers['cache-control'], /no-store/);
  assert.deepEqual(read.json(), OFF);

  const changedBefore = lastChange();
  const on = await api('PUT', '/maintenance', { body: { on: true, message: 'Back at noon', retryAfterSeconds: 900 } });
  assert.equal(on.status, 200, on.body);
  const answer = { on: true, message: 'Back at noon', retryAfterSeconds: 900 };
  assert.deepEqual(on.json(), answer);
  assert.deepEqual(stored().maintenance, { message: 'Back at noon', retryAfterSeconds: 900 });
  assert.equal(stored().version, before.version, 'a switch is no brand version');
  assert.ok(lastChange() > changedBefore, 'the switch is in the change feed');
  assert.deepEqual((await api('GET', '/maintenance')).json(), answer);

  const defaults = await api('PUT', '/maintenance', { body: { on: true } });
  assert.equal(defaults.status, 200, defaults.body);
  assert.deepEqual(defaults.json(), { on: true, message: 'This site is being updated. Please come back soon.', retryAfterSeconds: 3600 });

  const changedOn = lastChange();
  const off = await api('PUT', '/maintenance', { body: { on: false } });
  assert.equal(off.status, 200, off.body);
  assert.deepEqual(off.json(), OFF);
  assert.equal(stored().maintenance, null);
  assert.ok(lastChange() > changedOn, 'switching off is in the feed too');
  assert.equal(stored().version, before.version);
});

test('a wrong switch is 422 naming every wrong field, and the database is not touched', async () => {
  const res = await api('PUT', '/maintenance', { body: { on: 'yes', message: '', retryAfterSeconds: 0, slug: 'acme-leadership' } });
  assertError(res, 422, 'invalid_maintenance');
  const { fields } = res.json().error;
  assert.deepEqual(fields.map((f) => f.pointer).sort(), ['/message', '/on', '/retryAfterSeconds', '/slug']);
  assert.ok(fields.every((f) => typeof f.reason === 'string' && f.reason.length > 0));
  for (const body of [
    { on: true, message: 'Back\nsoon' },
    { on: true, message: 'm'.repeat(501) },
    { on: true, retryAfterSeconds: 604801 },
    { on: true, retryAfterSeconds: 1.5 },
  ]) {
    assertError(await api('PUT', '/maintenance', { body }), 422, 'invalid_maintenance', JSON.stringify(body).slice(0, 60));
  }
  assertError(await api('PUT', '/maintenance', { body: 'not json' }), 400, 'invalid_body');
  // Nothing written, and no budget spent: the owner function was never called.
  assert.deepEqual(stored(), { maintenance: null, version: stored().version, budget: 0 });
  // The longest message passes.
  const longest = await api('PUT', '/maintenance', { body: { on: true, message: 'é'.repeat(500), retryAfterSeconds: 604800 } });
  assert.equal(longest.status, 200, longest.body);
  assert.equal(stored().budget, 1);
});

test('another coach can neither read nor switch the maintenance, nor preview the draft', async () => {
  assertError(await api('GET', '/maintenance', { token: tokens.lee }), 403, 'not_owner');
  assertError(await api('PUT', '/maintenance', { token: tokens.lee, body: { on: true, message: 'Hijacked' } }), 403, 'not_owner');
  sql(`insert into private.tenant_brand_drafts (tenant_id, display_name, brand_config)
    select id, 'Draft', brand_config from public.tenant_profiles where id = '${NORA.id}'`);
  assertError(await api('POST', '/brand/preview', { token: tokens.lee }), 403, 'not_owner');
  assertError(await api('GET', '/maintenance', { token: null }), 401, 'unauthorized');
  assertError(await api('POST', '/brand/preview', { token: null }), 401, 'unauthorized');
  assert.equal(stored().maintenance, null);
  assert.equal(sql('select count(*) from private.brand_previews'), '0');
  // Straight to PostgREST with the anon key: the owner functions are not the anon key's.
  const anon = { apikey: stack.anonKey, authorization: `Bearer ${stack.anonKey}`, 'content-type': 'application/json' };
  for (const [fn, args] of [
    ['set_tenant_maintenance', { tenant_id: NORA.id, maintenance: { message: 'x', retryAfterSeconds: 1 } }],
    ['create_tenant_brand_preview', { tenant_id: NORA.id }],
  ]) {
    const res = await request(`${stack.postgrest.url}/rpc/${fn}`, { method: 'POST', headers: anon, body: JSON.stringify(args) });
    assert.ok([401, 403, 404].includes(res.status), `${fn} with the anon key: ${res.status} ${res.body}`);
  }
  assert.equal(stored().maintenance, null);
});

test('the switch and previews spend the brand budget: spent, they are 429 with Retry-After', async () => {
  sql(`insert into private.brand_write_budgets (tenant_id, tokens, refilled_at) values ('${NORA.id}', 0, now())`);
  const res = await api('PUT', '/maintenance', { body: { on: true } });
  assertError(res, 429, 'rate_limited');
  assert.match(res.json().error.message, /brand changes/);
  assert.ok(Number(res.headers['retry-after']) > 0, res.headers['retry-after']);
  assertError(await api('POST', '/brand/preview'), 429, 'rate_limited');
  assert.equal(stored().maintenance, null);
  const read = await api('GET', '/maintenance');
  assert.equal(read.status, 200, 'reading spends nothing');
});

test('the dashboard may call /maintenance and /brand/preview across origins', async () => {
  for (const [path, allow] of [
    ['/maintenance', 'GET, PUT'],
    ['/brand/preview', 'POST'],
  ]) {
    const preflight = await request(`${control.url}${path}`, {
      method: 'OPTIONS',
      headers: { origin: DASHBOARD, 'access-control-request-method': allow.split(', ').at(-1) },
    });
    assert.equal(preflight.status, 204, path);
    assert.equal(preflight.headers['access-control-allow-origin'], DASHBOARD, path);
    assert.equal(preflight.headers['access-control-allow-methods'], `${allow}, OPTIONS`, path);
  }
  const read = await api('GET', '/maintenance', { headers: { origin: DASHBOARD } });
  assert.equal(read.headers['access-control-allow-origin'], DASHBOARD);
  const other = await api('GET', '/maintenance', { headers: { origin: 'http://evil.localhost' } });
  assert.equal(other.headers['access-control-allow-origin'], undefined);
});

test('a preview link opens the tenant own host with a token whose signature verifies under the shared secret, and shows the draft to whoever holds it', async () => {
  assertError(await api('POST', '/brand/preview'), 404, 'no_draft', 'no draft yet');
  assert.equal(stored().budget, 0, 'a refused preview spends nothing');
  const brand = JSON.parse(sql(`select brand_config from public.tenant_profiles where id = '${NORA.id}'`));
  const draftBrand = { ...brand, colors: { ...brand.colors, primary: '#0a7d5a' } };
  const draft = await api('PUT', '/brand/draft', { body: { displayName: 'Northstar Draft', brandConfig: draftBrand } });
  assert.equal(draft.status, 200, draft.body);

  const started = Date.now();
  const res = await api('POST', '/brand/preview');
  assert.equal(res.status, 200, res.body);
  assert.match(res.headers['cache-control'], /no-store/);
  const { url, expiresAt } = res.json();
  assert.deepEqual(Object.keys(res.json()).sort(), ['expiresAt', 'url']);
  const link = new URL(url);
  assert.equal(link.protocol, 'https:');
  assert.equal(link.host, NORA.domain, 'the tenant primary domain');
  assert.equal(link.pathname, '/');
  assert.deepEqual([...link.searchParams.keys()], ['tenant_preview']);
  const token = link.searchParams.get('tenant_preview');
  const [key, signature] = token.split('.');
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.equal(signature, createHmac('sha256', PREVIEW_SIGNING_SECRET).update(key).digest('base64url'), 'signed with the shared secret');
  assert.notEqual(signature, createHmac('sha256', `${PREVIEW_SIGNING_SECRET}x`).update(key).digest('base64url'));
  assert.match(expiresAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const lives = Date.parse(expiresAt) - started;
  assert.ok(lives > 3_500_000 && lives <= 3_600_000 + 5_000, `live for an hour: ${lives} ms`);

  // The database keeps the key's hash only, and answers the draft to whoever holds the key.
  const hash = createHash('sha256').update(key).digest('hex');
  assert.equal(
    sql(`select count(*) from private.brand_previews where encode(key_hash, 'hex') = '${hash}' and tenant_id = '${NORA.id}'`),
    '1',
  );
  const anon = { apikey: stack.anonKey, authorization: `Bearer ${stack.anonKey}`, 'content-type': 'application/json' };
  const shown = await request(`${stack.postgrest.url}/rpc/tenant_preview`, {
    method: 'POST',
    headers: anon,
    body: JSON.stringify({ key }),
  });
  assert.equal(shown.status, 200, shown.body);
  const tenant = shown.json();
  assert.deepEqual(Object.keys(tenant), [
    'id',
    'slug',
    'displayName',
    'tenantType',
    'customDomain',
    'enabledAssessments',
    'brand',
    'maintenance',
  ]);
  assert.equal(tenant.id, NORA.id);
  assert.equal(tenant.displayName, 'Northstar Draft');
  assert.equal(tenant.brand.colors.primary, '#0a7d5a');
  const forged = await request(`${stack.postgrest.url}/rpc/tenant_preview`, {
    method: 'POST',
    headers: anon,
    body: JSON.stringify({ key: key.replace(/^./, (c) => (c === '0' ? '1' : '0')) }),
  });
  assert.equal(forged.body.trim(), 'null', 'another key shows nothing');
  assert.equal(stored().budget, 2, 'the draft and the preview each spent a brand write');
});

test('without PREVIEW_SIGNING_SECRET, previews are not enabled and name the setting', async () => {
  const off = await startControl(stack, { vars: { PREVIEW_SIGNING_SECRET: '' } });
  sql(`insert into private.tenant_brand_drafts (tenant_id, display_name, brand_config)
    select id, 'Draft', brand_config from public.tenant_profiles where id = '${NORA.id}'`);
  const res = await request(`${off.url}/brand/preview?tenant_id=${NORA.id}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens.nora}` },
  });
  assertError(res, 404, 'not_enabled');
  assert.match(res.json().error.message, /PREVIEW_SIGNING_SECRET/);
  assert.equal(sql('select count(*) from private.brand_previews'), '0');
  assert.equal(stored().budget, 0, 'nothing asked of the database');
  // Maintenance needs no secret.
  const read = await request(`${off.url}/maintenance?tenant_id=${NORA.id}`, { headers: { authorization: `Bearer ${tokens.nora}` } });
  assert.equal(read.status, 200, read.body);
});
