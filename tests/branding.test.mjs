// Branded from the first paint (issue 11), over HTTP on the real stack: /_tenant/brand.css and
// /_tenant/manifest.webmanifest for the request's host, the contract's schemas, and the
// branding injected into forwarded HTML by workerd's HTMLRewriter: exactly at the start of
// <head>, everything else byte for byte, nothing that a stored value could close, streamed,
// and nothing else touched (other types, statuses, HEAD, the platform host, INJECT_BRANDING=false).
// Then (issue 20) a corpus of origin pages the rewriter cannot read whole (charsets it does not
// support, markup its streaming parser gives up on, huge attributes, compressed and chunked
// answers): every one answers 200 with the origin's complete body, branded where it can be,
// and the Worker's memory tier survives them. The browser's view is tests/browser.test.mjs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { parse } from 'parse5';
import { ROOT, addWorker, directUrl, psql, sleep, startStack } from '../scripts/stack.mjs';
import { request } from './support/http.mjs';
import { servePage, startOrigin } from './support/origin.mjs';
import { TENANTS, assertError, assertHostBound, client, storedTenant } from './support/tenants.mjs';

const PLATFORM = 'coachplatform.test';

/** The origin's pages, by path: each `[status, headers, body]`. */
const SMALL = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Small</title></head><body><p>Hello</p></body></html>';
const NO_HEAD = '<!doctype html><html lang="en"><body><p>No head here</p></body></html>';
const TRICKY =
  '<!doctype html><html><head><script>var s = "</head><body><head>";</script><!-- </head><body> --><title>T</title></head><body><p>x</p></body></html>';
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
  '/slow': (req, res) => setTimeout(() => html(SMALL)(req, res), 700),
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

// ---------------------------------------------------------------------------------------------
// The corpus of origin pages (issue 20): each `{ name, type, body, encoding, chunk }` as the
// origin serves it, and either `branded: true` or `skipped: '<reason>'`.

const HTML = 'text/html; charset=utf-8';
/** About 100 KB after the markup the parser gives up on: nothing of it may be lost. */
const TAIL = `<p>${'the rest of the page '.repeat(5000)}</p>`;
const HUGE = 'a'.repeat(4 * 1024 * 1024);
const doc = (content, { html = '<html lang="en">', head = '<head>', tail = TAIL } = {}) =>
  `<!doctype html>${html}${head}<meta charset="utf-8"><title>Page</title></head><body>${content}${tail}</body></html>`;
/** The labels of the review that workerd's HTMLRewriter refuses (and one nobody knows). */
const UNREADABLE_CHARSETS = [
  'utf-16',
  'latin-1',
  'binary',
  'none',
  'ansi',
  'utf-8mb4',
  'unicode',
  'utf-7',
  'iso-2022-jp',
  'x-no-such-charset',
];
const utf16 = (text) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
const charsetBody = (label) =>
  ['utf-16', 'unicode'].includes(label) ? utf16(SMALL) : Buffer.from(SMALL.replace('Hello', 'Caf\xe9 ol\xe9'), 'latin1');
