// The control plane when something is wrong (issue 24, findings 5 and 11), on the real stack:
// Postgres with the migrations, PostgREST and the control plane in workerd, with the
// Cloudflare stand-in (tests/support/cloudflare.mjs) as its Cloudflare API. No resolver: the
// stand-in verifies nothing here. The domain rows are written with SQL (five `active` rows
// with Cloudflare hostnames, one `removing`), the hostnames put in the stand-in directly, so
// that every test starts from rows the cron has work for.
//
// - an API that answers every call 404 `{"code":7000,"message":"No route for that URI"}` (what
//   a wrong CLOUDFLARE_API_BASE, or a proxy, answers): a cron run changes no row and stops at
//   its first call; `/health?deep=1` says which setting is wrong;
// - Cloudflare's real "not found" (1436) for one hostname fails that row only, after the zone
//   answered a listing, and keeps its id; a listing that fails changes nothing;
// - a webhook notice older than the row's last change changes nothing, a repeated one makes no
//   Cloudflare call, and the webhooks' calls share one budget in the database;
// - a token that is not a signed-in user's is 401 before any PostgREST request;
// - misconfiguration is never "retry later" (issue 25): an answer only a wrong setting explains
//   is `500 misconfigured` naming the setting on every call (the coach's API, the webhook), a
//   cron run logs it and stops, and plain `/health` says what this isolate's last calls found
//   (`lastUpstream`): Cloudflare refusing the token (rolled at Cloudflare) or the zone (another
//   zone's id), PostgREST refusing the secret key, a URL that leads to no PostgREST, Supabase's
//   gateway refusing the anon key sent beside a coach's token (tests/support/gateway.mjs);
// - the log is events (issue 27): a coach's API call, a webhook and a cron run each write one
//   line of JSON of its kind, as schema/control-event.schema.json describes, and no line holds
//   the coach's token, the secret key or the webhook secret.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { ROOT, mintJwt, psql, sleep, startControl, startStack } from '../scripts/stack.mjs';
import { startGateway } from './support/gateway.mjs';
import { request } from './support/http.mjs';
import { TENANTS, USERS, assertError, countUpstream, userToken } from './support/tenants.mjs';

/** Enough for a run to read five hostnames, delete one and list the zone. */
const CALLS_PER_RUN = 10;
const NORA = TENANTS.northstar;
const ACTIVE = ['one', 'two', 'three', 'four', 'five'].map((n) => `${n}.faults.test`);
const REMOVING = 'gone.faults.test';
const NO_ROUTE = { success: false, errors: [{ code: 7000, message: 'No route for that URI' }], messages: [], result: null };

let stack;
let control;
let cf;

before(async () => {
  stack = await startStack({ worker: false });
  control = await startControl(stack, {
    vars: { CLOUDFLARE_CALLS_PER_RUN: String(CALLS_PER_RUN) },
    cloudflare: { allowTopDomains: ['test'] },
    echo: Boolean(process.env.CONTROL_ECHO),
    // Every event is a console.log (crates/common/src/log.js), whatever its level.
    logLevel: 'log',
  });
  cf = control.cloudflare;
});
after(async () => {
  await stack?.stop();
});

const sql = (text) => psql(stack.dbUrl, { sql: text }).trim();
const quote = (value) => (value === null || value === undefined ? 'null' : `'${String(value).replaceAll("'", "''")}'`);

/** A hostname in the stand-in, as Cloudflare holds a verified one: active, certificate active. */
async function hostnameAtCloudflare(name) {
  const res = await request(`${cf.apiBase}/zones/${cf.zoneId}/custom_hostnames`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cf.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ hostname: name, ssl: { method: 'http', type: 'dv' } }),
  });
  assert.equal(res.status, 201, res.body);
  const h = cf.hostnames.get(res.json().result.id);
  Object.assign(h, { status: 'active', verification_errors: [], _owned: true });
  h.ssl.status = 'active';
  return h;
}

/**
 * A `tenant_domains` row of Northstar for the stand-in's hostname `h`, written as trusted code
 * does, with the ownership records Cloudflare gave (so a refresh finds nothing to change).
 */
