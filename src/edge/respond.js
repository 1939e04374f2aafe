// What the Worker hands the runtime in one call each from Rust (edge/mod.rs, edge/origin.rs):
// a response of its own, and the request it forwards to the origin. Headers travel as one
// string of "name: value\n" lines instead of one call, and one string conversion, per header:
// the crossings between Wasm and JS were most of the forward path's cost.

/** Headers from "name: value\n" lines. */
function headersOf(lines) {
  const headers = new Headers();
  for (let start = 0; start < lines.length; ) {
    const colon = lines.indexOf(':', start);
    const end = lines.indexOf('\n', colon);
    headers.append(lines.slice(start, colon), lines.slice(colon + 2, end));
    start = end + 1;
  }
  return headers;
}

// A response built in one call. The body bytes are copied out of Wasm memory here, so the
// response owns them.
export function respond(status, body, headerLines) {
  return new Response(body === undefined ? null : body.slice(), { status, headers: headersOf(headerLines) });
}

/** A request's headers as "name: value\n" lines (names lowercase, as the runtime keeps them). */
export function headerLines(request) {
  let lines = '';
  for (const [name, value] of request.headers) lines += `${name}: ${value}\n`;
  return lines;
}

const encoder = new TextEncoder();
/** The signing key of the last secret: imported once per isolate, not once per request. */
let signing = { secret: null, key: null };

/** `t=<t>,v1=<hex HMAC-SHA256 of canonical>` (src/signature.rs: the canonical string). */
async function signature(secret, t, canonical) {
  if (signing.secret !== secret) {
    const key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    signing = { secret, key };
  }
  const tag = new Uint8Array(await crypto.subtle.sign('HMAC', await signing.key, encoder.encode(canonical)));
  let hex = '';
  for (const byte of tag) hex += (byte < 16 ? '0' : '') + byte.toString(16);
  return `t=${t},v1=${hex}`;
}

// The forwarded request: the headers of `lines` (and the signature, when `secret` is set),
// `request`'s body unless the method has none, redirects left to the client, and the cache in
// front of the origin neither read nor written (edge/origin.rs says why). Resolves with the
// origin's answer; rejects when the origin cannot be reached.
export async function send(request, url, method, lines, secret, t, canonical) {
  const headers = headersOf(lines);
  if (secret) headers.set('x-tenant-signature', await signature(secret, t, canonical));
  const body = method === 'GET' || method === 'HEAD' ? null : request.body;
  return fetch(url, { method, headers, body, redirect: 'manual', cache: 'no-store' });
}

/** What the Worker's rules read of the origin's answer: status, Content-Type, Vary, Cache-Control. */
export function describe(response) {
  const h = response.headers;
  return `${response.status}\n${h.get('content-type') ?? ''}\n${h.get('vary') ?? ''}\n${h.get('cache-control') ?? ''}`;
}

/**
 * The header edits of every forwarded answer: `vary` and `cacheControl` as the Worker's rules
 * made them, no shared cache, and, when the page was branded, none of `drops`
 * (comma-separated). Also used by inject.js, which builds a branded page's answer itself.
 */
export function settle(headers, branded, vary, cacheControl, drops) {
  if (branded) for (const name of drops.split(',')) headers.delete(name);
  headers.set('vary', vary);
  headers.set('cache-control', cacheControl);
  headers.set('cdn-cache-control', 'no-store');
  headers.set('cloudflare-cdn-cache-control', 'no-store');
}

// A forwarded answer that did not go through inject.js, with `settle`'s edits, in one call. A
// fetched response's headers are immutable: the answer is a new response around the same body
// stream (nothing is copied).
export function finish(origin, vary, cacheControl) {
  const response = new Response(origin.body, origin);
  settle(response.headers, false, vary, cacheControl, '');
  return response;
}