/** Markup after <head> that lol-html's streaming parser cannot read ("text content tag … ambiguous"). */
const UNPARSABLE = {
  '<style> in <select>': '<select><style>p { color: red }</style></select>',
  '<title> in <select>': '<select><title>t</title></select>',
  '<noscript> in <select>': '<select><noscript>n</noscript></select>',
  '<iframe> in <select>': '<select><iframe>i</iframe></select>',
  '<select><template><style>': '<select><template><style>p {}</style></template></select>',
  '<select><button><style>': '<select><button><style>p {}</style></button></select>',
  '<head> in <select>': '<select><head><title>x</title></head></select>',
};
const ORIGIN_PAGES = [
  ...UNREADABLE_CHARSETS.map((label) => ({
    name: `charset=${label}`,
    type: `text/html; charset=${label}`,
    body: charsetBody(label),
    skipped: 'charset',
  })),
  {
    name: 'charset=windows-1252 with bytes above ASCII',
    type: 'text/html; charset=windows-1252',
    body: Buffer.from(doc('<p>Caf\xe9</p>'), 'latin1'),
    branded: true,
  },
  {
    name: 'charset=iso-8859-1 in tiny chunks',
    type: 'text/html; charset=iso-8859-1',
    body: Buffer.from(doc('<p>\xe0 bient\xf4t</p>', { tail: '' }), 'latin1'),
    chunk: 3,
    branded: true,
  },
  ...Object.entries(UNPARSABLE).map(([name, markup]) => ({ name: `${name} after <head>`, body: doc(markup), branded: true })),
  {
    name: '<style> in <select> after <head>, a small page (read whole)',
    body: doc(UNPARSABLE['<style> in <select>'], { tail: '' }),
    branded: true,
  },
  { name: '<style> in <select> after <head>, streamed', body: doc(UNPARSABLE['<style> in <select>']), chunk: 4096, branded: true },
  {
    name: 'the <head> in the second of two chunks',
    body: `<!doctype html><html lang="en"><!-- ${'x'.repeat(300)} --><head><title>t</title></head><body><p>x</p></body></html>`,
    chunk: 200,
    pauseMs: 20,
    branded: true,
  },
  {
    name: '<style> in <select> before <body>, no <head>',
    body: `<!doctype html><html><select><style>p {}</style></select><body><p>x</p>${TAIL}</body></html>`,
    skipped: 'markup',
  },
  { name: 'a 4 MB attribute on <html>', body: doc('<p>x</p>', { html: `<html data-x="${HUGE}">` }), skipped: 'limit' },
  { name: 'a 4 MB attribute on <head>', body: doc('<p>x</p>', { head: `<head data-x="${HUGE}">` }), skipped: 'limit' },
  {
    name: 'a 4 MB attribute on <body> after <head>',
    body: `<!doctype html><html><head><title>t</title></head><body data-x="${HUGE}"><p>x</p>${TAIL}</body></html>`,
    branded: true,
  },
  {
    name: 'a 4 MB attribute on <body>, no <head>',
    body: `<!doctype html><html><body data-x="${HUGE}"><p>x</p></body></html>`,
    skipped: 'limit',
  },
  { name: 'a 4 MB attribute later in the page', body: doc(`<div data-x="${HUGE}">x</div>`), branded: true },
  { name: 'gzip', encoding: 'gzip', body: doc('<p>gzip</p>'), branded: true },
  { name: 'br', encoding: 'br', body: doc('<p>brotli</p>'), branded: true },
  {
    name: 'gzip in tiny chunks, <style> in <select> after <head>',
    encoding: 'gzip',
    chunk: 5,
    body: doc(UNPARSABLE['<style> in <select>']),
    branded: true,
  },
  {
    name: 'br in tiny chunks, a 4 MB attribute after <head>',
    encoding: 'br',
    chunk: 5,
    body: doc(`<div data-x="${HUGE}">x</div>`),
    branded: true,
  },
  { name: 'gzip, charset=utf-16', encoding: 'gzip', type: 'text/html; charset=utf-16', body: utf16(SMALL), skipped: 'charset' },
  { name: 'tiny chunks', chunk: 1, body: SMALL, branded: true },
  { name: 'tiny chunks, </head> in a script and a comment', chunk: 2, body: TRICKY, branded: true },
  { name: 'tiny chunks, no <head>', chunk: 3, body: NO_HEAD, branded: true },
  { name: 'neither <head> nor <body>', body: '<p>a fragment</p>', skipped: 'no-head' },
  {
    name: "the origin's own data-tenant on <html>",
    body: doc('<p>x</p>', { html: '<HTML data-tenant="someone-else" lang="en">', tail: '' }),
    branded: true,
  },
  // Plain starts, branded without the rewriter (inject.js, plainStart): the same place.
  {
    name: 'a plain start: an XHTML doctype, <html> attributes over lines, a ">" in a value',
    body: `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml"\n  lang='en' class=js hidden data-x="a > b">\n<head data-y="1"><title>t</title></head><body><p>x</p>${TAIL}</body></html>`,
    branded: true,
  },
  {
    name: 'a plain start after a byte order mark, in capitals, charset="UTF-8" quoted',
    type: 'text/html; charset="UTF-8"',
    body: `\ufeff<!DOCTYPE HTML><HTML LANG="EN"><HEAD><TITLE>t</TITLE></HEAD><BODY><p>x</p></BODY></HTML>`,
    branded: true,
  },
  // A <head> tag makes the document's head only as the first thing after the doctype, comments,
  // whitespace and <html> (issue 24): anywhere else a browser ignores it (and a <head> or <body>
  // inside <template>, <svg>, <math> or <select> is inert, foreign or dropped), and the head is
  // the one it implies at that first thing. `at`: the block goes just before it.
  {
    name: 'the first <head> inside <template>',
    body: `<!doctype html><html lang="en"><template><head><title>t</title></head></template><body><p>x</p>${TAIL}</body></html>`,
    at: '<template>',
    branded: true,
  },
  {
    name: "the first <head> inside <svg>, the page's own after it",
    body: `<!doctype html><html lang="en"><svg viewBox="0 0 1 1"><head></head></svg><head><title>t</title></head><body><p>x</p></body></html>`,
    at: '<svg',
    branded: true,
  },
  {
    name: 'the first <head> inside <math>, streamed',
    body: `<!doctype html><html lang="en"><math><head><title>t</title></head></math><body><p>x</p>${TAIL}</body></html>`,
    chunk: 4096,
    at: '<math>',
    branded: true,
  },
  {
    name: 'the first <head> inside <select> (and a <title> the rewriter gives up on)',
    body: `<!doctype html><html lang="en"><select><head><title>t</title></head></select><body><p>x</p>${TAIL}</body></html>`,
    at: '<select>',
    branded: true,
  },
  {
    name: 'the first <head> inside <noscript>',
    body: `<!doctype html><html lang="en"><noscript><head><title>t</title></head></noscript><body><p>x</p></body></html>`,
    at: '<noscript>',
    branded: true,
  },
  {
    name: 'no <head>, the first <body> inside <svg>',
    body: `<!doctype html><html lang="en"><svg><body><p>x</p></svg><p>y</p></html>`,
    at: '<svg>',
    branded: true,
  },
  {
    name: 'no <head>, the first <body> inside <template>, in tiny chunks',
    body: `<!doctype html><html lang="en"><template><body><p>x</p></body></template><p>y</p></html>`,
    chunk: 3,
    at: '<template>',
    branded: true,
  },
  {
    name: 'a <div> before <head>',
    body: `<!doctype html><html lang="en"><div>x</div><head><title>t</title></head><body><p>y</p></body></html>`,
    at: '<div>',
    branded: true,
  },
  {
    name: 'text before <head>',
    body: `<!doctype html><html lang="en">Hello <head><title>t</title></head><body><p>x</p></body></html>`,
    at: 'Hello',
    branded: true,
  },
  {
    name: 'a stray </br> before <head>',
    body: `<!doctype html><html lang="en"></br><head><title>t</title></head><body><p>x</p></body></html>`,
    at: '</br>',
    branded: true,
  },
  {
    name: 'a stray </p> after a comment before <head>',
    body: `<!doctype html><html lang="en"><!-- </head> --></p><head><title>t</title></head><body><p>x</p></body></html>`,
    at: '</p>',
    branded: true,
  },
  {
    name: 'a <title> before <head>',
    body: `<!doctype html><html lang="en"><title>t</title><head><meta charset="utf-8"></head><body><p>x</p></body></html>`,
    at: '<title>',
    branded: true,
  },
  {
    name: 'the first <head> after a byte order mark, comments, a doctype and whitespace, in windows-1252',
    type: 'text/html; charset=windows-1252',
    body: `\ufeff<!-- a --><?xml version="1.0"?>\n<!DOCTYPE html>\n<!--[if IE]><![endif]-->\n<html lang="en">\n <!-- b -->\n<head><title>t</title></head><body><p>x</p></body></html>`,
    branded: true,
  },
].map((p, i) => ({ type: HTML, ...p, path: `/corpus/${i}`, body: Buffer.from(p.body) }));
for (const p of ORIGIN_PAGES) routes[p.path] = servePage(p);

