// The Analytics Engine stand-in (tests/support/analytics.mjs) against what Cloudflare documents:
// data points kept as the SQL API's columns within the write limits, the SQL API's answers for
// the queries the control plane will send (hourly buckets, weighted counts and quantiles), its
// refusals for bad credentials and for SQL it cannot run; and, with a scratch Worker in one
// `wrangler dev`, that a Worker's unchanged `env.ANALYTICS.writeDataPoint()` reaches it.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, ROOT, stopProcess } from '../scripts/stack.mjs';
import { recorderConfigs, startAnalytics } from './support/analytics.mjs';
import { request } from './support/http.mjs';

/** The stand-in's clock: 2026-12-07 12:30:00 UTC. */
const NOW = Date.UTC(2026, 11, 7, 12, 30, 0);
const HOUR = 3_600_000;
const TENANT_A = '0a1b2c3d-0000-4000-8000-00000000000a';
const TENANT_B = '0a1b2c3d-0000-4000-8000-00000000000b';
const WRITER = path.join(ROOT, 'tests', 'fixtures', 'analytics', 'writer', 'wrangler.toml');

let analytics;
before(async () => {
  analytics = await startAnalytics({ clock: () => NOW });
});
beforeEach(() => analytics.reset());
after(() => analytics.stop());

/** POSTs `sql` to the SQL API with `token` (the right one unless given; null: no header). */
function sql(text, { token = analytics.token, url = analytics.sqlUrl, headers = {} } = {}) {
  const auth = token === null ? {} : { authorization: `Bearer ${token}` };
  return request(url, { method: 'POST', headers: { ...auth, ...headers }, body: text });
}

/** A tenant request's data point in the documented field order. */
function requestPoint(tenant, { host = 'a.example.test', cache = 'hit', branding = 'injected', status = '2xx', ms = 10 } = {}) {
  return { indexes: [tenant], blobs: [host, 'tenant', cache, branding, status, 'LHR'], doubles: [ms, 0, 1024] };
}

/** The hourly query the control plane's analytics endpoint will send, for one tenant since `since`. */
const hourly = (tenant, since) => `
  SELECT
    toStartOfInterval(timestamp, INTERVAL '1' HOUR) AS start,
    blob1 AS host,
    sum(_sample_interval) AS requests,
    sum(if(blob3 = 'hit', _sample_interval, 0)) / sum(_sample_interval) AS cache_hit_ratio,
    sum(if(blob5 = '4xx', _sample_interval, 0)) AS status_4xx,
    sum(if(blob5 = '5xx', _sample_interval, 0)) AS status_5xx,
    sum(if(blob4 = 'skipped', _sample_interval, 0)) AS branding_skipped,
    quantileExactWeighted(0.5)(double1, _sample_interval) AS p50_ms,
    quantileExactWeighted(0.95)(double1, _sample_interval) AS p95_ms
  FROM tenant_requests
  WHERE index1 = '${tenant}' AND timestamp >= toDateTime('${since}')
  GROUP BY start, host
  ORDER BY start ASC, host ASC
  FORMAT JSON`;

test('a data point becomes a row with every column, blobs and doubles missing as empty and 0', async () => {
  analytics.write('tenant_requests', { indexes: [TENANT_A], blobs: ['a.example.test', 'tenant'], doubles: [12.5] });
  const res = await sql("SELECT * FROM tenant_requests WHERE index1 = '0a1b2c3d-0000-4000-8000-00000000000a'");
  assert.equal(res.status, 200);
  const body = res.json();
  assert.equal(body.rows, 1);
  assert.deepEqual(
    body.meta.slice(0, 6).map((m) => [m.name, m.type]),
    [
      ['dataset', 'String'],
      ['timestamp', 'DateTime'],
      ['_sample_interval', 'UInt32'],
      ['index1', 'String'],
      ['blob1', 'String'],
      ['blob2', 'String'],
    ],
  );
  assert.equal(body.meta.length, 44);
  const [r] = body.data;
  assert.equal(r.timestamp, '2026-12-07 12:30:00');
  assert.equal(r._sample_interval, 1);
  assert.equal(r.blob2, 'tenant');
  assert.equal(r.blob3, '');
  assert.equal(r.double1, 12.5);
  assert.equal(r.double20, 0);
});

