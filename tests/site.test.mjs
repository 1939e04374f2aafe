// What a tenant's visitors and search engines get from the edge besides the origin's pages
// (issue 28): the maintenance page, a brand draft previewed through a signed link, and the
// site files (robots.txt, X-Robots-Tag, the canonical link). The Worker runs with
// PLATFORM_DOMAIN, ORIGIN_URL and PREVIEW_SIGNING_SECRET set, in front of a recording origin.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { psql, sleep, startStack } from '../scripts/stack.mjs';
import { servePage, startOrigin } from './support/origin.mjs';
import { TENANTS, assertError, assertHostBound, client, countUpstream, storedTenant } from './support/tenants.mjs';

const PLATFORM = 'coachplatform.test';
const SECRET = 'a-preview-secret-of-32-bytes-or-more';
const PAGE = '<!doctype html><html><head><title>Home</title></head><body>home</body></html>';
const BROWSER = { accept: 'text/html,application/xhtml+xml' };
/** The change feed's bound with CHANGES_POLL_SECONDS=1: an edit shows within poll + 1 s. */
const BOUND_MS = 2000;
/** The origin has a robots file at this tenant's primary host only. */
const ORIGIN_ROBOTS = 'User-agent: *\nDisallow: /private/\n';

const LWM = TENANTS.leadingwithmeaning;
const NORTHSTAR = TENANTS.northstar;
const ACME = TENANTS.acme;

let origin;
let stack;
let call;
/** The origin's robots file answers for `robotsFor` (an X-Forwarded-Host), 404 elsewhere. */
let robotsFor = null;
before(async () => {
  origin = await startOrigin({
    routes: {
      '/': servePage({ type: 'text/html; charset=utf-8', body: PAGE }),
      '/courses/intro': servePage({ type: 'text/html; charset=utf-8', body: PAGE }),
      '/robots.txt': (req, res) => {
        const mine = req.headers['x-forwarded-host'] === robotsFor;
        res.writeHead(mine ? 200 : 404, { 'content-type': 'text/plain' });
        res.end(mine ? ORIGIN_ROBOTS : 'not found');
      },
    },
  });
  stack = await startStack({
    vars: { PLATFORM_DOMAIN: PLATFORM, ORIGIN_URL: origin.url, PREVIEW_SIGNING_SECRET: SECRET, CHANGES_POLL_SECONDS: '1' },
  });
  call = client(stack.worker.url);
  // Leading with Meaning speaks French and has a favicon; Northstar has neither (its logo is its icon).
  sql(`update public.tenant_profiles
       set brand_config = brand_config || '{"locale":"fr-CA","favicon":"https://cdn.leadingwithmeaning.test/icon.ico"}'
       where slug = '${LWM.slug}'`);
  // Acme is down for maintenance before anyone asks for it, so no cache holds it open.
  sql(`update public.tenant_profiles
       set maintenance = '{"message":"Back at <b>noon</b> & later","retryAfterSeconds":900}'
       where slug = '${ACME.slug}'`);
});
after(async () => {
  await stack?.stop();
  await origin?.stop();
});

const sql = (text) => psql(stack.dbUrl, { sql: text });

/** Sends one request and returns the Worker's answer with what reached the origin meanwhile. */
async function through(path, options) {
  origin.reset();
  const res = await call(path, options);
  return { res, seen: [...origin.requests] };
}

// --- Maintenance ---

test('maintenance: a browser gets the branded 503 page, the origin nothing', async () => {
  const { res, seen } = await through('/courses/intro', { host: ACME.domain, headers: BROWSER });
  assert.equal(res.status, 503, res.body);
  assert.equal(res.headers['retry-after'], '900');
  assert.match(res.headers['content-type'], /^text\/html/);
  assert.match(res.headers['cache-control'], /no-store/);
  assert.deepEqual(seen, [], 'the origin received nothing');
  assert.ok(res.body.includes('Back at &lt;b&gt;noon&lt;/b&gt; &amp; later'), res.body);
  assert.ok(!res.body.includes('<b>noon'), 'the message is escaped');
  const brand = storedTenant(stack, ACME.slug).brand;
  assert.ok(res.body.includes(`--brand-primary: ${brand.colors.primary}`), 'the page wears the brand');
  assert.match(res.headers['content-security-policy'], /default-src 'none'/);
});

