// The README's first command: the local stack, seeded, with the Worker on 127.0.0.1:8787.
// Writes .dev.vars (git-ignored) so a hand-run `wrangler dev` finds the same PostgREST and key.
// Ctrl-C or SIGTERM stops every process it started.

import fs from 'node:fs';
import path from 'node:path';
import { ROOT, startStack } from './stack.mjs';

const port = Number(process.env.PORT ?? 8787);
let stack;
let stopping = false;

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  console.error('\n[dev] stopping the stack…');
  await stack?.stop();
  console.error('[dev] stopped');
  process.exit(code);
}

process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

try {
  stack = await startStack({ seed: true, demo: true, workerPort: port, echo: true, vars: { PLATFORM_DOMAIN: 'localhost' } });
} catch (e) {
  console.error(`[dev] the stack did not start:\n${e.message}`);
  process.exit(1);
}

fs.writeFileSync(path.join(ROOT, '.dev.vars'), [
  '# Written by scripts/dev for this run of the local stack; git-ignored.',
  `SUPABASE_REST_URL=${stack.postgrest.url}`,
  `SUPABASE_ANON_KEY=${stack.anonKey}`,
  '',
].join('\n'));

for (const p of stack.processes) {
  p.once('exit', (code) => {
    if (!stopping) {
      console.error(`[dev] ${p.label} exited unexpectedly (${code})`);
      shutdown(1);
    }
  });
}

const w = stack.worker.url;
console.log(`
Local stack is up. Open a coach's site in a browser, branded from the first paint:
  http://coach.northstar.localhost:${port}/
  http://acme-leadership.localhost:${port}/

Or try:
  curl '${w}/_tenant/health?deep=1'
  curl '${w}/_tenant/slug/leadingwithmeaning'
  curl -H 'Host: coach.northstar.localhost' '${w}/_tenant/brand.json'
  curl 'http://acme-leadership.localhost:${port}/_tenant/brand.json'

  PostgREST   ${stack.postgrest.url}
  demo app    ${stack.demo.url}  (the origin tenant pages are forwarded to)
  Postgres    ${stack.dbUrl}  (PostgreSQL ${stack.pg.version}, as postgres: not a superuser)
  JWT secret  ${stack.jwtSecret}  (mint user tokens with it)
  anon key    ${stack.anonKey}

Ctrl-C stops everything.`);
