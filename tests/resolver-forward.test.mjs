// The resolver at the edge (issue 4): hosts that are tenants (custom domains and
// `<slug>.PLATFORM_DOMAIN`), the platform's own host, the www redirect, and forwarding to the
// app origin with the tenant's identity. The Worker runs with PLATFORM_DOMAIN and ORIGIN_URL
// set, ORIGIN_URL pointing at a local test origin that records what it receives.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { restartPostgrest, startStack, stopPostgrest } from '../scripts/stack.mjs';
import { representativeBadHosts } from './support/corpus.mjs';
import { ORIGIN_BODY, startOrigin } from './support/origin.mjs';
import {
  TENANTS, assertError, assertHostBound, assertPublicTenant, client, leadingWithMeaning, storedTenant, sweepBadHosts,
} from './support/tenants.mjs';

const PLATFORM = 'coachplatform.test';

let origin;
let stack;
let call;
let lwm; // Leading with Meaning
before(async () => {
  origin = await startOrigin();
  stack = await startStack({ vars: { PLATFORM_DOMAIN: PLATFORM, ORIGIN_URL: origin.url } });
  call = client(stack.worker.url);
  lwm = leadingWithMeaning(stack);
});
after(async () => {
  await stack?.stop();
  await origin?.stop();
});

/** Sends one request and returns the Worker's answer with what reached the origin meanwhile. */
async function through(path, options) {
  origin.reset();
  const res = await call(path, options);
  return { res, seen: [...origin.requests] };
}

/** The X-Tenant-* headers of a request the origin received. */
const tenantHeaders = (req) => Object.fromEntries(Object.entries(req.headers).filter(([name]) => name.startsWith('x-tenant-')));

/** Asserts the request was answered by the Worker itself and nothing reached the origin. */
const assertNotForwarded = ({ seen }, what) =>
  assert.deepEqual(seen.map((r) => `${r.method} ${r.url}`), [], `${what} reached the origin`);

// ---------------------------------------------------------------------------------------------
// brand.json by platform subdomain

test('brand.json on <slug>.PLATFORM_DOMAIN answers that tenant, with port and in any case', async () => {
  for (const host of [`acme-leadership.${PLATFORM}`, 'ACME-Leadership.CoachPlatform.TEST:8787', `acme-leadership.${PLATFORM}.`]) {
    const res = await call('/_tenant/brand.json', { host });
    assertPublicTenant(res, 'acme-leadership');
    assert.deepEqual(res.json(), storedTenant(stack, 'acme-leadership'), host);
  }
});

test('custom domains answer brand.json alongside the platform domain', async () => {
  const res = await call('/_tenant/brand.json', { host: lwm.domain });
  assertPublicTenant(res, 'leadingwithmeaning');
});

test('the platform apex and www are not tenants: brand.json is 404 tenant_not_found', async () => {
  for (const host of [PLATFORM, `www.${PLATFORM}`]) {
    assertError(await call('/_tenant/brand.json', { host }), 404, 'tenant_not_found', host);
  }
});

// ---------------------------------------------------------------------------------------------
// Forwarding with the tenant's identity

test("a tenant host's request reaches the origin with X-Tenant-Id, X-Tenant-Slug and X-Forwarded-Host", async () => {
  for (const [host, tenant] of [
    [TENANTS.northstar.domain, TENANTS.northstar],
    [lwm.domain, lwm],
    [`acme-leadership.${PLATFORM}`, TENANTS.acme],
  ]) {
    const { res, seen } = await through('/welcome?x=1', { host });
    assert.equal(res.status, 200, `${host}: ${res.body}`);
    assert.equal(res.body, ORIGIN_BODY, host);
    assert.equal(seen.length, 1, `${host}: one request reaches the origin`);
    const [req] = seen;
    assert.equal(`${req.method} ${req.url}`, 'GET /welcome?x=1', host);
    assert.deepEqual(tenantHeaders(req), { 'x-tenant-id': tenant.id, 'x-tenant-slug': tenant.slug }, host);
    assert.equal(req.headers['x-forwarded-host'], host, host);
  }
});

test("a POST's method, path, query, body and headers reach the origin unchanged", async () => {
  const body = JSON.stringify({ answers: [3, 1, 4], note: 'ünïcödé ✓' });
  const { res, seen } = await through('/api/sessions/42/answers?campaign=7&lang=en', {
    method: 'POST',
    host: TENANTS.acme.domain,
    body,
    headers: { 'content-type': 'application/json', 'x-client-note': 'kept', cookie: 'session=abc' },
  });
  assert.equal(res.status, 200, res.body);
  assert.equal(seen.length, 1);
  const [req] = seen;
  assert.equal(req.method, 'POST');
  assert.equal(req.url, '/api/sessions/42/answers?campaign=7&lang=en');
  assert.equal(req.body, body);
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.headers['x-client-note'], 'kept');
  assert.equal(req.headers.cookie, 'session=abc');
  assert.equal(req.headers['x-tenant-slug'], 'acme-leadership');
});

