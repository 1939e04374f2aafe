// The resolver's lookups (issue 4): tenants by slug, custom domain, id, by the request's own
// Host (/_tenant/brand.json) and by the caller's user JWT (/_tenant/me), through PostgREST with
// the anon key, on the real stack. The Worker here has no PLATFORM_DOMAIN and no ORIGIN_URL;
// platform subdomains and forwarding are in resolver-forward.test.mjs, key formats and
// settings in resolver-config.test.mjs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { psql, restartPostgrest, startStack, stopPostgrest } from '../scripts/stack.mjs';
import {
  badDomains,
  badIds,
  badSlugs,
  percentEncodedDomains,
  percentEncodedIds,
  percentEncodedSlugs,
  representativeBadHosts,
} from './support/corpus.mjs';
import {
  PROFILE_KEYS,
  TENANTS,
  USERS,
  assertError,
  assertHostBound,
  assertNothingPrivate,
  assertPublicTenant,
  client,
  leadingWithMeaning,
  storedTenant,
  sweep,
  sweepBadHosts,
  userToken,
} from './support/tenants.mjs';

let stack;
let call;
let lwm; // Leading with Meaning
before(async () => {
  stack = await startStack();
  call = client(stack.worker.url);
  lwm = leadingWithMeaning(stack);
});
after(async () => {
  await stack?.stop();
});

/** The active demo tenants. */
const activeTenants = () => [lwm, TENANTS.northstar, TENANTS.acme];

/** The three lookup routes of a tenant: by slug, by custom domain, by id. */
const lookups = (t) => [`/_tenant/slug/${t.slug}`, `/_tenant/domain/${t.domain}`, `/_tenant/id/${t.id}`];

/** `GET /_tenant/me` with this Authorization header (none when undefined). */
const me = (authorization) => call('/_tenant/me', { headers: authorization === undefined ? {} : { authorization } });
const bearer = (sub, claims) => `Bearer ${userToken(stack, sub, claims)}`;

/** The methods an `Allow` header lists. */
const allowed = (res) => (res.headers.allow ?? '').split(',').map((m) => m.trim().toUpperCase());

// ---------------------------------------------------------------------------------------------
// Public lookups by slug, domain and id

test('a tenant by slug is its public JSON: exactly the public keys, brand as stored', async () => {
  for (const t of activeTenants()) {
    const res = await call(`/_tenant/slug/${t.slug}`);
    assertPublicTenant(res, t.slug);
    assert.deepEqual(res.json(), storedTenant(stack, t.slug));
  }
});

test('the seeded Leading with Meaning tenant answers alike by slug, by id and by domain', async () => {
  const expected = storedTenant(stack, 'leadingwithmeaning');
  assert.equal(expected.customDomain, 'coach.leadingwithmeaning.com');
  for (const path of lookups(lwm)) {
    const res = await call(path);
    assertPublicTenant(res, 'leadingwithmeaning');
    assert.deepEqual(res.json(), expected, path);
  }
});

test('uppercase slugs and domains are normalised to the stored lowercase', async () => {
  for (const path of ['/_tenant/slug/LeadingWithMeaning', '/_tenant/domain/COACH.LeadingWithMeaning.com']) {
    const res = await call(path);
    assertPublicTenant(res, 'leadingwithmeaning');
  }
});

test('lookups answer on any Host, localhost and IP addresses included', async () => {
  for (const host of ['localhost', 'localhost:8787', '127.0.0.1', '[::1]:8787', 'not_a_hostname']) {
    const res = await call('/_tenant/slug/northstar-coaching', { host });
    assertPublicTenant(res, 'northstar-coaching');
  }
});

test('public lookups are cacheable JSON for any origin, with a strong ETag', async () => {
  for (const path of lookups(lwm)) {
    const res = await call(path);
    assert.equal(res.status, 200, `${path}: ${res.body}`);
    assert.equal(res.headers['access-control-allow-origin'], '*', path);
    assert.match(res.headers['cache-control'] ?? '', /^public/, path);
    assert.match(res.headers.etag ?? '', /^"[^"]+"$/, `${path}: a strong, quoted ETag`);
  }
});

