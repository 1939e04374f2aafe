// A pass-through HTTP proxy in front of the real PostgREST, one per simulated data center, that
// records what each data center asked: several Workers share one PostgREST, whose access log
// cannot tell them apart. It forwards every request unchanged and streams the answer back; it
// never answers for PostgREST.

import http from 'node:http';

/**
 * Starts a proxy to `target` (PostgREST's URL) on a free loopback port. Returns
 * `{ url, requests, feedReads(), tenantReads(lookup?), reset(), stop() }`; `requests` lists
 * `{ method, path, lookup }` (`lookup` is the x-tenant-lookup header), oldest first.
 */
export async function startCountingProxy(target) {
  const upstream = new URL(target);
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method, path: req.url, lookup: req.headers['x-tenant-lookup'] });
    const forward = http.request({
      host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers,
    }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const count = (predicate) => requests.filter(predicate).length;
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    /** Reads of the change feed. */
    feedReads: () => count((r) => r.path.startsWith('/rpc/tenant_changes_since')),
    /** Reads of tenants (of one, when `lookups` lists the x-tenant-lookup values it goes by). */
    tenantReads: (lookups) => count((r) => r.path.startsWith('/tenant_profiles') && (!lookups || lookups.includes(r.lookup))),
    reset: () => {
      requests.length = 0;
    },
    stop: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
