// Misconfiguration is never "retry later" (issue 25). A setting that is wrong (an anon key of
// another project or signed with another JWT secret, SUPABASE_URL with /rest/v1 pasted on,
// SUPABASE_REST_URL at the gateway root or at a web page, a project without the tables) makes
// the resolver answer 500 `misconfigured` naming that setting; an upstream that fails (refused,
// too slow) stays 503 `upstream_unavailable`. Either way the key is in no answer and no log line,
// and shallow /_tenant/health says what this isolate's last PostgREST read found
// (`lastUpstream`). One stack for the file, one Worker per case, all started at once; the
// correct setup goes through a stand-in of Supabase's API gateway, as a hosted project does.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { addWorker, createSupabaseDatabase, freePort, mintJwt, psql, sleep, startPostgrest, startStack } from '../scripts/stack.mjs';
import { startFaultyUpstream } from './support/faulty-upstream.mjs';
import { startGateway } from './support/gateway.mjs';
import { request } from './support/http.mjs';
import { assertError } from './support/tenants.mjs';

const TIMEOUT_MS = 300;
const SLUG = 'leadingwithmeaning';
/** The anon role's grant on tenant_profiles, as its migration gives it. */
const GRANT_TENANTS =
  'grant select (id, slug, display_name, tenant_type, brand_config, custom_domain, enabled_assessments, maintenance) on table public.tenant_profiles to anon';
const REVOKE_TENANTS = 'revoke select on table public.tenant_profiles from anon';

const misconfigured = (setting, says) => ({ status: 500, code: 'misconfigured', state: 'misconfigured', setting, says });
const unavailable = { status: 503, code: 'upstream_unavailable', state: 'unavailable' };

let stack;
let gateway;
let page;
let hanging;
let emptyProject;
let otherKey; // an anon JWT signed with another secret: another project's key
const started = Date.now();

/**
 * The cases: each Worker's settings (over the stack's: SUPABASE_REST_URL at bare PostgREST and
 * the stack's anon key), the key it holds, and what every request must answer. `atParse`: the
 * settings are refused before any I/O, so even shallow health is 500.
 */
const CASES = [
  {
    name: 'an anon key signed with another JWT secret, on PostgREST itself',
    vars: () => ({ SUPABASE_ANON_KEY: otherKey }),
    expect: misconfigured('SUPABASE_ANON_KEY'),
  },
  {
    name: "another project's anon key, through the API gateway (Invalid API key)",
    vars: () => ({ SUPABASE_REST_URL: undefined, SUPABASE_URL: gateway.url, SUPABASE_ANON_KEY: otherKey }),
    expect: misconfigured('SUPABASE_ANON_KEY'),
  },
  {
    name: 'SUPABASE_URL with /rest/v1 pasted on: refused before any request',
    vars: () => ({ SUPABASE_REST_URL: undefined, SUPABASE_URL: gateway.rest }),
    expect: misconfigured('SUPABASE_URL', 'without /rest/v1'),
    atParse: true,
  },
  {
    name: "SUPABASE_REST_URL at the gateway's root (no route)",
    vars: () => ({ SUPABASE_REST_URL: gateway.url }),
    expect: misconfigured('SUPABASE_REST_URL'),
  },
  {
    name: 'SUPABASE_REST_URL at a web page (200 text/html)',
    vars: () => ({ SUPABASE_REST_URL: page.url }),
    expect: misconfigured('SUPABASE_REST_URL'),
  },
  {
    name: 'a project without the tables (the wrong project, or supabase db push not run)',
    vars: () => ({ SUPABASE_REST_URL: emptyProject.url }),
    expect: misconfigured('SUPABASE_REST_URL', 'has no tenant_profiles table'),
  },
  {
    name: 'PostgREST refusing connections',
    vars: async () => ({ SUPABASE_REST_URL: `http://127.0.0.1:${await freePort()}` }),
    expect: unavailable,
  },
  {
    name: 'PostgREST too slow: 503 after UPSTREAM_TIMEOUT_MS',
    vars: () => ({ SUPABASE_REST_URL: hanging.url, UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) }),
    expect: unavailable,
    slow: true,
  },
  {
    name: 'the correct setup: SUPABASE_URL is the project URL, behind the gateway',
    // The feed off and a 1 s TTL: the stale-if-error test below reuses this Worker.
    vars: () => ({ SUPABASE_REST_URL: undefined, SUPABASE_URL: gateway.url, CACHE_TTL_SECONDS: '1', CHANGES_POLL_SECONDS: '0' }),
    expect: { status: 200, state: 'ok' },
    correct: true,
  },
];

