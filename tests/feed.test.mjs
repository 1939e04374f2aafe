// The change feed (issue 10): two data centers, each a workerd instance with its own Cache API
// (its own `wrangler dev` and persistence directory), in front of one PostgREST, with
// CHANGES_POLL_SECONDS=1. Edits made in Postgres reach both within the poll interval plus a
// second, without a purge; feed reads stay bounded whatever the traffic; PostgREST going away
// never costs a 5xx. Each data center reaches PostgREST through its own counting proxy, so its
// reads can be told apart (a pass-through; the answers are PostgREST's).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { addWorker, psql, restartPostgrest, sleep, startStack, stopPostgrest } from '../scripts/stack.mjs';
import { request } from './support/http.mjs';
import { startCountingProxy } from './support/counting-proxy.mjs';
import { TENANTS, storedTenant } from './support/tenants.mjs';

const POLL_SECONDS = 1;
/** The bound: an edit is visible everywhere within CHANGES_POLL_SECONDS + 1 s. */
const BOUND_MS = (POLL_SECONDS + 1) * 1000;
const LOAD_SECONDS = Number(process.env.FEED_LOAD_SECONDS ?? 30);
const LOADED = 100;

let stack;
/** The data centers: `{ name, url, proxy }`. */
const centers = [];
before(async () => {
  stack = await startStack({ worker: false });
  for (const name of ['dc-a', 'dc-b']) {
    const proxy = await startCountingProxy(stack.postgrest.url);
    const worker = await addWorker(stack, {
      SUPABASE_REST_URL: proxy.url,
      CHANGES_POLL_SECONDS: String(POLL_SECONDS),
      PLATFORM_DOMAIN: 'localhost',
    });
    centers.push({ name, url: worker.url, proxy });
  }
});
after(async () => {
  for (const { proxy } of centers) await proxy.stop();
  await stack?.stop();
});

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
/** GET `path` from a data center, with `host` as the Host header when given. */
const get = async (center, path, host) => {
  const res = await request(`${center.url}${path}`, { host, agent, timeoutMs: 10_000 });
  return { status: res.status, body: res.body, cache: res.headers['x-tenant-cache'] };
};

const sql = (text) => psql(stack.dbUrl, { sql: text });

/**
 * Polls every data center every 50 ms until `check(answer)` holds for each of `requests`
 * (`[path, host?]`) there; returns how long that took after `started`, or fails after 15 s.
 */
async function visibleEverywhere(started, requests, check, what) {
  const pending = new Set(centers.flatMap((c) => requests.map((r) => [c, ...r])));
  let last = '';
  while (pending.size > 0) {
    if (Date.now() - started > 15_000) assert.fail(`${what}: not visible after 15 s (last: ${last})`);
    for (const item of [...pending]) {
      const [center, path, host] = item;
      const res = await get(center, path, host);
      assert.ok(res.status < 500, `${what}: ${center.name} ${path} answered ${res.status} ${res.body}`);
      if (check(res)) pending.delete(item);
      else last = `${center.name} ${host ?? ''}${path} → ${res.status} ${res.body.slice(0, 100)}`;
    }
    if (pending.size > 0) await sleep(50);
  }
  return Date.now() - started;
}

/** How long each edit took to be visible everywhere, reported once the file is done. */
const visibleAfter = [];
after(() => console.log(`# edit → visible in every data center: ${visibleAfter.join(', ')}`));

/** Asserts an edit became visible in every data center within the bound. */
async function assertVisibleWithinBound(started, requests, check, what, boundMs = BOUND_MS) {
  const elapsed = await visibleEverywhere(started, requests, check, what);
  visibleAfter.push(`${what} ${elapsed} ms`);
  assert.ok(elapsed <= boundMs, `${what}: visible everywhere after ${elapsed} ms (bound ${boundMs} ms)`);
  return elapsed;
}

/** Asks every data center for each request, so each has it cached (or cached as unknown). */
async function warm(requests) {
  for (const center of centers) {
    for (const [path, host] of requests) await get(center, path, host);
  }
}

const is = (status) => (res) => res.status === status;
const primaryIs = (colour) => (res) => res.status === 200 && JSON.parse(res.body).brand.colors.primary === colour;