function insertRow(h, status, ssl = 'active') {
  const proven = status === 'active' || status === 'pending';
  sql(`insert into public.tenant_domains
         (tenant_id, hostname, status, ssl_status, cloudflare_id, ownership_txt_name, ownership_txt_value,
          ownership_http_path, ownership_http_body, proven_at, verified_at)
       values ('${NORA.id}', ${quote(h.hostname)}, '${status}', ${quote(ssl)}, ${quote(h.id)},
          ${quote(h.ownership_verification.name)}, ${quote(h.ownership_verification.value)},
          ${quote(new URL(h.ownership_verification_http.http_url).pathname)}, ${quote(h.ownership_verification_http.http_body)},
          ${proven ? 'now()' : 'null'}, ${status === 'active' ? 'now()' : 'null'})`);
}

/** Every test row, as the database holds it, by hostname. */
const rows = () =>
  JSON.parse(
    sql(`select coalesce(json_agg(d order by d.hostname), '[]') from public.tenant_domains d
  where d.hostname like '%.faults.test'`),
  );
const row = (hostname) => rows().find((r) => r.hostname === hostname) ?? null;

/** Runs the Cron Trigger once; resolves with the Cloudflare requests it made. */
async function cron() {
  const from = cf.requests.length;
  await control.scheduled();
  return cf.requests.slice(from);
}

const health = (query = '') => request(`${control.url}/health${query}`);
const isListing = (r) => r.method === 'GET' && r.path.endsWith('/custom_hostnames?per_page=5');
/** A call of the custom hostnames API (not a check of the token). */
const onZone = (r) => r.path.includes('/custom_hostnames');

/** What `plane`'s plain /health says its isolate's last calls found (`lastUpstream`). */
async function lastUpstream(plane) {
  const res = await request(`${plane.url}/health`);
  assert.equal(res.status, 200, res.body);
  const body = res.json();
  assert.equal(body.status, 'ok', res.body);
  return body.lastUpstream;
}

/** A state's `state` and `setting` (when it has one), after checking its `since`. */
function stateOf(seen) {
  assert.ok(seen, 'a state, not null');
  assert.match(seen.since, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'since is RFC 3339');
  assert.ok(Math.abs(Date.parse(seen.since) - Date.now()) < 600_000, `since ${seen.since} is recent`);
  assert.deepEqual(Object.keys(seen).sort(), 'setting' in seen ? ['setting', 'since', 'state'] : ['since', 'state']);
  return 'setting' in seen ? { state: seen.state, setting: seen.setting } : { state: seen.state };
}

/**
 * The lines `plane`'s wrangler dev prints from now on; `waitFor(re)` resolves with the first to
 * match; `events()`, the control plane's events among them, parsed.
 */
function logOf(plane) {
  const lines = [];
  plane.proc.onLine((line) => lines.push(line));
  return {
    lines,
    events: () => lines.filter((l) => l.startsWith('{"event":')).map((l) => JSON.parse(l)),
    async waitFor(re, timeoutMs = 5000) {
      for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(50)) {
        const found = lines.find((l) => re.test(l));
        if (found) return found;
      }
      assert.fail(`no log line matched ${re}:\n${lines.join('\n')}`);
    },
  };
}

/** A Cloudflare certificate notice for hostname id `id`, posted to `plane`'s webhook. */
const notice = (plane, id, status = 'active') =>
  request(`${plane.url}/webhooks/cloudflare`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'cf-webhook-auth': plane.vars.CLOUDFLARE_WEBHOOK_SECRET },
    body: JSON.stringify({
      metadata: { event: { id: 'e1', type: 'ssl.custom_hostname_certificate.deployment.succeeded', created_at: new Date().toISOString() } },
      data: { id, hostname: 'hook.faults.test', ssl: { id: 's1', type: 'dv', method: 'http', status } },
    }),
  });
const listDomains = (plane, token) =>
  request(`${plane.url}/domains?tenant_id=${NORA.id}`, { headers: { authorization: `Bearer ${token}` } });

/** Five active domains and one being removed, each with its hostname at Cloudflare. */
beforeEach(async () => {
  sql("delete from public.tenant_domains where hostname like '%.faults.test'");
  sql('delete from private.cloudflare_calls');
  cf.hostnames.clear();
  cf.reset();
  for (const name of ACTIVE) insertRow(await hostnameAtCloudflare(name), 'active');
  insertRow(await hostnameAtCloudflare(REMOVING), 'removing', null);
  cf.reset();
  // A deep health check shares its result for a second: start each test with none to share.
  await sleep(1100);
});

