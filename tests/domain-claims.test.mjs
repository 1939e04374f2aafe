// Hardening round 4 (issue 24) on the real stack, as a hostile coach with a real account, the anon
// key and curl would try it: Postgres with the migrations, PostgREST, two resolver data centers
// (each its own workerd and Cache API, CHANGES_POLL_SECONDS=1), and the control plane with the
// Cloudflare stand-in and the DNS over HTTPS stand-in (tests/support/dns.mjs), where a coach
// "publishes" the TXT record that proves control of a domain. The cron runs on demand, at most
// CLOUDFLARE_CALLS_PER_RUN (4) Cloudflare calls a run. Nora (Northstar) is the domains' owner,
// Lee (Acme) the attacker. One stack for every test: each uses hostnames of its own.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { addWorker, psql, sleep, startControl, startStack } from '../scripts/stack.mjs';
import { everywhere as everyCenter, onCenter } from './support/centers.mjs';
import { request } from './support/http.mjs';
import { TENANTS, USERS, assertError, countUpstream, userToken } from './support/tenants.mjs';

const POLL_SECONDS = 1;
/** The feed's bound: a change is visible in every data center within CHANGES_POLL_SECONDS + 1 s. */
const BOUND_MS = (POLL_SECONDS + 1) * 1000;
const CALLS_PER_RUN = 4;
const RESERVED_HOSTNAMES = 'control.ops.test,fallback.ops.test';
const NORA = TENANTS.northstar;
const LEE = TENANTS.acme;

let stack;
let control;
let cf;
let dns;
/** The two resolver data centers: `{ name, url }`. */
const centers = [];
let tokens;

before(async () => {
  stack = await startStack({ vars: { CHANGES_POLL_SECONDS: String(POLL_SECONDS), PLATFORM_DOMAIN: 'localhost' } });
  const [dcB] = await Promise.all([
    addWorker(stack),
    startControl(stack, {
      vars: { CLOUDFLARE_CALLS_PER_RUN: String(CALLS_PER_RUN), RESERVED_HOSTNAMES },
      cloudflare: { allowTopDomains: ['test'] },
    }).then((started) => {
      control = started;
    }),
  ]);
  cf = control.cloudflare;
  dns = control.dns;
  centers.push({ name: 'dc-a', url: stack.worker.url }, { name: 'dc-b', url: dcB.url });
  tokens = { nora: userToken(stack, USERS.nora), lee: userToken(stack, USERS.lee) };
});
after(async () => {
  await stack?.stop();
});

/** Every test starts with no test domains, spent budgets or published records. */
beforeEach(() => {
  sql(`delete from public.tenant_domains where hostname like '%.example.test';
    delete from private.owner_write_budgets; delete from private.released_domains`);
  cf.hostnames.clear();
  cf.reset();
  dns.reset();
});

const sql = (text) => psql(stack.dbUrl, { sql: text }).trim();