/** Starts a case's Worker and records its log lines. */
async function startCase(c) {
  const vars = await c.vars();
  c.key = vars.SUPABASE_ANON_KEY ?? stack.anonKey;
  // logLevel 'log': the Worker's events are console.log lines (crates/common/src/log.js).
  c.worker = await addWorker(stack, vars, { logLevel: 'log' });
  c.lines = [];
  c.worker.proc.onLine((line) => c.lines.push(line));
}

before(async () => {
  stack = await startStack({ worker: false });
  otherKey = mintJwt('another-projects-jwt-secret-0123456789abcdef', { role: 'anon' });
  gateway = await startGateway({ rest: stack.postgrest.url, keys: [stack.anonKey] });
  stack.servers.push(gateway);
  hanging = await startFaultyUpstream('hang');
  stack.servers.push(hanging);
  const pageServer = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html><head><title>Supabase</title></head><body>Sign in to continue</body></html>');
  });
  await new Promise((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  page = {
    url: `http://127.0.0.1:${pageServer.address().port}`,
    stop: () => {
      pageServer.closeAllConnections();
      return new Promise((resolve) => pageServer.close(resolve));
    },
  };
  stack.servers.push(page);
  createSupabaseDatabase(stack.pg, 'empty_project');
  emptyProject = await startPostgrest(stack.pg, 'empty_project', { dir: stack.dir, jwtSecret: stack.jwtSecret });
  stack.processes.push(emptyProject.proc);
  // The first start builds the Wasm when needed; the others then start together.
  await startCase(CASES[0]);
  await Promise.all(CASES.slice(1).map(startCase));
});
after(async () => {
  await stack?.stop();
});

const call = (c, path) => request(`${c.worker.url}${path}`);

/** Shallow health's `lastUpstream`, asserting the shallow check itself is as before. */
async function lastUpstream(c) {
  const res = await call(c, '/_tenant/health');
  assert.equal(res.status, 200, res.body);
  assert.equal(res.json().status, 'ok');
  return res.json().lastUpstream;
}

/** Asserts `res` is what `expect` says, and that it holds no key. */
function assertAnswer(c, res, what) {
  const { status, code, setting, says } = c.expect;
  assert.ok(!res.body.includes(c.key), `${what}: the answer contains the key: ${res.body}`);
  if (status === 200) {
    assert.equal(res.status, 200, `${what}: ${res.body}`);
    return;
  }
  assertError(res, status, code, what);
  const { message } = res.json().error;
  if (setting) assert.ok(message.includes(setting), `${what}: the message names ${setting}: ${message}`);
  if (says) assert.ok(message.includes(says), `${what}: the message says "${says}": ${message}`);
  if (status === 503) assert.ok(Number(res.headers['retry-after']) > 0, `${what}: Retry-After`);
  else assert.equal(res.headers['retry-after'], undefined, `${what}: no Retry-After: retrying cannot help`);
}

