// What the anon key (and any signed-up user's token) can make the database do, and learn from
// it, tried straight at PostgREST on the real stack: no filter stalls the change feed, the
// Worker's lookups do not notice an attack on it, the planner's estimates do not count tenants,
// and the feed shows only the window the Worker reads (issue 20, findings 2, 5 and 6).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { psql, startStack } from '../scripts/stack.mjs';
import { request } from './support/http.mjs';
import { userToken } from './support/tenants.mjs';

let stack;
before(async () => {
  stack = await startStack({ vars: { PLATFORM_DOMAIN: 'coachplatform.test' } });
  // A feed like the one that stalled: a few changes recorded by the trigger, as real writes make
  // them; and tenants the Worker has never cached.
  psql(stack.dbUrl, { sql: "update public.tenant_profiles set display_name = display_name where slug <> 'dormant-coach'" });
  addTenants('uncached', 60);
});
after(async () => {
  await stack?.stop();
});

/** A GET straight to PostgREST with the anon key, or with `token` (a user's) instead. */
function rest(path, { headers = {}, token } = {}) {
  const bearer = token ?? stack.anonKey;
  return request(`${stack.postgrest.url}${path}`, {
    headers: { apikey: stack.anonKey, authorization: `Bearer ${bearer}`, ...headers },
  });
}

/** `fn()` and how long it took, in ms. */
async function timed(fn) {
  const started = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - started };
}

/** Adds `count` active tenants `<prefix>-<i>` (each with a custom domain), as the app would. */
function addTenants(prefix, count) {
  psql(stack.dbUrl, {
    sql: `insert into public.tenant_profiles (slug, display_name, brand_config, custom_domain)
      select '${prefix}-' || i, 'Tenant ' || i, p.brand_config, '${prefix}-' || i || '.example'
      from generate_series(1, ${count}) as i,
        (select brand_config from public.tenant_profiles where slug = 'acme-leadership') as p`,
  });
}

/** A regular expression whose back-references make Postgres try every split of the text. */
const BACKTRACKING = String.raw`^(.*)(.*)(.*)(.*)(.*)(.*)\6\5\4\3\2\1$`;
const q = encodeURIComponent;

/**
 * Every filter spelling PostgREST 12 offers, with a costly value where the operator takes one,
 * on each column the feed has and on those columns read as text (`->>0`: PostgREST reads a JSON
 * path on any column as `to_jsonb(column)`), and through logic trees.
 */
function feedFilters() {
  const values = {
    match: q(BACKTRACKING),
    imatch: q(BACKTRACKING),
    'not.match': q(BACKTRACKING),
    'match(any)': q(`{${BACKTRACKING},x}`),
    like: q(`*${'0*'.repeat(400)}x`),
    ilike: q(`*${'a*'.repeat(400)}x`),
    'like(all)': q(`{*0*,*${'1*'.repeat(400)}}`),
    fts: q('a '.repeat(300)),
    plfts: q('a '.repeat(300)),
    phfts: q('a '.repeat(300)),
    'wfts(english)': q('a '.repeat(300)),
    cs: q(`{${'a,'.repeat(300)}a}`),
    cd: q(`{${'a,'.repeat(300)}a}`),
    ov: q(`{${'a,'.repeat(300)}a}`),
    sl: q('(1,2)'),
    sr: q('(1,2)'),
    nxl: q('(1,2)'),
    nxr: q('(1,2)'),
    adj: q('(1,2)'),
    eq: 'x',
    neq: 'x',
    gt: 'x',
    gte: 'x',
    lt: 'x',
    lte: 'x',
    in: q(`(${'x,'.repeat(300)}x)`),
    is: 'null',
    isdistinct: 'x',
  };
  const filters = [];
  for (const column of ['tenant_hash', 'changed_at', 'tenant_hash->>0', 'changed_at->>0']) {
    for (const [operator, value] of Object.entries(values)) filters.push(`${column}=${operator}.${value}`);
  }
  for (const column of ['tenant_hash', 'changed_at->>0']) {
    filters.push(`or=(${column}.match.${q(BACKTRACKING)},${column}.is.null)`);
    filters.push(`and=(${column}.imatch.${q(BACKTRACKING)},${column}.not.is.null)`);
    filters.push(`not.or=(${column}.match.${q(BACKTRACKING)},${column}.is.null)`);
  }
  return filters;
}