test('a matching If-None-Match is 304 with no body; another ETag gets the tenant', async () => {
  for (const path of lookups(lwm)) {
    const {
      headers: { etag },
    } = await call(path);
    const unchanged = await call(path, { headers: { 'if-none-match': etag } });
    assert.equal(unchanged.status, 304, path);
    assert.equal(unchanged.body, '', path);
    const changed = await call(path, { headers: { 'if-none-match': '"not-the-current-etag"' } });
    assertPublicTenant(changed, 'leadingwithmeaning');
  }
});

test('the ETag is the same for the same tenant and differs between tenants', async () => {
  const etagOf = async (path) => (await call(path)).headers.etag;
  const [first, again] = [await etagOf('/_tenant/slug/acme-leadership'), await etagOf('/_tenant/slug/acme-leadership')];
  assert.equal(again, first);
  assert.notEqual(await etagOf('/_tenant/slug/northstar-coaching'), first);
});

// ---------------------------------------------------------------------------------------------
// Methods and paths under /_tenant/

test('HEAD answers 200 with the headers of GET and no body', async () => {
  for (const path of lookups(TENANTS.northstar)) {
    const get = await call(path);
    const head = await call(path, { method: 'HEAD' });
    assert.equal(head.status, 200, path);
    assert.equal(head.body, '', path);
    for (const name of ['content-type', 'etag', 'access-control-allow-origin']) {
      assert.equal(head.headers[name], get.headers[name], `${path}: ${name}`);
    }
    assert.match(head.headers['cache-control'] ?? '', /^public/, `${path}: cache-control`);
  }
});

test('OPTIONS is a CORS preflight: 204 with Allow and Access-Control-Allow-Origin *', async () => {
  for (const path of ['/_tenant/slug/northstar-coaching', '/_tenant/brand.json', '/_tenant/me']) {
    const res = await call(path, { method: 'OPTIONS', host: TENANTS.northstar.domain });
    assert.equal(res.status, 204, `${path}: ${res.body}`);
    for (const m of ['GET', 'HEAD', 'OPTIONS']) assert.ok(allowed(res).includes(m), `${path}: Allow ${res.headers.allow}`);
    assert.equal(res.headers['access-control-allow-origin'], '*', path);
  }
});

test('other methods on /_tenant/ read routes are 405 with Allow', async () => {
  for (const path of ['/_tenant/slug/northstar-coaching', '/_tenant/brand.json', '/_tenant/me']) {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await call(path, { method, host: TENANTS.northstar.domain, body: '{}' });
      assertError(res, 405, 'method_not_allowed', `${method} ${path}`);
      for (const m of ['GET', 'HEAD', 'OPTIONS']) assert.ok(allowed(res).includes(m), `${method} ${path}: Allow ${res.headers.allow}`);
    }
  }
});

test('unknown /_tenant/ paths are 404 not_found', async () => {
  for (const path of [
    '/_tenant',
    '/_tenant/',
    '/_tenant/nope',
    '/_tenant/slug',
    '/_tenant/slug/leadingwithmeaning/extra',
    '/_tenant/brand.json/x',
    '/_tenant/tenant/leadingwithmeaning',
    '/_tenant/id',
  ]) {
    assertError(await call(path), 404, 'not_found', path);
  }
});

// ---------------------------------------------------------------------------------------------
// Unknown and inactive tenants

test('an unknown tenant is 404 tenant_not_found by slug, domain, id and Host', async () => {
  for (const res of [
    await call('/_tenant/slug/no-such-coach'),
    await call('/_tenant/domain/nobody.example.com'),
    await call('/_tenant/id/7e000000-0000-4000-8000-0000000000ff'),
    await call('/_tenant/brand.json', { host: 'nobody.example.com' }),
  ]) {
    assertError(res, 404, 'tenant_not_found');
  }
});

test('an inactive tenant is 404 on every route, indistinguishable from an unknown one', async () => {
  const { dormant } = TENANTS;
  const unknown = (await call('/_tenant/slug/no-such-coach')).json();
  for (const res of [
    ...(await Promise.all(lookups(dormant).map((path) => call(path)))),
    await call('/_tenant/brand.json', { host: dormant.domain }),
    await me(bearer(dormant.owner)),
  ]) {
    assertError(res, 404, 'tenant_not_found');
    assert.deepEqual(res.json(), unknown);
  }
});

// ---------------------------------------------------------------------------------------------
// /_tenant/brand.json: the tenant of the request's own Host

