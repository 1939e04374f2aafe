// A pass-through HTTP proxy in front of the real PostgREST, one per simulated data center, that
// records what each data center asked: several Workers share one PostgREST, whose access log
// cannot tell them apart. It forwards every request unchanged and streams the answer back; it
// never answers for PostgREST. For fault tests it can hold answers back (`slow`): PostgREST
// having a bad minute, every answer (or only the feed's) arriving late but intact.

import http from 'node:http';

/** Whether a PostgREST request path is a read of the change feed. */
export const isFeedRead = (path) => path.startsWith('/rpc/tenant_changes_since');
/** Whether it is a lookup of a tenant: by slug or id in tenant_profiles, by domain in tenant_domains. */
const isTenantRead = (path) => path.startsWith('/tenant_profiles') || path.startsWith('/tenant_domains');

/**
 * Starts a proxy to `target` (PostgREST's URL) on a free loopback port. Returns
 * `{ url, requests, feedReads(), tenantReads(lookup?), slow(ms, which?), reset(), stop() }`;
 * `requests` lists `{ method, path, lookup }` (`lookup` is the x-tenant-lookup header), oldest
 * first.
 */
export async function startCountingProxy(target) {
  const upstream = new URL(target);
  const requests = [];
  let delay = { ms: 0, applies: () => false };
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method, path: req.url, lookup: req.headers['x-tenant-lookup'] });
    const holdMs = delay.applies(req.url) ? delay.ms : 0;
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        const send = () => {
          if (res.destroyed) return answer.resume();
          res.writeHead(answer.statusCode, answer.headers);
          answer.pipe(res);
        };
        if (holdMs > 0) setTimeout(send, holdMs);
        else send();
      },
    );
    forward.on('error', () => {
      if (res.destroyed) return;
      res.writeHead(502);
      res.end();
    });
    res.on('error', () => {});
    req.pipe(forward);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const count = (predicate) => requests.filter(predicate).length;
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    /** Reads of the change feed. */
    feedReads: () => count((r) => isFeedRead(r.path)),
    /** Reads of tenants (of one, when `lookups` lists the x-tenant-lookup values it goes by). */
    tenantReads: (lookups) => count((r) => isTenantRead(r.path) && (!lookups || lookups.includes(r.lookup))),
    /**
     * Holds every answer `ms` back from now on (`which: 'feed'`: only the feed's; `ms` 0: none).
     * PostgREST answers at once; the proxy sends it on late, as a slow link or pool would.
     */
    slow: (ms, which = 'all') => {
      delay = { ms, applies: which === 'feed' ? isFeedRead : () => true };
    },
    reset: () => {
      requests.length = 0;
    },
    stop: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