/** The change feed read every way the anon key can: the table, and the function with filters. */
function feedAttacks() {
  const since = q(new Date(Date.now() - 3600_000).toISOString());
  const rpc = `/rpc/tenant_changes_since?since=${since}`;
  return [
    ...feedFilters().map((f) => `/tenant_changes?select=tenant_hash,changed_at&${f}`),
    ...feedFilters()
      .slice(0, 40)
      .map((f) => `${rpc}&${f}`),
    `${rpc}&tenant_changes_since=match.${q(BACKTRACKING)}`,
    `${rpc}&tenant_changes_since->>0=match.${q(BACKTRACKING)}`,
    `${rpc}&select=tenant_hash&tenant_hash=match.${q(BACKTRACKING)}`,
  ];
}

test('no filter the anon key can put on the change feed costs more than a plain read', async (t) => {
  const attacks = feedAttacks();
  const slow = [];
  let slowest = 0;
  for (const path of attacks) {
    const { result: res, ms } = await timed(() => rest(path));
    slowest = Math.max(slowest, ms);
    if (ms >= 1000 || res.status >= 500 || res.body.includes('57014'))
      slow.push(`${path.slice(0, 110)} → ${res.status} in ${Math.round(ms)} ms ${res.body.slice(0, 100)}`);
  }
  t.diagnostic(`${attacks.length} filter spellings, one at a time: the slowest answered in ${Math.round(slowest)} ms`);
  assert.deepEqual(slow, [], 'every spelling answers well within the 3 s statement timeout, never with it');
});

test("forty attackers at once on the change feed: the Worker's uncached lookups do not notice", async (t) => {
  // Each attacker sends the costliest spellings back to back while the Worker looks up tenants it
  // has never cached (one PostgREST request each).
  const worst = [
    `/tenant_changes?select=tenant_hash&tenant_hash=match.${q(BACKTRACKING)}`,
    `/tenant_changes?select=changed_at&changed_at->>0=match.${q(BACKTRACKING)}`,
  ];
  let attacking = true;
  const attackTimes = [];
  const failures = [];
  const attackers = Array.from({ length: 40 }, async (_, i) => {
    while (attacking) {
      const { result: res, ms } = await timed(() => rest(worst[i % worst.length]));
      attackTimes.push(ms);
      if (res.status >= 500) failures.push(`${res.status} ${res.body.slice(0, 100)}`);
    }
  });
  const lookups = [];
  try {
    for (let i = 1; i <= 60; i += 1) {
      const { result: res, ms } = await timed(() =>
        request(`${stack.worker.url}/_tenant/slug/uncached-${i}`, { timeoutMs: 10_000 }).catch((e) => ({ status: e.message, headers: {} })),
      );
      lookups.push({ slug: `uncached-${i}`, status: res.status, cache: res.headers['x-tenant-cache'], ms: Math.round(ms) });
    }
  } finally {
    attacking = false;
    await Promise.all(attackers);
  }
  const sorted = [...attackTimes].sort((a, b) => a - b);
  t.diagnostic(
    `${attackTimes.length} attack requests, median ${Math.round(sorted[Math.floor(sorted.length / 2)])} ms, ` +
      `slowest ${Math.round(sorted.at(-1))} ms; 60 uncached lookups meanwhile, slowest ${Math.max(...lookups.map((l) => l.ms))} ms`,
  );
  const wrong = lookups.filter((l) => l.status !== 200 || l.cache !== 'miss' || l.ms >= 2000);
  assert.deepEqual(wrong, [], 'every uncached lookup during the attack: 200, a real PostgREST read, in well under the 3 s seen before');
  assert.deepEqual(failures.slice(0, 5), [], `no attack request failed or stalled (${failures.length} did)`);
});