test('maintenance: JSON clients get the error contract, HEAD no body, /_tenant/ keeps working', async () => {
  const json = await through('/api/courses', { host: ACME.domain, headers: { accept: 'application/json' } });
  assertError(json.res, 503, 'maintenance');
  assert.equal(json.res.headers['retry-after'], '900');
  assert.deepEqual(json.seen, []);
  const head = await through('/', { host: ACME.domain, method: 'HEAD', headers: BROWSER });
  assert.equal(head.res.status, 503);
  assert.equal(head.res.body, '');
  assert.deepEqual(head.seen, []);
  const brand = await call('/_tenant/brand.json', { host: ACME.domain });
  assert.equal(brand.status, 200);
  assert.deepEqual(brand.json().maintenance, { message: 'Back at <b>noon</b> & later', retryAfterSeconds: 900 });
  const other = await through('/', { host: NORTHSTAR.domain, headers: BROWSER });
  assert.equal(other.res.status, 200, 'another tenant is not affected');
  assert.equal(other.seen.length, 1);
});

test('maintenance switched on and off reaches a cached tenant through the change feed, within its bound', async () => {
  const page = () => call('/', { host: NORTHSTAR.domain, headers: BROWSER });
  assert.equal((await page()).status, 200, 'cached, open');
  /** The time until the page answers `status`, failing past the bound (and a margin). */
  const until = async (status) => {
    const started = Date.now();
    for (;;) {
      const res = await page();
      if (res.status === status) return { res, ms: Date.now() - started };
      assert.ok(Date.now() - started < BOUND_MS + 1000, `still ${res.status} after ${Date.now() - started} ms`);
      await sleep(100);
    }
  };
  sql(`update public.tenant_profiles set maintenance = '{"message":"Upgrading","retryAfterSeconds":60}' where slug = '${NORTHSTAR.slug}'`);
  const on = await until(503);
  assert.equal(on.res.headers['retry-after'], '60');
  assert.ok(on.res.body.includes('Upgrading'));
  sql(`update public.tenant_profiles set maintenance = null where slug = '${NORTHSTAR.slug}'`);
  await until(200);
});

// --- Preview ---

/** A live preview of `slug`'s draft (made here as the owner function makes one), and its token. */
function preview(slug, { primary = '#c0ffee', expiresIn = '1 hour', secret = SECRET } = {}) {
  const tenant = storedTenant(stack, slug);
  const brand = { ...tenant.brand, colors: { ...tenant.brand.colors, primary } };
  const key = randomBytes(32).toString('hex');
  sql(`insert into private.tenant_brand_drafts (tenant_id, display_name, brand_config)
       values ('${tenant.id}', 'Draft name', '${JSON.stringify(brand)}')
       on conflict (tenant_id) do update set brand_config = excluded.brand_config;
       insert into private.brand_previews (key_hash, tenant_id, expires_at)
       values (sha256(convert_to('${key}', 'UTF8')), '${tenant.id}', now() + interval '${expiresIn}')`);
  return `${key}.${createHmac('sha256', secret).update(key).digest('base64url')}`;
}

/** PostgREST's access log lines of the resolver asking what a preview key names. */
const PREVIEW_READS = /rpc\/tenant_preview/;

const withCookie = (token, extra = {}) => ({ ...BROWSER, cookie: `sb-session=abc; tenant_preview=${token}`, ...extra });

test('preview: the link sets a cookie and drops the token before anything is forwarded', async () => {
  const token = preview(LWM.slug);
  const { res, seen } = await through(`/courses/intro?a=1&tenant_preview=${token}&b=2`, { host: LWM.domain, headers: BROWSER });
  assert.equal(res.status, 302, res.body);
  assert.equal(new URL(res.headers.location).pathname + new URL(res.headers.location).search, '/courses/intro?a=1&b=2');
  assert.equal(new URL(res.headers.location).hostname, LWM.domain, 'the same host');
  assert.equal(res.headers['set-cookie'].length, 1, 'one cookie');
  assert.match(
    res.headers['set-cookie'][0],
    new RegExp(`^tenant_preview=${token.replace('.', '\\.')}; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax`),
  );
  assertHostBound(res);
  assert.equal(res.headers['clear-site-data'], '"cache"', 'the browser asks for the page again');
  assert.match(res.headers['cache-control'], /no-store/);
  assert.deepEqual(seen, [], 'the origin received nothing');
});

