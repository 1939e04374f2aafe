// The edge cache's contract with the change feed off (TTLs alone): memory + Cache API tiers,
// stale-while-revalidate, stale-if-error, negative caching, one upstream request per key, purge.
// Short lifetimes are set through vars; no sleep is longer than a few seconds.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { addWorker, directUrl, psql, restartPostgrest, sleep, startStack, stopPostgrest } from '../scripts/stack.mjs';
import { request } from './support/http.mjs';
import { USERS, countUpstream, userToken } from './support/tenants.mjs';

const TTL_SECONDS = 2;
const PURGE_TOKEN = 'local-purge-token-0123456789';

let stack;
before(async () => {
  stack = await startStack({
    // The feed off: these are the TTL-only semantics (the feed is tests/feed.test.mjs).
    vars: { CACHE_TTL_SECONDS: String(TTL_SECONDS), CACHE_STALE_SECONDS: '60', CHANGES_POLL_SECONDS: '0', PURGE_TOKEN },
  });
});
after(async () => {
  await stack?.stop();
});

const get = (path, headers = {}) => request(`${stack.worker.url}${path}`, { headers });
const cacheOf = (res) => res.headers['x-tenant-cache'];

/** PostgREST requests made while `work` runs. */
const upstreamRequestsDuring = async (work) => (await countUpstream(stack, work)).upstream;

function setTagline(slug, tagline) {
  psql(stack.dbUrl, {
    sql: `update public.tenant_profiles set brand_config = jsonb_set(brand_config, '{tagline}', '"${tagline}"') where slug = '${slug}'`,
  });
}

const purge = (body, token = PURGE_TOKEN) =>
  request(`${stack.worker.url}/_tenant/purge`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

test('the first request is a miss, the next a hit with the same ETag', async () => {
  const first = await get('/_tenant/slug/acme-leadership');
  const second = await get('/_tenant/slug/acme-leadership');
  assert.equal(first.status, 200);
  assert.equal(cacheOf(first), 'miss');
  assert.equal(cacheOf(second), 'hit');
  assert.equal(second.body, first.body);
  assert.equal(second.headers.etag, first.headers.etag);
  assert.match(second.headers['cache-control'], /^public, max-age=\d+, stale-while-revalidate=60$/);
});

test('a lookup by slug warms the lookups by domain and id', async () => {
  const bySlug = (await get('/_tenant/slug/acme-leadership')).json();
  const requests = await upstreamRequestsDuring(async () => {
    assert.equal(cacheOf(await get(`/_tenant/id/${bySlug.id}`)), 'hit');
    assert.equal(cacheOf(await get(`/_tenant/domain/${bySlug.customDomain}`)), 'hit');
  });
  assert.equal(requests, 0);
});

test('after the TTL the answer is stale, then a hit with the refreshed body', async () => {
  const slug = 'leadingwithmeaning';
  const original = await get(`/_tenant/slug/${slug}`);
  setTagline(slug, 'Refreshed after the TTL');
  await sleep(TTL_SECONDS * 1000 + 300);
  const stale = await get(`/_tenant/slug/${slug}`);
  assert.equal(cacheOf(stale), 'stale');
  assert.equal(stale.body, original.body, 'the stale answer is served at once');
  assert.match(stale.headers['cache-control'], /max-age=0/);
  await sleep(500);
  const refreshed = await get(`/_tenant/slug/${slug}`);
  assert.equal(cacheOf(refreshed), 'hit');
  assert.equal(refreshed.json().brand.tagline, 'Refreshed after the TTL');
  assert.notEqual(refreshed.headers.etag, original.headers.etag, 'the ETag follows the body');
});

test('200 concurrent requests for one uncached key make exactly one PostgREST request', async () => {
  let answers;
  const requests = await upstreamRequestsDuring(async () => {
    answers = await Promise.all(Array.from({ length: 200 }, () => get('/_tenant/id/7e000000-0000-4000-8000-000000000003')));
  });
  assert.deepEqual([...new Set(answers.map((a) => a.status))], [200]);
  assert.equal(requests, 1);
});

test('1000 requests for an unknown host make at most one PostgREST request per negative window', async () => {
  let answers = [];
  const requests = await upstreamRequestsDuring(async () => {
    for (let batch = 0; batch < 20; batch += 1) {
      answers = answers.concat(
        await Promise.all(Array.from({ length: 50 }, () => get('/_tenant/brand.json', { host: 'scanner-probe.example.net' }))),
      );
    }
  });
  assert.equal(answers.length, 1000);
  assert.deepEqual([...new Set(answers.map((a) => a.status))], [404]);
  assert.ok(requests <= 1, `${requests} PostgREST requests`);
});

/** Authorization headers a page request may carry: none of them changes the anon lookup. */
const AUTHORIZATIONS = () => ['x', 'Basic dXNlcjpwYXNz', 'Bearer aaa.bbb.ccc', `Bearer ${userToken(stack, USERS.nora)}`];

test('requests carrying Authorization use every cache tier like any other', async () => {
  const path = '/_tenant/slug/northstar-coaching';
  await get(path);
  await sleep(300); // let a background refresh of a stale entry finish before counting
  const statuses = new Set();
  const requests = await upstreamRequestsDuring(async () => {
    for (let i = 0; i < 50; i += 1) {
      const res = await get(path, { authorization: AUTHORIZATIONS()[i % 4] });
      assert.equal(res.status, 200, res.body);
      statuses.add(cacheOf(res));
    }
  });
  assert.ok(requests <= 1, `${requests} PostgREST requests for 50 requests with Authorization`);
  assert.ok(!statuses.has('bypass') && !statuses.has('miss'), `X-Tenant-Cache: ${[...statuses]}`);
});

test('concurrent requests carrying Authorization share one PostgREST request', async () => {
  let answers;
  const requests = await upstreamRequestsDuring(async () => {
    answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => get('/_tenant/slug/no-such-tenant-with-a-token', { authorization: AUTHORIZATIONS()[i % 4] })),
    );
  });
  assert.deepEqual([...new Set(answers.map((a) => a.status))], [404]);
  assert.equal(requests, 1);
  assert.ok(!answers.some((a) => cacheOf(a) === 'bypass'), 'none of them bypassed the cache');
});

