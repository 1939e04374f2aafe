// The DNS doctor (issue 29) on the real stack: Postgres with the migrations, PostgREST, the
// resolver, and the control plane in workerd with the Cloudflare stand-in and the DNS over HTTPS
// stand-in (tests/support/dns.mjs), seeded per case. The control plane looks each coach's DNS up
// itself when the coach reads their domains (GET /domains) and on each cron run, and answers one
// verdict per domain with its fix; `ready` only when Cloudflare says active/active and the DNS
// points here. A resolver that fails gives `unknown` and changes no row. What it looks up is
// bounded: a few diagnoses per read, none again within a minute. A headless Chromium shows the
// verdicts on the demo's Domains page.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CUSTOM_HOSTNAME_TARGET, ROOT, freePort, psql, startControl, startStack } from '../scripts/stack.mjs';
import { launchBrowser } from './support/browser.mjs';
import { domainValidators } from './support/domain-schema.mjs';
import { request } from './support/http.mjs';
import { TENANTS, USERS, userToken } from './support/tenants.mjs';

const ARTIFACTS = path.join(ROOT, 'test-artifacts');
/** A diagnosis per GET /domains, at most (control/src/doctor.rs, DIAGNOSES_PER_READ). */
const DIAGNOSES_PER_READ = 3;
/** Lookups per diagnosis, at most (control/src/doctor.rs, MAX_LOOKUPS). */
const MAX_LOOKUPS = 10;
/** The target's address: a proxied record of the platform's zone, as in production. */
const TARGET_ADDRESS = '104.16.1.1';
const NORA = TENANTS.northstar;

let stack;
let control;
let dns;
let dashboard;
let token;

before(async () => {
  const port = await freePort();
  dashboard = `http://localhost:${port}`;
  stack = await startStack({ demo: true, workerPort: port, vars: { PLATFORM_DOMAIN: 'localhost' } });
  control = await startControl(stack, {
    vars: { DASHBOARD_ORIGIN: dashboard, UPSTREAM_TIMEOUT_MS: '2000' },
    cloudflare: { allowTopDomains: ['test', 'localhost'] },
    echo: Boolean(process.env.CONTROL_ECHO),
  });
  dns = control.dns;
  token = userToken(stack, USERS.nora);
  sql(`delete from public.tenant_domains where hostname like '%doctor.test'; delete from private.owner_write_budgets`);
});
after(async () => {
  await stack?.stop();
});

const sql = (text) => psql(stack.dbUrl, { sql: text }).trim();
const schemas = domainValidators();

