// The resolver at the edge (issue 4): hosts that are tenants (custom domains and
// `<slug>.PLATFORM_DOMAIN`), the platform's own host, the www redirect, and forwarding to the
// app origin with the tenant's identity. The Worker runs with PLATFORM_DOMAIN and ORIGIN_URL
// set, ORIGIN_URL pointing at a local test origin that records what it receives.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { restartPostgrest, startStack, stopPostgrest } from '../scripts/stack.mjs';
import { representativeBadHosts } from './support/corpus.mjs';
import { ORIGIN_BODY, headerValues, startOrigin } from './support/origin.mjs';
import {
  TENANTS,
  assertError,
  assertHostBound,
  assertPublicTenant,
  client,
  leadingWithMeaning,
  storedTenant,
  sweepBadHosts,
} from './support/tenants.mjs';

const PLATFORM = 'coachplatform.test';

/** Where the origin answers with a body and a Cache-Control of its choosing. */
const CACHEABLE_ICON = '/assets/icon.png';
/** Where the origin reads the request and never answers. */
const NEVER_ANSWERS = '/reports/never';
/** Where the origin sends its headers at once and the rest of its body after ORIGIN_TIMEOUT_MS. */
const SLOW_BODY = '/reports/slow';
/** The Worker's ORIGIN_TIMEOUT_MS here: short, so a test can wait it out. */
const ORIGIN_TIMEOUT_MS = 1000;

