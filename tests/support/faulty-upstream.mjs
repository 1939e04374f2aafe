// A stand-in for a PostgREST having a bad minute, for fault tests only (never as proof that
// something works): it hangs, answers 500, a proxy's 502 page, or garbage, as `mode` says.

import http from 'node:http';
import { freePort } from '../../scripts/stack.mjs';

const ANSWERS = {
  500: [500, 'application/json', '{"code":"XX000","message":"internal error"}'],
  malformed: [200, 'application/json', '{"id":"18a302ca-c89c-4315-ab63'],
  // A proxy in front of PostgREST failing: an HTML error page with a 5xx status (a page with a
  // 2xx-4xx status means the URL leads elsewhere: misconfigured, tests/misconfig.test.mjs).
  html: [502, 'text/html', '<html><body>502 Bad Gateway</body></html>'],
  'wrong-shape': [200, 'application/json', '[{"unexpected":true}]'],
  'leaky-row': [
    200,
    'application/vnd.pgrst.object+json',
    JSON.stringify({
      id: '18a302ca-c89c-4315-ab63-44e4f389b55e',
      slug: 'leaky',
      display_name: 'Leaky',
      tenant_type: 'coach',
      custom_domain: null,
      enabled_assessments: [],
      brand_config: {},
      email_config: { replyTo: 'secret@example.com' },
    }),
  ],
};

/** Starts the stand-in on a free loopback port. `mode` may be changed at any time. */
export async function startFaultyUpstream(mode = 'hang') {
  const port = await freePort();
  const upstream = { mode, requests: 0, url: `http://127.0.0.1:${port}` };
  const server = http.createServer((req, res) => {
    upstream.requests += 1;
    if (upstream.mode === 'hang') return; // accept, never answer
    const [status, type, body] = ANSWERS[upstream.mode];
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  upstream.stop = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  };
  return upstream;
}
