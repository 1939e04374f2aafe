// Per-tenant analytics (issue 27): the resolver writes one Analytics Engine data point per
// request that found its tenant, received under `wrangler dev` by the recorder the stack wires
// in (tests/support/analytics.mjs), and the control plane's GET /analytics reads them back
// through the stand-in's SQL API: the owner gets their own numbers per host and bucket, nobody
// else gets a row, and bad parameters are refused before any query. A Worker without the
// binding answers as before and writes nothing.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, addWorker, freePort, sleep, startStack } from '../scripts/stack.mjs';
import { launchBrowser } from './support/browser.mjs';
import { request } from './support/http.mjs';
import { TENANTS, USERS, assertError, userToken } from './support/tenants.mjs';

const ARTIFACTS = path.join(ROOT, 'test-artifacts');

const DATASET = 'tenant_requests';
const A = TENANTS.northstar;
const B = TENANTS.acme;

let stack;
let tokens;
/**
 * The dashboard's origin: coach A's own domain on the Worker's port (the browser takes any
 * `*.localhost` to the loopback), which forwards the demo's Domains page like any of A's pages.
 */
let dashboard;
before(async () => {
  const port = await freePort();
  dashboard = `http://${A.domain}:${port}`;
  stack = await startStack({
    demo: true,
    analytics: true,
    workerPort: port,
    control: { vars: { DASHBOARD_ORIGIN: dashboard } },
  });
  tokens = { nora: userToken(stack, USERS.nora), lee: userToken(stack, USERS.lee), pat: userToken(stack, USERS.pat) };
});
after(async () => {
  await stack?.stop();
});

const worker = (path, host) => request(`${stack.worker.url}${path}`, { host });
const analytics = (query, token) =>
  request(`${stack.control.url}/analytics?${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
const hourAgo = () => new Date(Date.now() - 3_600_000).toISOString();
const queriesMade = () => stack.analytics.queries.length;

test('50 requests to tenant A and 30 to B are 80 data points, indexed by tenant, in the documented order', async () => {
  // One of each tenant first, which fills the cache: the rest are hits.
  const sent = [await worker('/_tenant/brand.json', A.domain)];
  for (let i = 1; i < 30; i++) sent.push(worker('/_tenant/brand.json', A.domain));
  for (let i = 0; i < 20; i++) sent.push(worker('/', A.domain));
  sent.push(await worker('/_tenant/brand.json', B.domain));
  for (let i = 1; i < 30; i++) sent.push(worker('/_tenant/brand.json', B.domain));
  // No tenant found: no data point.
  for (let i = 0; i < 5; i++) sent.push(worker('/_tenant/brand.json', 'nobody.localhost'));
  const answers = await Promise.all(sent);
  assert.deepEqual(
    answers.map((r) => r.status),
    [...Array(80).fill(200), ...Array(5).fill(404)],
  );
  await stack.analytics.waitForPoints(DATASET, 80, 10_000);
  await sleep(500);
  const points = stack.analytics.points(DATASET);
  assert.equal(points.length, 80, 'one point per tenant request, none for an unknown host');
  assert.equal(points.filter((p) => p.index1 === A.id).length, 50);
  assert.equal(points.filter((p) => p.index1 === B.id).length, 30);
  assert.deepEqual(stack.analytics.refused, []);

  const page = points.find((p) => p.index1 === A.id && p.blob2 === 'forward');
  assert.ok(page, 'a forwarded page of A');
  assert.equal(page.blob1, A.domain);
  assert.ok(['hit', 'miss', 'stale'].includes(page.blob3), page.blob3);
  assert.equal(page.blob4, 'injected');
  assert.equal(page.blob5, '2xx');
  const brand = points.find((p) => p.index1 === B.id);
  assert.deepEqual([brand.blob1, brand.blob2, brand.blob5], [B.domain, 'brand', '2xx']);
  assert.equal(brand.blob4, '', 'no branding outcome for brand.json');
  for (const p of points) {
    assert.ok(p.double1 >= 0 && p.double2 >= 0, 'total and upstream ms');
    if (p.blob2 === 'brand') assert.ok(p.double3 > 100, `brand.json's bytes: ${p.double3}`);
  }
});

test("the owner reads their own tenant's traffic per host and bucket, never another's", async () => {
  await stack.analytics.waitForPoints(DATASET, 80, 10_000);
  const res = await analytics(`tenant_id=${A.id}&since=${encodeURIComponent(hourAgo())}&bucket=hour`, tokens.nora);
  assert.equal(res.status, 200, res.body);
  assert.match(res.headers['cache-control'], /no-store/);
  const { buckets } = JSON.parse(res.body);
  assert.ok(buckets.length >= 1);
  for (const b of buckets) {
    assert.deepEqual(Object.keys(b).sort(), [
      'brandingSkipped',
      'cacheHitRatio',
      'host',
      'p50Ms',
      'p95Ms',
      'requests',
      'start',
      'status4xx',
      'status5xx',
    ]);
    assert.match(b.start, /^\d{4}-\d{2}-\d{2}T\d{2}:00:00Z$/);
    assert.equal(b.host, A.domain, 'only A’s host');
    assert.ok(b.cacheHitRatio >= 0 && b.cacheHitRatio <= 1);
    assert.ok(b.p95Ms >= b.p50Ms);
  }
  const ratio = buckets.reduce((n, b) => n + b.cacheHitRatio * b.requests, 0) / 50;
  assert.ok(ratio > 0.5, `most of A's requests after the first are cache hits: ${ratio}`);
  assert.equal(
    buckets.reduce((n, b) => n + b.requests, 0),
    50,
  );
  assert.equal(
    buckets.reduce((n, b) => n + b.status5xx + b.status4xx, 0),
    0,
  );

  const days = await analytics(`tenant_id=${B.id}&since=${encodeURIComponent(hourAgo())}&bucket=day`, tokens.lee);
  assert.equal(days.status, 200, days.body);
  const dayBuckets = JSON.parse(days.body).buckets;
  assert.ok(dayBuckets.every((b) => /T00:00:00Z$/.test(b.start) && b.host === B.domain));
  assert.equal(
    dayBuckets.reduce((n, b) => n + b.requests, 0),
    30,
  );
});