test('brand.json answers the tenant of a custom-domain Host, with port, in any case, with a trailing dot', async () => {
  for (const [host, slug] of [
    ['coach.leadingwithmeaning.com', 'leadingwithmeaning'],
    ['coach.northstar.localhost', 'northstar-coaching'],
    ['coach.northstar.localhost:8787', 'northstar-coaching'],
    ['COACH.NorthStar.LOCALHOST', 'northstar-coaching'],
    ['coach.northstar.localhost.', 'northstar-coaching'],
    ['Leaders.Acme.Localhost.:443', 'acme-leadership'],
  ]) {
    const res = await call('/_tenant/brand.json', { host });
    assertPublicTenant(res, slug);
    assert.deepEqual(res.json(), storedTenant(stack, slug), host);
  }
});

test('brand.json is never stored by a shared cache under a key without the host', async () => {
  const res = await call('/_tenant/brand.json', { host: TENANTS.acme.domain });
  assert.equal(res.status, 200, res.body);
  assert.match(res.headers['cache-control'] ?? '', /^private/);
  assertHostBound(res);
});

test('brand.json rejects a Host that is not a hostname with 400 invalid_host', async () => {
  for (const host of representativeBadHosts) {
    assertError(await call('/_tenant/brand.json', { host }), 400, 'invalid_host', host);
  }
});

// ---------------------------------------------------------------------------------------------
// Bad input costs no PostgREST request

for (const [kind, segments] of [
  ['slug', [...badSlugs, ...percentEncodedSlugs]],
  ['domain', [...badDomains, ...percentEncodedDomains]],
  ['id', [...badIds, ...percentEncodedIds]],
]) {
  test(`bad ${kind}s are 400 invalid_${kind} and make no PostgREST request`, async () => {
    const { wrong, upstream } = await sweep(
      stack,
      segments,
      (segment) => call(`/_tenant/${kind}/${segment}`),
      (res) => res.status !== 400 || res.json().error.code !== `invalid_${kind}`,
    );
    assert.deepEqual(wrong, []);
    assert.equal(upstream, 0, 'PostgREST requests');
  });
}

test('bad Hosts on brand.json are 4xx and make no PostgREST request', async (t) => {
  const { wrong, upstream, summary } = await sweepBadHosts(stack, stack.worker.url, '/_tenant/brand.json');
  t.diagnostic(summary);
  assert.deepEqual(wrong, []);
  assert.equal(upstream, 0, 'PostgREST requests');
});

// ---------------------------------------------------------------------------------------------
// Nothing private reaches the anon key

test('no public route reveals email_config, user_id or subscription_tier', async () => {
  for (const t of [...activeTenants(), TENANTS.dormant]) {
    for (const path of lookups(t)) assertNothingPrivate(await call(path), path);
    assertNothingPrivate(await call('/_tenant/brand.json', { host: t.domain }), `brand.json on ${t.domain}`);
  }
});

test('the anon key cannot select the private columns from PostgREST directly', async () => {
  const headers = { apikey: stack.anonKey, authorization: `Bearer ${stack.anonKey}` };
  for (const select of ['email_config', 'user_id', 'subscription_tier', '*']) {
    const res = await fetch(`${stack.postgrest.url}/tenant_profiles?select=${select}`, { headers });
    const body = await res.text();
    assert.ok(res.status === 401 || res.status === 403, `select=${select}: ${res.status} ${body}`);
    assert.ok(!body.includes('@'), `select=${select} leaks an address: ${body}`);
  }
});

// ---------------------------------------------------------------------------------------------
// An attacker with the anon key (and a signed-up user's token) against PostgREST directly

