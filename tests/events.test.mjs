// The request log (issue 27): traffic to two tenants on two data centers (each a workerd
// instance of its own, one PostgREST behind both), every request read back from the Worker's
// own output. Each request yields exactly one `request` event with the documented fields, every
// event line validates against schema/event.schema.json, a 5xx is at level error, and no event
// holds the anon key, a JWT, a cookie or a query string that probe requests carried.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { ROOT, addWorker, sleep, startStack, stopPostgrest } from '../scripts/stack.mjs';
import { request } from './support/http.mjs';
import { TENANTS, USERS, userToken } from './support/tenants.mjs';

const PLATFORM = 'coachplatform.test';
const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'event.schema.json'), 'utf8'));
const valid = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

let stack;
/** The data centers: `{ name, url, lines }`, `lines` all the Worker's output since it was up. */
const centers = [];
before(async () => {
  stack = await startStack({ worker: false, demo: true });
  for (const name of ['dc-a', 'dc-b']) {
    const worker = await addWorker(stack, { PLATFORM_DOMAIN: PLATFORM }, { logLevel: 'log' });
    const center = { name, url: worker.url, lines: [] };
    worker.proc.onLine((line) => center.lines.push(line));
    centers.push(center);
  }
});
after(async () => {
  await stack?.stop();
});

/** The event lines of a data center's output (the Worker's; wrangler's own lines are not JSON). */
const eventLines = (center) => center.lines.filter((l) => l.startsWith('{"event":'));

/**
 * Sends a request to `center` with a `cf-ray` of its own, and resolves with the answer and the
 * `request` events of that id (waiting up to 3 s for the first to be printed, then a little for
 * any other).
 */
async function send(center, urlPath, { host, headers = {} } = {}) {
  const ray = randomBytes(8).toString('hex');
  const res = await request(`${center.url}${urlPath}`, { host, headers: { ...headers, 'cf-ray': ray } });
  const of = () =>
    eventLines(center)
      .map((l) => JSON.parse(l))
      .filter((e) => e.event === 'request' && e.request_id === ray);
  for (let waited = 0; of().length === 0 && waited < 3000; waited += 25) await sleep(25);
  await sleep(50);
  return { res, ray, events: of() };
}

/** Asserts that `events` is one valid `request` event, and returns it. */
function one(events, what) {
  assert.equal(events.length, 1, `${what}: ${events.length} request events`);
  const [event] = events;
  assert.ok(valid(event), `${what}: ${JSON.stringify(valid.errors)} in ${JSON.stringify(event)}`);
  return event;
}