test("only /_tenant/me, which reads with the caller's own token, bypasses the cache", async () => {
  const authorization = `Bearer ${userToken(stack, USERS.lee)}`;
  for (let i = 0; i < 2; i += 1) {
    let res;
    const requests = await upstreamRequestsDuring(async () => {
      res = await get('/_tenant/me', { authorization });
    });
    assert.equal(res.status, 200, res.body);
    assert.equal(cacheOf(res), 'bypass');
    assert.equal(requests, 1, "every /_tenant/me asks PostgREST with the caller's token");
  }
});

test('a purge with a wrong token is 401 and purges nothing', async () => {
  const slug = 'northstar-coaching';
  await get(`/_tenant/slug/${slug}`);
  setTagline(slug, 'Edited before a refused purge');
  const refused = await purge({ slug }, 'not-the-purge-token-000000');
  assert.equal(refused.status, 401);
  assert.equal(refused.json().error.code, 'unauthorized');
  assert.match(refused.json().error.message, /PURGE_TOKEN/, 'the message names the purge token, not a user token');
  const res = await get(`/_tenant/slug/${slug}`);
  assert.equal(cacheOf(res), 'hit');
  assert.notEqual(res.json().brand.tagline, 'Edited before a refused purge');
});

test('a brand edit shows at once after a purge, by every key', async () => {
  const slug = 'northstar-coaching';
  const before = (await get(`/_tenant/slug/${slug}`)).json();
  setTagline(slug, 'Edited and purged');
  const purged = await purge({ domain: before.customDomain });
  assert.equal(purged.status, 200, purged.body);
  assert.ok(purged.json().purged.includes(`slug:${slug}`));
  const bySlug = await get(`/_tenant/slug/${slug}`);
  assert.equal(cacheOf(bySlug), 'miss');
  assert.equal(bySlug.json().brand.tagline, 'Edited and purged');
});