test('the feed is one call to tenant_changes_since(), newest first, and the table itself refuses the API roles', async (t) => {
  const synthetic = `from generate_series(1, 1100) as i`;
  psql(stack.dbUrl, {
    sql: `insert into public.tenant_changes (tenant_hash, changed_at)
      select encode(sha256(convert_to('synthetic-' || i, 'UTF8')), 'hex'), now() - i * interval '1 millisecond' ${synthetic}`,
  });
  t.after(() =>
    psql(stack.dbUrl, {
      sql: `delete from public.tenant_changes where tenant_hash in (select encode(sha256(convert_to('synthetic-' || i, 'UTF8')), 'hex') ${synthetic})`,
    }),
  );
  const since = new Date(Date.now() - 3600_000).toISOString();
  const res = await rest(`/rpc/tenant_changes_since?since=${q(since)}&max_changes=3`);
  assert.equal(res.status, 200, res.body);
  const changes = res.json();
  assert.equal(changes.length, 3, 'at most max_changes');
  for (const change of changes) {
    assert.deepEqual(Object.keys(change).sort(), ['changed_at', 'tenant_hash']);
    assert.match(change.tenant_hash, /^[0-9a-f]{64}$/);
  }
  const times = changes.map((c) => Date.parse(c.changed_at));
  assert.deepEqual(
    times,
    [...times].sort((a, b) => b - a),
    'newest first',
  );
  const all = (await rest(`/rpc/tenant_changes_since?since=${q(since)}&max_changes=100000`)).json();
  assert.equal(all.length, 1000, 'never more than 1000, whatever the caller asks');
  for (const token of [undefined, userToken(stack, '55555555-5555-4555-8555-555555555555')]) {
    for (const path of ['/tenant_changes?select=tenant_hash,changed_at', '/tenant_changes?select=changed_at&limit=1']) {
      const direct = await rest(path, { token });
      assert.ok([401, 403].includes(direct.status), `${path} → ${direct.status} ${direct.body}`);
      assert.equal(JSON.parse(direct.body).code, '42501', direct.body);
    }
  }
});

test('the feed shows the last 16 minutes, whatever is asked for and whatever is still stored', async () => {
  const marks = { 20: 'a'.repeat(64), 17: 'b'.repeat(64), 15: 'c'.repeat(64) };
  psql(stack.dbUrl, {
    sql: `insert into public.tenant_changes (tenant_hash, changed_at) values ${Object.entries(marks)
      .map(([minutes, hash]) => `('${hash}', now() - interval '${minutes} minutes')`)
      .join(', ')}`,
  });
  const since = new Date(Date.now() - 3600_000).toISOString();
  const seen = new Set((await rest(`/rpc/tenant_changes_since?since=${q(since)}&max_changes=1000`)).json().map((c) => c.tenant_hash));
  assert.ok(seen.has(marks[15]), `a change of 15 minutes ago, inside the Worker's window (${seen.size} seen)`);
  assert.ok(!seen.has(marks[17]) && !seen.has(marks[20]), 'no change older than 16 minutes, though the table still holds it');
  assert.equal(
    psql(stack.dbUrl, { sql: `select count(*) from public.tenant_changes where tenant_hash in ('${marks[17]}', '${marks[20]}')` }).trim(),
    '2',
  );
});

test('planned and estimated counts of tenant_profiles tell neither how many tenants there are nor how they spread', async () => {
  const filters = [
    '',
    'slug=lt.m',
    'slug=gte.zz',
    'slug=like.spread-a*',
    'custom_domain=not.is.null',
    'custom_domain=like.*.example',
    'display_name=ilike.*1*',
    'tenant_type=eq.coach',
    'id=lt.80000000-0000-4000-8000-000000000000',
    'or=(slug.lt.b,slug.gt.y)',
    'enabled_assessments=cs.{industry4}',
  ];
  const user = userToken(stack, '55555555-5555-4555-8555-555555555555');
  const totals = async () => {
    const found = [];
    for (const filter of filters) {
      for (const count of ['planned', 'estimated']) {
        for (const [who, token] of [
          ['anon', undefined],
          ['a signed-up user', user],
        ]) {
          for (const named of [false, true]) {
            const headers = { prefer: `count=${count}`, ...(named ? { 'x-tenant-lookup': 'slug:acme-leadership' } : {}) };
            const res = await rest(`/tenant_profiles?select=id&${filter}`, { headers, token });
            assert.ok(res.status < 300, `${filter}: ${res.status} ${res.body}`);
            found.push({ filter, count, who, named, total: res.headers['content-range']?.split('/')[1] });
          }
        }
      }
    }
    return found;
  };
  const few = await totals();
  addTenants('spread-a', 3000);
  addTenants('spread-zz', 1000);
  psql(stack.dbUrl, { sql: 'analyze public.tenant_profiles' });
  const many = await totals();
  const telling = [...few, ...many].filter((c) => c.total !== '1');
  assert.deepEqual(telling, [], 'every planned or estimated count is 1, for 64 tenants and for 4,064 alike');
  const exact = await rest('/tenant_profiles?select=id', { headers: { prefer: 'count=exact' } });
  assert.equal(exact.headers['content-range'], '*/0', 'an exact count counts what the caller may see: nothing');
});
