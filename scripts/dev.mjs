// The README's first command: the local stack, seeded, with the Worker on 127.0.0.1:8787 and
// the control plane on 127.0.0.1:8788 (Cloudflare played by a local stand-in that verifies
// domains through the Worker). Writes .dev.vars and control/.dev.vars (git-ignored) so a
// hand-run `wrangler dev` finds the same PostgREST and keys. Ctrl-C or SIGTERM stops every
// process it started.

import fs from 'node:fs';
import path from 'node:path';
import { ROOT, mintJwt, startStack } from './stack.mjs';

const port = Number(process.env.PORT ?? 8787);
const controlPort = Number(process.env.CONTROL_PORT ?? port + 1);
/** How often the Cron Trigger runs here (every minute when deployed): domains move quicker. */
const CRON_EVERY_MS = 10_000;
const NORA = { user: '22222222-2222-4222-8222-222222222222', tenant: '7e000000-0000-4000-8000-000000000002' };
let stack;
let cron;
let stopping = false;

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  clearInterval(cron);
  console.error('\n[dev] stopping the stack…');
  await stack?.stop();
  console.error('[dev] stopped');
  process.exit(code);
}

process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

try {
  stack = await startStack({
    seed: true, demo: true, workerPort: port, echo: true, vars: { PLATFORM_DOMAIN: 'localhost' },
    control: {
      port: controlPort,
      echo: true,
      vars: { DASHBOARD_ORIGIN: `http://localhost:${port},http://127.0.0.1:${port}` },
      // Every `*.localhost` is the platform's here (PLATFORM_DOMAIN=localhost), so coaches'
      // domains are `*.test`, which the stand-in accepts (Cloudflare refuses reserved top
      // domains); it keeps verifying on its own, as Cloudflare does.
      cloudflare: { allowTopDomains: ['test'], autoAdvanceMs: 2000 },
    },
  });
} catch (e) {
  console.error(`[dev] the stack did not start:\n${e.message}`);
  process.exit(1);
}

const { control } = stack;
cron = setInterval(() => control.scheduled().catch((e) => console.error(`[dev] cron: ${e.message}`)), CRON_EVERY_MS);

const dotenv = (lines) => [...lines, ''].join('\n');
fs.writeFileSync(path.join(ROOT, '.dev.vars'), dotenv([
  '# Written by scripts/dev for this run of the local stack; git-ignored.',
  `SUPABASE_REST_URL=${stack.postgrest.url}`,
  `SUPABASE_ANON_KEY=${stack.anonKey}`,
  `ORIGIN_URL=${stack.demo.url}`,
  `ORIGIN_SIGNING_SECRET=${stack.signingSecret}`,
]));
fs.writeFileSync(path.join(ROOT, 'control', '.dev.vars'), dotenv([
  '# Written by scripts/dev for this run of the local stack; git-ignored.',
  ...Object.entries(control.vars).map(([k, v]) => `${k}=${v}`),
]));

for (const p of stack.processes) {
  p.once('exit', (code) => {
    if (!stopping) {
      console.error(`[dev] ${p.label} exited unexpectedly (${code})`);
      shutdown(1);
    }
  });
}

const w = stack.worker.url;
const dnsAdmin = control.dns.url.replace(/\/dns-query$/, '/records');
const nora = mintJwt(stack.jwtSecret, { sub: NORA.user, role: 'authenticated', aud: 'authenticated' });
console.log(`
Local stack is up. Open a coach's site in a browser, branded from the first paint:
  http://coach.northstar.localhost:${port}/
  http://acme-leadership.localhost:${port}/

Or try:
  curl '${w}/_tenant/health?deep=1'
  curl '${w}/_tenant/slug/leadingwithmeaning'
  curl -H 'Host: coach.northstar.localhost' '${w}/_tenant/brand.json'
  curl 'http://acme-leadership.localhost:${port}/_tenant/brand.json'

Custom domains: the control plane on ${control.url}, Cloudflare played by a local stand-in
(${control.cloudflare.url}) that verifies a domain through the Worker, as Cloudflare does, and
DNS by another (${control.dns.url}). The cron runs every ${CRON_EVERY_MS / 1000} s here.
Signed in as Nora (Northstar Coaching), open the Domains page:
  http://localhost:${port}/domains#api=${encodeURIComponent(control.url)}&token=${nora}
and add e.g. coach.nora.test. It waits for its TXT record: publish the one the page shows at the
DNS stand-in, as a coach would at their DNS host,
  curl -X PUT ${dnsAdmin}/_localhost-challenge.coach.nora.test/TXT -d '["<the token shown>"]'
and it turns active within a minute; then (no DNS for .test here: name the host yourself)
  curl -H 'Host: coach.nora.test' '${w}/_tenant/brand.json'
The same through the API:
  export NORA='${nora}'
  curl -X POST ${control.url}/domains -H "Authorization: Bearer $NORA" -H 'Content-Type: application/json' \\
    -d '{"tenantId":"${NORA.tenant}","hostname":"coach.nora.test"}'
  curl -H "Authorization: Bearer $NORA" '${control.url}/domains?tenant_id=${NORA.tenant}'
  curl '${control.url}/__scheduled?cron=*+*+*+*+*'     # run the Cron Trigger now

  PostgREST   ${stack.postgrest.url}
  demo app    ${stack.demo.url}  (the origin tenant pages are forwarded to; it refuses what the
              Worker did not sign: curl -i ${stack.demo.url}/ -H 'X-Tenant-Id: anyone' is 401)
  signing     ORIGIN_SIGNING_SECRET=${stack.signingSecret}
  Postgres    ${stack.dbUrl}  (PostgreSQL ${stack.pg.version}, as postgres: not a superuser)
  JWT secret  ${stack.jwtSecret}  (mint user tokens with it)
  anon key    ${stack.anonKey}

Ctrl-C stops everything.`);