/** A direct PostgREST request with the anon key, or with a user's JWT when `token` is given. */
function postgrest(path, { token, method = 'GET', headers = {}, body } = {}) {
  return fetch(`${stack.postgrest.url}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: {
      apikey: stack.anonKey,
      authorization: `Bearer ${token ?? stack.anonKey}`,
      'content-type': 'application/json',
      ...headers,
    },
  });
}

test('the anon key cannot list tenants: a request that names none sees no rows', async () => {
  for (const [who, token] of [
    ['anon', undefined],
    ['a signed-in user', userToken(stack, USERS.pat)],
  ]) {
    for (const path of [
      '/tenant_profiles?select=slug,custom_domain',
      '/tenant_profiles?select=id',
      '/tenant_profiles?select=slug&slug=eq.acme-leadership',
      '/tenant_profiles?select=slug&slug=like.*',
    ]) {
      const res = await postgrest(path, { token });
      assert.equal(res.status, 200, `${who} ${path}`);
      assert.deepEqual(await res.json(), [], `${who} ${path}`);
    }
  }
});

test('a request that names a tenant sees exactly that tenant, active only', async () => {
  for (const lookup of [`slug:${TENANTS.acme.slug}`, `domain:${TENANTS.acme.domain}`, `id:${TENANTS.acme.id}`]) {
    const res = await postgrest('/tenant_profiles?select=slug', { headers: { 'x-tenant-lookup': lookup } });
    assert.deepEqual(await res.json(), [{ slug: TENANTS.acme.slug }], lookup);
  }
  const dormant = await postgrest('/tenant_profiles?select=slug', { headers: { 'x-tenant-lookup': `slug:${TENANTS.dormant.slug}` } });
  assert.deepEqual(await dormant.json(), [], 'an inactive tenant stays invisible when named');
});

test("a signed-in user cannot choose a participant access token, so cannot probe for others' tokens", async () => {
  const nora = userToken(stack, USERS.nora);
  const campaign = await postgrest('/campaigns', {
    token: nora,
    method: 'POST',
    headers: { prefer: 'return=representation' },
    body: { name: 'Probe campaign', owner_id: USERS.nora, tenant_id: TENANTS.northstar.id },
  });
  assert.equal(campaign.status, 201, await campaign.clone().text());
  const [{ id: campaignId }] = await campaign.json();
  // Another tenant's token, made by trusted code.
  const victim = psql(stack.dbUrl, {
    sql: `with c as (insert into public.campaigns (name, owner_id, tenant_id) values ('Victim', '${USERS.lee}', '${TENANTS.acme.id}') returning id)
      insert into public.participant_sessions (campaign_id, participant_email) select id, 'victim@acme.test' from c returning access_token`,
  }).trim();
  assert.match(victim, /^[0-9a-f]{48}$/);
  const session = (extra = {}) => ({ campaign_id: campaignId, participant_email: 'probe@northstar.test', ...extra });
  const attempts = [
    ['a chosen token', '/participant_sessions', {}, session({ access_token: victim })],
    ['a chosen unused token', '/participant_sessions', {}, session({ access_token: 'f'.repeat(48) })],
    [
      'on_conflict=access_token, ignore duplicates',
      '/participant_sessions?on_conflict=access_token',
      { prefer: 'resolution=ignore-duplicates' },
      session({ access_token: victim }),
    ],
    [
      'on_conflict=access_token, merge duplicates',
      '/participant_sessions?on_conflict=access_token',
      { prefer: 'resolution=merge-duplicates' },
      session({ access_token: victim }),
    ],
    ['through campaign_assignments', '/campaign_assignments', {}, session({ access_token: victim })],
  ];
  for (const [what, path, headers, body] of attempts) {
    const res = await postgrest(path, { token: nora, method: 'POST', headers, body });
    const text = await res.text();
    assert.equal(res.status, 403, `${what}: ${res.status} ${text}`);
    assert.match(text, /access_token is generated by the database/, what);
  }
  const made = await postgrest('/participant_sessions?select=access_token', {
    token: nora,
    method: 'POST',
    headers: { prefer: 'return=representation' },
    body: session(),
  });
  assert.equal(made.status, 201);
  const [{ access_token: generated }] = await made.json();
  assert.match(generated, /^[0-9a-f]{48}$/, 'the database generates the token');
  const changed = await postgrest(`/participant_sessions?access_token=eq.${generated}`, {
    token: nora,
    method: 'PATCH',
    body: { access_token: victim },
  });
  assert.equal(changed.status, 403, 'a token cannot be changed either');
});

// ---------------------------------------------------------------------------------------------
// /_tenant/me: the caller's own full profile

test("me answers the caller's full profile, privately", async () => {
  const res = await me(bearer(USERS.mark, { email: 'mark@leadingwithmeaning.com' }));
  assert.equal(res.status, 200, res.body);
  assert.equal(res.headers['cache-control'], 'private, no-store');
  const profile = res.json();
  assert.deepEqual(Object.keys(profile).sort(), PROFILE_KEYS);
  const { brand, ...publicFields } = storedTenant(stack, 'leadingwithmeaning');
  assert.deepEqual(profile.brand, brand);
  for (const [key, value] of Object.entries(publicFields)) assert.deepEqual(profile[key], value, key);
  assert.equal(profile.userId, USERS.mark);
  assert.equal(profile.emailConfig.replyTo, 'mark@leadingwithmeaning.com');
  assert.equal(profile.subscriptionTier, 'professional');
  assert.equal(profile.isActive, true);
  for (const key of ['createdAt', 'updatedAt']) assert.ok(!Number.isNaN(Date.parse(profile[key])), `${key}: ${profile[key]}`);
});

test("me answers each user's own profile and never another's", async () => {
  const res = await me(bearer(USERS.nora, { email: 'nora@northstar.test' }));
  assert.equal(res.status, 200, res.body);
  const profile = res.json();
  assert.equal(profile.slug, 'northstar-coaching');
  assert.equal(profile.id, TENANTS.northstar.id);
  assert.equal(profile.userId, USERS.nora);
  assert.equal(profile.emailConfig.replyTo, 'nora@northstar.test');
  assert.ok(!res.body.includes(lwm.id) && !res.body.includes('mark@'), `Nora sees Mark's tenant: ${res.body}`);
});