describe('an API that answers 404 code 7000 to everything (a wrong CLOUDFLARE_API_BASE)', () => {
  test('a cron run changes no row, stops at its first call, and deep health names the setting', async () => {
    const before = rows();
    assert.equal(before.length, 6);
    cf.answerAll(404, NO_ROUTE);
    const calls = await cron();
    assert.deepEqual(
      calls.map((r) => `${r.method} ${r.status}`),
      ['DELETE 404'],
      'the run stopped at its first call',
    );
    assert.deepEqual(rows(), before, 'no row changed: none failed, none lost its id, the removing row is still there');

    const shallow = await health();
    assert.equal(shallow.status, 200);
    assert.deepEqual(Object.keys(shallow.json()), ['status', 'lastUpstream'], 'the old fields, and what the last calls found');
    assert.deepEqual(stateOf(shallow.json().lastUpstream.cloudflare), { state: 'misconfigured', setting: 'CLOUDFLARE_API_BASE' });
    const deep = await health('?deep=1');
    assertError(deep, 500, 'misconfigured');
    assert.match(deep.json().error.message, /CLOUDFLARE_API_BASE/);
    assert.equal(cf.requests.filter(isListing).length, 1, 'the deep check listed the zone once');

    // The same API answering again: the next run does the work it left.
    cf.answerAll(null);
    await sleep(1100);
    const ok = await health('?deep=1');
    assert.deepEqual([ok.status, ok.json()], [200, { status: 'ok', postgrest: 'ok', cloudflare: 'ok', dns: 'ok' }]);
    const next = await cron();
    assert.deepEqual(next[0] && `${next[0].method} ${next[0].status}`, 'DELETE 200');
    assert.equal(row(REMOVING), null, 'the removed domain is gone once its hostname is');
    assert.ok(ACTIVE.every((name) => row(name).status === 'active'));
  });

  test('the zone id refused (7003) or the token refused (10000) stop the run too, and deep health names each', async () => {
    const before = rows();
    for (const [status, code, setting] of [
      [400, 7003, 'CLOUDFLARE_ZONE_ID'],
      [403, 10000, 'CLOUDFLARE_API_TOKEN'],
      [401, 9109, 'CLOUDFLARE_API_TOKEN'],
    ]) {
      cf.answerAll(status, { success: false, errors: [{ code, message: 'refused' }], messages: [], result: null });
      assert.equal((await cron()).filter(onZone).length, 1, `${code}: the run stopped at its first call`);
      assert.deepEqual(rows(), before, `${code}: no row changed`);
      await sleep(1100);
      const deep = await health('?deep=1');
      assertError(deep, 500, 'misconfigured', String(code));
      assert.match(deep.json().error.message, new RegExp(setting));
    }
    cf.answerAll(null);
  });

  test('a failing Cloudflare is 503 upstream_unavailable on deep health, and concurrent checks share one listing', async () => {
    cf.answerAll(502, { error: 'bad gateway' });
    const { result, upstream } = await countUpstream(stack, () => Promise.all(Array.from({ length: 20 }, () => health('?deep=1'))));
    for (const res of result) assertError(res, 503, 'upstream_unavailable');
    assert.equal(cf.requests.filter(isListing).length, 1, '20 concurrent deep checks, one Cloudflare listing');
    assert.equal(upstream, 1, '20 concurrent deep checks, one PostgREST request');
    const last = await lastUpstream(control);
    assert.deepEqual([stateOf(last.cloudflare), stateOf(last.postgrest)], [{ state: 'unavailable' }, { state: 'ok' }]);
    cf.answerAll(null);
  });
});

