// A response built in one call from Rust (edge/mod.rs): the headers come as one string of
// "name: value\n" lines instead of one call, and one string conversion, per header. The body
// bytes are copied out of Wasm memory here, so the response owns them.
export function respond(status, body, headerLines) {
  const headers = new Headers();
  for (let start = 0; start < headerLines.length; ) {
    const colon = headerLines.indexOf(':', start);
    const end = headerLines.indexOf('\n', colon);
    headers.append(headerLines.slice(start, colon), headerLines.slice(colon + 2, end));
    start = end + 1;
  }
  return new Response(body === undefined ? null : body.slice(), { status, headers });
}
