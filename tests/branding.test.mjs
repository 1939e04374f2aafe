// Branded from the first paint (issue 11), over HTTP on the real stack: /_tenant/brand.css and
// /_tenant/manifest.webmanifest for the request's host, the contract's schemas, and the
// branding injected into forwarded HTML by workerd's HTMLRewriter: exactly at the start of
// <head>, everything else byte for byte, nothing that a stored value could close, streamed,
// and nothing else touched (other types, statuses, HEAD, the platform host, INJECT_BRANDING=false).
// The browser's view is tests/browser.test.mjs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parse } from 'parse5';
import { ROOT, addWorker, directUrl, psql, startStack } from '../scripts/stack.mjs';
import { request } from './support/http.mjs';
import { startOrigin } from './support/origin.mjs';
import { TENANTS, assertError, assertHostBound, client, storedTenant } from './support/tenants.mjs';

const PLATFORM = 'coachplatform.test';

/** The origin's pages, by path: each `[status, headers, body]`. */
const SMALL = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Small</title></head><body><p>Hello</p></body></html>';
const NO_HEAD = '<!doctype html><html lang="en"><body><p>No head here</p></body></html>';
const TRICKY = '<!doctype html><html><head><script>var s = "</head><body><head>";</script><!-- </head><body> --><title>T</title></head><body><p>x</p></body></html>';
const IMAGE = crypto.randomBytes(4096);
const JSON_BODY = '{"html":"<html><head></head></html>"}';
const LARGE_CHUNKS = 16;
const LARGE_CHUNK = `<p>${'x'.repeat(64 * 1024 - 8)}</p>\n`;

let origin;
/** When the origin wrote the last byte of the large page. */
let largeFinishedAt = 0;

function html(body, extra = {}) {
  return (req, res) => {
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      etag: '"origin-etag"',
      'last-modified': 'Tue, 24 Nov 2026 00:00:00 GMT',
      ...extra,
    });
    res.end(body);
  };
}

const routes = {
  '/small': html(SMALL),
  '/no-head': html(NO_HEAD),
  '/tricky': html(TRICKY),
  '/large': (req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.write('<!doctype html><html><head><title>Large</title></head><body>\n');
    let sent = 0;
    const timer = setInterval(() => {
      res.write(LARGE_CHUNK);
      sent += 1;
      if (sent === LARGE_CHUNKS) {
        clearInterval(timer);
        res.end('</body></html>\n');
        largeFinishedAt = Date.now();
      }
    }, 50);
  },
  '/data.json': (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON_BODY);
  },
  '/logo.png': (req, res) => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': IMAGE.length });
    res.end(IMAGE);
  },
  '/cached': (req, res) => {
    if (req.headers['if-none-match'] === '"v1"') {
      res.writeHead(304, { etag: '"v1"' });
      res.end();
      return;
    }
    html(SMALL, { etag: '"v1"' })(req, res);
  },
  '/missing': (req, res) => {
    res.writeHead(404, { 'content-type': 'text/html' });
    res.end('<!doctype html><html><head><title>Not found</title></head><body>404</body></html>');
  },
};

let stack;
let call;
let unbranded; // INJECT_BRANDING=false
let worst; // the tenant with the worst strings the contract allows
before(async () => {
  origin = await startOrigin({ routes });
  stack = await startStack({ vars: { PLATFORM_DOMAIN: PLATFORM, ORIGIN_URL: origin.url } });
  call = client(stack.worker.url);
  unbranded = client((await addWorker(stack, { INJECT_BRANDING: 'false' })).url);
  const brand = storedTenant(stack, 'acme-leadership').brand;
  worst = {
    slug: 'worst-strings',
    domain: 'worst.strings.test',
    displayName: '</script><script>alert(1)</script><!-- & "\' \u2028\u2029 </title>',
    tagline: '</style></script><svg onload=alert(1)>&amp;&lt;"\'`\u2028\u2029<!--',
  };
  const stored = { ...brand, tagline: worst.tagline, welcomeMessage: '</head><body>'.repeat(100) };
  const literal = (s) => `'${s.replaceAll("'", "''")}'`;
  psql(stack.dbUrl, {
    sql: `insert into public.tenant_profiles (slug, display_name, custom_domain, brand_config)
      values (${literal(worst.slug)}, ${literal(worst.displayName)}, ${literal(worst.domain)}, ${literal(JSON.stringify(stored))}::jsonb)`,
  });
});
after(async () => {
  await stack?.stop();
  await origin?.stop();
});