test('hourly buckets give weighted counts, ratios and quantiles per host, for one tenant only', async () => {
  const at = (hoursAgo, minutes) => ({ at: NOW - hoursAgo * HOUR + minutes * 60_000 });
  // 11:00–12:00 on a.example.test: latencies 10…100 ms, 3 misses, one 4xx, one 5xx, one branding skipped.
  for (let i = 1; i <= 10; i++) {
    const point = requestPoint(TENANT_A, {
      ms: i * 10,
      cache: i <= 3 ? 'miss' : 'hit',
      status: i === 9 ? '4xx' : i === 10 ? '5xx' : '2xx',
      branding: i === 5 ? 'skipped' : 'injected',
    });
    analytics.write('tenant_requests', point, at(1.5, i));
  }
  // 12:00–13:00: two requests on another of A's hosts, one on a.example.test.
  analytics.write('tenant_requests', requestPoint(TENANT_A, { host: 'www.a.example.test', ms: 7 }), at(0, -20));
  analytics.write('tenant_requests', requestPoint(TENANT_A, { host: 'www.a.example.test', ms: 9 }), at(0, -10));
  analytics.write('tenant_requests', requestPoint(TENANT_A, { ms: 3, cache: 'miss' }), at(0, -5));
  // Before `since`, and another tenant: neither counted.
  analytics.write('tenant_requests', requestPoint(TENANT_A), at(30, 0));
  for (let i = 0; i < 5; i++) analytics.write('tenant_requests', requestPoint(TENANT_B, { host: 'b.example.test' }), at(1, 0));

  const res = await sql(hourly(TENANT_A, '2026-12-06 12:30:00'));
  assert.equal(res.status, 200, res.body);
  const body = res.json();
  assert.deepEqual(
    body.meta.map((m) => m.type),
    ['DateTime', 'String', 'UInt64', 'Float64', 'UInt64', 'UInt64', 'UInt64', 'Float64', 'Float64'],
  );
  assert.deepEqual(body.data, [
    {
      start: '2026-12-07 11:00:00',
      host: 'a.example.test',
      requests: '10',
      cache_hit_ratio: 0.7,
      status_4xx: '1',
      status_5xx: '1',
      branding_skipped: '1',
      p50_ms: 50,
      p95_ms: 100,
    },
    {
      start: '2026-12-07 12:00:00',
      host: 'a.example.test',
      requests: '1',
      cache_hit_ratio: 0,
      status_4xx: '0',
      status_5xx: '0',
      branding_skipped: '0',
      p50_ms: 3,
      p95_ms: 3,
    },
    {
      start: '2026-12-07 12:00:00',
      host: 'www.a.example.test',
      requests: '2',
      cache_hit_ratio: 1,
      status_4xx: '0',
      status_5xx: '0',
      branding_skipped: '0',
      p50_ms: 7,
      p95_ms: 9,
    },
  ]);
  assert.equal(body.rows, 3);
});

test('a weight counts its point that many times in sums and quantiles', async () => {
  // Weights 2 (1 ms) and 3 (100 ms): the median is the first value whose running weight reaches
  // ceil(5 × 0.5) = 3, so 100; unweighted, or rounding the threshold down, it would be 1.
  analytics.write('tenant_requests', requestPoint(TENANT_A, { ms: 100 }));
  analytics.write('tenant_requests', requestPoint(TENANT_A, { ms: 1 }));
  const res = await sql(
    'SELECT sum(_sample_interval * 8) AS n, quantileWeighted(0.5, double1, _sample_interval) AS p50, quantileExactWeighted(0.5)(double1, if(double1 > 50, 3, 2)) AS p50_weighted FROM tenant_requests',
  );
  assert.equal(res.status, 200, res.body);
  assert.deepEqual(res.json().data, [{ n: '16', p50: 1, p50_weighted: 100 }]);
});