/** Calls the control plane's coach API as `token`. */
const api = (method, urlPath, { token = tokens.nora, body } = {}) =>
  request(`${control.url}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** Adds `hostname` for `tenant` as its coach; the answer. */
const add = (hostname, tenant = NORA, token = tokens.nora) => api('POST', '/domains', { token, body: { tenantId: tenant.id, hostname } });

/** A tenant's domain as its coach sees it. */
async function domain(hostname, tenant = NORA, token = tokens.nora) {
  const res = await api('GET', `/domains?tenant_id=${tenant.id}`, { token });
  assert.equal(res.status, 200, res.body);
  return res.json().domains.find((d) => d.hostname === hostname);
}

/** Publishes the TXT record a domain's view asks for, as its coach would at their DNS host. */
async function publish(hostname, tenant = NORA, token = tokens.nora) {
  const txt = (await domain(hostname, tenant, token)).dns.find((r) => r.type === 'TXT' && !r.optional);
  dns.set(txt.name, 'TXT', [txt.value]);
  return txt;
}

/** Runs the Cron Trigger once; the Cloudflare requests it made. */
async function cron() {
  const from = cf.requests.length;
  await control.scheduled();
  return cf.requests.slice(from);
}

/** Takes a proven domain through Cloudflare's validation to active (a few cron runs). */
async function activate(hostname, tenant = NORA, token = tokens.nora) {
  for (let i = 0; i < 8; i++) {
    await cron();
    const h = cf.byName(hostname);
    if (h) await cf.advance();
    if ((await domain(hostname, tenant, token))?.status === 'active') return;
  }
  assert.fail(`${hostname} did not become active: ${JSON.stringify(await domain(hostname, tenant, token))}`);
}

const slugOf = (res) => (res.status === 200 ? JSON.parse(res.body).slug : null);

/** Polls both data centers until `check(res)` holds on each; how long that took after `started`. */
const everywhere = (started, urlPath, host, check, what) => everyCenter(centers, started, urlPath, host, check, what);

/** Nora's domain `hostname`, proven and active, served by both data centers. */
async function noraServes(hostname) {
  assert.equal((await add(hostname)).status, 201);
  await publish(hostname);
  await activate(hostname);
  await everywhere(Date.now(), '/_tenant/brand.json', hostname, (res) => slugOf(res) === NORA.slug, `${hostname} served`);
}

describe("the platform's own names", () => {
  test('are refused by the control plane before any upstream request, and by the database to a direct call', async () => {
    const names = [
      'localhost',
      'www.localhost',
      `${LEE.slug}.localhost`,
      `login.${LEE.slug}.localhost`,
      'customers.coachplatform.com',
      'control.ops.test',
      'deep.fallback.ops.test',
      '0x7f.0x1',
      'shop.0xbeef',
    ];
    const { result, upstream } = await countUpstream(stack, () => Promise.all(names.map((name) => add(name))));
    for (const [i, res] of result.entries()) assertError(res, 400, 'invalid_domain', names[i]);
    assert.equal(upstream, 0, 'no PostgREST request');
    for (const name of names) {
      const res = await fetch(`${stack.postgrest.url}/rpc/add_tenant_domain`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.nora}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tenant_id: NORA.id, hostname: name }),
      });
      const body = await res.json();
      assert.deepEqual([res.status, body.hint], [400, 'invalid_domain'], `${name} straight to the database: ${JSON.stringify(body)}`);
    }
    const list = names.map((n) => `'${n}'`).join(',');
    assert.equal(sql(`select count(*) from public.tenant_domains where hostname in (${list}) and status = 'pending'`), '0', 'no claim');
  });
});

describe('takeovers', () => {
  test("a just-removed domain: another coach's claim never activates; its owner takes it back during the cool-down", async () => {
    const host = 'removed.example.test';
    await noraServes(host);
    const removed = await api('DELETE', `/domains/${host}?tenant_id=${NORA.id}`);
    assert.equal(removed.status, 200, removed.body);
    const claimed = await add(host, LEE, tokens.lee);
    assert.equal(claimed.status, 201, 'another coach may claim it');
    assert.equal(claimed.json().ownershipVerifiedAt, null);
    for (let i = 0; i < 3; i++) {
      await cron();
      await cf.advance();
    }
    const lees = await domain(host, LEE, tokens.lee);
    assert.equal(lees.status, 'pending', 'never verified without its TXT record');
    assert.match(
      lees.errors[0],
      /TXT record _localhost-challenge\.removed\.example\.test does not hold this domain's token/,
      "the record still holds its owner's token, not the claimant's",
    );
    assert.equal(cf.byName(host), undefined, 'never created at Cloudflare (nothing billed)');
    await everywhere(Date.now(), '/_tenant/brand.json', host, (res) => res.status === 404, 'served by nobody');

    const back = await add(host);
    assert.equal(back.status, 201, back.body);
    assert.ok(back.json().ownershipVerifiedAt, 'within the cool-down its owner needs no new proof');
    assert.equal((await domain(host, LEE, tokens.lee)).status, 'failed', 'the other claim fails');
    assert.match(
      (await domain(host, LEE, tokens.lee)).errors[0],
      /^another account proved control of the DNS of removed\.example\.test first/,
    );
    await activate(host);
    await everywhere(Date.now(), '/_tenant/brand.json', host, (res) => slugOf(res) === NORA.slug, "served as Nora's again");
  });

  test("the www of another coach's domain, or the domain of another coach's www: 409 pair_taken, and www keeps going to its owner", async () => {
    const apex = 'apex.example.test';
    await noraServes(apex);
    assert.equal((await api('POST', `/domains/${apex}/primary?tenant_id=${NORA.id}`)).status, 200);
    const primary = (res) => res.status === 301 && res.headers.location === `http://${apex}/`;
    await everywhere(Date.now(), '/', `www.${apex}`, primary, 'www redirects to the primary');
    const claims = () => sql(`select count(*) from public.tenant_domains where tenant_id = '${LEE.id}' and hostname like '%apex%'`);
    assertError(await add(`www.${apex}`, LEE, tokens.lee), 409, 'pair_taken', "the www of Nora's domain");
    assertError(await add(`WWW.${apex.toUpperCase()}.`, LEE, tokens.lee), 409, 'pair_taken', 'another spelling of it');
    // The reverse: Nora holds www.<other>; Lee cannot claim <other>.
    await noraServes(`www.other-${apex}`);
    assertError(await add(`other-${apex}`, LEE, tokens.lee), 409, 'pair_taken', "the domain of Nora's www");
    assert.equal(claims(), '0', 'no claim was made');
    assert.equal(cf.byName(`www.${apex}`), undefined);
    for (const center of centers) assert.ok(primary(await onCenter(center, '/', `www.${apex}`)), `${center.name}: still Nora's`);
    // Nora herself may hold both.
    assert.equal((await add(`other-${apex}`)).status, 201);
    sql(`update public.tenant_profiles set custom_domain = '${NORA.domain}' where id = '${NORA.id}'`);
  });

  test('with the proof, a live domain moves to the claimant and resolves there on both data centers within the feed bound', async () => {
    const host = 'moving.example.test';
    await noraServes(host);
    assert.equal((await add(host, LEE, tokens.lee)).status, 201);
    await publish(host, LEE, tokens.lee);
    const calls = await cron();
    const moved = Date.now();
    assert.deepEqual(
      calls.filter((r) => r.method !== 'GET'),
      [],
      'nothing created or deleted: the hostname changes hands as it is',
    );
    const lees = await domain(host, LEE, tokens.lee);
    assert.equal(lees.status, 'active');
    assert.ok(lees.ownershipVerifiedAt);
    const noras = await domain(host);
    assert.equal(noras.status, 'failed');
    assert.match(noras.errors[0], /^another account proved control of the DNS of moving\.example\.test/);
    const elapsed = await everywhere(moved, '/_tenant/brand.json', host, (res) => slugOf(res) === LEE.slug, "served as Lee's");
    assert.ok(elapsed <= BOUND_MS, `served as Lee's everywhere after ${elapsed} ms (bound ${BOUND_MS} ms)`);
  });

  test('a squatted pending name is taken by its owner with the proof', async () => {
    const host = 'squatted.example.test';
    assert.equal((await add(host, LEE, tokens.lee)).status, 201, 'the squatter claims first');
    const mine = await add(host);
    assert.equal(mine.status, 201, `its owner is not refused: ${mine.body}`);
    await publish(host);
    const calls = await cron();
    assert.deepEqual(
      calls.map((r) => `${r.method} ${r.status}`),
      ['POST 201'],
      'proven, then created in the same run',
    );
    assert.ok((await domain(host)).ownershipVerifiedAt);
    assert.equal(cf.byName(host).hostname, host);
    const squat = await domain(host, LEE, tokens.lee);
    assert.equal(squat.status, 'failed');
    assert.match(squat.errors[0], /first/);
  });
});