describe('an edit in Postgres reaches every data center within the poll interval + 1 s, without a purge', () => {
  test('a brand colour', async () => {
    const requests = [['/_tenant/brand.json', TENANTS.northstar.domain], [`/_tenant/slug/${TENANTS.northstar.slug}`]];
    await warm(requests);
    const started = Date.now();
    sql(
      `update public.tenant_profiles set brand_config = jsonb_set(brand_config, '{colors,primary}', '"#0a7d33"') where slug = '${TENANTS.northstar.slug}'`,
    );
    await assertVisibleWithinBound(started, requests, primaryIs('#0a7d33'), 'new colour');
  });

  test('a deactivated tenant is 404 by every key', async () => {
    const requests = [
      ['/_tenant/brand.json', TENANTS.acme.domain],
      [`/_tenant/slug/${TENANTS.acme.slug}`],
      [`/_tenant/id/${TENANTS.acme.id}`],
      ['/_tenant/brand.json', `${TENANTS.acme.slug}.localhost`],
    ];
    await warm(requests);
    const started = Date.now();
    sql(`update public.tenant_profiles set is_active = false where slug = '${TENANTS.acme.slug}'`);
    await assertVisibleWithinBound(started, requests, is(404), 'deactivated');
  });

  test('a custom domain moved to another tenant answers for the new one, and the old domain is 404', async () => {
    const lwm = storedTenant(stack, 'leadingwithmeaning');
    const moved = lwm.customDomain;
    const oldDomain = TENANTS.northstar.domain;
    await warm([['/_tenant/brand.json', moved], ['/_tenant/brand.json', oldDomain], [`/_tenant/domain/${moved}`]]);
    const started = Date.now();
    sql(`begin;
      update public.tenant_profiles set custom_domain = null where slug = 'leadingwithmeaning';
      update public.tenant_profiles set custom_domain = '${moved}' where slug = '${TENANTS.northstar.slug}';
      commit;`);
    const slugIs = (slug) => (res) => res.status === 200 && JSON.parse(res.body).slug === slug;
    await assertVisibleWithinBound(
      started,
      [['/_tenant/brand.json', moved], [`/_tenant/domain/${moved}`]],
      slugIs(TENANTS.northstar.slug),
      'moved domain',
    );
    await assertVisibleWithinBound(started, [['/_tenant/brand.json', oldDomain]], is(404), 'old domain');
  });

  test('a changed slug: the old one is 404, the new one 200 even when it was just asked for as unknown', async () => {
    const oldSlug = TENANTS.northstar.slug;
    const newSlug = 'north-star-renamed';
    await warm([[`/_tenant/slug/${oldSlug}`], ['/_tenant/brand.json', `${oldSlug}.localhost`]]);
    for (const center of centers) {
      assert.equal((await get(center, `/_tenant/slug/${newSlug}`)).status, 404, 'cached as unknown first');
      assert.equal((await get(center, `/_tenant/slug/${newSlug}`)).cache, 'hit', 'the unknown slug is cached');
    }
    const started = Date.now();
    sql(`update public.tenant_profiles set slug = '${newSlug}' where slug = '${oldSlug}'`);
    await assertVisibleWithinBound(
      started,
      [[`/_tenant/slug/${oldSlug}`], ['/_tenant/brand.json', `${oldSlug}.localhost`]],
      is(404),
      'old slug',
    );
    await assertVisibleWithinBound(
      started,
      [[`/_tenant/slug/${newSlug}`], ['/_tenant/brand.json', `${newSlug}.localhost`]],
      is(200),
      'new slug',
    );
  });

  test('a deleted tenant is 404', async () => {
    const brand = JSON.stringify(storedTenant(stack, 'leadingwithmeaning').brand).replaceAll("'", "''");
    sql(`insert into public.tenant_profiles (slug, display_name, custom_domain, brand_config)
      values ('feed-doomed', 'Doomed', 'doomed.feed.test', '${brand}')`);
    const requests = [['/_tenant/slug/feed-doomed'], ['/_tenant/brand.json', 'doomed.feed.test']];
    await warm(requests);
    const started = Date.now();
    sql("delete from public.tenant_profiles where slug = 'feed-doomed'");
    await assertVisibleWithinBound(started, requests, is(404), 'deleted');
  });

  test('a new tenant answers 200 by slug and domain, though both were just asked for as unknown', async () => {
    const requests = [
      ['/_tenant/slug/feed-newcomer'],
      ['/_tenant/brand.json', 'newcomer.feed.test'],
      ['/_tenant/domain/newcomer.feed.test'],
    ];
    await warm(requests);
    for (const center of centers) assert.equal((await get(center, '/_tenant/slug/feed-newcomer')).cache, 'hit');
    const brand = JSON.stringify(storedTenant(stack, 'leadingwithmeaning').brand).replaceAll("'", "''");
    const started = Date.now();
    sql(`insert into public.tenant_profiles (slug, display_name, custom_domain, brand_config)
      values ('feed-newcomer', 'Newcomer', 'newcomer.feed.test', '${brand}')`);
    await assertVisibleWithinBound(started, requests, is(200), 'new tenant');
  });
});

