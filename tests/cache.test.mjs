// The edge cache's contract: memory + Cache API tiers, stale-while-revalidate, stale-if-error,
// negative caching, one upstream request per key, purge. Short lifetimes are set through vars;
// no sleep is longer than a few seconds.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { addWorker, psql, restartPostgrest, startStack, stopPostgrest } from '../scripts/stack.mjs';
import { request } from './support/http.mjs';

const TTL_SECONDS = 2;
const PURGE_TOKEN = 'local-purge-token-0123456789';

let stack;
before(async () => {
  stack = await startStack({
    vars: { CACHE_TTL_SECONDS: String(TTL_SECONDS), CACHE_STALE_SECONDS: '60', PURGE_TOKEN },
  });
});
after(async () => {
  await stack?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const get = (path, headers = {}) => request(`${stack.worker.url}${path}`, { headers });
const cacheOf = (res) => res.headers['x-tenant-cache'];

/** PostgREST requests made while `work` runs (its access log lags the answer by a few ms). */
async function upstreamRequestsDuring(work) {
  const before = stack.postgrest.requests();
  await work();
  await sleep(300);
  return stack.postgrest.requests() - before;
}

function setTagline(slug, tagline) {
  psql(stack.dbUrl, {
    sql: `update public.tenant_profiles set brand_config = jsonb_set(brand_config, '{tagline}', '"${tagline}"') where slug = '${slug}'`,
  });
}

const purge = (body, token = PURGE_TOKEN) => request(`${stack.worker.url}/_tenant/purge`, {
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
      answers = answers.concat(await Promise.all(Array.from({ length: 50 }, () => get('/_tenant/brand.json', { host: 'scanner-probe.example.net' }))));
    }
  });
  assert.equal(answers.length, 1000);
  assert.deepEqual([...new Set(answers.map((a) => a.status))], [404]);
  assert.ok(requests <= 1, `${requests} PostgREST requests`);
});

test('requests carrying a user token bypass every tier', async () => {
  await get('/_tenant/slug/acme-leadership');
  await sleep(300); // let a background refresh of a stale entry finish before counting
  let res;
  const requests = await upstreamRequestsDuring(async () => {
    res = await get('/_tenant/slug/acme-leadership', { authorization: 'Bearer aaa.bbb.ccc' });
  });
  assert.equal(cacheOf(res), 'bypass');
  assert.equal(requests, 1);
  assert.equal(cacheOf(await get('/_tenant/me')), 'bypass');
});

test('a purge with a wrong token is 401 and purges nothing', async () => {
  const slug = 'northstar-coaching';
  await get(`/_tenant/slug/${slug}`);
  setTagline(slug, 'Edited before a refused purge');
  const refused = await purge({ slug }, 'not-the-purge-token-000000');
  assert.equal(refused.status, 401);
  assert.equal(refused.json().error.code, 'unauthorized');
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
