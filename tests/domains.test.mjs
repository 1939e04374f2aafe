// Custom domains (issue 16) on the real stack: two data centers (two workerd, each with its own
// Cache API) in front of one PostgREST, CHANGES_POLL_SECONDS=1, and an origin that records what
// reaches it. A coach's domain follows Cloudflare for SaaS's lifecycle in tenant_domains: its
// owner adds it (pending: it resolves nowhere, but its HTTP ownership token is served on it),
// the service role (the control plane) records its proof of control and makes it active (it
// resolves everywhere within the feed bound), a second active domain redirects to the primary, the primary can be switched, `www` of
// any domain goes to the primary in one hop, REDIRECT_TO_PRIMARY_DOMAIN sends the platform
// subdomain there too, and a removed or moved domain stops resolving everywhere. Only the owner
// adds domains to a tenant; the anon key lists nothing.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { addWorker, mintJwt, psql, sleep, startStack } from '../scripts/stack.mjs';
import { request } from './support/http.mjs';
import { startOrigin } from './support/origin.mjs';
import { storedTenant } from './support/tenants.mjs';

const POLL_SECONDS = 1;
/** The feed's bound: a change is visible everywhere within the poll interval + 1 s. */
const BOUND_MS = (POLL_SECONDS + 1) * 1000;

const OWNER = 'd1600000-0000-4000-8000-000000000001';
const STRANGER = 'd1600000-0000-4000-8000-000000000002';
const SLUG = 'domains-coach';
const FIRST = 'coach.domains-first.test';
const SECOND = 'coach.domains-second.test';
const CHALLENGE = `/.well-known/cf-custom-hostname-challenge/${randomUUID()}`;
const TOKEN = randomUUID();

let stack;
let origin;
let tenantId;
/** The data centers: `{ name, url }`; dc-b has REDIRECT_TO_PRIMARY_DOMAIN=true. */
const centers = [];
before(async () => {
  stack = await startStack({ worker: false });
  origin = await startOrigin();
  for (const [name, redirect] of [
    ['dc-a', 'false'],
    ['dc-b', 'true'],
  ]) {
    const worker = await addWorker(stack, {
      CHANGES_POLL_SECONDS: String(POLL_SECONDS),
      PLATFORM_DOMAIN: 'localhost',
      ORIGIN_URL: origin.url,
      REDIRECT_TO_PRIMARY_DOMAIN: redirect,
    });
    centers.push({ name, url: worker.url });
  }
  const brand = JSON.stringify(storedTenant(stack, 'leadingwithmeaning').brand).replaceAll("'", "''");
  sql(`insert into auth.users (id, email) values ('${OWNER}', 'owner@domains.test'), ('${STRANGER}', 'stranger@domains.test');
    insert into public.tenant_profiles (user_id, slug, display_name, brand_config) values ('${OWNER}', '${SLUG}', 'Domains Coach', '${brand}')`);
  tenantId = storedTenant(stack, SLUG).id;
  // What the control plane's cron tells the database on every run (no claim is taken before).
  sql("select public.set_domain_rules('localhost', array['customers.coachplatform.com'], 604800)");
});
after(async () => {
  await origin?.stop();
  await stack?.stop();
});

const sql = (text) => psql(stack.dbUrl, { sql: text });
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const token = (sub) => mintJwt(stack.jwtSecret, { role: 'authenticated', aud: 'authenticated', sub });

/** A request to a data center, with `host` as the Host header. */
const ask = (center, path, host, { method = 'GET', body } = {}) =>
  request(`${center.url}${path}`, { host, method, body, agent, timeoutMs: 10_000 });

