// The Worker's own answers, built in one call from Rust (edge/mod.rs): the status, the body bytes
// and every header as one string of lines (./lines.js), which the core decided (src/reply.rs).
// The crossings between Wasm and JS, one per header, were most of an answer's cost.

import { headersOf } from './lines.js';

// A response built in one call. The body bytes are copied out of Wasm memory here, so the
// response owns them.
export function respond(status, body, headerLines) {
  return new Response(body === undefined ? null : body.slice(), { status, headers: headersOf(headerLines) });
}