describe('misconfiguration is never "retry later": Cloudflare refusing the token or the zone', () => {
  test('a healthy setup: after a cron run, plain /health says both upstreams answered', async () => {
    await cron();
    const last = await lastUpstream(control);
    assert.deepEqual(Object.keys(last).sort(), ['cloudflare', 'postgrest']);
    assert.deepEqual([stateOf(last.postgrest), stateOf(last.cloudflare)], [{ state: 'ok' }, { state: 'ok' }]);
  });

  test('a token Cloudflare does not know (rolled there): the cron logs CLOUDFLARE_API_TOKEN and stops, deep health is 500 naming it, /health shows it until the token works', async () => {
    const log = logOf(control);
    const before = rows();
    cf.token = 'rolled-at-cloudflare';
    const calls = await cron();
    assert.deepEqual(
      calls.filter(onZone).map((r) => `${r.method} ${r.status}`),
      ['DELETE 401'],
      'the run stopped at its first call',
    );
    assert.deepEqual(rows(), before, 'no row changed');
    await log.waitFor(/misconfigured: CLOUDFLARE_API_TOKEN/);
    let last = await lastUpstream(control);
    assert.deepEqual(stateOf(last.cloudflare), { state: 'misconfigured', setting: 'CLOUDFLARE_API_TOKEN' });
    assert.deepEqual(stateOf(last.postgrest), { state: 'ok' });
    const { since } = last.cloudflare;

    const deep = await health('?deep=1');
    assertError(deep, 500, 'misconfigured');
    assert.match(deep.json().error.message, /CLOUDFLARE_API_TOKEN/);
    assert.ok(!deep.body.includes(control.vars.CLOUDFLARE_API_TOKEN), 'never the token itself');
    await cron();
    last = await lastUpstream(control);
    assert.equal(last.cloudflare.since, since, 'still misconfigured: since when is unchanged');

    cf.token = control.vars.CLOUDFLARE_API_TOKEN;
    await cron();
    last = await lastUpstream(control);
    assert.deepEqual(stateOf(last.cloudflare), { state: 'ok' });
    assert.ok(Date.parse(last.cloudflare.since) > Date.parse(since), 'ok since the token worked again');
    assert.equal(row(REMOVING), null, 'the run did the work it left');
  });

  test("a zone the token may not use (another zone's id: 403 code 10000): the cron and deep health name CLOUDFLARE_ZONE_ID, not the token", async () => {
    const log = logOf(control);
    const before = rows();
    cf.zoneId = 'f'.repeat(32);
    const calls = await cron();
    assert.deepEqual(
      calls.filter(onZone).map((r) => `${r.method} ${r.status}`),
      ['DELETE 403'],
      'the run stopped at its first call',
    );
    assert.deepEqual(rows(), before, 'no row changed');
    await log.waitFor(/misconfigured: CLOUDFLARE_ZONE_ID/);
    assert.deepEqual(stateOf((await lastUpstream(control)).cloudflare), { state: 'misconfigured', setting: 'CLOUDFLARE_ZONE_ID' });
    const deep = await health('?deep=1');
    assertError(deep, 500, 'misconfigured');
    assert.match(deep.json().error.message, /CLOUDFLARE_ZONE_ID/);
    cf.reset();
  });
});

describe('Cloudflare\'s own "not found" (1436)', () => {
  test('fails only that row, after the zone answered a listing, and keeps its id', async () => {
    const [lost] = ACTIVE;
    const before = row(lost);
    cf.hostnames.delete(before.cloudflare_id);
    const calls = await cron();
    const lines = calls.map((r) => `${r.method} ${r.status}`);
    const notFound = calls.findIndex((r) => r.method === 'GET' && r.status === 404);
    const listing = calls.findIndex(isListing);
    assert.ok(notFound >= 0 && listing > notFound, `the listing came after the 404: ${lines}`);
    assert.equal(calls.filter(isListing).length, 1, `one listing per run: ${lines}`);
    const failed = row(lost);
    assert.equal(failed.status, 'failed');
    assert.match(failed.verification_errors[0], /^Cloudflare no longer has this hostname/);
    assert.equal(failed.cloudflare_id, before.cloudflare_id, 'the id is kept for recovery');
    assert.equal(failed.ssl_status, before.ssl_status);
    for (const name of ACTIVE.slice(1)) assert.equal(row(name).status, 'active', name);
  });

  test('is not believed when the zone does not answer a listing: the run stops, nothing changes', async () => {
    const [lost] = ACTIVE;
    cf.hostnames.delete(row(lost).cloudflare_id);
    sql(`delete from public.tenant_domains where hostname = '${REMOVING}'`);
    const before = rows();
    cf.answerAll(
      503,
      { success: false, errors: [{ code: 1500, message: 'Internal Server Error' }], messages: [], result: null },
      (method, path) => method === 'GET' && path.endsWith('/custom_hostnames?per_page=5'),
    );
    const calls = await cron();
    cf.answerAll(null);
    assert.deepEqual(calls.at(-1) && [calls.at(-1).status, isListing(calls.at(-1))], [503, true], 'the run stopped at the failed listing');
    assert.deepEqual(rows(), before, 'no row changed');
  });
});