test('client-sent X-Tenant-* headers never reach the origin', async () => {
  const spoofed = { 'x-tenant-id': 'spoofed-id', 'x-tenant-slug': 'spoofed-slug', 'x-tenant-whatever': 'spoofed' };
  for (const [host, expected] of [
    [TENANTS.northstar.domain, { 'x-tenant-id': TENANTS.northstar.id, 'x-tenant-slug': TENANTS.northstar.slug }],
    [PLATFORM, {}],
  ]) {
    const { res, seen } = await through('/dashboard', { host, headers: spoofed });
    assert.equal(res.status, 200, `${host}: ${res.body}`);
    assert.equal(seen.length, 1, host);
    assert.deepEqual(tenantHeaders(seen[0]), expected, host);
  }
});

test('the platform host itself is forwarded without any X-Tenant-* header', async () => {
  for (const host of [PLATFORM, `www.${PLATFORM}`]) {
    const { res, seen } = await through('/pricing?plan=pro', { host });
    assert.equal(res.status, 200, `${host}: ${res.body}`);
    assert.equal(seen.length, 1, host);
    assert.equal(seen[0].url, '/pricing?plan=pro', host);
    assert.deepEqual(tenantHeaders(seen[0]), {}, host);
  }
});

test('forwarded answers are never stored by a shared cache under a key without the host', async () => {
  for (const host of [TENANTS.northstar.domain, PLATFORM]) {
    const { res } = await through('/welcome', { host });
    assert.equal(res.status, 200, `${host}: ${res.body}`);
    assertHostBound(res);
  }
});

// ---------------------------------------------------------------------------------------------
// The www redirect

test('www.<custom domain> redirects 301 to the domain with the same path and query', async () => {
  for (const domain of [TENANTS.northstar.domain, lwm.domain]) {
    const answer = await through('/welcome?x=1', { host: `www.${domain}` });
    assert.equal(answer.res.status, 301, `www.${domain}: ${answer.res.body}`);
    assert.ok(answer.res.headers.location?.endsWith(`//${domain}/welcome?x=1`), `Location: ${answer.res.headers.location}`);
    assertNotForwarded(answer, `www.${domain}`);
  }
});

// ---------------------------------------------------------------------------------------------
// What is never forwarded

test('unknown and inactive tenant hosts are 404 tenant_not_found and nothing is forwarded', async () => {
  for (const host of [TENANTS.dormant.domain, `dormant-coach.${PLATFORM}`, `no-such-coach.${PLATFORM}`, 'nobody.example.com']) {
    const answer = await through('/welcome', { host });
    assertError(answer.res, 404, 'tenant_not_found', host);
    assertNotForwarded(answer, host);
  }
});

test('/_tenant/ paths are the Worker\'s on every host and never forwarded', async () => {
  for (const host of [TENANTS.northstar.domain, PLATFORM]) {
    const answer = await through('/_tenant/nope', { host });
    assertError(answer.res, 404, 'not_found', host);
    assertNotForwarded(answer, host);
  }
});

test('a Host that is not a hostname is 400 invalid_host on a forwarded path', async () => {
  for (const host of representativeBadHosts) {
    const answer = await through('/welcome', { host });
    assertError(answer.res, 400, 'invalid_host', host);
    assertNotForwarded(answer, host);
  }
});

test('bad Hosts on forwarded paths are 4xx and reach neither PostgREST nor the origin', async (t) => {
  origin.reset();
  const { wrong, upstream, summary } = await sweepBadHosts(stack, stack.worker.url, '/welcome?x=1');
  t.diagnostic(summary);
  assert.deepEqual(wrong, []);
  assert.equal(upstream, 0, 'PostgREST requests');
  assertNotForwarded({ seen: origin.requests }, 'a bad Host');
});

// ---------------------------------------------------------------------------------------------
// PostgREST down (last). A host no earlier test used, so no cached answer can stand in.

test('a host PostgREST must resolve is 503 upstream_unavailable with Retry-After while it is down, and nothing is forwarded', async () => {
  await stopPostgrest(stack);
  try {
    const answer = await through('/welcome', { host: `never-looked-up.${PLATFORM}` });
    assertError(answer.res, 503, 'upstream_unavailable');
    assert.ok(Number(answer.res.headers['retry-after']) > 0, `Retry-After: ${answer.res.headers['retry-after']}`);
    assertNotForwarded(answer, 'a tenant request without PostgREST');
  } finally {
    await restartPostgrest(stack);
  }
});