test("a coach asking for another tenant's id gets no rows, and no query is made", async () => {
  const before = queriesMade();
  for (const token of [tokens.lee, tokens.pat]) {
    const res = await analytics(`tenant_id=${A.id}&since=${encodeURIComponent(hourAgo())}`, token);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(JSON.parse(res.body), { buckets: [] });
  }
  assert.equal(queriesMade(), before);
});

test('invalid parameters are a 400 that makes no SQL call; no token is a 401', async () => {
  const before = queriesMade();
  const since = encodeURIComponent(hourAgo());
  for (const query of [
    `tenant_id=${A.id}`,
    `tenant_id=${A.id}&since=yesterday`,
    `tenant_id=${A.id}&since=${since}&bucket=week`,
    `tenant_id=${A.id}&since=${since}&bucket=hour&bucket=day`,
    `tenant_id=${A.id}&since=${encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString())}`,
    `tenant_id=${A.id}&since=${encodeURIComponent(new Date(Date.now() - 40 * 86_400_000).toISOString())}&bucket=hour`,
    `tenant_id=${A.id}&since=${encodeURIComponent("2026-01-01T00:00:00Z' OR 1=1 --")}`,
    `tenant_id=not-a-uuid&since=${since}`,
  ]) {
    const res = await analytics(query, tokens.nora);
    assert.equal(res.status, 400, `${query}: ${res.body}`);
    assert.match(JSON.parse(res.body).error.code, /^invalid_/);
  }
  assertError(await analytics(`tenant_id=${A.id}&since=${since}`), 401, 'unauthorized');
  assert.equal(queriesMade(), before, 'no SQL call');
});

test('a refused analytics token is named: 500 misconfigured, never retry later', async () => {
  const token = stack.analytics.token;
  stack.analytics.token = 'a-token-cloudflare-no-longer-knows';
  try {
    const res = await analytics(`tenant_id=${A.id}&since=${encodeURIComponent(hourAgo())}`, tokens.nora);
    assertError(res, 500, 'misconfigured');
    assert.match(JSON.parse(res.body).error.message, /CLOUDFLARE_ANALYTICS_TOKEN/);
  } finally {
    stack.analytics.token = token;
  }
});

test('without the binding the Worker answers as before and writes no data point', async () => {
  const bare = await addWorker(stack, {}, { analytics: null });
  await stack.analytics.waitForPoints(DATASET, 80, 10_000);
  const count = stack.analytics.points(DATASET).length;
  for (const path of ['/_tenant/brand.json', '/']) {
    const res = await request(`${bare.url}${path}`, { host: A.domain });
    assert.equal(res.status, 200, `${path}: ${res.body}`);
  }
  await sleep(1000);
  assert.equal(stack.analytics.points(DATASET).length, count);
});

test("the Domains page charts each domain's last 24 hours, in a real browser", async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 900, height: 720 });
    await page.goto(`${dashboard}/domains#api=${encodeURIComponent(stack.control.url)}&token=${tokens.nora}`, { waitUntil: 'load' });
    const item = `li[data-hostname="${A.domain}"]`;
    await page.waitForSelector(`${item} .traffic`, { timeout: 15_000 });
    const chart = await page.$eval(`${item} .traffic`, (t) => ({
      requests: Number(t.dataset.requests),
      errors: Number(t.dataset.errors),
      bars: t.querySelectorAll('rect.requests').length,
      summary: t.querySelector('.traffic-summary').textContent,
    }));
    assert.ok(chart.requests >= 50, `A's requests in the chart: ${chart.requests}`);
    assert.equal(chart.errors, 0);
    assert.ok(chart.bars >= 1 && chart.bars <= 2, `bars for this hour (and the last): ${chart.bars}`);
    assert.match(chart.summary, /^Last 24 hours: \d+ requests, 0 errors, \d+% from cache\.$/);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'domains-traffic.png') });
    await page.close();
  } finally {
    await browser.close();
  }
});

test("a flood of one tenant's queries is refused at 30 a minute, and costs no SQL read once refused", async () => {
  const since = encodeURIComponent(hourAgo());
  const before = queriesMade();
  let served = 0;
  let limited;
  // Until the first refusal: at most 30 a minute (60 if the flood straddles a minute's end).
  while (!limited && served <= 60) {
    const res = await analytics(`tenant_id=${B.id}&since=${since}`, tokens.lee);
    if (res.status === 429) limited = res;
    else {
      assert.equal(res.status, 200, res.body);
      served += 1;
    }
  }
  assert.ok(limited, `no refusal after ${served} queries`);
  assertError(limited, 429, 'rate_limited');
  assert.match(limited.headers['retry-after'], /^\d+$/);
  assert.ok(Number(limited.headers['retry-after']) <= 60);
  assert.equal(queriesMade() - before, served, 'one SQL read per query served, none for the refused one');
  // Another tenant's owner is not held back by it.
  const other = await analytics(`tenant_id=${A.id}&since=${since}`, tokens.nora);
  assert.equal(other.status, 200, other.body);
});
