// The control plane (issue 17) on the real stack: Postgres with the migrations, PostgREST, two
// resolver data centers (each its own workerd and Cache API, CHANGES_POLL_SECONDS=1) and the
// control plane in workerd, with the Cloudflare stand-in (tests/support/cloudflare.mjs) as its
// Cloudflare API. The stand-in checks ownership the way Cloudflare does, through the resolver.
// The Cron Trigger is run on demand (GET /__scheduled); each run makes at most
// CLOUDFLARE_CALLS_PER_RUN (4 here) Cloudflare calls. A headless Chromium drives the demo's
// Domains page at the end. One stack for every test: each uses hostnames of its own.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CUSTOM_HOSTNAME_TARGET, ROOT, addWorker, directUrl, freePort, psql, startControl, startStack } from '../scripts/stack.mjs';
import { launchBrowser } from './support/browser.mjs';
import { MESSAGES } from './support/cloudflare.mjs';
import { domainValidators } from './support/domain-schema.mjs';
import { everywhere as everyCenter, onCenter } from './support/centers.mjs';
import { request } from './support/http.mjs';
import { TENANTS, USERS, assertError, assertPublicTenant, countUpstream, userToken } from './support/tenants.mjs';

const POLL_SECONDS = 1;
/** The feed's bound: a change is visible in every data center within CHANGES_POLL_SECONDS + 1 s. */
const BOUND_MS = (POLL_SECONDS + 1) * 1000;
const CALLS_PER_RUN = 4;
const ARTIFACTS = path.join(ROOT, 'test-artifacts');

let stack;
let control;
let cf;
/** The two resolver data centers: `{ name, url }`. */
const centers = [];
/** The dashboard's origin: the platform host of data center A. */
let dashboard;
let tokens;
/**
 * The control plane's own port, behind wrangler dev's proxy: for bodies the Worker refuses
 * unread (413). The proxy's connection to the Worker does not survive one, and it answers the
 * next request "Your worker restarted mid-request"; production has no such proxy.
 */
let direct;

before(async () => {
  const port = await freePort();
  dashboard = `http://localhost:${port}`;
  stack = await startStack({
    demo: true,
    workerPort: port,
    vars: { CHANGES_POLL_SECONDS: String(POLL_SECONDS), PLATFORM_DOMAIN: 'localhost' },
  });
  // The second data center and the control plane start side by side.
  const [dcB] = await Promise.all([
    addWorker(stack),
    startControl(stack, {
      vars: { CLOUDFLARE_CALLS_PER_RUN: String(CALLS_PER_RUN), DASHBOARD_ORIGIN: dashboard },
      cloudflare: { allowTopDomains: ['test', 'localhost'] },
      echo: Boolean(process.env.CONTROL_ECHO),
    }).then((started) => {
      control = started;
    }),
  ]);
  cf = control.cloudflare;
  direct = await directUrl(control, { probe: '/health' });
  centers.push({ name: 'dc-a', url: stack.worker.url }, { name: 'dc-b', url: dcB.url });
  tokens = {
    nora: userToken(stack, USERS.nora),
    lee: userToken(stack, USERS.lee),
    pat: userToken(stack, USERS.pat),
  };
});
after(async () => {
  await stack?.stop();
});

/** Every test starts with no test domains, at Cloudflare or in the database. */
beforeEach(() => {
  sql(`delete from public.tenant_domains where hostname like '%example.%' or hostname like '%.nora.test';
    delete from private.owner_write_budgets`);
  cf.hostnames.clear();
  cf.reset();
  control.dns.reset();
});

const sql = (text) => psql(stack.dbUrl, { sql: text }).trim();
const NORA = TENANTS.northstar;
const LEE = TENANTS.acme;

/**
 * Calls the control plane: `{ status, headers, body, json() }`. When wrangler dev's proxy says
 * the Worker restarted mid-request (a reload of its own, which it retries for GET and HEAD
 * only), the control plane's last output is printed to tell why.
 */