test('day buckets, NOW() - INTERVAL and LIMIT with rows_before_limit_at_least', async () => {
  for (let d = 0; d < 4; d++) analytics.write('tenant_requests', requestPoint(TENANT_A), { at: NOW - d * 24 * HOUR });
  const res = await sql(
    `SELECT toStartOfDay(timestamp) AS day, count() AS n FROM tenant_requests
     WHERE timestamp > NOW() - INTERVAL '3' DAY GROUP BY day ORDER BY day DESC LIMIT 2`,
  );
  assert.equal(res.status, 200, res.body);
  const body = res.json();
  assert.deepEqual(body.data, [
    { day: '2026-12-07 00:00:00', n: '1' },
    { day: '2026-12-06 00:00:00', n: '1' },
  ]);
  assert.equal(body.rows, 2);
  assert.equal(body.rows_before_limit_at_least, 3);
});

test('FORMAT JSONEachRow answers one object per line', async () => {
  analytics.write('tenant_requests', requestPoint(TENANT_A, { host: 'x.test' }));
  analytics.write('tenant_requests', requestPoint(TENANT_B, { host: 'y.test' }));
  const res = await sql('SELECT blob1 AS host FROM tenant_requests ORDER BY host FORMAT JSONEachRow');
  assert.equal(res.status, 200);
  assert.equal(res.body, '{"host":"x.test"}\n{"host":"y.test"}\n');
});

test('a data point over the documented limits is refused and stored nowhere', async () => {
  const tooMany = (n, v) => Array.from({ length: n }, () => v);
  const cases = [
    [{ indexes: ['a', 'b'] }, /one index/],
    [{ indexes: ['x'.repeat(97)] }, /96 bytes/],
    [{ blobs: tooMany(21, 'b') }, /20 blobs/],
    [{ blobs: ['x'.repeat(16 * 1024 + 1)] }, /16 KB/],
    [{ doubles: tooMany(21, 1) }, /20 doubles/],
    [{ doubles: ['1'] }, /number/],
  ];
  for (const [point, reason] of cases) {
    const res = await request(`${analytics.url}/_standin/write/tenant_requests`, { method: 'POST', body: JSON.stringify(point) });
    assert.equal(res.status, 400, JSON.stringify(point).slice(0, 60));
    assert.match(res.body, reason);
  }
  assert.equal(analytics.refused.length, cases.length);
  assert.deepEqual(analytics.points('tenant_requests'), []);
});

test('credentials are refused as the Cloudflare API refuses them, before any SQL is run', async () => {
  analytics.write('tenant_requests', requestPoint(TENANT_A));
  const q = 'SELECT count() FROM tenant_requests';
  const otherAccount = analytics.sqlUrl.replace(analytics.accountId, 'f'.repeat(32));
  const cases = [
    [sql(q, { token: null }), 400, 9106],
    [sql(q, { token: null, headers: { authorization: 'Basic abc' } }), 400, 6003],
    [sql(q, { token: 'not-the-token' }), 401, 9109],
    [sql(q, { token: analytics.tokenWithoutAnalytics }), 403, 10000],
    [sql(q, { url: otherAccount }), 403, 10000],
    [sql(q, { url: analytics.sqlUrl.replace(analytics.accountId, 'acct') }), 400, 7003],
  ];
  for (const [pending, status, code] of cases) {
    const res = await pending;
    assert.equal(res.status, status, res.body);
    assert.equal(res.json().success, false);
    assert.equal(res.json().errors[0].code, code);
  }
  assert.equal(analytics.queries.length, 0);
  analytics.token = 'rolled';
  assert.equal((await sql(q, { token: 'cf-analytics-token' })).status, 401);
  assert.equal((await sql(q, { token: 'rolled' })).status, 200);
});