describe('the webhook', () => {
  const host = 'hook.faults.test';
  let hostname;
  beforeEach(async () => {
    hostname = await hostnameAtCloudflare(host);
    insertRow(hostname, 'pending', 'pending_deployment');
    cf.reset();
  });

  /** Posts a notice that `hostname`'s certificate is `status`, made at `createdAt` (or none). */
  const notice = (status, createdAt) =>
    request(`${control.url}/webhooks/cloudflare`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'cf-webhook-auth': control.vars.CLOUDFLARE_WEBHOOK_SECRET },
      body: JSON.stringify({
        metadata: {
          event: {
            id: 'e1',
            type: 'ssl.custom_hostname_certificate.deployment.succeeded',
            ...(createdAt ? { created_at: createdAt } : {}),
          },
          account: { id: 'account' },
          zone: { id: cf.zoneId },
        },
        data: { id: hostname.id, hostname: host, ssl: { id: hostname.ssl.id, type: 'dv', method: 'http', status } },
      }),
    });

  test("a notice older than the row's last change, or without an event time, changes nothing and calls nobody", async () => {
    const before = row(host);
    const older = new Date(Date.parse(before.updated_at) - 60_000).toISOString();
    for (const createdAt of [older, undefined]) {
      const res = await notice('active', createdAt);
      assert.deepEqual([res.status, res.json()], [200, { received: true, known: true }], String(createdAt));
      assert.deepEqual(row(host), before, `${createdAt}: the row is as it was`);
    }
    assert.deepEqual(cf.requests, [], 'no Cloudflare call');
  });

  test('a newer notice is applied, read back once; the same notice again makes no call', async () => {
    const res = await notice('active', new Date().toISOString());
    assert.deepEqual([res.status, res.json()], [200, { received: true, known: true }]);
    assert.deepEqual(
      cf.requests.map((r) => `${r.method} ${r.status}`),
      ['GET 200'],
      'read back once',
    );
    const applied = row(host);
    assert.deepEqual([applied.status, applied.ssl_status], ['active', 'active']);
    assert.equal(sql("select calls from private.cloudflare_calls where kind = 'webhook'"), '1', "spent from the webhooks' budget");
    sql(`update public.tenant_domains set status = 'pending' where hostname = '${host}'`);
    await notice('active', new Date().toISOString());
    assert.equal(cf.requests.length, 1, 'a notice that changed no ssl_status makes no call');
  });

  test("with the webhooks' budget spent, a deployed certificate is written and left to the cron", async () => {
    // This minute and the next, so that a minute turning over mid-test changes nothing.
    sql(`insert into private.cloudflare_calls (kind, minute, calls)
         select 'webhook', date_trunc('minute', now()) + m * interval '1 minute', ${CALLS_PER_RUN} from generate_series(0, 1) as m`);
    const res = await notice('active', new Date().toISOString());
    assert.deepEqual([res.status, res.json()], [200, { received: true, known: true }]);
    assert.deepEqual(cf.requests, [], 'no Cloudflare call beyond the budget');
    assert.deepEqual([row(host).status, row(host).ssl_status], ['pending', 'active']);
    const calls = await cron();
    assert.ok(
      calls.some((r) => r.path.endsWith(`/custom_hostnames/${hostname.id}`)),
      'the cron reads it',
    );
    assert.equal(row(host).status, 'active');
  });
});

describe("the coach's API", () => {
  test("refuses a token that is not a signed-in user's with 401, before any PostgREST request", async () => {
    const tokens = {
      service_role: control.vars.SUPABASE_SECRET_KEY,
      anon: stack.anonKey,
      'no role': mintJwt(stack.jwtSecret, { sub: USERS.nora }),
      postgres: mintJwt(stack.jwtSecret, { sub: USERS.nora, role: 'postgres' }),
    };
    const list = (token) => request(`${control.url}/domains?tenant_id=${NORA.id}`, { headers: { authorization: `Bearer ${token}` } });
    const { result, upstream } = await countUpstream(stack, async () => {
      const answers = [];
      for (const [name, token] of Object.entries(tokens)) answers.push([name, await list(token)]);
      return answers;
    });
    for (const [name, res] of result) assertError(res, 401, 'unauthorized', name);
    assert.equal(upstream, 0, 'no PostgREST request');
    const coach = await list(userToken(stack, USERS.nora));
    assert.equal(coach.status, 200, coach.body);
    assert.ok(coach.json().domains.some((d) => d.hostname === ACTIVE[0]));
  });
});