/** A PostgREST call with a user's token (or the anon key). */
async function rest(path, { as, method = 'GET', body, headers = {} }) {
  const res = await fetch(`${stack.postgrest.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${as}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

/** An owner function, called as `sub` through PostgREST, as the control plane's coach API does. */
const rpc = (name, hostname, sub = OWNER) =>
  rest(`/rpc/${name}`, {
    as: token(sub),
    method: 'POST',
    body: { tenant_id: tenantId, hostname },
  });

/** Polls every data center until `check(res, center)` holds for `path` on `host`; fails after 15 s. */
async function everywhere(what, path, host, check, { method } = {}) {
  const started = Date.now();
  const pending = new Set(centers);
  let last = '';
  while (pending.size > 0) {
    if (Date.now() - started > 15_000) assert.fail(`${what}: not so after 15 s (last: ${last})`);
    for (const center of [...pending]) {
      const res = await ask(center, path, host, { method });
      if (check(res, center)) pending.delete(center);
      else
        last = `${center.name} ${method ?? 'GET'} ${host}${path} → ${res.status} ${res.headers.location ?? ''} ${res.body.slice(0, 100)}`;
    }
    if (pending.size > 0) await sleep(50);
  }
  return Date.now() - started;
}

/** Like `everywhere`, and asserts it took no longer than the feed's bound. */
async function withinBound(what, path, host, check, options) {
  const elapsed = await everywhere(what, path, host, check, options);
  assert.ok(elapsed <= BOUND_MS, `${what}: true everywhere only after ${elapsed} ms (bound ${BOUND_MS} ms)`);
}

const tenantOf = (res) => (res.status === 200 ? JSON.parse(res.body) : null);
const redirectsTo =
  (target, status = 301) =>
  (res) =>
    res.status === status && res.headers.location === `http://${target}/welcome?x=1`;
const notFound = (res) => res.status === 404 && JSON.parse(res.body).error.code === 'tenant_not_found';
const forwarded = (res) => res.status === 200 && res.body === 'hello from the origin';

describe('a domain through its lifecycle', () => {
  test('a domain its owner adds is pending and resolves nowhere', async () => {
    const added = await rpc('add_tenant_domain', FIRST.toUpperCase());
    assert.equal(added.status, 200, JSON.stringify(added.json));
    assert.equal(added.json.hostname, FIRST);
    assert.equal(added.json.status, 'pending');
    origin.reset();
    for (const center of centers) {
      assert.ok(notFound(await ask(center, '/_tenant/brand.json', FIRST)), `${center.name} brand.json`);
      assert.ok(notFound(await ask(center, `/_tenant/domain/${FIRST}`)), `${center.name} /_tenant/domain`);
      assert.ok(notFound(await ask(center, '/welcome', FIRST)), `${center.name} page`);
    }
    assert.deepEqual(origin.requests, [], 'nothing is forwarded for a pending domain');
  });

  test("its HTTP ownership token is served on its host, whatever its status, and nothing else under the challenge's path", async () => {
    sql(`update public.tenant_domains set ownership_http_path = '${CHALLENGE}', ownership_http_body = '${TOKEN}',
      cloudflare_id = '${randomUUID()}', ssl_status = 'pending_validation' where hostname = '${FIRST}'`);
    await withinBound('the token', CHALLENGE, FIRST, (res) => res.status === 200 && res.body === TOKEN);
    origin.reset();
    for (const center of centers) {
      const res = await ask(center, CHALLENGE, FIRST);
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(res.headers['cache-control'], 'no-store');
      const head = await ask(center, CHALLENGE, FIRST, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
      assert.equal((await ask(center, `${CHALLENGE}0`, FIRST)).status, 404, 'another token path');
      assert.equal((await ask(center, '/.well-known/cf-custom-hostname-challenge/', FIRST)).status, 404);
      assert.equal((await ask(center, CHALLENGE, SECOND)).status, 404, 'on another host');
      assert.equal((await ask(center, CHALLENGE, `${SLUG}.localhost`)).status, 404, 'on the platform subdomain');
      assert.equal((await ask(center, CHALLENGE, FIRST, { method: 'POST', body: 'x' })).status, 405);
    }
    assert.deepEqual(origin.requests, [], 'the challenge path is never forwarded');
  });

  test('of a pending domain the anon key learns nothing but the ownership check, at its exact path', async () => {
    const anon = (path, lookup) => rest(path, { as: stack.anonKey, headers: lookup ? { 'x-tenant-lookup': lookup } : {} });
    assert.deepEqual(
      (await anon('/tenant_domains?select=hostname,status,tenant_id', `domain:${FIRST}`)).json,
      [],
      'no row, no status, no tenant of a pending domain',
    );
    assert.deepEqual((await anon('/tenant_profiles?select=slug', `domain:${FIRST}`)).json, [], 'nor its tenant through tenant_profiles');
    const check = await anon('/domain_challenges?select=hostname,path,body', `challenge:${FIRST}${CHALLENGE}`);
    assert.deepEqual(check.json, [{ hostname: FIRST, path: CHALLENGE, body: TOKEN }]);
    assert.equal((await anon('/domain_challenges?select=domain_id', `challenge:${FIRST}${CHALLENGE}`)).status, 401, 'not which row it is');
    for (const lookup of [
      undefined,
      `domain:${FIRST}`,
      `challenge:${FIRST}`,
      `challenge:${FIRST}${CHALLENGE}0`,
      `challenge:${SECOND}${CHALLENGE}`,
    ]) {
      assert.deepEqual((await anon('/domain_challenges?select=hostname,path,body', lookup)).json, [], `named ${lookup}`);
    }
  });

  test('made active by the service role, it resolves in every data center within the feed bound, though it was just asked for', async () => {
    sql(
      `update public.tenant_domains set status = 'active', ssl_status = 'active', verified_at = now(), proven_at = now() where hostname = '${FIRST}'`,
    );
    await withinBound('active', '/_tenant/brand.json', FIRST, (res) => tenantOf(res)?.slug === SLUG);
    for (const center of centers) {
      assert.equal(tenantOf(await ask(center, '/_tenant/brand.json', FIRST)).customDomain, FIRST, 'the first active domain is primary');
      assert.equal(tenantOf(await ask(center, `/_tenant/domain/${FIRST}`))?.slug, SLUG);
      origin.reset();
      assert.ok(forwarded(await ask(center, '/welcome?x=1', FIRST)), `${center.name} forwards the primary's pages`);
      assert.equal(origin.requests[0]?.headers['x-tenant-id'], tenantId);
      assert.equal((await ask(center, CHALLENGE, FIRST)).body, TOKEN, 'the token is still served once active');
    }
  });

  test('a second active domain redirects page requests to the primary, keeping path and query, in one hop', async () => {
    assert.equal((await rpc('add_tenant_domain', SECOND)).status, 200);
    sql(
      `update public.tenant_domains set status = 'active', ssl_status = 'active', verified_at = now(), proven_at = now() where hostname = '${SECOND}'`,
    );
    await withinBound('second active', '/welcome?x=1', SECOND, redirectsTo(FIRST));
    origin.reset();
    for (const center of centers) {
      const post = await ask(center, '/welcome?x=1', SECOND, { method: 'POST', body: 'a=1' });
      assert.ok(redirectsTo(FIRST, 308)(post), `${center.name}: a form post is redirected with 308: ${post.status}`);
      const brand = await ask(center, '/_tenant/brand.json', SECOND);
      assert.equal(tenantOf(brand)?.slug, SLUG, `${center.name}: /_tenant/ routes answer on an alias without a redirect`);
      assert.equal(tenantOf(brand).customDomain, FIRST, 'customDomain is the primary');
      assert.equal(tenantOf(await ask(center, `/_tenant/domain/${SECOND}`))?.slug, SLUG, 'any active domain resolves by /_tenant/domain/');
    }
    assert.deepEqual(origin.requests, [], 'redirected requests are not forwarded');
  });

  test('switching the primary swaps the redirect everywhere within the feed bound', async () => {
    const switched = await rpc('set_primary_tenant_domain', SECOND);
    assert.equal(switched.status, 200, JSON.stringify(switched.json));
    await withinBound('primary switched', '/welcome?x=1', FIRST, redirectsTo(SECOND));
    for (const center of centers) {
      assert.ok(forwarded(await ask(center, '/welcome?x=1', SECOND)), `${center.name}: the new primary is served`);
      assert.equal(tenantOf(await ask(center, '/_tenant/brand.json', FIRST)).customDomain, SECOND);
    }
  });

  test('www of any of its domains goes straight to the primary', async () => {
    for (const center of centers) {
      assert.ok(redirectsTo(SECOND)(await ask(center, '/welcome?x=1', `www.${FIRST}`)), `${center.name}: www of the alias`);
      assert.ok(redirectsTo(SECOND)(await ask(center, '/welcome?x=1', `www.${SECOND}`)), `${center.name}: www of the primary`);
    }
  });

  test('REDIRECT_TO_PRIMARY_DOMAIN sends page requests on the platform subdomain to the primary; off, they are served', async () => {
    const [a, b] = centers;
    assert.ok(forwarded(await ask(a, '/welcome?x=1', `${SLUG}.localhost`)), 'off: served on the subdomain');
    assert.ok(redirectsTo(SECOND)(await ask(b, '/welcome?x=1', `${SLUG}.localhost`)), 'on: redirected to the primary');
    assert.equal(
      tenantOf(await ask(b, '/_tenant/brand.json', `${SLUG}.localhost`))?.slug,
      SLUG,
      'on: /_tenant/ routes are never redirected',
    );
  });

  test('a removed domain, then a moved one, stop resolving everywhere within the feed bound', async () => {
    const removed = await rpc('remove_tenant_domain', FIRST);
    assert.equal(removed.json?.status, 'removing');
    await withinBound('removed', '/_tenant/brand.json', FIRST, notFound);
    origin.reset();
    for (const center of centers) assert.ok(notFound(await ask(center, '/welcome', FIRST)), `${center.name} page on the removed domain`);
    assert.deepEqual(origin.requests, []);
    sql(`update public.tenant_domains set status = 'moved' where hostname = '${SECOND}'`);
    await withinBound('moved', '/_tenant/brand.json', SECOND, notFound);
    for (const center of centers) {
      assert.equal(tenantOf(await ask(center, `/_tenant/slug/${SLUG}`)).customDomain, null, `${center.name}: no primary left`);
      assert.ok(forwarded(await ask(center, '/welcome?x=1', `${SLUG}.localhost`)), `${center.name}: the subdomain serves again`);
    }
  });
});

describe('who may do what', () => {
  test('another signed-in user cannot add a domain to a tenant they do not own, nor set a status', async () => {
    const added = await rpc('add_tenant_domain', 'stolen.domains.test', STRANGER);
    assert.equal(added.status, 403);
    assert.equal(added.json.hint, 'not_owner');
    const patched = await rest(`/tenant_domains?hostname=eq.${SECOND}`, {
      as: token(STRANGER),
      method: 'PATCH',
      body: { status: 'active' },
    });
    assert.ok([401, 403].includes(patched.status), `PATCH as a stranger: ${patched.status}`);
    const own = await rest(`/tenant_domains?hostname=eq.${SECOND}`, { as: token(OWNER), method: 'PATCH', body: { status: 'active' } });
    assert.ok([401, 403].includes(own.status), `PATCH as the owner: ${own.status}`);
    assert.equal(sql(`select status from public.tenant_domains where hostname = '${SECOND}'`).trim(), 'moved', 'nothing changed');
  });

  test('owners see their own domains, strangers none', async () => {
    const mine = await rest(`/tenant_domains?tenant_id=eq.${tenantId}&select=hostname,status,verification_errors`, { as: token(OWNER) });
    assert.equal(mine.status, 200);
    assert.deepEqual(mine.json.map((d) => d.hostname).sort(), [FIRST, SECOND]);
    const theirs = await rest(`/tenant_domains?tenant_id=eq.${tenantId}`, { as: token(STRANGER) });
    assert.deepEqual(theirs.json, []);
  });

  test('the anon key lists nothing and reads only what the Worker needs of a row it names', async () => {
    const list = await rest('/tenant_domains?select=hostname', { as: stack.anonKey });
    assert.deepEqual(list.json, [], 'no domain without naming one');
    const all = await rest('/tenant_domains?select=*', { as: stack.anonKey, headers: { 'x-tenant-lookup': `domain:${SECOND}` } });
    assert.equal(all.status, 401, 'not every column');
    const named = await rest('/tenant_domains?select=hostname,status,tenant_id', {
      as: stack.anonKey,
      headers: { 'x-tenant-lookup': `domain:${SECOND}` },
    });
    assert.deepEqual(named.json, [], 'a domain that is not active (moved) shows nothing, not even its tenant');
    const errors = await rest('/tenant_domains?select=verification_errors', {
      as: stack.anonKey,
      headers: { 'x-tenant-lookup': `domain:${SECOND}` },
    });
    assert.equal(errors.status, 401, "verification errors are the owner's");
    const added = await rest('/rpc/add_tenant_domain', {
      as: stack.anonKey,
      method: 'POST',
      body: { tenant_id: tenantId, hostname: 'anon.domains.test' },
    });
    assert.equal(added.status, 401);
  });
});