test('me is 404 tenant_not_found for a user who owns no tenant', async () => {
  assertError(await me(bearer(USERS.pat, { email: 'pat@participant.test' })), 404, 'tenant_not_found');
});

test('me is 401 unauthorized without a valid user token', async () => {
  const token = userToken(stack, USERS.mark);
  const hourAgo = Math.floor(Date.now() / 1000) - 3600;
  for (const [what, authorization] of [
    ['no Authorization', undefined],
    ['a Basic credential', `Basic ${Buffer.from('mark:password').toString('base64')}`],
    ['a token without the Bearer scheme', token],
    ['an empty bearer token', 'Bearer '],
    ['a garbage token', 'Bearer not.a.jwt'],
    ['an expired JWT', bearer(USERS.mark, { iat: hourAgo - 60, exp: hourAgo })],
    ['a JWT signed with another secret', bearer(USERS.mark, { secret: 'forged-secret-0123456789abcdef0123456789abcdef' })],
    ['the anon key', `Bearer ${stack.anonKey}`],
  ]) {
    assertError(await me(authorization), 401, 'unauthorized', what);
  }
});

// ---------------------------------------------------------------------------------------------
// Forwarding is off without ORIGIN_URL

test("without ORIGIN_URL a tenant host's pages are 404 no_origin", async () => {
  for (const [host, path] of [
    [TENANTS.northstar.domain, '/welcome'],
    [lwm.domain, '/'],
  ]) {
    assertError(await call(path, { host }), 404, 'no_origin', `${host}${path}`);
  }
});

// ---------------------------------------------------------------------------------------------
// PostgREST down (last). Cached answers may outlive PostgREST (that is the cache's contract, in
// cache.test.mjs), so these use keys no earlier test looked up: only PostgREST can answer them.

const UNSEEN = {
  slug: '/_tenant/slug/never-looked-up',
  domain: '/_tenant/domain/never.looked-up.example',
  id: '/_tenant/id/7e000000-0000-4000-8000-0000000000ee',
  host: 'unseen-host.looked-up.example',
};

describe('while PostgREST is down', () => {
  before(async () => {
    await stopPostgrest(stack);
  });
  after(async () => {
    await restartPostgrest(stack);
  });

  test('every lookup PostgREST must answer is 503 upstream_unavailable with Retry-After', async () => {
    for (const res of [
      await call(UNSEEN.slug),
      await call(UNSEEN.domain),
      await call(UNSEEN.id),
      await call('/_tenant/brand.json', { host: UNSEEN.host }),
      await me(bearer(USERS.mark)),
    ]) {
      assertError(res, 503, 'upstream_unavailable');
      assert.ok(Number(res.headers['retry-after']) > 0, `Retry-After: ${res.headers['retry-after']}`);
    }
  });

  test('bad input is still 400, since it never needs PostgREST', async () => {
    assertError(await call('/_tenant/slug/a_b'), 400, 'invalid_slug');
    assertError(await call('/_tenant/brand.json', { host: '127.0.0.1' }), 400, 'invalid_host');
  });
});

test('lookups answer again once PostgREST is back', async () => {
  assertError(await call(UNSEEN.slug), 404, 'tenant_not_found');
  assert.equal((await me(bearer(USERS.mark))).status, 200);
});