describe('a wrong PostgREST or DNS resolver setting', () => {
  let wrongKey;
  let wrongUrl;
  let wrongResolver;
  let wrongAnon;
  before(async () => {
    // Supabase's gateway in front of PostgREST, knowing the service-role key but not the anon key
    // a control plane sends beside coaches' tokens.
    const serviceKey = mintJwt(stack.jwtSecret, { role: 'service_role' });
    const gateway = await startGateway({ rest: stack.postgrest.url, keys: [serviceKey] });
    stack.servers.push(gateway);
    [wrongKey, wrongUrl, wrongResolver, wrongAnon] = await Promise.all([
      startControl(stack, {
        vars: { SUPABASE_SECRET_KEY: mintJwt('not-this-projects-secret-0123456789', { role: 'service_role' }) },
        logLevel: 'log',
      }),
      startControl(stack, { vars: { SUPABASE_REST_URL: `${stack.postgrest.url}/not/postgrest` } }),
      // Something that answers HTTP, but not DNS over HTTPS: 404 for the query.
      startControl(stack, { vars: { DNS_RESOLVER_URL: `${stack.postgrest.url}/dns-query` } }),
      startControl(stack, { vars: { SUPABASE_REST_URL: gateway.rest, SUPABASE_SECRET_KEY: serviceKey, SUPABASE_ANON_KEY: stack.anonKey } }),
    ]);
  });

  test('names SUPABASE_SECRET_KEY when PostgREST refuses it, SUPABASE_REST_URL when the table is not found there, DNS_RESOLVER_URL when it is no resolver', async () => {
    for (const [plane, setting] of [
      [wrongKey, 'SUPABASE_SECRET_KEY'],
      [wrongUrl, 'SUPABASE_REST_URL'],
      [wrongResolver, 'DNS_RESOLVER_URL'],
    ]) {
      const res = await request(`${plane.url}/health?deep=1`);
      assertError(res, 500, 'misconfigured', setting);
      assert.match(res.json().error.message, new RegExp(setting));
      const shallow = await request(`${plane.url}/health`);
      assert.equal(shallow.status, 200, 'plain /health asks no upstream');
    }
  });

  test("a wrong SUPABASE_SECRET_KEY: the webhook is 500 misconfigured naming it, the cron logs it and stops, /health shows it; a coach's calls, made with their own token, still work", async () => {
    const key = wrongKey.vars.SUPABASE_SECRET_KEY;
    const log = logOf(wrongKey);
    await wrongKey.scheduled();
    await log.waitFor(/misconfigured: SUPABASE_SECRET_KEY/);
    const last = await lastUpstream(wrongKey);
    assert.deepEqual(stateOf(last.postgrest), { state: 'misconfigured', setting: 'SUPABASE_SECRET_KEY' });

    const hook = await notice(wrongKey, '0d89c70d-ad9f-4843-b99f-6cc0252067e9');
    assertError(hook, 500, 'misconfigured');
    assert.match(hook.json().error.message, /SUPABASE_SECRET_KEY/);
    for (const part of [key, ...key.split('.')]) assert.ok(!hook.body.includes(part), 'never the key, nor a part of it');

    // The coach's API acts as the coach (their token, the anon key as apikey): the secret key
    // never acts on a coach's behalf, so it works, and says nothing of the secret key.
    const coach = await listDomains(wrongKey, userToken(stack, USERS.nora));
    assert.equal(coach.status, 200, coach.body);
    assert.deepEqual(
      stateOf((await lastUpstream(wrongKey)).postgrest),
      { state: 'misconfigured', setting: 'SUPABASE_SECRET_KEY' },
      'a call made without the secret key does not clear what it found of the secret key',
    );
  });

  test("a coach's list at a wrong SUPABASE_REST_URL is 500 misconfigured naming it, not 503 retry later", async () => {
    const res = await listDomains(wrongUrl, userToken(stack, USERS.nora));
    assertError(res, 500, 'misconfigured');
    assert.match(res.json().error.message, /SUPABASE_REST_URL/);
    assert.equal(res.headers['retry-after'], undefined);
    assert.deepEqual(stateOf((await lastUpstream(wrongUrl)).postgrest), { state: 'misconfigured', setting: 'SUPABASE_REST_URL' });
  });

  test("Supabase's gateway refusing SUPABASE_ANON_KEY: a coach's list is 500 misconfigured naming it, never 401 nor 503; the service role's calls do not clear it", async () => {
    const res = await listDomains(wrongAnon, userToken(stack, USERS.nora));
    assertError(res, 500, 'misconfigured');
    assert.match(res.json().error.message, /SUPABASE_ANON_KEY/);
    assert.ok(!res.body.includes(stack.anonKey), 'never the key');
    let last = await lastUpstream(wrongAnon);
    assert.deepEqual(stateOf(last.postgrest), { state: 'misconfigured', setting: 'SUPABASE_ANON_KEY' });
    const { since } = last.postgrest;

    await wrongAnon.scheduled();
    const deep = await request(`${wrongAnon.url}/health?deep=1`);
    assert.deepEqual([deep.status, deep.json().postgrest], [200, 'ok'], 'the secret key gets through the gateway');
    last = await lastUpstream(wrongAnon);
    assert.deepEqual(stateOf(last.postgrest), { state: 'misconfigured', setting: 'SUPABASE_ANON_KEY' });
    assert.equal(last.postgrest.since, since);
    assert.deepEqual(stateOf(last.cloudflare), { state: 'ok' });
  });
});