describe('an apex and its www', () => {
  test("adding example.co.uk adds its www, each with its instructions; active, the www redirects to the apex with path and query, and the other way after a swap; another coach's claim of either is 409", async () => {
    const apex = 'example.co.uk'; // co.uk is a public suffix: this is an apex
    const www = `www.${apex}`;
    assert.equal((await add(apex)).status, 201);
    const [a, w] = [await domain(apex), await domain(www)];
    assert.ok(w, 'the www was added with it');
    const cname = (d) => d.dns.find((r) => r.type === 'CNAME');
    assert.match(cname(a).note, /ALIAS, ANAME or CNAME flattening/, 'the apex: no CNAME at most DNS hosts');
    assert.match(cname(a).note, new RegExp(`make ${www.replaceAll('.', '\\.')} the primary domain`));
    assert.equal(cname(w).note, undefined, 'the www: a plain CNAME');
    assert.notEqual(a.dns.find((r) => r.type === 'TXT').name, w.dns.find((r) => r.type === 'TXT').name, 'each proves itself');
    for (const name of [apex, www]) await publish(name);
    for (const name of [apex, www]) await activate(name);
    assertError(await add(www, LEE, tokens.lee), 409, 'pair_taken', "another coach's claim of the www");
    assertError(await add(apex, LEE, tokens.lee), 409, 'pair_taken', 'or of the apex');

    assert.equal((await api('POST', `/domains/${apex}/primary?tenant_id=${NORA.id}`)).status, 200);
    const to = (host) => (res) => res.status === 301 && res.headers.location === `http://${host}/courses/1?a=b`;
    await everywhere(Date.now(), '/courses/1?a=b', www, to(apex), 'the www redirects to the apex');
    assert.equal((await api('POST', `/domains/${www}/primary?tenant_id=${NORA.id}`)).status, 200);
    await everywhere(Date.now(), '/courses/1?a=b', apex, to(www), 'swapped: the apex redirects to the www');
    for (const name of [apex, www]) assert.equal((await api('DELETE', `/domains/${name}?tenant_id=${NORA.id}`)).status, 200);
    sql(`update public.tenant_profiles set custom_domain = '${NORA.domain}' where id = '${NORA.id}'`);
  });
});