const page = (path, options) => request(`${stack.worker.url}${path}`, { host: TENANTS.northstar.domain, ...options });

/** The block at the start of <head>: what the Worker inserted. */
function injectedBlock(text) {
  const start = text.indexOf('<head>') + '<head>'.length;
  const end = text.indexOf('</script>', start) + '</script>'.length;
  return text.slice(start, end);
}

/** The page the origin sent, with the injection taken out again. */
const withoutInjection = (text, slug) =>
  text.replace(injectedBlock(text), '').replace(` data-tenant="${slug}"`, '');

// ---------------------------------------------------------------------------------------------
// brand.css, the manifest and the schemas

describe('/_tenant/brand.css and /_tenant/manifest.webmanifest', () => {
  test('brand.css is one :root rule with every --brand-* property of the host\'s tenant', async () => {
    const res = await call('/_tenant/brand.css', { host: TENANTS.northstar.domain });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['content-type'], 'text/css; charset=utf-8');
    const brand = storedTenant(stack, TENANTS.northstar.slug).brand;
    assert.match(res.body, /^:root \{\n[\s\S]*\}\n$/);
    const expected = {
      '--brand-primary': brand.colors.primary,
      '--brand-primary-hover': brand.colors.primaryHover,
      '--brand-secondary': brand.colors.secondary,
      '--brand-background': brand.colors.background,
      '--brand-background-subtle': brand.colors.backgroundSubtle,
      '--brand-text': brand.colors.text,
      '--brand-text-muted': brand.colors.textMuted,
      '--brand-border': brand.colors.border,
      '--brand-font-heading': `"${brand.fonts.heading}"`,
      '--brand-font-body': `"${brand.fonts.body}"`,
      '--brand-logo-url': `url("${brand.logo.url}")`,
    };
    for (const [name, value] of Object.entries(expected)) {
      assert.ok(res.body.includes(`  ${name}: ${value};\n`), `${name}: ${value} in\n${res.body}`);
    }
  });

  test('the manifest names the tenant, starts at / standalone, with its colours and logo', async () => {
    const res = await call('/_tenant/manifest.webmanifest', { host: TENANTS.northstar.domain });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['content-type'], 'application/manifest+json');
    const stored = storedTenant(stack, TENANTS.northstar.slug);
    const manifest = res.json();
    assert.equal(manifest.name, stored.displayName);
    assert.ok(manifest.short_name.length > 0 && manifest.short_name.length <= 12, manifest.short_name);
    assert.equal(manifest.start_url, '/');
    assert.equal(manifest.display, 'standalone');
    assert.equal(manifest.theme_color, stored.brand.colors.primary);
    assert.equal(manifest.background_color, stored.brand.colors.background);
    assert.equal(manifest.icons[0].src, stored.brand.logo.url);
  });

  test('both have brand.json\'s caching: ETag and 304, host-bound, and the same 404 for an unknown host', async () => {
    for (const route of ['/_tenant/brand.css', '/_tenant/manifest.webmanifest']) {
      const res = await call(route, { host: TENANTS.northstar.domain });
      assert.match(res.headers.etag ?? '', /^"[^"]+"$/, route);
      assert.match(res.headers['cache-control'] ?? '', /^private/, route);
      assertHostBound(res);
      const again = await call(route, { host: TENANTS.northstar.domain, headers: { 'if-none-match': res.headers.etag } });
      assert.equal(again.status, 304, route);
      assert.equal(again.body, '', route);
      const other = await call(route, { host: TENANTS.acme.domain });
      assert.notEqual(other.headers.etag, res.headers.etag, `${route}: another tenant, another ETag`);
      assertError(await call(route, { host: 'nobody.example.com' }), 404, 'tenant_not_found', route);
      assertError(await call(route, { host: TENANTS.dormant.domain }), 404, 'tenant_not_found', route);
      assertError(await call(route, { host: PLATFORM }), 404, 'tenant_not_found', route);
      assertError(await call(route, { host: '127.0.0.1' }), 400, 'invalid_host', route);
    }
  });

  test('the contract\'s JSON Schemas are served as committed', async () => {
    for (const name of ['brand-config.schema.json', 'tenant.schema.json']) {
      const res = await call(`/_tenant/schema/${name}`);
      assert.equal(res.status, 200, name);
      assert.equal(res.headers['content-type'], 'application/schema+json');
      assert.equal(res.body, fs.readFileSync(path.join(ROOT, 'schema', name), 'utf8'));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Injection into forwarded HTML

describe('branding injected into forwarded HTML', () => {
  test('a small page gets the block at the start of <head> and data-tenant on <html>, nothing else changed', async () => {
    const res = await page('/small');
    assert.equal(res.status, 200);
    const block = injectedBlock(res.body);
    assert.ok(res.body.startsWith('<!doctype html><html lang="en" data-tenant="northstar-coaching"><head><style id="tenant-brand">'), res.body.slice(0, 200));
    assert.equal(withoutInjection(res.body, 'northstar-coaching'), SMALL, 'everything else byte for byte');
    const brand = storedTenant(stack, TENANTS.northstar.slug).brand;
    const css = await call('/_tenant/brand.css', { host: TENANTS.northstar.domain });
    const style = block.match(/^<style id="tenant-brand">(.*?)<\/style>/)[1];
    const properties = (text) => [...text.matchAll(/(--brand-[a-z-]+): ([^;]+);/g)].map((m) => `${m[1]}=${m[2]}`);
    assert.deepEqual(properties(style), properties(css.body), 'the same custom properties as brand.css');
    assert.ok(block.includes(`<meta name="theme-color" content="${brand.colors.primary}">`));
    assert.ok(block.includes('<link rel="manifest" href="/_tenant/manifest.webmanifest">'));
    const json = block.match(/<script type="application\/json" id="tenant-data">(.*)<\/script>$/)[1];
    const brandJson = await call('/_tenant/brand.json', { host: TENANTS.northstar.domain });
    assert.deepEqual(JSON.parse(json), brandJson.json(), 'the same body as brand.json');
  });

  test('a branded page drops the origin\'s length and validators, which describe other bytes', async () => {
    const res = await page('/small');
    assert.equal(res.headers['content-length'], undefined);
    assert.equal(res.headers.etag, undefined);
    assert.equal(res.headers['last-modified'], undefined);
    assert.match(res.headers['cache-control'] ?? '', /^private/);
  });

  test('a request for HTML reaches the origin without validators; others keep them', async () => {
    origin.reset();
    await page('/cached', { headers: { accept: 'text/html', 'if-none-match': '"v1"' } });
    assert.equal(origin.requests[0].headers['if-none-match'], undefined);
    const image = await page('/cached', { headers: { accept: 'image/png', 'if-none-match': '"v1"' } });
    assert.equal(image.status, 304, 'a 304 passes through');
    assert.equal(image.bytes.length, 0);
  });

  test('a 1 MB page streams through: its first bytes arrive before the origin has finished', async () => {
    largeFinishedAt = 0;
    const res = await page('/large');
    assert.equal(res.status, 200);
    assert.ok(largeFinishedAt > 0);
    assert.ok(res.firstByteAt < largeFinishedAt - 300, `first byte ${largeFinishedAt - res.firstByteAt} ms before the origin finished`);
    assert.ok(res.bytes.length > LARGE_CHUNKS * LARGE_CHUNK.length, `${res.bytes.length} bytes`);
    const original = `<!doctype html><html><head><title>Large</title></head><body>\n${LARGE_CHUNK.repeat(LARGE_CHUNKS)}</body></html>\n`;
    assert.ok(withoutInjection(res.body, 'northstar-coaching') === original, 'byte for byte but the injection');
  });

  test('a page without <head> gets the block where the browser\'s implied head ends, before <body>', async () => {
    const res = await page('/no-head');
    assert.ok(res.body.startsWith('<!doctype html><html lang="en" data-tenant="northstar-coaching"><style id="tenant-brand">'), res.body.slice(0, 160));
    const block = res.body.slice(res.body.indexOf('<style'), res.body.indexOf('<body>'));
    assert.equal(res.body.replace(block, '').replace(' data-tenant="northstar-coaching"', ''), NO_HEAD);
    const document = parse(res.body);
    const htmlElement = document.childNodes.find((n) => n.nodeName === 'html');
    const head = htmlElement.childNodes.find((n) => n.nodeName === 'head');
    assert.deepEqual(head.childNodes.map((n) => n.nodeName), ['style', 'meta', 'link', 'script'], 'the parser puts it in the head');
  });

  test('</head> inside a script string and a comment is not mistaken for the end of <head>', async () => {
    const res = await page('/tricky');
    assert.equal(res.body.split('id="tenant-data"').length, 2, 'injected once');
    assert.ok(res.body.startsWith('<!doctype html><html data-tenant="northstar-coaching"><head><style id="tenant-brand">'));
    assert.equal(withoutInjection(res.body, 'northstar-coaching'), TRICKY);
  });

  test('JSON, an image, a 404 and HEAD pass through byte for byte', async () => {
    const json = await page('/data.json');
    assert.equal(json.body, JSON_BODY);
    const image = await page('/logo.png');
    assert.ok(image.bytes.equals(IMAGE));
    assert.equal(image.headers['content-length'], String(IMAGE.length));
    const missing = await page('/missing');
    assert.equal(missing.status, 404);
    assert.ok(!missing.body.includes('tenant-brand'));
    const head = await page('/small', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.bytes.length, 0);
    assert.equal(head.headers.etag, '"origin-etag"', 'HEAD is not rewritten: its validators stay');
  });

  test('the platform host and INJECT_BRANDING=false pass pages through byte for byte', async () => {
    const platform = await request(`${stack.worker.url}/small`, { host: PLATFORM });
    assert.equal(platform.body, SMALL);
    const off = await unbranded('/small', { host: TENANTS.northstar.domain });
    assert.equal(off.body, SMALL);
    assert.equal(off.headers.etag, '"origin-etag"');
  });

  test('the worst strings the contract allows cannot close any element or attribute', async () => {
    const res = await request(`${stack.worker.url}/small`, { host: worst.domain });
    assert.equal(res.status, 200);
    const document = parse(res.body);
    const all = [];
    const walk = (node) => {
      all.push(node);
      for (const child of node.childNodes ?? []) walk(child);
    };
    walk(document);
    const elements = all.filter((n) => n.tagName).map((n) => n.tagName);
    assert.deepEqual(elements, ['html', 'head', 'style', 'meta', 'link', 'script', 'meta', 'title', 'body', 'p'], 'no element but the page\'s and the four injected');
    const script = all.find((n) => n.tagName === 'script');
    assert.deepEqual(script.attrs, [{ name: 'type', value: 'application/json' }, { name: 'id', value: 'tenant-data' }]);
    const data = JSON.parse(script.childNodes[0].value);
    const brandJson = await call('/_tenant/brand.json', { host: worst.domain });
    assert.deepEqual(data, brandJson.json(), 'the script holds the same JSON as brand.json');
    assert.equal(data.displayName, worst.displayName);
    assert.equal(data.brand.tagline, worst.tagline);
    const style = all.find((n) => n.tagName === 'style');
    assert.ok(!style.childNodes[0].value.includes('<'), 'nothing in the style element could close it');
    assert.equal(all.find((n) => n.tagName === 'html').attrs.find((a) => a.name === 'data-tenant').value, worst.slug);
  });

  test('injecting leaks nothing: Wasm memory stays flat over a thousand branded pages', async () => {
    const direct = await directUrl(stack.worker);
    const wasm = async () => (await request(`${direct}/_tenant/health`)).json().wasmMemoryBytes;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const get = () => request(`${direct}/small`, { host: TENANTS.northstar.domain, agent });
    const burst = async (n) => {
      for (let i = 0; i < n; i += 16) await Promise.all(Array.from({ length: 16 }, get));
    };
    await burst(200);
    const before = await wasm();
    await burst(1000);
    const after = await wasm();
    agent.destroy();
    assert.ok(after - before <= 128 * 1024, `Wasm memory grew from ${before} to ${after} bytes`);
  });
});
