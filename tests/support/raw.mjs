// An HTTP/1.1 request written byte for byte on a socket. node:http refuses, client side, Host
// values a hostile client can still send (non-ASCII, some control characters); this sends any
// Host as UTF-8 so the Worker, not the test's client, decides what is acceptable.

import net from 'node:net';

/** Splits a chunked transfer-encoded body into its data. */
function dechunk(buf) {
  const parts = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(buf.subarray(at, eol).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/**
 * Parses an HTTP/1.1 response from the bytes received so far; `null` while it is incomplete.
 * Servers may keep the connection open after answering, so completeness is read from the
 * response itself (Content-Length, chunked encoding), unless `closed`.
 */
function parseResponse(buf, closed) {
  const split = buf.indexOf('\r\n\r\n');
  if (split < 0) return closed ? { status: 0, headers: {}, body: '', json: () => ({}) } : null;
  const head = buf.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(head[0].split(' ')[1]);
  const headers = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = buf.subarray(split + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    if (!closed && body.indexOf('0\r\n\r\n') < 0) return null;
    body = dechunk(body);
  } else if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (!closed && body.length < length) return null;
    body = body.subarray(0, length);
  } else if (!closed && !(status === 204 || status === 304)) {
    return null;
  }
  const text = body.toString('utf8');
  return { status, headers, body: text, json: () => JSON.parse(text) };
}

/**
 * Sends `GET path` to the server at `url` with `host` as the Host header, written raw
 * (`host: null` sends no Host header at all). Resolves with `{ status, headers, body, json }`.
 */
export function rawGet(url, path, host, { timeoutMs = 15_000 } = {}) {
  const { hostname, port } = new URL(url);
  const lines = [`GET ${path} HTTP/1.1`];
  if (host !== null) lines.push(`Host: ${host}`);
  lines.push('Connection: close', '', '');
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks = [];
    const finish = (closed) => {
      const res = parseResponse(Buffer.concat(chunks), closed);
      if (res) {
        socket.destroy();
        resolve(res);
      }
    };
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`GET ${path} (Host ${JSON.stringify(host)}): no answer in ${timeoutMs} ms`)),
    );
    socket.on('data', (c) => {
      chunks.push(c);
      finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('error', reject);
    socket.write(Buffer.from(lines.join('\r\n'), 'utf8'));
  });
}