/** The coach's domains (GET /domains), checked against the schema; and how many lookups it made. */
async function read() {
  const from = dns.queries.length;
  const res = await request(`${control.url}/domains?tenant_id=${NORA.id}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, res.body);
  const list = res.json();
  assert.ok(schemas.list(list), JSON.stringify(schemas.list.errors));
  return { all: list.domains, domains: list.domains.filter((d) => d.hostname.endsWith('doctor.test')), lookups: dns.queries.length - from };
}

/** Reads the domains until every one of `hosts` has been checked since `since`; by hostname. */
async function diagnosed(hosts, since = 0) {
  for (let i = 0; i < 10; i++) {
    const { domains } = await read();
    const fresh = (d) => d.diagnosis.checkedAt && Date.parse(d.diagnosis.checkedAt) >= since;
    const byHost = Object.fromEntries(domains.map((d) => [d.hostname, d]));
    if (hosts.every((h) => byHost[h] && fresh(byHost[h]))) return byHost;
  }
  assert.fail(`not all of ${hosts.join(', ')} diagnosed after 10 reads`);
}

/** Adds a domain as its coach and publishes its proof TXT record (unless `publish` is false). */
async function add(hostname, { publish = true } = {}) {
  const res = await request(`${control.url}/domains`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tenantId: NORA.id, hostname }),
  });
  assert.equal(res.status, 201, res.body);
  assert.equal(res.json().diagnosis.code, 'not_checked', 'a new domain is not checked yet');
  if (publish) {
    const txt = res.json().dns.find((r) => r.type === 'TXT' && !r.optional);
    dns.set(txt.name, 'TXT', [txt.value]);
  }
}

/** The database's row of `hostname`, every column. */
const row = (hostname) => JSON.parse(sql(`select row_to_json(d) from public.tenant_domains d where hostname = '${hostname}'`));
/** Makes the stored diagnosis of `hostname` older than the bound, so the next read checks it again. */
const age = (hostname) =>
  sql(`update public.tenant_domain_diagnoses set checked_at = now() - interval '5 minutes'
    where domain_id = (select id from public.tenant_domains where hostname = '${hostname}')`);

/** The seven setups: hostname, the records the stand-in holds, the verdict and what its fix says. */
const SETUPS = [
  { host: 'coach.none-doctor.test', records: [], code: 'cname_missing', fix: [CUSTOM_HOSTNAME_TARGET] },
  {
    host: 'coach.elsewhere-doctor.test',
    records: [['coach.elsewhere-doctor.test', 'CNAME', 'shops.other-host.test']],
    code: 'cname_elsewhere',
    fix: ['shops.other-host.test', CUSTOM_HOSTNAME_TARGET],
    pointsTo: 'shops.other-host.test',
  },
  {
    host: 'apex-doctor.test',
    records: [['apex-doctor.test', 'A', '203.0.113.10']],
    code: 'apex_needs_flattening',
    fix: ['ALIAS', CUSTOM_HOSTNAME_TARGET],
    pointsTo: '203.0.113.10',
  },
  {
    host: 'coach.caa-doctor.test',
    // The CAA record is at the apex: found by climbing the tree from the name (RFC 8659).
    records: [
      ['coach.caa-doctor.test', 'CNAME', CUSTOM_HOSTNAME_TARGET],
      ['caa-doctor.test', 'CAA', '0 issue "amazon.com"'],
    ],
    code: 'caa_blocks_certificate',
    fix: ['letsencrypt.org'],
  },
  {
    host: 'coach.acme-doctor.test',
    records: [
      ['coach.acme-doctor.test', 'CNAME', CUSTOM_HOSTNAME_TARGET],
      ['_acme-challenge.coach.acme-doctor.test', 'TXT', 'left-over-validation-token'],
    ],
    code: 'stale_acme_challenge',
    fix: ['_acme-challenge.coach.acme-doctor.test'],
  },
  {
    host: 'coach.cf-doctor.test',
    records: [
      ['coach.cf-doctor.test', 'A', '104.21.48.12'],
      ['coach.cf-doctor.test', 'AAAA', '2606:4700:3031::6815:300c'],
    ],
    code: 'proxied_by_another_cloudflare_account',
    fix: ['another Cloudflare account', CUSTOM_HOSTNAME_TARGET],
    pointsTo: '104.21.48.12, 2606:4700:3031::6815:300c',
  },
  {
    host: 'coach.ready-doctor.test',
    records: [['coach.ready-doctor.test', 'CNAME', CUSTOM_HOSTNAME_TARGET]],
    code: 'certificate_pending',
    fix: ['Nothing to do'],
  },
];
const READY = 'coach.ready-doctor.test';

/** Seeds the stand-in with the seven setups' records and the target's address. */
function seed() {
  dns.set(CUSTOM_HOSTNAME_TARGET, 'A', [TARGET_ADDRESS]);
  const records = new Map();
  for (const [name, type, data] of SETUPS.flatMap((s) => s.records)) {
    records.set(`${name} ${type}`, [...(records.get(`${name} ${type}`) ?? []), data]);
  }
  for (const [key, values] of records) dns.set(...key.split(' '), values);
}

describe('the doctor', () => {
  before(async () => {
    seed();
    for (const { host } of SETUPS) await add(host);
  });

  test(`a read diagnoses at most ${DIAGNOSES_PER_READ} domains, each within ${MAX_LOOKUPS} lookups, and none again within the minute`, async () => {
    const first = await read();
    const checked = first.all.filter((d) => d.diagnosis.checkedAt);
    assert.equal(checked.length, DIAGNOSES_PER_READ, JSON.stringify(first.all.map((d) => d.diagnosis.code)));
    assert.ok(first.lookups > 0 && first.lookups <= DIAGNOSES_PER_READ * MAX_LOOKUPS, `${first.lookups} lookups`);
    for (const d of first.domains.filter((x) => !x.diagnosis.checkedAt)) assert.equal(d.diagnosis.code, 'not_checked');
    await diagnosed(SETUPS.map((s) => s.host));
    const again = await read();
    assert.equal(again.lookups, 0, 'every diagnosis is younger than the bound: no lookup');
  });

  test('seven DNS setups give seven distinct verdicts, each with its fix', async () => {
    const byHost = await diagnosed(SETUPS.map((s) => s.host));
    for (const { host, code, fix, pointsTo } of SETUPS) {
      const { diagnosis, ready } = byHost[host];
      assert.equal(diagnosis.code, code, `${host}: ${JSON.stringify(diagnosis)}`);
      for (const words of fix) assert.ok(diagnosis.fix.includes(words), `${host}: the fix names ${words}: ${diagnosis.fix}`);
      assert.equal(diagnosis.pointsTo, pointsTo, `${host}: pointsTo`);
      assert.ok(Date.parse(diagnosis.checkedAt) > 0);
      assert.equal(ready, false, `${host}: not ready while Cloudflare is not done`);
    }
    assert.equal(new Set(SETUPS.map((s) => byHost[s.host].diagnosis.code)).size, 7);
  });

  test('a claim whose TXT record is absent is proof_missing, before anything about its CNAME', async () => {
    const host = 'coach.proof-doctor.test';
    await add(host, { publish: false });
    const { diagnosis } = (await diagnosed([host]))[host];
    assert.equal(diagnosis.code, 'proof_missing');
    assert.ok(diagnosis.fix.includes(`_localhost-challenge.${host}`) && diagnosis.fix.includes(row(host).proof_token), diagnosis.fix);
    sql(`delete from public.tenant_domains where hostname = '${host}'`);
  });

  test('ready only for the correct one, once Cloudflare says active/active', async () => {
    // What the cron writes when Cloudflare's API answers active with an active certificate.
    for (const { host } of SETUPS) {
      sql(
        `update public.tenant_domains set status = 'active', ssl_status = 'active', verified_at = now(), proven_at = now() where hostname = '${host}'`,
      );
    }
    const byHost = await diagnosed(
      SETUPS.map((s) => s.host),
      Date.now() - 1000,
    );
    for (const { host } of SETUPS) {
      const d = byHost[host];
      assert.equal(d.ready, host === READY, `${host}: ready ${d.ready} (${d.diagnosis.code})`);
    }
    assert.equal(byHost[READY].diagnosis.code, 'ready');
    assert.equal(
      byHost['coach.elsewhere-doctor.test'].diagnosis.code,
      'cname_elsewhere',
      'active at Cloudflare, but the DNS points elsewhere',
    );
  });

  for (const kind of ['servfail', 'http500', 'hang']) {
    test(`the resolver failing (${kind}) gives unknown, changes no row and never marks a working domain broken`, async () => {
      age(READY);
      const before = row(READY);
      dns.failNext(1, kind);
      const { domains } = await read();
      const seen = domains.find((d) => d.hostname === READY);
      assert.equal(seen.diagnosis.code, 'unknown', JSON.stringify(seen.diagnosis));
      assert.match(seen.diagnosis.fix, /could not be looked up/);
      assert.equal(seen.ready, true, "Cloudflare's word stands: it serves");
      assert.equal(seen.status, 'active');
      assert.deepEqual(row(READY), before, 'the row is as it was');
      const from = dns.queries.length;
      const again = (await read()).domains.find((d) => d.hostname === READY);
      assert.equal(Date.parse(again.diagnosis.checkedAt), Date.parse(seen.diagnosis.checkedAt), 'an unknown verdict is kept too');
      assert.ok(
        dns.queries.slice(from).every((q) => q.name !== READY),
        'the resolver is not asked about it again within the minute',
      );
    });
  }

  test('the cron diagnoses a domain not active yet, with no read', async () => {
    const host = 'coach.cron-doctor.test';
    dns.set(host, 'CNAME', ['elsewhere.cron-host.test']);
    await add(host);
    const stored = () =>
      sql(`select code || ' ' || coalesce(points_to, '') from public.tenant_domain_diagnoses
        where domain_id = (select id from public.tenant_domains where hostname = '${host}')`);
    assert.equal(stored(), '');
    await control.scheduled();
    assert.equal(stored(), 'cname_elsewhere elsewhere.cron-host.test');
    sql(`delete from public.tenant_domains where hostname = '${host}'`);
  });
});

describe('the Domains page', () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  test("shows each domain's verdict and its fix, and Ready only where the API says ready", async () => {
    age(READY);
    const page = await browser.newPage();
    await page.setViewport({ width: 900, height: 900 });
    await page.goto(`${dashboard}/domains#api=${encodeURIComponent(control.url)}&token=${token}`, { waitUntil: 'load' });
    const elsewhere = 'li[data-hostname="coach.elsewhere-doctor.test"]';
    await page.waitForSelector(`${elsewhere} .diagnosis[data-code="cname_elsewhere"]`, { timeout: 15_000 });
    const shown = await page.$eval(`${elsewhere} .diagnosis`, (d) => ({
      verdict: d.querySelector('.verdict').textContent,
      fix: d.querySelector('.fix').textContent,
      pointsTo: d.querySelector('.points-to')?.textContent,
    }));
    assert.equal(shown.verdict, 'CNAME points elsewhere');
    assert.match(shown.fix, /is a CNAME to shops\.other-host\.test: change that record to point to customers\.coachplatform\.com/);
    assert.equal(shown.pointsTo, 'It points to shops.other-host.test');
    const ready = await page.$$eval('li.domain', (items) =>
      items.filter((li) => li.querySelector('.status.ready')).map((li) => li.dataset.hostname),
    );
    assert.deepEqual(ready, [READY], 'the Ready badge only where ready is true');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'domains-doctor.png'), fullPage: true });
    await page.close();
  });
});
