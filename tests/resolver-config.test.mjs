// The resolver's settings (issue 4): both anon key formats Supabase issues, and settings that
// must make every request answer 500 `misconfigured` naming the setting, never its value. Each
// case is its own Worker instance against one stack.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { addWorker, mintJwt, startStack } from '../scripts/stack.mjs';
import { TENANTS, USERS, assertError, assertPublicTenant, client, countUpstream, storedTenant, userToken } from './support/tenants.mjs';

let stack;
let publishable; // SUPABASE_ANON_KEY is a publishable key: sent as apikey only
let serviceRole; // SUPABASE_ANON_KEY is a service-role JWT: refused
let serviceRoleKey;
let badTimeout; // UPSTREAM_TIMEOUT_MS is not a number
let onLocalhost; // PLATFORM_DOMAIN=localhost: <slug>.localhost works in a browser with no DNS
before(async () => {
  stack = await startStack({ worker: false });
  serviceRoleKey = mintJwt(stack.jwtSecret, { role: 'service_role' });
  publishable = client((await addWorker(stack, { SUPABASE_ANON_KEY: 'sb_publishable_localtestkey' })).url);
  serviceRole = client((await addWorker(stack, { SUPABASE_ANON_KEY: serviceRoleKey })).url);
  badTimeout = client((await addWorker(stack, { UPSTREAM_TIMEOUT_MS: 'soon' })).url);
  onLocalhost = client((await addWorker(stack, { PLATFORM_DOMAIN: 'localhost' })).url);
});
after(async () => {
  await stack?.stop();
});

/** One request of every kind: health, each lookup, brand.json, me and a forwarded path. */
const everyKindOfRequest = (call) => [
  ['health', () => call('/_tenant/health')],
  ['deep health', () => call('/_tenant/health?deep=1')],
  ['slug', () => call('/_tenant/slug/leadingwithmeaning')],
  ['domain', () => call(`/_tenant/domain/${TENANTS.northstar.domain}`)],
  ['id', () => call(`/_tenant/id/${TENANTS.acme.id}`)],
  ['brand.json', () => call('/_tenant/brand.json', { host: TENANTS.northstar.domain })],
  ['me', () => call('/_tenant/me', { headers: { authorization: `Bearer ${userToken(stack, USERS.mark)}` } })],
  ['forwarded', () => call('/welcome', { host: TENANTS.northstar.domain })],
];

/** Asserts that every kind of request is 500 misconfigured naming `setting`, without `value`. */
async function assertMisconfigured(call, setting, value) {
  for (const [what, send] of everyKindOfRequest(call)) {
    const res = await send();
    assertError(res, 500, 'misconfigured', what);
    assert.ok(res.json().error.message.includes(setting), `${what}: the message names ${setting}: ${res.body}`);
    assert.ok(!res.body.includes(value), `${what}: the answer must not contain the value: ${res.body}`);
  }
}

test('a publishable key (apikey only, no Authorization) resolves tenants through PostgREST as anon', async () => {
  const { result: res, upstream } = await countUpstream(stack, () => publishable('/_tenant/slug/leadingwithmeaning'));
  assertPublicTenant(res, 'leadingwithmeaning');
  assert.deepEqual(res.json(), storedTenant(stack, 'leadingwithmeaning'));
  assert.equal(res.headers['x-tenant-cache'], 'miss', 'answered by PostgREST, not a cache');
  assert.ok(upstream >= 1, `${upstream} PostgREST requests (the tenant, and the isolate's first read of the change feed)`);
});

test("a publishable key still lets /_tenant/me use the caller's own JWT", async () => {
  const res = await publishable('/_tenant/me', { headers: { authorization: `Bearer ${userToken(stack, USERS.nora)}` } });
  assert.equal(res.status, 200, res.body);
  assert.equal(res.json().slug, 'northstar-coaching');
});

test('a service-role key is refused: every request is 500 misconfigured naming SUPABASE_ANON_KEY, never the key', async () => {
  await assertMisconfigured(serviceRole, 'SUPABASE_ANON_KEY', serviceRoleKey);
});

test('a refused service-role key is never sent to PostgREST', async () => {
  const { upstream } = await countUpstream(stack, () => Promise.all(everyKindOfRequest(serviceRole).map(([, send]) => send())));
  assert.equal(upstream, 0, 'PostgREST requests');
});

test('PLATFORM_DOMAIN=localhost: <slug>.localhost resolves by slug, localhost is the platform', async () => {
  for (const [host, slug] of [
    ['acme-leadership.localhost', 'acme-leadership'],
    ['Northstar-Coaching.localhost:8787', 'northstar-coaching'],
    [TENANTS.northstar.domain, 'northstar-coaching'],
  ]) {
    assertPublicTenant(await onLocalhost('/_tenant/brand.json', { host }), slug);
  }
  for (const host of ['localhost', 'localhost:8787', 'www.localhost']) {
    assertError(await onLocalhost('/_tenant/brand.json', { host }), 404, 'tenant_not_found', host);
  }
  assertError(await onLocalhost('/_tenant/brand.json', { host: 'dormant-coach.localhost' }), 404, 'tenant_not_found');
});

test('a malformed UPSTREAM_TIMEOUT_MS makes every request 500 misconfigured naming it', async () => {
  await assertMisconfigured(badTimeout, 'UPSTREAM_TIMEOUT_MS', 'soon');
});