describe('each setup answers what it is, and health says so', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const first = c.atParse ? null : await lastUpstream(c);
      const t0 = Date.now();
      const lookup = await call(c, `/_tenant/slug/${SLUG}`);
      const elapsed = Date.now() - t0;
      assertAnswer(c, lookup, 'lookup');
      if (c.slow) {
        assert.ok(elapsed >= TIMEOUT_MS - 50, `waited for the timeout (${elapsed} ms)`);
        assert.ok(elapsed < TIMEOUT_MS + 4000, `gave up after the timeout (${elapsed} ms)`);
      }
      const deep = await call(c, '/_tenant/health?deep=1');
      assertAnswer(c, deep, 'deep health');
      if (c.expect.status >= 500) {
        // A visitor's browser on a coach's site: the same status, a neutral page, no setting named.
        const page = await request(`${c.worker.url}/welcome`, { host: `${SLUG}.localhost`, headers: { accept: 'text/html' } });
        assert.equal(page.status, c.expect.status, `page: ${page.body}`);
        assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
        assert.match(page.body, /temporarily unavailable/);
        assert.ok(!page.body.includes(c.key) && !(c.expect.setting && page.body.includes(c.expect.setting)), 'the page names nothing');
      }
      if (c.atParse) {
        assertAnswer(c, await call(c, '/_tenant/health'), 'shallow health');
      } else {
        assert.equal(first, null, 'lastUpstream is null before any PostgREST read');
        const last = await lastUpstream(c);
        assert.ok(last, 'lastUpstream is set once PostgREST was asked');
        assert.equal(last.state, c.expect.state, JSON.stringify(last));
        assert.equal(last.setting, c.expect.state === 'misconfigured' ? c.expect.setting : undefined, JSON.stringify(last));
        const since = Date.parse(last.since);
        assert.ok(since >= started - 1000 && since <= Date.now(), `since is when it began: ${last.since}`);
        assert.match(last.since, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'RFC 3339');
      }
      await sleep(200);
      if (c.expect.code) {
        const named = c.expect.setting ?? c.expect.code;
        assert.ok(
          c.lines.some((l) => l.includes(named)),
          `the log names ${named}: ${c.lines.join('\n')}`,
        );
      }
      const leaked = c.lines.filter((l) => l.includes(c.key));
      assert.deepEqual(leaked, [], 'no log line holds the key');
    });
  }
});

test('a refresh that meets a misconfiguration serves cached tenants stale, once, and never waits', async () => {
  const c = CASES.find((x) => x.correct);
  assert.equal((await call(c, `/_tenant/slug/${SLUG}`)).status, 200);
  await sleep(1100); // past CACHE_TTL_SECONDS: stale from now on
  psql(stack.dbUrl, { sql: REVOKE_TENANTS });
  try {
    const before = gateway.requests;
    for (let i = 0; i < 10; i += 1) {
      const t0 = Date.now();
      const res = await call(c, `/_tenant/slug/${SLUG}`);
      assert.equal(res.status, 200, res.body);
      assert.equal(res.headers['x-tenant-cache'], 'stale');
      assert.ok(Date.now() - t0 < 1000, 'served at once');
    }
    await sleep(300);
    assert.equal(gateway.requests - before, 1, 'one background refresh, no read per request');
    const last = await lastUpstream(c);
    assert.equal(last.state, 'misconfigured', JSON.stringify(last));
    assert.equal(last.setting, 'SUPABASE_ANON_KEY');
    const uncached = await call(c, '/_tenant/slug/acme-leadership');
    assertError(uncached, 500, 'misconfigured', 'a tenant never cached');
    assert.match(uncached.json().error.message, /SUPABASE_ANON_KEY/);
  } finally {
    psql(stack.dbUrl, { sql: GRANT_TENANTS });
  }
  const misconfiguredSince = Date.parse((await lastUpstream(c)).since);
  assert.equal((await call(c, '/_tenant/slug/northstar-coaching')).status, 200);
  const last = await lastUpstream(c);
  assert.equal(last.state, 'ok', JSON.stringify(last));
  assert.ok(Date.parse(last.since) >= misconfiguredSince, 'ok again since now');
});