test('preview: with the cookie the page and brand.css wear the draft, kept by no cache; without, the published brand', async () => {
  const token = preview(LWM.slug, { primary: '#c0ffee' });
  const published = storedTenant(stack, LWM.slug).brand.colors.primary;
  const { res, seen } = await through('/', { host: LWM.domain, headers: withCookie(token) });
  assert.equal(res.status, 200, res.body);
  assert.ok(res.body.includes('--brand-primary: #c0ffee'), 'the draft');
  assert.equal(res.headers['x-tenant-preview'], 'draft');
  assert.match(res.headers['cache-control'], /no-store/);
  assert.equal(res.headers['x-robots-tag'], 'noindex');
  assert.equal(seen.length, 1);
  assert.equal(seen[0].headers.cookie, 'sb-session=abc', 'the token never reaches the origin');
  assert.ok(!JSON.stringify(seen[0]).includes(token.split('.')[0]), 'nor its key, anywhere');

  const css = await call('/_tenant/brand.css', { host: LWM.domain, headers: withCookie(token) });
  assert.ok(css.body.includes('--brand-primary: #c0ffee'), css.body);
  assert.equal(css.headers['cache-control'], 'private, no-store');
  const json = await call('/_tenant/brand.json', { host: LWM.domain, headers: withCookie(token) });
  assert.equal(json.json().brand.colors.primary, '#c0ffee');
  assert.equal(json.json().displayName, 'Draft name');

  const plain = await through('/', { host: LWM.domain, headers: BROWSER });
  assert.ok(plain.res.body.includes(`--brand-primary: ${published}`), 'everyone else: the published brand');
  assert.equal(plain.res.headers['x-tenant-preview'], undefined);
  const plainCss = await call('/_tenant/brand.css', { host: LWM.domain });
  assert.ok(plainCss.body.includes(`--brand-primary: ${published}`));
  assert.notEqual(plainCss.headers['cache-control'], 'private, no-store');
});

test("preview: a forged token is ignored without a database read; an expired or another tenant's one is ignored too", async () => {
  const published = storedTenant(stack, LWM.slug).brand.colors.primary;
  await call('/', { host: LWM.domain, headers: BROWSER }); // the tenant cached
  const forged = preview(LWM.slug, { secret: 'another-secret-of-at-least-32-bytes' });
  const { result, upstream } = await countUpstream(
    stack,
    () => call('/', { host: LWM.domain, headers: withCookie(forged) }),
    PREVIEW_READS,
  );
  assert.equal(result.status, 200);
  assert.ok(result.body.includes(`--brand-primary: ${published}`), 'forged: the published brand');
  assert.equal(upstream, 0, 'a forged token costs no PostgREST request');
  for (const [what, token] of [
    ['expired', preview(LWM.slug, { expiresIn: '-1 minute' })],
    ["another tenant's", preview(NORTHSTAR.slug)],
    ['garbage', 'not-a-token'],
  ]) {
    const res = await call('/', { host: LWM.domain, headers: withCookie(token) });
    assert.equal(res.status, 200, what);
    assert.ok(res.body.includes(`--brand-primary: ${published}`), `${what}: the published brand`);
    assert.equal(res.headers['x-tenant-preview'], undefined, what);
  }
});

test('preview: one valid token read by many costs one database read per isolate and interval', async () => {
  const token = preview(LWM.slug, { primary: '#abcdef' });
  const first = await countUpstream(
    stack,
    () => call('/_tenant/brand.css', { host: LWM.domain, headers: withCookie(token) }),
    PREVIEW_READS,
  );
  assert.equal(first.upstream, 1, 'the first asks the database');
  const { result, upstream } = await countUpstream(
    stack,
    () => Promise.all(Array.from({ length: 10 }, () => call('/_tenant/brand.css', { host: LWM.domain, headers: withCookie(token) }))),
    PREVIEW_READS,
  );
  for (const res of result) assert.ok(res.body.includes('--brand-primary: #abcdef'));
  assert.equal(upstream, 0, 'remembered');
});

