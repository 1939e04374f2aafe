// A small HTTP client for the integration tests. node:http, not fetch, because tests must set
// the Host header (fetch forbids it) and send requests a browser never would.

import http from 'node:http';

/**
 * Sends one request and resolves with `{ status, headers, body, json }`. `url` is absolute;
 * `headers.host` overrides the Host header.
 */
export function request(url, { method = 'GET', headers = {}, body, timeoutMs = 15_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body: text,
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
export const get = (url, { host, headers = {} } = {}) =>
  request(url, { headers: host ? { ...headers, host } : headers });