test('SQL the API cannot run is a 422 naming what is wrong', async () => {
  analytics.write('tenant_requests', requestPoint(TENANT_A));
  const cases = [
    ['SELEC count() FROM tenant_requests', /Syntax error at position 0: expected SELECT/],
    ['SELECT count( FROM tenant_requests', /Syntax error/],
    ['SELECT blob21 FROM tenant_requests', /Unknown identifier: blob21/],
    ["SELECT countIf(blob3 = 'hit') FROM tenant_requests", /Unknown function countif/],
    ['SELECT count() FROM tenant_requests WHERE index1 = 5', /Illegal types of arguments \(String, UInt8\) of function equals/],
    ['SELECT blob1, count() FROM tenant_requests', /Column blob1 is not under aggregate function and not in GROUP BY/],
    ['SELECT blob1 FROM tenant_requests WHERE sum(double1) > 1', /Aggregate function sum\(\) is found in WHERE/],
    ['SELECT sum(count()) FROM tenant_requests', /inside another aggregate/],
    [
      "SELECT blob1 FROM tenant_requests WHERE timestamp > '2026-12-07T10:00:00Z'",
      /Cannot parse string '2026-12-07T10:00:00Z' as DateTime/,
    ],
    ['SELECT quantileExactWeighted(0.5)(double1, double2) FROM tenant_requests', /weight must be an integer/],
    ['SELECT count() FROM other_dataset', /Table other_dataset doesn't exist/],
    ['SELECT count() FROM (SELECT * FROM tenant_requests)', /does not implement subqueries/],
    ['SELECT count() FROM tenant_requests FORMAT CSV', /Unknown format CSV/],
    ['', /Empty query/],
  ];
  for (const [text, reason] of cases) {
    const res = await sql(text);
    assert.equal(res.status, 422, text);
    assert.match(res.headers['content-type'], /^text\/plain/);
    assert.match(res.body, reason, text);
  }
  assert.deepEqual(
    analytics.queries.map((q) => q.status),
    cases.map(() => 422),
  );
});

/** Starts `wrangler dev` on `configs` (the first served) and resolves with `{ url, stop() }`. */
async function wranglerDev(configs, dir) {
  const port = await freePort();
  const args = ['dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(await freePort())];
  args.push('--persist-to', path.join(dir, 'state'), '--show-interactive-dev-session=false', '--log-level', 'warn');
  for (const c of configs) args.push('--config', c);
  const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'wrangler'), args, {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
  });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const url = `http://127.0.0.1:${port}`;
  const stop = () => stopProcess(child);
  for (const deadline = Date.now() + 60_000; ; ) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${output}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not answer in 60 s:\n${output}`);
    }
    try {
      if ((await fetch(`${url}/?n=0`)).ok) return { url, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

test("a Worker's unawaited writeDataPoint reaches the stand-in through the recorder in the same wrangler dev", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'analytics-standin-'));
  const { configs, datasets } = recorderConfigs({ config: WRITER, dir, url: analytics.url });
  assert.deepEqual(datasets, ['tenant_requests']);
  const worker = await wranglerDev(configs, dir);
  try {
    const sent = await Promise.all(
      Array.from({ length: 20 }, (_, i) => request(`${worker.url}/?n=2&tenant=${i % 4 ? TENANT_A : TENANT_B}`, { host: 'a.example.test' })),
    );
    assert.ok(sent.every((r) => r.status === 200 && r.body === '2 bound\n'));
    const rows = await analytics.waitForPoints('tenant_requests', 40);
    assert.equal(rows.length, 40);
    assert.equal(rows.filter((r) => r.index1 === TENANT_A).length, 30);
    const first = rows.find((r) => r.double1 === 0);
    assert.deepEqual(
      [first.blob1, first.blob2, first.blob3, first.blob4, first.double2],
      ['a.example.test', 'tenant', 'miss', 'bytes', 0.5],
    );
    assert.ok(Math.abs(first.timestamp * 1000 - Date.now()) < 60_000, 'stamped with the time of the call');
    assert.deepEqual(analytics.refused, []);
  } finally {
    await worker.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the same Worker on its own configuration writes into miniflare's binding, which keeps nothing", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'analytics-standin-'));
  const worker = await wranglerDev([WRITER], dir);
  try {
    const res = await request(`${worker.url}/?n=3`);
    assert.equal(res.body, '3 bound\n');
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(analytics.datasets(), []);
  } finally {
    await worker.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