let origin;
let stack;
let call;
let lwm; // Leading with Meaning
/** Resolves when the request the origin is not answering is closed by the Worker. */
let unanswered;
before(async () => {
  origin = await startOrigin({
    routes: {
      [CACHEABLE_ICON]: (req, res) => {
        res.writeHead(200, { 'content-type': 'image/x-icon', 'cache-control': 'public, max-age=86400, s-maxage=604800' });
        res.end(`icon of ${req.headers['x-tenant-slug'] ?? 'the platform'}`);
      },
      [NEVER_ANSWERS]: (req, res) => {
        unanswered = new Promise((resolve) => res.on('close', resolve));
      },
      [SLOW_BODY]: (req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('begun, ');
        setTimeout(() => res.end('ended'), ORIGIN_TIMEOUT_MS * 1.5);
      },
    },
  });
  stack = await startStack({ vars: { PLATFORM_DOMAIN: PLATFORM, ORIGIN_URL: origin.url, ORIGIN_TIMEOUT_MS: `${ORIGIN_TIMEOUT_MS}` } });
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
  assert.deepEqual(
    seen.map((r) => `${r.method} ${r.url}`),
    [],
    `${what} reached the origin`,
  );

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

/** Identity and proxy headers a client might forge, each in a spelling servers read alike. */
const FORGED = {
  'X-Tenant_Id': '00000000-0000-4000-8000-000000000bad',
  X_Tenant_Slug: 'acme-leadership',
  'x-tenant-id': 'spoofed-id',
  'X-TENANT-SLUG': 'spoofed-slug',
  'X-Tenant-Role': 'admin',
  'X-Forwarded_Host': 'evil.example',
  'X-Forwarded-Host': 'evil.example',
  Forwarded: 'for=198.51.100.66;host=evil.example;proto=http',
  'X-Forwarded-For': '198.51.100.66',
  X_Forwarded_For: '198.51.100.67',
  'X-Forwarded-Proto': 'gopher',
  'X-Forwarded-Port': '6666',
  'X-Forwarded-Prefix': '/evil',
  'X-Real-IP': '198.51.100.66',
  'X-Original-URL': '/admin',
  'X-Rewrite-URL': '/admin',
  'X-Host': 'evil.example',
  'X-Original-Host': 'evil.example',
  'X-HTTP-Method-Override': 'DELETE',
  X_HTTP_Method_Override: 'DELETE',
};

/** The headers only the Worker sets, by the name servers read. */
const WORKER_SET = ['x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-for', 'x-tenant-id', 'x-tenant-slug'];

test('forged identity and proxy headers, in every spelling a server reads alike, never reach the origin', async () => {
  for (const [host, tenant] of [
    [TENANTS.northstar.domain, TENANTS.northstar],
    [PLATFORM, null],
  ]) {
    const { res, seen } = await through('/dashboard', {
      host,
      headers: { ...FORGED, 'cf-connecting-ip': '203.0.113.9', accept: 'text/html' },
    });
    assert.equal(res.status, 200, `${host}: ${res.body}`);
    assert.equal(seen.length, 1, host);
    const [req] = seen;
    for (const name of Object.keys(FORGED)) {
      const normalised = name.toLowerCase().replaceAll('_', '-');
      if (WORKER_SET.includes(normalised)) continue;
      assert.deepEqual(headerValues(req, name), [], `${host}: ${name} reached the origin`);
    }
    const expected = {
      'x-forwarded-host': [host],
      'x-forwarded-proto': ['http'],
      'x-forwarded-for': ['203.0.113.9'],
      'x-tenant-id': tenant ? [tenant.id] : [],
      'x-tenant-slug': tenant ? [tenant.slug] : [],
    };
    for (const [name, values] of Object.entries(expected)) {
      assert.deepEqual(headerValues(req, name), values, `${host}: ${name} (exactly one value, the Worker's)`);
    }
    assert.deepEqual(headerValues(req, 'accept'), ['text/html'], 'ordinary headers pass');
  }
});

test('forwarded answers are private to the browser, whatever the origin said', async () => {
  for (const [path, expected] of [
    ['/welcome', 'private, max-age=60'],
    [CACHEABLE_ICON, 'private, max-age=86400'],
  ]) {
    const { res } = await through(path, { host: TENANTS.northstar.domain });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['cache-control'], expected, path);
    assert.equal(res.headers['cdn-cache-control'], 'no-store', path);
    assert.equal(res.headers['cloudflare-cdn-cache-control'], 'no-store', path);
  }
});

test("one tenant's cacheable file never answers for another: the subrequest bypasses the runtime's cache", async () => {
  const northstar = await through(CACHEABLE_ICON, { host: TENANTS.northstar.domain });
  const acme = await through(CACHEABLE_ICON, { host: TENANTS.acme.domain });
  assert.equal(northstar.res.body, `icon of ${TENANTS.northstar.slug}`);
  assert.equal(acme.res.body, `icon of ${TENANTS.acme.slug}`);
  assert.equal(acme.seen.length, 1, 'the second tenant was asked of the origin, not served from a cache');
  // workerd marks a subrequest made with `cache: "no-store"` this way; the client sent neither.
  for (const { seen } of [northstar, acme]) {
    assert.deepEqual(headerValues(seen[0], 'pragma'), ['no-cache'], 'Pragma of the subrequest');
    assert.deepEqual(headerValues(seen[0], 'cache-control'), ['no-cache'], 'Cache-Control of the subrequest');
  }
});

test("every spelling an origin could read as /_tenant/ is the Worker's, answered not_found and never forwarded", async () => {
  for (const path of [
    '/_TENANT/health',
    '/_Tenant/slug/acme-leadership',
    '/%5Ftenant/health',
    '/%5ftenant/brand.json',
    '/%255Ftenant/health',
    '//_tenant/health',
    '/_tenant;x=1/health',
    '/x/%252e%252e/_tenant/health',
    '/_tenant./health',
    '/_TENANT',
    '/%5C_tenant/health',
    '/_tenant%00/health',
    '/_tenant%09/health',
    '/_tenant%0a/health',
    '/_tenant%0d/health',
    '/_tenant%00.html',
    '/%u005ftenant/health',
    '/%c0%dftenant/health',
    '/%c1%9ftenant/health',
    '/%ef%bc%bftenant/health',
    '/%EF%BC%8F%EF%BC%BF%EF%BD%94%EF%BD%85%EF%BD%8E%EF%BD%81%EF%BD%8E%EF%BD%94/health',
  ]) {
    for (const host of [TENANTS.northstar.domain, PLATFORM]) {
      const answer = await through(path, { host });
      assertError(answer.res, 404, 'not_found', `${host}${path}`);
      assertNotForwarded(answer, `${host}${path}`);
    }
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
// The origin's timeout (ORIGIN_TIMEOUT_MS)

test('an origin that does not answer within ORIGIN_TIMEOUT_MS is 504 origin_timeout, and the request to it is aborted', async () => {
  unanswered = undefined;
  const started = Date.now();
  const { res, seen } = await through(NEVER_ANSWERS, { method: 'POST', host: TENANTS.northstar.domain, body: 'a form' });
  const took = Date.now() - started;
  assertError(res, 504, 'origin_timeout');
  assert.equal(seen.length, 1, 'the request reached the origin');
  assert.ok(took >= ORIGIN_TIMEOUT_MS && took < ORIGIN_TIMEOUT_MS + 3000, `answered after ${took} ms`);
  const closed = await Promise.race([unanswered.then(() => true), new Promise((resolve) => setTimeout(resolve, 3000, false))]);
  assert.ok(closed, "the Worker's request to the origin is closed, not left open");
});

test('the timeout ends with the headers: a body that takes longer streams through whole', async () => {
  const { res } = await through(SLOW_BODY, { host: TENANTS.northstar.domain });
  assert.equal(res.status, 200, res.body);
  assert.equal(res.body, 'begun, ended');
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

/** What a browser sends for a page. */
const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8' };

test('a browser asking an unknown or inactive host gets the same small HTML page, a JSON client the error contract', async () => {
  const pages = [];
  for (const host of [TENANTS.dormant.domain, `dormant-coach.${PLATFORM}`, `no-such-coach.${PLATFORM}`, 'nobody.example.com']) {
    const answer = await through('/welcome', { host, headers: BROWSER });
    assert.equal(answer.res.status, 404, host);
    assert.equal(answer.res.headers['content-type'], 'text/html; charset=utf-8', host);
    assert.match(answer.res.headers['content-security-policy'], /default-src 'none'/);
    assert.equal(answer.res.headers['cache-control'], 'no-store');
    assert.match(answer.res.body, /There is no site here/);
    assert.doesNotMatch(answer.res.body, /dormant|tenant_not_found|\{"error"/i, `${host}: nothing of the tenant or the JSON`);
    assertNotForwarded(answer, host);
    pages.push(answer.res.body);
  }
  assert.equal(new Set(pages).size, 1, 'byte-identical for every unknown and inactive host');
  assertError(await call('/welcome', { host: TENANTS.dormant.domain, headers: { accept: 'application/json' } }), 404, 'tenant_not_found');
  assertError(await call('/_tenant/brand.json', { host: TENANTS.dormant.domain, headers: BROWSER }), 404, 'tenant_not_found');
  const head = await call('/welcome', { method: 'HEAD', host: TENANTS.dormant.domain, headers: BROWSER });
  assert.equal(head.status, 404);
  assert.equal(head.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(head.body, '');
});

test('a browser gets a "temporarily unavailable" page when the origin does not answer in time, a JSON client the 504', async () => {
  const page = await call(NEVER_ANSWERS, { host: TENANTS.northstar.domain, headers: BROWSER });
  assert.equal(page.status, 504);
  assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  assert.match(page.body, /temporarily unavailable/);
  assertError(await call(NEVER_ANSWERS, { host: TENANTS.northstar.domain }), 504, 'origin_timeout');
});

test("/_tenant/ paths are the Worker's on every host and never forwarded", async () => {
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
    // A browser gets the same status and Retry-After, as a page.
    const page = await through('/welcome', { host: `never-looked-up-either.${PLATFORM}`, headers: BROWSER });
    assert.equal(page.res.status, 503);
    assert.ok(Number(page.res.headers['retry-after']) > 0);
    assert.equal(page.res.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(page.res.body, /This site is temporarily unavailable/);
    assertNotForwarded(page, 'a page without PostgREST');
  } finally {
    await restartPostgrest(stack);
  }
});