describe(`${LOAD_SECONDS} s of steady traffic over ${LOADED} cached tenants`, () => {
  const loaded = Array.from({ length: LOADED }, (_, i) => ({ slug: `feed-load-${i}`, domain: `coach.feed-load-${i}.test` }));

  before(async () => {
    const brand = JSON.stringify(storedTenant(stack, 'leadingwithmeaning').brand).replaceAll("'", "''");
    sql(`insert into public.tenant_profiles (slug, display_name, custom_domain, brand_config)
      select 'feed-load-' || n, 'Load ' || n, 'coach.feed-load-' || n || '.test', '${brand}'
      from generate_series(0, ${LOADED - 1}) n`);
    await sleep(BOUND_MS); // the inserts' changes are in the feed; let both data centers apply them
    await warm(loaded.flatMap((t) => [[`/_tenant/slug/${t.slug}`], ['/_tenant/brand.json', t.domain]]));
  });

  /** Requests the loaded tenants from every data center, by slug and by Host, until `until`. */
  async function traffic(until) {
    let n = 0;
    const failures = [];
    await Promise.all(
      centers.flatMap((center) =>
        Array.from({ length: 4 }, async () => {
          while (Date.now() < until) {
            n += 1;
            const t = loaded[n % LOADED];
            const res = n % 2 ? await get(center, `/_tenant/slug/${t.slug}`) : await get(center, '/_tenant/brand.json', t.domain);
            if (res.status !== 200) failures.push(`${center.name} ${t.slug} → ${res.status}`);
          }
        }),
      ),
    );
    return { requests: n, failures };
  }

  test('nothing changing: each data center reads the feed at most once a poll interval and no tenant at all', async (t) => {
    for (const { proxy } of centers) proxy.reset();
    const started = Date.now();
    const { requests, failures } = await traffic(started + LOAD_SECONDS * 1000);
    const seconds = (Date.now() - started) / 1000;
    assert.deepEqual(failures.slice(0, 5), []);
    for (const { name, proxy } of centers) {
      t.diagnostic(
        `${name}: ${proxy.feedReads()} feed reads, ${proxy.tenantReads()} tenant reads in ${seconds.toFixed(1)} s (${requests} requests in all)`,
      );
      assert.ok(proxy.feedReads() <= Math.floor(seconds / POLL_SECONDS) + 2, `${name}: ${proxy.feedReads()} feed reads in ${seconds} s`);
      assert.ok(proxy.feedReads() >= Math.floor(seconds / POLL_SECONDS) / 2, `${name}: the feed is read (${proxy.feedReads()})`);
      assert.equal(proxy.tenantReads(), 0, `${name}: tenant reads`);
    }
  });

  test('one tenant changes: each data center that serves it reads that tenant exactly once', async () => {
    const changed = loaded[7];
    const id = storedTenant(stack, changed.slug).id;
    for (const { proxy } of centers) proxy.reset();
    sql(
      `update public.tenant_profiles set brand_config = jsonb_set(brand_config, '{tagline}', '"Changed under load"') where slug = '${changed.slug}'`,
    );
    const { failures } = await traffic(Date.now() + 3 * BOUND_MS);
    assert.deepEqual(failures.slice(0, 5), []);
    for (const center of centers) {
      const res = await get(center, `/_tenant/slug/${changed.slug}`);
      assert.equal(JSON.parse(res.body).brand.tagline, 'Changed under load', center.name);
      const lookups = [`slug:${changed.slug}`, `domain:${changed.domain}`, `id:${id}`];
      assert.equal(center.proxy.tenantReads(lookups), 1, `${center.name}: reads of the changed tenant`);
      assert.equal(center.proxy.tenantReads(), 1, `${center.name}: reads of any tenant`);
    }
  });
});

/** How long PostgREST stays away in the outage test: several poll intervals. */
const OUTAGE_MS = 5 * POLL_SECONDS * 1000;

test('PostgREST gone for several poll intervals: cached tenants keep answering 200; edits made meanwhile show once it is back', async () => {
  const slug = 'leadingwithmeaning';
  const requests = [[`/_tenant/slug/${slug}`]];
  await warm(requests);
  await stopPostgrest(stack);
  let restarted = false;
  try {
    const outageEnds = Date.now() + OUTAGE_MS;
    sql(`update public.tenant_profiles set brand_config = jsonb_set(brand_config, '{colors,primary}', '"#440044"') where slug = '${slug}'`);
    while (Date.now() < outageEnds) {
      for (const center of centers) {
        const res = await get(center, `/_tenant/slug/${slug}`);
        assert.equal(res.status, 200, `${center.name} during the outage: ${res.status} ${res.body}`);
      }
      await sleep(100);
    }
    for (const center of centers) {
      const { changes } = JSON.parse((await get(center, '/_tenant/health')).body);
      assert.equal(changes.failing, true, `${center.name}: health says the feed cannot be read`);
    }
    await restartPostgrest(stack);
    restarted = true;
  } finally {
    if (!restarted) await restartPostgrest(stack);
  }
  // Failed reads back off (docs/caching.md, "When the feed cannot be read"), so the first read after the
  // outage is due within the current back-off: each wait at most doubles the last, so it is at
  // most the outage's length plus one interval (then the usual second for the answer). The
  // outage is longer than OUTAGE_MS by PostgREST's restart: allowed for as long again.
  const backedOffBoundMs = 2 * OUTAGE_MS + BOUND_MS;
  await assertVisibleWithinBound(Date.now(), requests, primaryIs('#440044'), 'an edit made while PostgREST was away', backedOffBoundMs);
  for (const center of centers) {
    const { changes } = JSON.parse((await get(center, '/_tenant/health')).body);
    assert.equal(changes.failing, false, `${center.name}: the feed is read again`);
    assert.equal(changes.pollSeconds, POLL_SECONDS);
  }
});