test('purge answers 400 to a bad body and 405 to GET', async () => {
  assert.equal((await purge({ name: 'x' })).json().error.code, 'invalid_body');
  assert.equal((await purge({ slug: '-bad-' })).json().error.code, 'invalid_slug');
  const res = await get('/_tenant/purge');
  assert.equal(res.status, 405);
  assert.match(res.headers.allow, /POST/);
});

/**
 * POSTs a purge body of `bytes` (spaces), declared by Content-Length or sent chunked. It sends
 * 64 KiB, waits up to a second for an answer, then goes on 64 KiB at a time until the answer
 * arrives (a server that reads the whole body gets all of it). Resolves with the answer.
 */
function purgeOfSize(url, bytes, { chunked }) {
  return new Promise((resolve, reject) => {
    const headers = { authorization: `Bearer ${PURGE_TOKEN}`, 'content-type': 'application/json' };
    if (!chunked) headers['content-length'] = String(bytes);
    const req = http.request(`${url}/_tenant/purge`, { method: 'POST', headers, agent: false });
    let written = 0;
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode, body, json: () => JSON.parse(body) }));
    });
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    const chunk = Buffer.alloc(64 * 1024, ' ');
    const pump = () => {
      while (!answered && written < bytes) {
        written += chunk.length;
        if (!req.write(chunk)) return req.once('drain', pump);
      }
      if (!answered) req.end();
      return undefined;
    };
    written += chunk.length;
    req.write(chunk);
    setTimeout(pump, 1000);
  });
}

test('an oversized purge body is refused with 413 without being read, by Content-Length or chunked', async () => {
  // Straight to the Worker's workerd: wrangler dev's proxy fails a request whose streamed body
  // the Worker did not read to the end ("Your worker restarted mid-request").
  const url = await directUrl(stack.worker);
  const wasm = async () => (await request(`${url}/_tenant/health`)).json().wasmMemoryBytes;
  const before = await wasm();
  for (const chunked of [false, true]) {
    const res = await purgeOfSize(url, 30 * 1024 * 1024, { chunked });
    assert.equal(res.status, 413, `${chunked ? 'chunked' : 'Content-Length'}: ${res.status} ${res.body}`);
    assert.equal(res.json().error.code, 'payload_too_large');
  }
  const after = await wasm();
  assert.ok(after - before <= 256 * 1024, `Wasm memory grew from ${before} to ${after} bytes`);
});

test('the memory tier stays at its cap', async () => {
  const capped = await addWorker(stack, { CACHE_MEMORY_ENTRIES: '5' });
  for (let i = 0; i < 20; i += 1) {
    const res = await request(`${capped.url}/_tenant/slug/no-such-tenant-${i}`);
    assert.equal(res.status, 404);
  }
  const health = (await request(`${capped.url}/_tenant/health`)).json();
  assert.deepEqual(health.cache, { memoryEntries: 5, memoryCapacity: 5 });
});

test('with PostgREST down, cached tenants answer stale and uncached ones 503 until it is back', async () => {
  const cached = '/_tenant/slug/acme-leadership';
  await get(cached);
  await sleep(TTL_SECONDS * 1000 + 300);
  await stopPostgrest(stack);
  try {
    for (let i = 0; i < 3; i += 1) {
      const res = await get(cached);
      assert.equal(res.status, 200);
      assert.equal(cacheOf(res), 'stale');
    }
    const uncached = await get('/_tenant/slug/uncached-tenant');
    assert.equal(uncached.status, 503);
    assert.equal(uncached.json().error.code, 'upstream_unavailable');
    assert.ok(Number(uncached.headers['retry-after']) > 0);
  } finally {
    await restartPostgrest(stack);
  }
  let status;
  for (let i = 0; i < 40 && status !== 'hit'; i += 1) {
    await sleep(250);
    status = cacheOf(await get(cached));
  }
  assert.equal(status, 'hit', 'fresh answers resume once PostgREST is back');
  assert.equal((await get('/_tenant/slug/uncached-tenant')).status, 404);
});
