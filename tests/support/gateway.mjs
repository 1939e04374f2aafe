// A stand-in for Supabase's API gateway in front of PostgREST, shaped like the one `supabase
// start` and a hosted project serve at their project URL: PostgREST under `/rest/v1` (the
// prefix stripped), an `apikey` (header or query parameter) required and checked against the
// project's keys, and the gateway's own JSON answers for everything else. With it, the Workers
// run against a URL shaped like `SUPABASE_URL` (`scripts/dev`'s attach mode, the
// misconfiguration tests) instead of the bare PostgREST the embedded stack starts.

import http from 'node:http';
import { freePort } from '../../scripts/stack.mjs';

/** What the gateway answers itself, as Supabase's does (status, body). */
export const GATEWAY_ANSWERS = {
  noRoute: [404, { message: 'no Route matched with those values' }],
  noKey: [401, { message: 'No API key found in request', hint: 'No `apikey` request header or url param was found.' }],
  badKey: [401, { message: 'Invalid API key', hint: 'Double check your Supabase `anon` or `service_role` API key.' }],
};

/**
 * Starts the gateway on a free loopback port (or `port`), forwarding `/rest/v1/*` to `rest`
 * (PostgREST's URL). `keys`: the API keys the project has (the anon and service-role keys);
 * a request with another `apikey` is refused as the gateway refuses it. Returns `{ url, rest,
 * requests, stop }`: `url` is the project URL (what `SUPABASE_URL` holds), `rest` its PostgREST
 * (`url + '/rest/v1'`), `requests` how many requests reached it.
 */
export async function startGateway({ rest, keys, port }) {
  port ??= await freePort();
  const known = new Set(keys);
  const gateway = { url: `http://127.0.0.1:${port}`, rest: `http://127.0.0.1:${port}/rest/v1`, requests: 0 };
  const answer = (res, [status, body]) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    gateway.requests += 1;
    const url = new URL(req.url, gateway.url);
    if (url.pathname !== '/rest/v1' && !url.pathname.startsWith('/rest/v1/')) return answer(res, GATEWAY_ANSWERS.noRoute);
    const key = req.headers.apikey ?? url.searchParams.get('apikey');
    if (!key) return answer(res, GATEWAY_ANSWERS.noKey);
    if (!known.has(key)) return answer(res, GATEWAY_ANSWERS.badKey);
    const target = new URL(rest);
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: `${url.pathname.slice('/rest/v1'.length) || '/'}${url.search}`,
        headers: { ...req.headers, host: target.host },
      },
      (answerFrom) => {
        res.writeHead(answerFrom.statusCode, answerFrom.headers);
        answerFrom.pipe(res);
      },
    );
    upstream.on('error', () => answer(res, [502, { message: 'An invalid response was received from the upstream server' }]));
    req.pipe(upstream);
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  gateway.stop = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  };
  return gateway;
}
