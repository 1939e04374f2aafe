// Benchmark peer for the forwarded-page path (issue 26): the Worker a team would write instead
// of the resolver's forward path, in plain JS, doing the same job for a page. It finds the
// tenant by Host in memory, forwards the request to ORIGIN_URL with the resolver's headers
// (src/forward.rs), signs it with Web Crypto as the resolver does (src/signature.rs), injects
// the same `<head>` block (src/render.rs) and data-tenant with workerd's HTMLRewriter, and
// edits the answer's headers as the resolver does (src/forward.rs decides them,
// src/edge/forward.js applies them). Nothing else: no `/_tenant/*` routes, no database, no
// cache, so what it costs is the forward path written the obvious way. bench/html.mjs measures it beside the resolver and checks that it
// answers the same page.
//
// The tenants are a JSON module (`tenants.json`, written by bench/html.mjs before the Worker
// starts: `[{ host, id, slug, json }]`, `json` each tenant's public JSON as PostgREST serves it
// to the resolver), as a team would bake a tenant list into its Worker.

import TENANTS from './tenants.json';

/** Tenants by their custom domain; each one's `<head>` block rendered on first use. */
const byHost = new Map(TENANTS.map((t) => [t.host, { ...t, head: null }]));

// --- The forwarded request's headers (src/forward.rs) ---------------------------------------

/** Client headers naming where a request came from: only the Worker sets these. */
const ORIGIN_HEADERS = new Set([
  'host',
  'forwarded',
  'via',
  'x-real-ip',
  'x-client-ip',
  'client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'cf-connecting-ipv6',
  'x-cluster-client-ip',
  'x-originating-ip',
  'x-remote-ip',
  'x-remote-addr',
  'x-host',
  'x-rewrite-url',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
]);

/** Whether a client header must not reach the origin, its name read as servers read it. */
function reserved(name) {
  const n = name.replaceAll('_', '-'); // the runtime keeps header names lowercase
  return n.includes('tenant') || ORIGIN_HEADERS.has(n) || n.startsWith('x-forwarded') || n.startsWith('x-original-');
}

// --- The signature (src/signature.rs) -------------------------------------------------------

const encoder = new TextEncoder();
/** The HMAC key, imported once per isolate. */
let key;

/** `t=<t>,v1=<hex HMAC-SHA256(secret, canonical string)>`. */
async function signature(secret, t, method, host, target, tenant) {
  key ??= crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const canonical = `v1\n${t}\n${method}\n${host}\n${target}\n${tenant?.id ?? ''}\n${tenant?.slug ?? ''}`;
  const tag = new Uint8Array(await crypto.subtle.sign('HMAC', await key, encoder.encode(canonical)));
  let hex = '';
  for (const byte of tag) hex += byte.toString(16).padStart(2, '0');
  return `t=${t},v1=${hex}`;
}

// --- The `<head>` block (src/render.rs) -----------------------------------------------------

const GENERIC_FAMILIES = new Set([
  'serif',
  'sans-serif',
  'monospace',
  'cursive',
  'fantasy',
  'system-ui',
  'ui-serif',
  'ui-sans-serif',
  'ui-monospace',
  'ui-rounded',
  'math',
  'emoji',
  'fangsong',
]);

/** A CSS string that can neither end early nor close the `<style>` element. */
const cssString = (s) => `"${s.replace(/["\\<>\n\r\f]/g, (c) => `\\${c.charCodeAt(0).toString(16)} `)}"`;

const fontFamilies = (list) =>
  list
    .split(',')
    .map((f) => f.replace(/^ +| +$/g, ''))
    .map((f) => (GENERIC_FAMILIES.has(f.toLowerCase()) ? f.toLowerCase() : cssString(f)))
    .join(', ');