const expectedLevel = (status) => (status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info');

test('every request on either data center yields exactly one request event with the documented fields', async () => {
  const requests = [];
  for (const t of [TENANTS.northstar, TENANTS.acme]) {
    requests.push(
      { path: '/', host: t.domain, route: 'forward', tenant: t, resolvedBy: 'domain', branding: 'injected' },
      { path: '/_tenant/brand.json', host: `${t.slug}.${PLATFORM}`, route: 'brand', tenant: t, resolvedBy: 'subdomain' },
      { path: `/_tenant/slug/${t.slug}`, route: 'tenant', tenant: t, resolvedBy: 'slug' },
      { path: `/_tenant/id/${t.id}`, route: 'tenant', tenant: t, resolvedBy: 'id' },
      { path: `/_tenant/domain/${t.domain}`, route: 'tenant', tenant: t, resolvedBy: 'domain' },
    );
  }
  requests.push(
    { path: '/_tenant/slug/nobody-here', route: 'tenant' },
    { path: '/_tenant/nothing', route: null },
    { path: '/_tenant/health', route: 'health' },
  );
  const seen = new Map(centers.map((c) => [c.name, new Set()]));
  for (const center of centers) {
    for (const r of requests) {
      const what = `${center.name} ${r.host ?? ''}${r.path}`;
      const { res, ray, events } = await send(center, r.path, { host: r.host });
      const e = one(events, what);
      const other = centers.find((c) => c !== center);
      assert.ok(!eventLines(other).some((l) => l.includes(ray)), `${what}: logged by the other data center too`);
      assert.equal(e.status, res.status, what);
      assert.equal(e.level, expectedLevel(res.status), what);
      assert.equal(e.method, 'GET', what);
      assert.equal(e.path, r.path, what);
      assert.equal(e.route, r.route, what);
      assert.equal(e.cache, res.headers['x-tenant-cache'], what);
      assert.equal(e.tenant_id, r.tenant?.id ?? null, what);
      assert.equal(e.tenant_slug, r.tenant?.slug ?? null, what);
      assert.equal(e.resolved_by, r.resolvedBy ?? null, what);
      assert.equal(e.branding, r.branding ?? null, what);
      assert.equal(e.error_code, res.status >= 400 ? res.json().error.code : null, what);
      assert.ok(e.upstream_ms <= e.duration_ms + 1, `${what}: upstream_ms ${e.upstream_ms} > duration_ms ${e.duration_ms}`);
      assert.equal(typeof e.colo, 'string', `${what}: wrangler dev gives request.cf a placeholder colo`);
      if (r.tenant) seen.get(center.name).add(r.tenant.slug);
    }
  }
  for (const [name, tenants] of seen) assert.equal(tenants.size, 2, `${name} served both tenants`);
});

test('a first lookup counts its PostgREST call; the same lookup again is a hit that makes none', async () => {
  const [center] = centers;
  const path = `/_tenant/slug/${TENANTS.leadingwithmeaning.slug}`;
  const first = one((await send(center, path)).events, 'first');
  assert.equal(first.cache, 'miss');
  assert.ok(first.upstream_calls >= 1, JSON.stringify(first));
  const again = one((await send(center, path)).events, 'again');
  assert.equal(again.cache, 'hit');
  assert.equal(again.upstream_calls, 0);
  assert.equal(again.upstream_ms, 0);
});

test('no event holds the anon key, a JWT, a cookie or a query string that requests carried', async () => {
  const secretQuery = `token=${randomBytes(12).toString('hex')}`;
  const cookie = `session=${randomBytes(12).toString('hex')}`;
  const jwt = userToken(stack, USERS.nora);
  const probes = [
    ['/', { apikey: stack.anonKey, authorization: `Bearer ${stack.anonKey}`, cookie }],
    [`/?${secretQuery}`, { cookie }],
    [`/_tenant/brand.json?${secretQuery}`, { authorization: `Bearer ${jwt}` }],
    ['/_tenant/me', { authorization: `Bearer ${jwt}`, cookie }],
    [`/_tenant/me?${secretQuery}`, { apikey: stack.anonKey, authorization: `Bearer ${stack.anonKey}` }],
  ];
  for (const center of centers) {
    for (const [urlPath, headers] of probes) {
      const { res, events } = await send(center, urlPath, { host: TENANTS.northstar.domain, headers });
      const e = one(events, `${center.name} ${urlPath}`);
      assert.equal(e.path, urlPath.split('?')[0]);
      assert.ok(res.status < 500, `${urlPath}: ${res.status} ${res.body}`);
    }
  }
  const secrets = [stack.anonKey, jwt, cookie, secretQuery, ...stack.anonKey.split('.'), ...jwt.split('.')];
  for (const center of centers) {
    const lines = eventLines(center);
    assert.ok(lines.length > 0);
    for (const line of lines) {
      for (const secret of secrets) assert.ok(!line.includes(secret), `${center.name}: an event holds a secret: ${line}`);
      assert.ok(!/eyJ[\w-]+\./.test(line), `${center.name}: an event holds a JWT: ${line}`);
      assert.ok(!line.includes('?'), `${center.name}: an event holds a query string: ${line}`);
    }
  }
});

test('with PostgREST down, a lookup it cannot answer is a 5xx at level error, with its upstream failure', async () => {
  await stopPostgrest(stack);
  for (const center of centers) {
    const { res, ray, events } = await send(center, '/_tenant/slug/never-looked-up');
    assert.equal(res.status, 503, res.body);
    const e = one(events, center.name);
    assert.equal(e.level, 'error');
    assert.equal(e.error_code, 'upstream_unavailable');
    assert.ok(e.upstream_calls >= 1, JSON.stringify(e));
    const failed = eventLines(center)
      .map((l) => JSON.parse(l))
      .filter((x) => x.event === 'upstream_failed' && x.request_id === ray);
    assert.equal(failed.length, 1, `${center.name}: one upstream_failed event`);
    assert.equal(failed[0].upstream_error, 'network');
  }
});

test('every line the Worker logged as an event is one valid event of the schema', () => {
  for (const center of centers) {
    const lines = eventLines(center);
    const kinds = new Set();
    for (const line of lines) {
      const event = JSON.parse(line);
      kinds.add(event.event);
      assert.ok(valid(event), `${center.name}: ${JSON.stringify(valid.errors)} in ${line}`);
    }
    assert.ok(kinds.has('request') && kinds.has('upstream_failed'), [...kinds].join(', '));
  }
});