// --- Site files ---

test("robots.txt: the primary host gets the origin's, or an allow-all naming the sitemap", async () => {
  robotsFor = LWM.domain;
  const own = await through('/robots.txt', { host: LWM.domain });
  assert.equal(own.res.status, 200);
  assert.equal(own.res.body, ORIGIN_ROBOTS);
  robotsFor = null;
  const none = await through('/robots.txt', { host: LWM.domain });
  assert.equal(none.res.status, 200);
  assert.match(none.res.headers['content-type'], /^text\/plain/);
  assert.equal(none.res.body, `User-agent: *\nAllow: /\n\nSitemap: http://${LWM.domain}/sitemap.xml\n`);
  assert.equal(none.seen.length, 1, 'the origin was asked first');
  assertHostBound(none.res);
});

test('robots.txt and pages on a host that is not the primary: Disallow, and noindex on every page', async () => {
  robotsFor = `${LWM.slug}.${PLATFORM}`;
  const robots = await through('/robots.txt', { host: `${LWM.slug}.${PLATFORM}` });
  assert.equal(robots.res.status, 200);
  assert.equal(robots.res.body, 'User-agent: *\nDisallow: /\n');
  assert.deepEqual(robots.seen, [], 'answered at the edge');
  robotsFor = null;
  const page = await through('/courses/intro', { host: `${LWM.slug}.${PLATFORM}`, headers: BROWSER });
  assert.equal(page.res.status, 200);
  assert.equal(page.res.headers['x-robots-tag'], 'noindex');
  assert.equal((page.res.body.match(/<link rel="canonical"/g) ?? []).length, 1, 'one canonical link');
  assert.ok(page.res.body.includes(`<link rel="canonical" href="http://${LWM.domain}/courses/intro">`), page.res.body);
  const primary = await call('/courses/intro?utm=1', { host: LWM.domain, headers: BROWSER });
  assert.equal(primary.headers['x-robots-tag'], undefined, 'the primary host is indexed');
  assert.equal((primary.body.match(/<link rel="canonical"/g) ?? []).length, 1);
  assert.ok(primary.body.includes(`<link rel="canonical" href="http://${LWM.domain}/courses/intro">`), 'no query');
});

test("robots.txt on an alias: redirected to the primary host's", async () => {
  const alias = 'alias.leadingwithmeaning.test';
  const id = storedTenant(stack, LWM.slug).id;
  sql(`insert into public.tenant_domains (tenant_id, hostname, status, cloudflare_id, proven_at, verified_at)
       values ('${id}', '${alias}', 'active', 'cf-alias-1', now(), now())`);
  const res = await call('/robots.txt', { host: alias });
  assert.equal(res.status, 301, res.body);
  assert.equal(new URL(res.headers.location).host.split(':')[0], LWM.domain);
  assert.equal(new URL(res.headers.location).pathname, '/robots.txt');
});

test("/favicon.ico is each tenant's own: its favicon, else its logo, for that host only", async () => {
  for (const [tenant, expected] of [
    [LWM, 'https://cdn.leadingwithmeaning.test/icon.ico'],
    [NORTHSTAR, storedTenant(stack, NORTHSTAR.slug).brand.logo.url],
  ]) {
    const { res, seen } = await through('/favicon.ico', { host: tenant.domain });
    assert.equal(res.status, 302, res.body);
    assert.equal(res.headers.location, expected, tenant.slug);
    assertHostBound(res);
    assert.deepEqual(seen, [], 'answered at the edge');
  }
});

test("the brand's locale is the page's <html lang>, ahead of the page's own", async () => {
  const res = await call('/courses/intro', { host: LWM.domain, headers: BROWSER });
  assert.match(res.body, /<html data-tenant="leadingwithmeaning" lang="fr-CA">/);
  const other = await call('/', { host: NORTHSTAR.domain, headers: BROWSER });
  assert.match(other.body, /<html data-tenant="northstar-coaching">/, 'no locale, no lang');
});