/** JSON that cannot close `<script>` and is pure ASCII: `<`, `>`, `&` and non-ASCII as `\u`. */
const scriptJson = (json) => json.replace(/[<>&\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** The block the resolver puts at the start of `<head>`: the brand's custom properties, its theme colour, the manifest, the tenant JSON. */
function render(json) {
  const { brand } = JSON.parse(json);
  const c = brand.colors;
  const props = [
    ['primary', c.primary],
    ['primary-hover', c.primaryHover],
    ['secondary', c.secondary],
    ['background', c.background],
    ['background-subtle', c.backgroundSubtle],
    ['text', c.text],
    ['text-muted', c.textMuted],
    ['border', c.border],
    ['font-heading', fontFamilies(brand.fonts.heading)],
    ['font-body', fontFamilies(brand.fonts.body)],
    ['logo-url', `url(${cssString(brand.logo.url)})`],
  ];
  const declarations = props.map(([name, value]) => `--brand-${name}: ${value};`).join(' ');
  return `<style id="tenant-brand">:root { ${declarations} }</style><meta name="theme-color" content="${c.primary}"><link rel="manifest" href="/_tenant/manifest.webmanifest"><script type="application/json" id="tenant-data">${scriptJson(json)}</script>`;
}

// --- The answer's headers (src/forward.rs) ------------------------------------------------

const SHARED_CACHE_DIRECTIVES = new Set(['public', 'private', 's-maxage', 'proxy-revalidate']);

/** The origin's Vary plus Host. */
function varyWithHost(vary) {
  const v = vary?.trim();
  if (!v) return 'Host';
  if (v === '*' || v.split(',').some((f) => f.trim().toLowerCase() === 'host')) return v;
  return `${v}, Host`;
}

/** The origin's Cache-Control for the browser only: `private`, no shared-cache directives. */
function privateCacheControl(cc) {
  const kept = (cc ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d && !SHARED_CACHE_DIRECTIVES.has(d.split('=')[0].trim().toLowerCase()));
  return ['private', ...kept].join(', ');
}

// --- The Worker -----------------------------------------------------------------------------

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const host = (request.headers.get('host') ?? url.host).toLowerCase().replace(/:\d+$/, '');
    const tenant = byHost.get(host);
    const wantsHtml = request.headers.get('accept')?.toLowerCase().includes('text/html') ?? false;
    const headers = new Headers();
    for (const [name, value] of request.headers) {
      if (reserved(name)) continue;
      // A branded page may differ from the browser's copy: ask the origin for all of it.
      if (tenant && wantsHtml && (name === 'if-none-match' || name === 'if-modified-since')) continue;
      headers.append(name, value);
    }
    headers.set('x-forwarded-host', host);
    headers.set('x-forwarded-proto', url.protocol.slice(0, -1));
    const ip = request.headers.get('cf-connecting-ip');
    if (ip) headers.set('x-forwarded-for', ip);
    if (tenant) {
      headers.set('x-tenant-id', tenant.id);
      headers.set('x-tenant-slug', tenant.slug);
    }
    const target = url.pathname + url.search;
    if (env.ORIGIN_SIGNING_SECRET) {
      const t = Math.floor(Date.now() / 1000);
      headers.set('x-tenant-signature', await signature(env.ORIGIN_SIGNING_SECRET, t, request.method, host, target, tenant));
    }
    const body = request.method === 'GET' || request.method === 'HEAD' ? null : request.body;
    const origin = await fetch(env.ORIGIN_URL + target, { method: request.method, headers, body, redirect: 'manual', cache: 'no-store' });

    const type = origin.headers.get('content-type') ?? '';
    const html = /^\s*text\/html\s*(;|$)/i.test(type);
    const branded = tenant && origin.status === 200 && request.method !== 'HEAD' && html;
    const answer = new Response(origin.body, origin);
    const h = answer.headers;
    if (branded) {
      for (const name of ['content-length', 'etag', 'last-modified']) h.delete(name);
      h.set('x-tenant-branding', 'injected');
    }
    h.set('vary', varyWithHost(origin.headers.get('vary')));
    h.set('cache-control', privateCacheControl(origin.headers.get('cache-control')));
    h.set('cdn-cache-control', 'no-store');
    h.set('cloudflare-cdn-cache-control', 'no-store');
    // The resolver says how it found the tenant; here always in memory, as its cache hit.
    if (tenant) h.set('x-tenant-cache', 'hit');
    if (!branded) return answer;
    tenant.head ??= render(tenant.json);
    return new HTMLRewriter()
      .on('html', { element: (e) => e.setAttribute('data-tenant', tenant.slug) })
      .on('head', { element: (e) => e.prepend(tenant.head, { html: true }) })
      .transform(answer);
  },
};