/**
 * The page the Worker should answer for an origin page it brands: `block` just before the first
 * `before` when given, else at the start of the first <head> (else before the first <body>), and
 * data-tenant first on the first <html>; every other byte the origin's. The corpus pages have no
 * earlier "<head" or "<body" in comments or scripts.
 */
function brandedAs(body, block, slug, before) {
  const text = body.toString('latin1').toLowerCase();
  const head = text.indexOf('<head');
  const at = before ? text.indexOf(before.toLowerCase()) : head >= 0 ? text.indexOf('>', head) + 1 : text.indexOf('<body');
  const html = text.indexOf('<html') + '<html'.length;
  const bytes = (s) => Buffer.from(s, 'latin1');
  return Buffer.concat([body.subarray(0, html), bytes(` data-tenant="${slug}"`), body.subarray(html, at), bytes(block), body.subarray(at)]);
}

/** The bytes a browser's tokenizer reads: a UTF-8 byte order mark is the decoder's, not text. */
const withoutBom = (bytes) => (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes);

/**
 * Asserts that a browser's tree builder (parse5's, after the HTML standard) puts the block, and
 * only it, in document.head: the canonical link and its five elements one after another, none elsewhere (nor in a
 * template's content), and data-tenant on <html>.
 */
function assertInHead(text, slug) {
  const document = parse(text);
  const html = document.childNodes.find((n) => n.nodeName === 'html');
  const head = html.childNodes.find((n) => n.nodeName === 'head');
  const attr = (node, name) => node.attrs?.find((a) => a.name === name)?.value;
  const isBlock = (node) =>
    (node.tagName === 'link' && attr(node, 'rel') === 'canonical') ||
    (node.tagName === 'style' && attr(node, 'id') === 'tenant-brand') ||
    (node.tagName === 'meta' && attr(node, 'name') === 'theme-color') ||
    (node.tagName === 'link' && ['icon', 'manifest'].includes(attr(node, 'rel'))) ||
    (node.tagName === 'script' && attr(node, 'id') === 'tenant-data');
  const found = [];
  const walk = (node) => {
    if (isBlock(node)) found.push(node);
    for (const child of node.childNodes ?? []) walk(child);
    if (node.content) walk(node.content);
  };
  walk(document);
  const start = head.childNodes.indexOf(found[0]);
  assert.ok(start >= 0, `the block is in document.head, not in ${found[0]?.parentNode?.nodeName ?? 'the page at all'}`);
  assert.deepEqual(
    found.map((n) => n.tagName),
    ['link', 'style', 'meta', 'link', 'link', 'script'],
    "the canonical link and the block's five elements, once each",
  );
  assert.ok(
    found.every((n, i) => head.childNodes[start + i] === n),
    'one after another in document.head, nowhere else',
  );
  assert.equal(attr(html, 'data-tenant'), slug);
}

