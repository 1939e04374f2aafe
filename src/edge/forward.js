// The forward path's I/O, one call per step from Rust (edge/origin.rs): a request's headers out,
// the forwarded request sent (signed, with a timeout), what the rules read of the origin's answer,
// and the answer with the header edits the core decided (src/forward.rs). Headers cross as lines
// (./lines.js) instead of one call, and one string conversion, per header: the crossings between
// Wasm and JS were most of the forward path's cost. inject.js brands a page's answer and edits
// its headers with `apply`.

import { headersOf, line, readLines } from './lines.js';

/** A request's headers as lines (names lowercase, as the runtime keeps them). */
export function headerLines(request) {
  let lines = '';
  for (const [name, value] of request.headers) lines += line(name, value);
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
// origin's answer, or with null when its headers have not arrived within `timeoutMs`: the
// request is then aborted, its body stream with it. Rejects when the origin cannot be reached.
// The timer stops once the headers are in: the body then streams for as long as it takes.
export async function send(request, url, method, lines, secret, t, canonical, timeoutMs) {
  const headers = headersOf(lines);
  if (secret) headers.set('x-tenant-signature', await signature(secret, t, canonical));
  const body = method === 'GET' || method === 'HEAD' ? null : request.body;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    return await fetch(url, { method, headers, body, redirect: 'manual', cache: 'no-store', signal: abort.signal });
  } catch (e) {
    if (abort.signal.aborted) return null;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** What the core reads of the origin's answer (src/forward.rs, `OriginAnswer`), as lines. */
export function describe(response) {
  const h = response.headers;
  let lines = line(':status', response.status);
  for (const name of ['content-type', 'vary', 'cache-control']) {
    const value = h.get(name);
    if (value !== null) lines += line(name, value);
  }
  return lines;
}

/** Sets each header of the lines `edits`; one with an empty value is removed (src/forward.rs). */
export function apply(headers, edits) {
  readLines(edits, (name, value) => (value === '' ? headers.delete(name) : headers.set(name, value)));
}

// A forwarded answer that did not go through inject.js, with `edits` applied, in one call. A
// fetched response's headers are immutable: the answer is a new response around the same body
// stream (nothing is copied).
export function finish(origin, edits) {
  const response = new Response(origin.body, origin);
  apply(response.headers, edits);
  return response;
}