describe("what a coach learns of others' claims", () => {
  test('at the limit of 10 domains, a taken name and a free one answer alike', async () => {
    const taken = 'taken.example.test';
    assert.equal((await add(taken)).status, 201);
    const held = () => Number(sql(`select count(*) from public.tenant_domains where tenant_id = '${LEE.id}' and status <> 'removing'`));
    for (let i = held(); i < 10; i++) assert.equal((await add(`fill${i}.example.test`, LEE, tokens.lee)).status, 201);
    assert.equal(held(), 10, 'Lee is at the limit');
    const a = await add(taken, LEE, tokens.lee);
    const b = await add('free.example.test', LEE, tokens.lee);
    assertError(a, 400, 'too_many_domains');
    assert.deepEqual([b.status, b.body], [a.status, a.body]);
  });

  test("the anon key learns no pending claim's tenant, status or token", async () => {
    const host = 'secret.example.test';
    assert.equal((await add(host)).status, 201);
    const anon = (table, select, lookup) =>
      fetch(`${stack.postgrest.url}/${table}?select=${select}`, {
        headers: { authorization: `Bearer ${stack.anonKey}`, 'x-tenant-lookup': lookup },
      }).then(async (res) => [res.status, await res.json()]);
    assert.deepEqual(await anon('tenant_domains', 'tenant_id,status', `domain:${host}`), [200, []]);
    assert.deepEqual(await anon('tenant_profiles', 'id', `domain:${host}`), [200, []]);
    assert.equal((await anon('tenant_domains', 'proof_token', `domain:${host}`))[0], 401);
    assert.equal((await anon('domain_challenges', 'domain_id', `challenge:${host}/x`))[0], 401);
  });
});