describe('the log is events (issue 27)', () => {
  const host = 'hook.faults.test';
  const validate = new Ajv2020({ allErrors: true, strict: true }).compile(
    JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'control-event.schema.json'), 'utf8')),
  );

  /** Waits until `log` holds `count` events of kind `kind`, then a moment for any extra one. */
  async function eventsOf(log, kind, count) {
    const of = () => log.events().filter((e) => e.event === kind);
    for (const until = Date.now() + 5000; of().length < count && Date.now() < until; ) await sleep(50);
    await sleep(300);
    return of();
  }

  /** Every event of `log` valid against the schema, at its level, and no line holding a secret. */
  function assertClean(log, secrets) {
    for (const event of log.events()) {
      assert.ok(validate(event), `${JSON.stringify(event)}: ${JSON.stringify(validate.errors)}`);
      assert.ok(!event.path?.includes('?'), `no query string: ${event.path}`);
    }
    for (const [name, secret] of Object.entries(secrets)) {
      assert.ok(secret && secret.length > 8, name);
      for (const line of log.lines) assert.ok(!line.includes(secret), `a line holds ${name}: ${line}`);
    }
  }

  test("a coach's API call, a webhook and a cron run each write one event of its kind, with the documented fields, and never a secret", async () => {
    const hostname = await hostnameAtCloudflare(host);
    insertRow(hostname, 'pending', 'pending_deployment');
    cf.reset();
    const token = userToken(stack, USERS.nora);
    const log = logOf(control);

    const listed = await listDomains(control, token);
    assert.equal(listed.status, 200, listed.body);
    const [api, ...moreApi] = await eventsOf(log, 'api', 1);
    assert.deepEqual(moreApi, [], 'one event for one call');
    assert.deepEqual(
      {
        ...api,
        request_id: typeof api.request_id,
        version: typeof api.version,
        upstream_ms: typeof api.upstream_ms,
        duration_ms: typeof api.duration_ms,
        // The read, then the DNS doctor's lookups (at most 3 domains, 10 each) and their write.
        upstream_calls: api.upstream_calls >= 1 && api.upstream_calls <= 1 + 3 * 10 + 1 ? 'read and doctor' : api.upstream_calls,
      },
      {
        event: 'api',
        level: 'info',
        version: 'string',
        request_id: 'string',
        method: 'GET',
        path: '/domains',
        action: 'list_domains',
        tenant_id: NORA.id,
        hostname: null,
        status: 200,
        error_code: null,
        detail: null,
        upstream_calls: 'read and doctor',
        upstream_ms: 'number',
        duration_ms: 'number',
      },
    );

    const hook = await notice(control, hostname.id, 'active');
    assert.deepEqual([hook.status, hook.json()], [200, { received: true, known: true }]);
    const [webhook, ...moreWebhooks] = await eventsOf(log, 'webhook', 1);
    assert.deepEqual(moreWebhooks, []);
    const { request_id, version, upstream_ms, duration_ms, ...fields } = webhook;
    assert.deepEqual(fields, {
      event: 'webhook',
      level: 'info',
      cloudflare_id: hostname.id,
      known: true,
      hostname: host,
      domain_id: row(host).id,
      tenant_id: NORA.id,
      ssl_status_before: 'pending_deployment',
      ssl_status_after: 'active',
      changed: true,
      read_back: 'updated',
      status: 200,
      error_code: null,
      detail: null,
      // The row, the write, the webhooks' budget, Cloudflare's read, the write of what it found.
      upstream_calls: 5,
    });
    assert.equal(row(host).status, 'active', 'the read-back activated it');

    const calls = await cron();
    const [run, ...moreRuns] = await eventsOf(log, 'cron', 1);
    assert.deepEqual(moreRuns, []);
    assert.deepEqual(
      { level: run.level, halt: run.halt, deleted: run.deleted, cloudflare_calls: run.cloudflare_calls, rate_limits: run.rate_limits },
      { level: 'info', halt: null, deleted: 1, cloudflare_calls: calls.filter(onZone).length, rate_limits: 0 },
      JSON.stringify(run),
    );
    assert.ok(run.cloudflare_calls >= 7, 'the removed domain deleted and the six active ones checked');
    assert.equal(typeof run.duration_ms, 'number');
    assert.deepEqual(
      log.events().map((e) => e.event),
      ['api', 'webhook', 'cron'],
      'nothing else logged',
    );

    assertClean(log, {
      "the coach's token": token,
      "the token's signature": token.split('.')[2],
      'the secret key': control.vars.SUPABASE_SECRET_KEY,
      'the webhook secret': control.vars.CLOUDFLARE_WEBHOOK_SECRET,
      "Cloudflare's token": control.vars.CLOUDFLARE_API_TOKEN,
    });
  });

  test('a refused call is a warn event with its code and what it named; a failing upstream is an error event that says what failed', async () => {
    const log = logOf(control);
    const token = userToken(stack, USERS.nora);
    const gone = await request(`${control.url}/domains/nobody.faults.test?tenant_id=${NORA.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    assertError(gone, 404, 'domain_not_found');
    const stranger = await request(`${control.url}/webhooks/cloudflare`, {
      method: 'POST',
      headers: { 'cf-webhook-auth': 'not-the-secret' },
      body: '{}',
    });
    assertError(stranger, 401, 'unauthorized');
    const [api] = await eventsOf(log, 'api', 1);
    assert.deepEqual(
      [api.level, api.action, api.hostname, api.tenant_id, api.status, api.error_code, api.detail],
      ['warn', 'remove_domain', 'nobody.faults.test', NORA.id, 404, 'domain_not_found', null],
    );
    const [webhook] = await eventsOf(log, 'webhook', 1);
    assert.deepEqual(
      [webhook.level, webhook.status, webhook.error_code, webhook.known, webhook.upstream_calls],
      ['warn', 401, 'unauthorized', null, 0],
    );

    cf.answerAll(502, { error: 'bad gateway' });
    await sleep(1100);
    const deep = await request(`${control.url}/health?deep=1`);
    cf.answerAll(null);
    assertError(deep, 503, 'upstream_unavailable');
    const [, health] = await eventsOf(log, 'api', 2);
    assert.deepEqual(
      [health.level, health.action, health.status, health.error_code, health.upstream_calls],
      ['error', 'deep_health', 503, 'upstream_unavailable', 3],
    );
    assert.match(health.detail, /cloudflare/);
    assertClean(log, { "the coach's token": token, 'the webhook secret': control.vars.CLOUDFLARE_WEBHOOK_SECRET });
  });

  test('a run a rate limit stops says so: halt rate_limited, one rate limit met, when to retry, at level warn', async () => {
    const log = logOf(control);
    cf.failNext(1, 429);
    await cron();
    const [run] = await eventsOf(log, 'cron', 1);
    assert.deepEqual(
      [run.level, run.halt, run.rate_limits, run.retry_after_s, run.cloudflare_calls, run.deleted],
      ['warn', 'rate_limited', 1, 60, 1, 0],
      JSON.stringify(run),
    );
    assert.ok(validate(run), JSON.stringify(validate.errors));
  });
});