/** The body as the client gets it, decoded by its Content-Encoding. */
function decoded(res) {
  const encoding = res.headers['content-encoding'];
  if (encoding === 'gzip') return zlib.gunzipSync(res.bytes);
  if (encoding === 'br') return zlib.brotliDecompressSync(res.bytes);
  assert.equal(encoding, undefined, 'an encoding the test knows');
  return res.bytes;
}

let stack;
let call;
let unbranded; // INJECT_BRANDING=false
let worst; // the tenant with the worst strings the contract allows
before(async () => {
  origin = await startOrigin({ routes });
  // logLevel 'log': the Worker's events, `branding_skipped` among them, are console.log lines.
  stack = await startStack({ vars: { PLATFORM_DOMAIN: PLATFORM, ORIGIN_URL: origin.url }, logLevel: 'log' });
  call = client(stack.worker.url);
  unbranded = client((await addWorker(stack, { INJECT_BRANDING: 'false' })).url);
  const brand = storedTenant(stack, 'acme-leadership').brand;
  worst = {
    slug: 'worst-strings',
    domain: 'worst.strings.test',
    displayName: '</script><script>alert(1)</script><!-- & "\' \u2028\u2029 </title>',
    tagline: '</style></script><svg onload=alert(1)>&amp;&lt;"\'`\u2028\u2029<!--',
    favicon: 'https://worst.example/i.ico?a&quot;b&lt;c&amp;d&#x22;e',
  };
  const stored = { ...brand, tagline: worst.tagline, favicon: worst.favicon, welcomeMessage: '</head><body>'.repeat(100) };
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

/** The canonical link the Worker puts first, per page (src/crawl.rs): Northstar's primary host. */
const canonical = (path) => `<link rel="canonical" href="http://${TENANTS.northstar.domain}${path}">`;
const CANONICAL = /<link rel="canonical" href="[^"]*">/;

/** The block at the start of <head> after the page's canonical link: the tenant's, the same on every page. */
function injectedBlock(text) {
  const start = text.indexOf('<head>') + '<head>'.length;
  const end = text.indexOf('</script>', start) + '</script>'.length;
  return text.slice(start, end).replace(CANONICAL, '');
}

/** The page the origin sent, with the injection (the canonical link and the block) taken out again. */
const withoutInjection = (text, slug) => text.replace(CANONICAL, '').replace(injectedBlock(text), '').replace(` data-tenant="${slug}"`, '');

// ---------------------------------------------------------------------------------------------
// brand.css, the manifest and the schemas

describe('/_tenant/brand.css and /_tenant/manifest.webmanifest', () => {
  test("brand.css is one :root rule with every --brand-* property of the host's tenant", async () => {
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
    assert.equal(manifest.icons[0].src, stored.brand.favicon ?? stored.brand.logo.url);
    assert.equal(manifest.lang, stored.brand.locale);
  });

  test("both have brand.json's caching: ETag and 304, host-bound, and the same 404 for an unknown host", async () => {
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

  test("the contract's JSON Schemas are served as committed", async () => {
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
  test('a small page gets the block at the start of <head> and data-tenant first on <html>, nothing else changed', async () => {
    const res = await page('/small');
    assert.equal(res.status, 200);
    const block = injectedBlock(res.body);
    assert.ok(
      res.body.startsWith(
        `<!doctype html><html data-tenant="northstar-coaching" lang="en"><head>${canonical('/small')}<style id="tenant-brand">`,
      ),
      res.body.slice(0, 200),
    );
    assert.equal(withoutInjection(res.body, 'northstar-coaching'), SMALL, 'everything else byte for byte');
    const brand = storedTenant(stack, TENANTS.northstar.slug).brand;
    const css = await call('/_tenant/brand.css', { host: TENANTS.northstar.domain });
    const style = block.match(/^<style id="tenant-brand">(.*?)<\/style>/)[1];
    const properties = (text) => [...text.matchAll(/(--brand-[a-z-]+): ([^;]+);/g)].map((m) => `${m[1]}=${m[2]}`);
    assert.deepEqual(properties(style), properties(css.body), 'the same custom properties as brand.css');
    assert.ok(block.includes(`<meta name="theme-color" content="${brand.colors.primary}">`));
    assert.ok(block.includes(`<link rel="icon" href="${brand.favicon ?? brand.logo.url}">`), 'the favicon, else the logo');
    assert.ok(block.includes('<link rel="manifest" href="/_tenant/manifest.webmanifest">'));
    const json = block.match(/<script type="application\/json" id="tenant-data">(.*)<\/script>$/)[1];
    const brandJson = await call('/_tenant/brand.json', { host: TENANTS.northstar.domain });
    assert.deepEqual(JSON.parse(json), brandJson.json(), 'the same body as brand.json');
  });

  test("a branded page drops the origin's length and validators, which describe other bytes", async () => {
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

  test("a page without <head> gets the block where the browser's implied head ends, before <body>", async () => {
    const res = await page('/no-head');
    assert.ok(
      res.body.startsWith(
        `<!doctype html><html data-tenant="northstar-coaching" lang="en">${canonical('/no-head')}<style id="tenant-brand">`,
      ),
      res.body.slice(0, 160),
    );
    const block = res.body.slice(res.body.indexOf('<link rel="canonical"'), res.body.indexOf('<body>'));
    assert.equal(res.body.replace(block, '').replace(' data-tenant="northstar-coaching"', ''), NO_HEAD);
    const document = parse(res.body);
    const htmlElement = document.childNodes.find((n) => n.nodeName === 'html');
    const head = htmlElement.childNodes.find((n) => n.nodeName === 'head');
    assert.deepEqual(
      head.childNodes.map((n) => n.nodeName),
      ['link', 'style', 'meta', 'link', 'link', 'script'],
      'the parser puts it in the head',
    );
  });

  test('</head> inside a script string and a comment is not mistaken for the end of <head>', async () => {
    const res = await page('/tricky');
    assert.equal(res.body.split('id="tenant-data"').length, 2, 'injected once');
    assert.ok(
      res.body.startsWith(`<!doctype html><html data-tenant="northstar-coaching"><head>${canonical('/tricky')}<style id="tenant-brand">`),
    );
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
    assert.deepEqual(
      elements,
      ['html', 'head', 'link', 'style', 'meta', 'link', 'link', 'script', 'meta', 'title', 'body', 'p'],
      "no element but the page's, its canonical link and the five injected",
    );
    const script = all.find((n) => n.tagName === 'script');
    assert.deepEqual(script.attrs, [
      { name: 'type', value: 'application/json' },
      { name: 'id', value: 'tenant-data' },
    ]);
    const data = JSON.parse(script.childNodes[0].value);
    const brandJson = await call('/_tenant/brand.json', { host: worst.domain });
    assert.deepEqual(data, brandJson.json(), 'the script holds the same JSON as brand.json');
    assert.equal(data.displayName, worst.displayName);
    assert.equal(data.brand.tagline, worst.tagline);
    const style = all.find((n) => n.tagName === 'style');
    assert.ok(!style.childNodes[0].value.includes('<'), 'nothing in the style element could close it');
    const icon = all.find((n) => n.tagName === 'link' && n.attrs.some((a) => a.name === 'rel' && a.value === 'icon'));
    assert.deepEqual(
      icon.attrs,
      [
        { name: 'rel', value: 'icon' },
        { name: 'href', value: worst.favicon },
      ],
      'the icon is the favicon as stored: no character reference in it is read as one',
    );
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

// ---------------------------------------------------------------------------------------------
// Origin pages the rewriter cannot read whole (issue 20)

/** Where two byte strings first differ, for a failure message. */
function difference(got, expected) {
  let i = 0;
  while (i < got.length && i < expected.length && got[i] === expected[i]) i++;
  const around = (b) => JSON.stringify(b.subarray(Math.max(0, i - 40), i + 40).toString('latin1'));
  return `${got.length} bytes, expected ${expected.length}; first difference at ${i}: got ${around(got)}, expected ${around(expected)}`;
}

// These go to the Worker's own port: wrangler dev's proxy runs HTML through a rewriter of its
// own, which hangs on a charset it cannot read and cuts pages off where lol-html gives up.
describe('origin pages the rewriter cannot read whole', () => {
  let block;
  let memoryBefore;
  let direct;
  const logs = [];
  const get = (path, options) => request(`${direct}${path}`, { host: TENANTS.northstar.domain, timeoutMs: 60_000, ...options });
  const health = async () => (await request(`${direct}/_tenant/health`)).json().cache.memoryEntries;
  before(async () => {
    direct = await directUrl(stack.worker);
    stack.worker.proc.onLine((line) => logs.push(line));
    block = injectedBlock((await get('/small')).body);
    assert.ok(block.startsWith('<style id="tenant-brand">'), block);
  });

  test('before the corpus: a tenant is cached in memory', async () => {
    await get('/_tenant/brand.json', { host: TENANTS.acme.domain });
    const hit = await get('/_tenant/brand.json', { host: TENANTS.acme.domain });
    assert.equal(hit.headers['x-tenant-cache'], 'hit');
    memoryBefore = await health();
    assert.ok(memoryBefore > 0, `${memoryBefore} entries`);
  });

  for (const p of ORIGIN_PAGES) {
    const expected = p.branded ? 'branded' : `unbranded (${p.skipped})`;
    test(`${p.name}: 200 with the origin's whole body, ${expected}`, async () => {
      const res = await get(p.path);
      assert.equal(res.status, 200, res.body.slice(0, 300));
      const body = decoded(res);
      if (p.branded) {
        assert.equal(res.headers['x-tenant-branding'], 'injected');
        assertInHead(withoutBom(body).toString('latin1'), 'northstar-coaching');
        const want = brandedAs(p.body, canonical(p.path) + block, 'northstar-coaching', p.at);
        assert.ok(body.equals(want), difference(body, want));
        assert.equal(res.headers.etag, undefined);
      } else {
        assert.ok(body.equals(p.body), difference(body, p.body));
        assert.equal(res.headers['x-tenant-branding'], `skipped; reason=${p.skipped}`);
      }
      assert.equal(res.headers['content-encoding'], p.encoding, 'compressed as the origin compressed it');
      if (res.headers['content-length'] !== undefined) assert.equal(Number(res.headers['content-length']), res.bytes.length);
      if (!p.encoding && !p.chunk && p.body.length <= 64 * 1024) {
        assert.equal(res.headers['content-length'], String(res.bytes.length), 'a page read whole goes out with its length');
      }
      assertHostBound(res);
    });
  }

  test('a request in flight is not failed by a page the rewriter cannot read', async () => {
    const unreadable = ORIGIN_PAGES.find((p) => p.name === 'charset=utf-16');
    const inFlight = get('/slow'); // its origin answers after 700 ms: the Worker awaits it meanwhile
    await sleep(100);
    const unreadables = [];
    for (let i = 0; i < 3; i++) unreadables.push(await get(unreadable.path));
    const slow = await inFlight;
    assert.equal(slow.status, 200, slow.body);
    assert.equal(withoutInjection(slow.body, 'northstar-coaching'), SMALL);
    for (const res of unreadables) {
      assert.equal(res.status, 200);
      assert.ok(res.bytes.equals(unreadable.body));
    }
  });

  test('after the corpus: the memory tier is intact and the tenant cached before is still a hit', async () => {
    const after = await health();
    assert.ok(after >= memoryBefore, `memory entries went from ${memoryBefore} to ${after}`);
    const res = await get('/_tenant/brand.json', { host: TENANTS.acme.domain });
    assert.equal(res.headers['x-tenant-cache'], 'hit');
  });

  test('an unbranded page is logged once per tenant and reason, not per request', async () => {
    const skipped = logs.filter((l) => l.startsWith('{"event":"branding_skipped"')).map((l) => JSON.parse(l));
    const lines = (reason) => skipped.filter((e) => e.tenant_slug === 'northstar-coaching' && e.reason === reason);
    assert.equal(lines('charset').length, 1, logs.join('\n'));
    assert.equal(lines('limit').length, 1, logs.join('\n'));
  });

  test("an origin's own data-tenant cannot override the tenant's: the first of two counts", async () => {
    const own = ORIGIN_PAGES.find((p) => p.name.includes('own data-tenant'));
    const res = await get(own.path);
    const htmlElement = parse(res.body).childNodes.find((n) => n.nodeName === 'html');
    assert.deepEqual(
      htmlElement.attrs.filter((a) => a.name === 'data-tenant'),
      [{ name: 'data-tenant', value: 'northstar-coaching' }],
    );
  });

  test('a tenant with texts beyond ASCII is branded intact into a windows-1252 page', async () => {
    const latin = ORIGIN_PAGES.find((p) => p.type.includes('windows-1252'));
    const res = await get(latin.path, { host: worst.domain });
    assert.equal(res.headers['x-tenant-branding'], 'injected');
    const text = res.bytes.toString('latin1');
    const json = text.match(/<script type="application\/json" id="tenant-data">(.*?)<\/script>/)[1];
    assert.match(json, /^[\x20-\x7e]*$/, 'the block is ASCII: the same bytes in every charset the rewriter reads');
    const brandJson = await call('/_tenant/brand.json', { host: worst.domain });
    assert.deepEqual(JSON.parse(json), brandJson.json());
    assert.ok(res.bytes.includes(Buffer.from('Caf\xe9', 'latin1')), "the page's own bytes are untouched");
  });
});

// ---------------------------------------------------------------------------------------------
// Brand numbers (issue 20): the database, the JSON Schema and the Worker read a number alike

describe('brand numbers', () => {
  const setWidth = (slug, width) =>
    psql(stack.dbUrl, {
      sql: `update public.tenant_profiles set brand_config = jsonb_set(brand_config, '{logo,width}', '${width}'::jsonb) where slug = '${slug}'`,
    });

  test('the database refuses a logo width beyond what a JSON parser reads (1e400, 1e-400)', () => {
    for (const width of ['1e400', '1e-400']) {
      assert.throws(() => setWidth(TENANTS.acme.slug, width), /tenant_profiles_brand_config_valid/, width);
    }
  });

  test("a brand stored before the contract that breaks it loses its values, never the tenant's name", async () => {
    const tenant = { slug: 'huge-logo', domain: 'huge.logo.test', name: 'Huge Logo Coaching' };
    const brand = JSON.stringify(storedTenant(stack, TENANTS.northstar.slug).brand).replace(/"width":[^,}]+/, '"width":1e400');
    assert.match(brand, /"width":1e400/);
    psql(stack.dbUrl, {
      sql: `begin;
        alter table public.tenant_profiles drop constraint tenant_profiles_brand_config_valid;
        insert into public.tenant_profiles (slug, display_name, custom_domain, brand_config)
          values ('${tenant.slug}', '${tenant.name}', '${tenant.domain}', '${brand}'::jsonb);
        set constraints public.tenant_profiles_record_change immediate;
        alter table public.tenant_profiles add constraint tenant_profiles_brand_config_valid
          check (public.is_valid_brand_config(brand_config)) not valid;
        commit;`,
    });
    const manifest = await call('/_tenant/manifest.webmanifest', { host: tenant.domain });
    assert.equal(manifest.status, 200, manifest.body);
    assert.equal(manifest.json().name, tenant.name);
    assert.equal(manifest.json().theme_color, undefined, 'no value of a brand that breaks the contract');
    const css = await call('/_tenant/brand.css', { host: tenant.domain });
    assert.equal(css.body, ':root {\n}\n');
    const json = await call('/_tenant/brand.json', { host: tenant.domain });
    assert.equal(json.json().displayName, tenant.name);
  });
});