describe('no coach slows the others', () => {
  test("one coach's add/remove loop and removal backlog: another coach's new domain gets its hostname within two cron runs", async () => {
    // A backlog of removals that reached Cloudflare, as a flood before the limits would leave.
    sql(`insert into public.tenant_domains (tenant_id, hostname, status, cloudflare_id, verified_at)
      select '${LEE.id}', 'flood' || n || '.example.test', 'removing', 'cf-flood-' || n, now() from generate_series(1, 60) as n`);
    const loop = [];
    for (let i = 0; i < 40; i++) {
      loop.push(await add(`loop${i}.example.test`, LEE, tokens.lee));
      loop.push(await api('DELETE', `/domains/loop${i}.example.test?tenant_id=${LEE.id}`, { token: tokens.lee }));
    }
    const limited = loop.filter((res) => res.status === 429);
    assert.ok(limited.length > 0, 'the loop is rate limited');
    assertError(limited[0], 429, 'rate_limited');
    assert.ok(Number(limited[0].headers['retry-after']) > 0, 'with Retry-After');
    assert.equal(
      sql("select count(*) from public.tenant_domains where hostname like 'loop%'"),
      '0',
      'claims that never reached Cloudflare leave nothing behind',
    );

    const host = 'fair.example.test';
    assert.equal((await add(host)).status, 201);
    await publish(host);
    await cron();
    await cron();
    assert.ok(sql(`select cloudflare_id from public.tenant_domains where hostname = '${host}'`), 'created within two runs');
    assert.equal(cf.byName(host)?.hostname, host);
  });

  test('one tenant writing as fast as it can: other tenants stay hits on both data centers, and the feed keeps one row per tenant', async () => {
    // beforeEach deleted the domains earlier tests gave Lee: a change of Acme, which each data
    // center applies on a feed read after the first request (a request waits 50 ms at most for
    // it) and then re-reads Acme once. Settled when both tenants are hits everywhere after the
    // bound: the watch below starts from there.
    for (let round = 0; ; round += 1) {
      const statuses = [];
      for (const center of centers) {
        for (const t of [LEE, TENANTS.leadingwithmeaning])
          statuses.push((await onCenter(center, `/_tenant/slug/${t.slug}`)).headers['x-tenant-cache']);
      }
      if (round > 0 && statuses.every((s) => s === 'hit')) break;
      assert.ok(round < 5, `still not hits after ${round} bounds: ${statuses}`);
      await sleep(BOUND_MS);
    }
    // 2,000 changes of Northstar, each its own transaction, from four connections as fast as
    // psql sends them (more than the feed's 1,000 a read within its poll interval), and its
    // coach setting its primary as primary meanwhile; the other tenants are read on both data
    // centers all along.
    const floods = Array.from({ length: 4 }, (_, k) => {
      const file = path.join(stack.dir, `flood-${k}.sql`);
      fs.writeFileSync(
        file,
        Array.from(
          { length: 500 },
          (_, i) => `update public.tenant_profiles set display_name = 'Northstar ${k}-${i}' where id = '${NORA.id}';`,
        ).join('\n'),
      );
      return new Promise((resolve, reject) => {
        const child = spawn('psql', [stack.dbUrl, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', file], { stdio: 'ignore' });
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`psql exited ${code}`))));
      });
    });
    const flood = Promise.all(floods);
    let flooding = true;
    const rpc = (async () => {
      const statuses = new Set();
      while (flooding) {
        const res = await fetch(`${stack.postgrest.url}/rpc/set_primary_tenant_domain`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tokens.nora}`, 'content-type': 'application/json' },
          body: JSON.stringify({ tenant_id: NORA.id, hostname: NORA.domain }),
        });
        statuses.add(res.status);
      }
      return [...statuses];
    })();
    const misses = [];
    let reads = 0;
    const watch = async (until) => {
      while (Date.now() < until()) {
        for (const center of centers) {
          for (const t of [LEE, TENANTS.leadingwithmeaning]) {
            const res = await onCenter(center, `/_tenant/slug/${t.slug}`);
            reads += 1;
            if (res.headers['x-tenant-cache'] !== 'hit')
              misses.push(`${center.name} ${t.slug}: ${res.status} ${res.headers['x-tenant-cache']}`);
          }
        }
        await sleep(50);
      }
    };
    let floodDone = Infinity;
    await Promise.all([
      flood.then(() => {
        floodDone = Date.now();
      }),
      watch(() => floodDone + 3 * BOUND_MS),
    ]);
    flooding = false;
    assert.deepEqual(await rpc, [200], 'setting the primary as primary is answered, and writes nothing');
    assert.deepEqual(misses, [], `${reads} reads of other tenants during the flood and after`);
    const rows = sql('select count(*), count(distinct tenant_hash) from public.tenant_changes').split('|').map(Number);
    assert.equal(rows[0], rows[1], 'one row per tenant');
    assert.ok(rows[0] <= 10, `tenant_changes holds ${rows[0]} rows after 2,000 changes`);
    sql(`update public.tenant_profiles set display_name = 'Northstar Coaching' where id = '${NORA.id}'`);
  });
});