const api = (method, urlPath, opts) =>
  send(method, urlPath, opts).then((res) => {
    if (res.status === 503 && res.body.startsWith('Your worker restarted')) {
      console.error(`wrangler dev restarted the control plane during ${method} ${urlPath}:\n${control.proc.tail()}`);
    }
    return res;
  });
const send = (method, urlPath, { token = tokens.nora, body, headers = {} } = {}) =>
  request(`${control.url}${urlPath}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body),
  });

const schemas = domainValidators();

/** A tenant's domains as its coach sees them, checked against schema/domain-list.schema.json. */
async function domains(tenant = NORA, token = tokens.nora) {
  const res = await api('GET', `/domains?tenant_id=${tenant.id}`, { token });
  assert.equal(res.status, 200, res.body);
  const list = res.json();
  assert.ok(schemas.list(list), JSON.stringify(schemas.list.errors));
  return list.domains;
}

/** One domain of the coach's list, by hostname. */
const domain = async (hostname, tenant = NORA, token = tokens.nora) => (await domains(tenant, token)).find((d) => d.hostname === hostname);

/**
 * Adds a domain as its coach and publishes the TXT record its answer asks for (at the DNS
 * stand-in), as a coach who owns the domain does, unless `publish` is false; asserts the 201
 * and the answer's shape.
 */
async function add(hostname, tenant = NORA, token = tokens.nora, { publish = true } = {}) {
  const res = await api('POST', '/domains', { token, body: { tenantId: tenant.id, hostname } });
  assert.equal(res.status, 201, res.body);
  assert.ok(schemas.domain(res.json()), JSON.stringify(schemas.domain.errors));
  if (publish) {
    const txt = res.json().dns.find((r) => r.type === 'TXT' && !r.optional);
    control.dns.set(txt.name, 'TXT', [txt.value]);
  }
  return res.json();
}

/** The database's row for `hostname` (not removing; of `tenant` when given), or null. */
function row(hostname, tenant) {
  const of = tenant ? ` and tenant_id = '${tenant.id}'` : '';
  const json = sql(`select row_to_json(d) from public.tenant_domains d where hostname = '${hostname}' and status <> 'removing'${of}`);
  return json ? JSON.parse(json) : null;
}

/** Records the proof of `hostname`'s claim as the cron does once it found its TXT record. */
const prove = (hostname) => sql(`select public.prove_tenant_domain(id) from public.tenant_domains where hostname = '${hostname}'`);

/** Runs the Cron Trigger once; resolves with the Cloudflare requests it made. */
async function cron() {
  const from = cf.requests.length;
  await control.scheduled();
  return cf.requests.slice(from);
}

/** GET `path` on a data center with `host` as the Host header. */

/** Polls both data centers until `check(res)` holds on each; how long that took after `started`. */
const everywhere = (started, urlPath, host, check, what) => everyCenter(centers, started, urlPath, host, check, what);

const timings = [];
after(() => console.log(`# ${timings.join(', ')}`));

describe("the coach's API", () => {
  test('refuses what it cannot use with the error contract, before any upstream request', async () => {
    const { result, upstream } = await countUpstream(stack, async () => [
      [await api('GET', `/domains?tenant_id=${NORA.id}`, { token: null }), 401, 'unauthorized'],
      [await api('GET', `/domains?tenant_id=${NORA.id}`, { token: 'not-a-jwt' }), 401, 'unauthorized'],
      [await api('GET', '/domains?tenant_id=nope'), 400, 'invalid_id'],
      [await api('GET', '/domains'), 400, 'invalid_body'],
      [await api('POST', '/domains', { body: { tenantId: NORA.id, hostname: 'https://x.example.test/' } }), 400, 'invalid_domain'],
      [await api('POST', '/domains', { body: { tenantId: NORA.id, hostname: '127.0.0.1' } }), 400, 'invalid_domain'],
      [await api('POST', '/domains', { body: '{"hostname":' }), 400, 'invalid_body'],
      [
        await request(`${direct}/domains`, { method: 'POST', headers: { authorization: `Bearer ${tokens.nora}` }, body: 'x'.repeat(5000) }),
        413,
        'payload_too_large',
      ],
      [await api('DELETE', `/domains/a..b?tenant_id=${NORA.id}`), 400, 'invalid_domain'],
      [await api('PUT', '/domains'), 405, 'method_not_allowed'],
      [await api('GET', '/_tenant/brand.json'), 404, 'not_found'],
    ]);
    for (const [res, status, code] of result) assertError(res, status, code);
    assert.equal(upstream, 0, 'no PostgREST request');
  });

  test("answers the dashboard's origin with CORS, and no other", async () => {
    const preflight = await api('OPTIONS', '/domains', {
      token: null,
      headers: {
        origin: dashboard,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], dashboard);
    assert.match(preflight.headers['access-control-allow-methods'], /POST/);
    assert.match(preflight.headers['access-control-allow-headers'], /authorization/);
    const list = await api('GET', `/domains?tenant_id=${NORA.id}`, { headers: { origin: dashboard } });
    assert.equal(list.headers['access-control-allow-origin'], dashboard);
    const refused = await api('GET', `/domains?tenant_id=${NORA.id}`, { token: null, headers: { origin: dashboard } });
    assert.equal(refused.headers['access-control-allow-origin'], dashboard, 'errors are readable by the dashboard too');
    const other = await api('GET', `/domains?tenant_id=${NORA.id}`, { headers: { origin: 'http://evil.test' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });
});

describe("a coach's domain, end to end", () => {
  const host = 'coach.example.test';

  test('added through the API, created by the cron, verified through the resolver, served by both data centers, then removed', async () => {
    // Both data centers are asked first, so "no such tenant" is what they hold.
    for (const center of centers) assertError(await onCenter(center, '/_tenant/brand.json', host), 404, 'tenant_not_found');

    const added = await add(host);
    const proof = { type: 'TXT', name: `_localhost-challenge.${host}`, value: row(host).proof_token };
    assert.deepEqual(added, {
      hostname: host,
      status: 'pending',
      primary: false,
      ssl: null,
      verifiedAt: null,
      ownershipVerifiedAt: null,
      errors: [],
      dns: [{ type: 'CNAME', name: host, value: CUSTOM_HOSTNAME_TARGET }, proof],
      ready: false,
      diagnosis: { code: 'not_checked', fix: `The DNS of ${host} is checked within a minute.`, checkedAt: null },
    });
    assert.match(proof.value, /^[0-9a-f]{32}$/, "the claim's own token");
    assert.equal(cf.byName(host), undefined, 'Cloudflare hears of it from the cron, not from the request');

    // The coach published the TXT record (add() does): the cron finds it, then creates the hostname.
    const created = await cron();
    const storedAt = Date.now();
    assert.deepEqual(
      created.map((r) => `${r.method} ${r.status}`),
      ['POST 201'],
    );
    const atCloudflare = cf.byName(host);
    let seen = await domain(host);
    assert.equal(seen.status, 'pending');
    assert.equal(seen.ssl, 'initializing');
    assert.ok(Date.parse(seen.ownershipVerifiedAt) > 0, 'control of its DNS proven');
    assert.deepEqual(seen.dns, [
      { type: 'CNAME', name: host, value: CUSTOM_HOSTNAME_TARGET },
      proof,
      { type: 'TXT', name: `_cf-custom-hostname.${host}`, value: atCloudflare.ownership_verification.value, optional: true },
    ]);
    assert.deepEqual(seen.errors, ['custom hostname does not CNAME to this zone.']);
    const stored = row(host);
    assert.equal(stored.cloudflare_id, atCloudflare.id);
    assert.equal(stored.ownership_http_path, `/.well-known/cf-custom-hostname-challenge/${atCloudflare.id}`);
    assert.equal(stored.ownership_http_body, atCloudflare.ownership_verification_http.http_body);

    // Cloudflare's rounds: the certificate starts validating; then ownership is checked over
    // plain HTTP through the resolver, which answers the token on the coach's host in every
    // data center within the feed bound of the cron storing it.
    const tokenServed = await everywhere(
      storedAt,
      stored.ownership_http_path,
      host,
      (res) => res.status === 200 && res.body === stored.ownership_http_body,
      'ownership token',
    );
    timings.push(`token stored → served everywhere ${tokenServed} ms`);
    assert.ok(tokenServed <= BOUND_MS, `token served everywhere after ${tokenServed} ms (bound ${BOUND_MS} ms)`);
    await cf.advance();
    await cron();
    assert.equal((await domain(host)).ssl, 'pending_validation');
    await cf.advance();
    assert.equal(cf.byName(host).status, 'active', 'the stand-in verified ownership through the resolver');
    await cron();
    seen = await domain(host);
    assert.equal(seen.status, 'pending', 'verified, but without a certificate it does not serve yet');
    assert.deepEqual(seen.errors, []);

    // The certificate's steps arrive as webhooks: each shows in GET /domains without a cron run.
    const calls = cf.requests.length;
    await cf.advance();
    assert.equal((await domain(host)).ssl, 'pending_issuance');
    await cf.advance();
    assert.equal((await domain(host)).ssl, 'pending_deployment');
    await cf.advance();
    const started = Date.now();
    assert.deepEqual(
      cf.webhooks.map((w) => [w.status, w.answer]),
      [
        ['pending_issuance', 200],
        ['pending_deployment', 200],
        ['active', 200],
      ],
    );
    seen = await domain(host);
    assert.equal(seen.status, 'active', "the deployed certificate's webhook made it active, no cron needed");
    assert.equal(seen.ssl, 'active');
    assert.equal(seen.primary, false, "the tenant's existing domain (its seeded custom_domain) stays its primary");
    assert.ok(Date.parse(seen.verifiedAt) > 0, seen.verifiedAt);
    assert.deepEqual(
      cf.requests.slice(calls).map((r) => r.method),
      ['GET'],
      'the webhook read the hostname back once',
    );

    const served = await everywhere(started, '/_tenant/brand.json', host, (res) => res.status === 200, 'active domain served');
    timings.push(`active → served everywhere ${served} ms`);
    assert.ok(served <= BOUND_MS, `served everywhere after ${served} ms (bound ${BOUND_MS} ms)`);
    for (const center of centers) assertPublicTenant(await onCenter(center, '/_tenant/brand.json', host), NORA.slug);

    // The coach makes it the primary: the tenant's customDomain everywhere.
    const promoted = await api('POST', `/domains/${host}/primary?tenant_id=${NORA.id}`);
    assert.equal(promoted.status, 200, promoted.body);
    assert.equal(promoted.json().primary, true);
    assert.equal((await domain(NORA.domain))?.primary ?? false, false);
    const customDomain = await everywhere(
      Date.now(),
      '/_tenant/brand.json',
      host,
      (res) => res.status === 200 && res.json().customDomain === host,
      'primary as customDomain',
    );
    assert.ok(customDomain <= BOUND_MS, `customDomain everywhere after ${customDomain} ms (bound ${BOUND_MS} ms)`);

    // Removal: the domain stops resolving at once (within the feed bound), the cron deletes
    // its Cloudflare hostname, then its row.
    const removed = await api('DELETE', `/domains/${host}?tenant_id=${NORA.id}`);
    assert.equal(removed.status, 200, removed.body);
    assert.equal(removed.json().status, 'removing');
    const removedAt = Date.now();
    const gone = await everywhere(removedAt, '/_tenant/brand.json', host, (res) => res.status === 404, 'removed domain');
    timings.push(`removed → 404 everywhere ${gone} ms`);
    assert.ok(gone <= BOUND_MS, `404 everywhere after ${gone} ms (bound ${BOUND_MS} ms)`);
    const deleted = await cron();
    assert.deepEqual(
      deleted.map((r) => `${r.method} ${r.status}`),
      ['DELETE 200'],
    );
    assert.equal(cf.byName(host), undefined, 'the Cloudflare hostname is gone');
    assert.equal(sql(`select count(*) from public.tenant_domains where hostname = '${host}'`), '0', 'the row is gone');
    assert.equal(await domain(host), undefined);
    for (const center of centers) assertError(await onCenter(center, '/_tenant/brand.json', host), 404, 'tenant_not_found');
  });
});

describe("Cloudflare's refusals and limits", () => {
  test("a hostname Cloudflare refuses ends failed with Cloudflare's message, and is not retried", async () => {
    await add('coach.example.com');
    const calls = await cron();
    assert.deepEqual(
      calls.map((r) => `${r.method} ${r.status}`),
      ['POST 400'],
    );
    const seen = await domain('coach.example.com');
    assert.equal(seen.status, 'failed');
    assert.deepEqual(seen.errors, [MESSAGES[1411]]);
    assert.deepEqual(await cron(), [], 'a failed domain costs no further call');
  });

  test('a 429 stops the run without losing or changing a row; the next run does the work', async () => {
    for (const name of ['one.example.test', 'two.example.test']) {
      await add(name, NORA, tokens.nora, { publish: false });
      prove(name);
    }
    const before = [row('one.example.test'), row('two.example.test')];
    cf.failNext(1, 429);
    const limited = await cron();
    assert.deepEqual(
      limited.map((r) => r.status),
      [429],
      'the run stopped at the first 429',
    );
    assert.deepEqual([row('one.example.test'), row('two.example.test')], before);
    cf.failNext(1, 503);
    assert.deepEqual(
      (await cron()).map((r) => r.status),
      [503],
      'a 5xx stops the run too',
    );
    assert.deepEqual([row('one.example.test'), row('two.example.test')], before);
    assert.deepEqual(
      (await cron()).map((r) => `${r.method} ${r.status}`),
      ['POST 201', 'POST 201'],
    );
    assert.ok(row('one.example.test').cloudflare_id && row('two.example.test').cloudflare_id);
  });

  test(`a run makes at most CLOUDFLARE_CALLS_PER_RUN (${CALLS_PER_RUN}) calls; the next continues`, async () => {
    const names = [1, 2, 3, 4, 5, 6].map((i) => `batch${i}.example.test`);
    for (const name of names) await add(name, LEE, tokens.lee);
    const first = await cron();
    assert.deepEqual(
      first.map((r) => r.method),
      ['POST', 'POST', 'POST', 'POST'],
    );
    assert.equal(names.filter((n) => row(n).cloudflare_id).length, 4);
    const second = await cron();
    assert.deepEqual(
      second.map((r) => r.method),
      ['POST', 'GET', 'POST', 'GET'],
      'the two creations left, taking turns with refreshes of the created ones',
    );
    assert.equal(names.filter((n) => row(n).cloudflare_id).length, 6);
  });

  test('a pending domain past DOMAIN_PENDING_DAYS is deleted at Cloudflare and fails with a reason', async () => {
    await add('late.example.test');
    await cron();
    const id = row('late.example.test').cloudflare_id;
    assert.ok(cf.hostnames.has(id));
    sql("update public.tenant_domains set created_at = now() - interval '7 days 1 minute' where hostname = 'late.example.test'");
    const calls = await cron();
    assert.deepEqual(
      calls.map((r) => `${r.method} ${r.status}`),
      ['DELETE 200'],
    );
    assert.ok(!cf.hostnames.has(id), 'deleted at Cloudflare');
    const seen = await domain('late.example.test');
    assert.equal(seen.status, 'failed');
    assert.match(seen.errors[0], /^not verified within 7 days: .*CNAME record pointing to customers\.coachplatform\.com/);
    assert.equal(row('late.example.test').cloudflare_id, null);
  });

  test('a hostname Cloudflare no longer knows fails its domain, once the zone answered a listing; its id is kept', async () => {
    await add('vanished.example.test');
    await cron();
    const id = row('vanished.example.test').cloudflare_id;
    cf.hostnames.delete(id);
    const calls = await cron();
    assert.deepEqual(
      calls.map((r) => `${r.method} ${r.status} ${r.path.split('/custom_hostnames')[1]}`),
      [`GET 404 /${id}`, 'GET 200 ?per_page=5'],
    );
    const seen = await domain('vanished.example.test');
    assert.equal(seen.status, 'failed');
    assert.match(seen.errors[0], /^Cloudflare no longer has this hostname/);
    assert.equal(row('vanished.example.test').cloudflare_id, id, 'kept, for recovery');
  });
});

describe('the webhook', () => {
  const host = 'hook.example.test';
  let hostname;
  beforeEach(async () => {
    await add(host);
    await cron();
    hostname = cf.byName(host);
    hostname.ssl.status = 'pending_issuance';
  });

  test('with a wrong or missing secret is refused and changes nothing', async () => {
    const before = row(host);
    for (const secret of ['wrong-secret', '']) {
      const res = await cf.sendWebhook(hostname, 'ssl.custom_hostname_certificate.validation.succeeded', {
        secret,
        to: `${control.url}/webhooks/cloudflare`,
      });
      assertError(res, 401, 'unauthorized', `secret ${JSON.stringify(secret)}`);
    }
    assert.deepEqual(row(host), before);
  });

  test('with the secret updates the certificate status, idempotently; unknown ids are 200; bad bodies 400 and 413', async () => {
    const secret = control.vars.CLOUDFLARE_WEBHOOK_SECRET;
    for (let i = 0; i < 2; i++) {
      const res = await cf.sendWebhook(hostname, 'ssl.custom_hostname_certificate.validation.succeeded');
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(res.json(), { received: true, known: true });
      assert.equal(row(host).ssl_status, 'pending_issuance');
    }
    assert.equal(row(host).status, 'pending', 'a certificate notice alone never activates a domain');
    const unknown = await cf.sendWebhook(
      { ...hostname, id: 'ffffffffffffffffffffffffffffffff' },
      'ssl.custom_hostname_certificate.validation.succeeded',
    );
    assert.deepEqual([unknown.status, unknown.json()], [200, { received: true, known: false }]);
    const post = (body) => request(`${control.url}/webhooks/cloudflare`, { method: 'POST', headers: { 'cf-webhook-auth': secret }, body });
    assertError(await post('{"data":'), 400, 'invalid_body');
    assertError(await post(JSON.stringify({ data: { id: hostname.id, ssl: { status: '<b>active</b>' } } })), 400, 'invalid_body');
    const notAnId = await post(JSON.stringify({ data: { id: '../zones', ssl: { status: 'active' } } }));
    assert.deepEqual([notAnId.status, notAnId.json()], [200, { received: true, known: false }], 'no row can hold it');
    const oversized = JSON.stringify({ data: { id: hostname.id }, pad: 'x'.repeat(20_000) });
    assertError(
      await request(`${direct}/webhooks/cloudflare`, { method: 'POST', headers: { 'cf-webhook-auth': secret }, body: oversized }),
      413,
      'payload_too_large',
    );
    assert.equal((await post('{"text":"Hello World! This is a test message sent from https://cloudflare.com."}')).status, 200);
  });
});

describe('another coach', () => {
  test("can neither see nor change a coach's domain", async () => {
    await add('mine.example.test');
    const before = row('mine.example.test', NORA);
    assert.deepEqual(await domains(NORA, tokens.lee), [], 'another coach sees none of them');
    assert.deepEqual(await domains(NORA, tokens.pat), [], 'nor does a user without a tenant');
    assertError(await api('DELETE', `/domains/mine.example.test?tenant_id=${NORA.id}`, { token: tokens.lee }), 403, 'not_owner');
    assertError(await api('POST', `/domains/mine.example.test/primary?tenant_id=${NORA.id}`, { token: tokens.lee }), 403, 'not_owner');
    assertError(
      await api('POST', '/domains', { token: tokens.lee, body: { tenantId: NORA.id, hostname: 'theirs.example.test' } }),
      403,
      'not_owner',
    );
    assertError(await api('DELETE', `/domains/mine.example.test?tenant_id=${LEE.id}`, { token: tokens.lee }), 404, 'domain_not_found');
    const claim = await api('POST', '/domains', { token: tokens.lee, body: { tenantId: LEE.id, hostname: 'mine.example.test' } });
    assert.equal(claim.status, 201, 'another coach may claim the name for its own tenant');
    assert.equal(claim.json().ownershipVerifiedAt, null, 'a claim that holds nothing until proven');
    assertError(
      await api('POST', '/domains', { token: tokens.lee, body: { tenantId: LEE.id, hostname: 'mine.example.test' } }),
      409,
      'domain_taken',
      'twice is refused: the tenant has it already',
    );
    assert.deepEqual(row('mine.example.test', NORA), before);
    assert.equal(row('theirs.example.test'), null);
  });

  test("a coach's own errors: a pending domain cannot be primary, a forged token is 401", async () => {
    await add('notyet.example.test');
    assertError(await api('POST', `/domains/notyet.example.test/primary?tenant_id=${NORA.id}`), 409, 'domain_not_active');
    const forged = userToken(stack, USERS.nora, { secret: 'not-the-secret-of-this-stack' });
    assertError(await api('GET', `/domains?tenant_id=${NORA.id}`, { token: forged }), 401, 'unauthorized');
  });
});

describe("the demo's Domains page, in a real browser", () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  test('a signed-in coach adds a domain, sees the DNS record to copy, and watches it turn active without a reload', async () => {
    const host = 'coach.nora.test';
    const page = await browser.newPage();
    await page.setViewport({ width: 900, height: 720 });
    await page.goto(`${dashboard}/domains#api=${encodeURIComponent(control.url)}&token=${tokens.nora}`, { waitUntil: 'load' });
    await page.waitForFunction(() => document.getElementById('signed-in').textContent.startsWith('Signed in to Northstar'));
    await page.type('#hostname', host);
    await page.click('#add button[type=submit]');
    const item = `li[data-hostname="${host}"]`;
    await page.waitForSelector(`${item}[data-status="pending"]`);
    const records = await page.$$eval(`${item} tr`, (trs) => trs.slice(1).map((tr) => [...tr.cells].slice(0, 4).map((c) => c.textContent)));
    assert.deepEqual(records, [
      ['CNAME', host, CUSTOM_HOSTNAME_TARGET, 'required'],
      ['TXT', `_localhost-challenge.${host}`, row(host).proof_token, 'required'],
    ]);
    assert.equal(await page.$eval(`${item} .ownership`, (p) => p.textContent), 'Ownership not verified yet: add the TXT record');
    // The coach copies the TXT record to their DNS host; the next cron run finds it.
    control.dns.set(records[1][1], 'TXT', [records[1][2]]);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await cron();
    await page.waitForSelector(`${item}[data-owned="true"] tr[data-type="TXT"] + tr[data-type="TXT"]`, { timeout: 15_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'domains-pending.png') });

    const navigations = [];
    page.on('framenavigated', (frame) => frame === page.mainFrame() && navigations.push(frame.url()));
    const { ownership_http_path: token } = row(host);
    await everywhere(Date.now(), token, host, (res) => res.status === 200, 'ownership token');
    await cf.advanceUntil(host, (h) => h.ssl.status === 'active', 8);
    await cron();
    await page.waitForSelector(`${item}[data-status="active"]`, { timeout: 15_000 });
    assert.deepEqual(navigations, [], 'no reload');
    assert.match(await page.$eval(`${item} .ssl`, (p) => p.textContent), /^Certificate: active/);
    assertPublicTenant(await onCenter(centers[0], '/_tenant/brand.json', host), NORA.slug);

    // A second domain, still waiting for its DNS records, beside it: the README screenshot.
    await page.type('#hostname', 'learn.nora.test');
    await page.click('#add button[type=submit]');
    await page.waitForSelector('li[data-hostname="learn.nora.test"] tr[data-type="TXT"]');
    await page.screenshot({ path: path.join(ARTIFACTS, 'domains.png'), fullPage: true });
    await page.close();
  });
});
