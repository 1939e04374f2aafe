// The one HTTP client of the integration tests (and the benchmark). node:http, not fetch,
// because tests must set the Host header (fetch forbids it) and send requests a browser never
// would.

import http from 'node:http';

/**
 * Sends one request and resolves with `{ status, headers, body, bytes, json(), firstByteAt }`
 * (`body` is the text, `bytes` the raw body, `firstByteAt` when its first byte arrived).
 * `url` is absolute; `host` sets the Host header; `agent` a keep-alive agent (default: none).
 */
export function request(url, { method = 'GET', host, headers = {}, body, agent = false, timeoutMs = 15_000 } = {}) {
  return new Promise((resolve, reject) => {
    const all = host ? { ...headers, host } : headers;
    const req = http.request(url, { method, headers: all, agent, timeout: timeoutMs }, (res) => {
      const chunks = [];
      let firstByteAt;
      res.on('data', (c) => {
        firstByteAt ??= Date.now();
        chunks.push(c);
      });
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const text = bytes.toString('utf8');
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body: text,
          bytes,
          firstByteAt,
          json: () => JSON.parse(text),
        });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** GET with an optional Host header. */
export const get = (url, { host, headers = {}, agent } = {}) => request(url, { host, headers, agent });
