// A local stand-in for the app origin that the Worker forwards tenant traffic to: a node:http
// server on a free loopback port that records every request it receives (method, url, headers
// as node folds them, and the raw header list), so tests can see exactly what the Worker sent.
// By default it answers 200 with a small cacheable text body; `routes` maps a path to a handler
// `(req, res) => …` for tests that need other answers, and `servePage` makes one that serves a
// page as app servers do (compressed, in chunks of any size).

import http from 'node:http';
import zlib from 'node:zlib';

/** What the origin answers by default. */
export const ORIGIN_BODY = 'hello from the origin';

/** The default answer: small, text, and cacheable by any cache (so tests can see it made private). */
function answerDefault(req, res) {
  res.writeHead(200, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'public, max-age=60',
    vary: 'Accept-Encoding',
  });
  res.end(ORIGIN_BODY);
}

/**
 * Starts the origin. Returns `{ url, requests, reset(), stop() }`; `requests` is the list of
 * `{ method, url, headers, rawHeaders, body }` received since the last `reset()`, oldest first.
 */
export async function startOrigin({ routes = {} } = {}) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const route = routes[new URL(req.url, 'http://origin').pathname] ?? answerDefault;
      route(req, res);
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

/**
 * The values a received request carried for a header, as a CGI/WSGI server reads names:
 * case-insensitive, `_` the same as `-`. Every occurrence counts, in order.
 */
export function headerValues(req, name) {
  const wanted = name.toLowerCase().replaceAll('_', '-');
  const values = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase().replaceAll('_', '-') === wanted) values.push(req.rawHeaders[i + 1]);
  }
  return values;
}

/**
 * A route handler serving `body` (a Buffer or string) with status 200 and `Content-Type: type`,
 * as an app server would: compressed when `encoding` is `gzip` or `br` (`Content-Encoding` set,
 * whatever the request accepts), streamed in pieces of `chunk` bytes (of the compressed bytes)
 * with `pauseMs` between them when given, otherwise in one write. A page written in one go
 * uncompressed has a `Content-Length`; a compressed or streamed one is sent chunked, as
 * compressing and streaming servers do. `headers` adds headers.
 */
export function servePage({ type, body, encoding, chunk, pauseMs = 1, headers = {} }) {
  const plain = Buffer.from(body);
  const sent = encoding === 'gzip' ? zlib.gzipSync(plain) : encoding === 'br' ? zlib.brotliCompressSync(plain) : plain;
  return (req, res) => {
    res.writeHead(200, {
      'content-type': type,
      ...(encoding ? { 'content-encoding': encoding } : {}),
      ...(encoding || chunk ? {} : { 'content-length': sent.length }),
      ...headers,
    });
    if (!chunk) {
      res.end(sent);
      return;
    }
    let at = 0;
    const next = () => {
      if (at >= sent.length || res.destroyed) {
        res.end();
        return;
      }
      res.write(sent.subarray(at, at + chunk));
      at += chunk;
      setTimeout(next, pauseMs);
    };
    next();
  };
}
