// A local stand-in for the app origin that the Worker forwards tenant traffic to: a node:http
// server on a free loopback port that records every request it receives (method, url, headers,
// body) and answers 200 with a small body, so tests can see exactly what the Worker sent.

import http from 'node:http';

/** What the origin answers to every request. */
export const ORIGIN_BODY = 'hello from the origin';

/**
 * Starts the origin. Returns `{ url, requests, reset(), stop() }`; `requests` is the list of
 * `{ method, url, headers, body }` received since the last `reset()`, oldest first.
 */
export async function startOrigin() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'public, max-age=60',
        vary: 'Accept-Encoding',
      });
      res.end(ORIGIN_BODY);
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    reset: () => {
      requests.length = 0;
    },
    stop: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
