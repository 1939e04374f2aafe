// The README's first command: the local stack, seeded, with the Worker on 127.0.0.1:PORT (8787)
// and the control plane on 127.0.0.1:CONTROL_PORT (PORT + 1), Cloudflare played by a local
// stand-in that verifies domains through the Worker. With SUPABASE_URL and SUPABASE_ANON_KEY
// set, the Workers run against that Supabase (`supabase start`'s, or a hosted project) instead
// of the embedded database ("attach mode"). Writes .dev.vars and control/.dev.vars (git-ignored)
// so a hand-run `wrangler dev` finds the same Supabase, origin and settings.
//
// The console: one line per request from the Worker's request event, the control plane's cron
// reports, the Workers' warnings and errors; `--quiet` keeps only the last. Ctrl-C or SIGTERM
// stops every process it started, also while the stack is still starting.
//
// `scripts/dev` runs `node scripts/dev.mjs --check-ports` first, before installing anything: a
// port in use is refused before anything is started or written.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT, attachStack, mintJwt, startStack, stopEverything } from './stack.mjs';

const USAGE =
  'usage: [PORT=8787] [CONTROL_PORT=PORT+1] [SUPABASE_URL=… SUPABASE_ANON_KEY=… [SUPABASE_DB_URL=…] [SUPABASE_SECRET_KEY=…]] scripts/dev [--quiet]';
/** How often the Cron Trigger runs here (every minute when deployed): domains move quicker. */
const CRON_EVERY_MS = 10_000;
const NORA = { user: '22222222-2222-4222-8222-222222222222', tenant: '7e000000-0000-4000-8000-000000000002' };

const say = (message) => console.error(`[dev] ${message}`);
function fail(message) {
  console.error(`[dev] error: ${message}`);
  process.exit(1);
}

/**
 * The command's settings from its arguments and environment, or a message saying what is
 * wrong: the ports, `--quiet`, and the Supabase to attach to (null: the embedded stack).
 */
function readSettings(argv, env) {
  const flags = new Set(argv);
  for (const flag of flags) {
    if (!['--quiet', '--check-ports'].includes(flag)) fail(`unknown argument ${flag}\n${USAGE}`);
  }
  const portOf = (name, fallback) => {
    const value = env[name] || String(fallback);
    const port = Number(value);
    if (!/^\d+$/.test(value) || port < 1 || port > 65535) fail(`${name}=${value} is not a port (1 to 65535)\n${USAGE}`);
    return port;
  };
  const port = portOf('PORT', 8787);
  const controlPort = portOf('CONTROL_PORT', port + 1);
  if (controlPort === port) fail(`PORT and CONTROL_PORT are both ${port}: give each its own`);
  const set = (name) => (env[name] ?? '').trim() || undefined;
  const attach = {
    url: set('SUPABASE_URL'),
    anonKey: set('SUPABASE_ANON_KEY'),
    dbUrl: set('SUPABASE_DB_URL'),
    secretKey: set('SUPABASE_SECRET_KEY'),
  };
  if (!attach.url) {
    const stray = ['SUPABASE_ANON_KEY', 'SUPABASE_DB_URL', 'SUPABASE_SECRET_KEY'].filter(set);
    if (stray.length)
      fail(
        `${stray.join(' and ')} set without SUPABASE_URL: set SUPABASE_URL too (attach mode), or unset ${stray.length > 1 ? 'them' : 'it'} (the embedded stack)`,
      );
  } else {
    if (!/^https?:\/\/[^/]/.test(attach.url))
      fail(`SUPABASE_URL=${attach.url} is not an http(s) URL (the project URL, e.g. http://127.0.0.1:54321)`);
    if (/\/rest\/v1\/?$/.test(attach.url)) fail(`SUPABASE_URL=${attach.url}: give the project URL, without /rest/v1 (the Workers add it)`);
    if (!attach.anonKey)
      fail('SUPABASE_URL is set without SUPABASE_ANON_KEY (the anon or publishable key; `npx supabase status -o env` prints ANON_KEY)');
  }
  return {
    port,
    controlPort,
    quiet: flags.has('--quiet'),
    checkOnly: flags.has('--check-ports'),
    attach: attach.url ? attach : null,
  };
}

/** Whether something listens on 127.0.0.1:`port` (where wrangler binds), or we may not bind it. */
function busy(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (e) => resolve(e.code ?? 'unavailable'));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(null)));
  });
}

/** Refuses, naming the port and what to do, when one the Workers need is taken. */
async function refuseBusyPorts({ port, controlPort, attach }) {
  const wanted = [['PORT', port, "the Worker's"]];
  if (!attach || attach.secretKey) wanted.push(['CONTROL_PORT', controlPort, "the control plane's"]);
  for (const [name, p, whose] of wanted) {
    const why = await busy(p);
    if (!why) continue;
    let free = port + 10;
    while (free < 65534 && ((await busy(free)) || (await busy(free + 1)))) free += 10;
    const command = process.env.CONTROL_PORT ? `PORT=${free} CONTROL_PORT=${free + 1} scripts/dev` : `PORT=${free} scripts/dev`;
    const state = why === 'EADDRINUSE' ? 'is in use' : `cannot be used (${why})`;
    fail(
      `port ${p} (${name}, ${whose}) ${state}: another scripts/dev or wrangler dev may be running.\n` +
        `[dev] Stop it, or run on free ports: ${command}\n` +
        '[dev] Nothing was started or written.',
    );
  }
}

/** `postgres://user:password@host/db` without the password, for the banner. */
const redacted = (url) => url.replace(/^(\w+:\/\/[^:/@]+):[^@]*@/, '$1:***@');

/**
 * The line scripts/dev shows for a request event of the Worker (`src/event.rs`):
 * `GET coach.northstar.localhost / → 200 northstar (hit) 3 ms`. The host without its port (all
 * requests come to PORT); the tenant's slug, and the error code of an error the Worker answered.
 */
function requestLine(event) {
  const host = (event.host ?? '-').replace(/:\d+$/, '');
  const outcome = [event.status, event.tenant_slug, event.error_code].filter((x) => x !== null && x !== undefined);
  if (outcome.length === 1) outcome.push('-');
  return `${event.method} ${host} ${event.path ?? '-'} → ${outcome.join(' ')} (${event.cache}) ${event.duration_ms} ms`;
}

/** wrangler's own lines that say nothing a developer needs: its banner, bindings, reloads, per-request lines. */
const NOISE = [
  /^\s*⛅️ wrangler /,
  /^─+$/,
  /^\[custom build\]/,
  /^Using (secrets|vars) defined in /,
  /^Your Worker has access to the following bindings/,
  /^Binding\s+Resource\s+Mode/,
  /^env\.\w+ \(.*\)\s+Environment Variable/,
  /^No bindings found/,
  /^The file .* changed, restarting build/,
  /^⎔ (Starting|Reloading|Shutting down)/,
  /^\[wrangler:info\]/,
  /^Ran scheduled event/,
  /update available/,
  // With the Analytics Engine recorder beside it in one `wrangler dev`, wrangler lists both
  // Workers' bindings, and the service binding to the recorder as "not connected": it is, in
  // this same process (tests/support/analytics.mjs).
  /has access to the following bindings:$/,
  /^env\.ANALYTICS \(analytics-recorder-/,
  /^Service bindings, Durable Object bindings, and Tail consumers connect to/,
];

/**
 * What scripts/dev shows of a line of a Worker's wrangler output (`name`: resolver or control),
 * or null: a request event as `requestLine` (once the stack is up: not its own readiness
 * checks), the control plane's events as `controlLine`, wrangler's noise dropped, anything else
 * (warnings, errors) as it is.
 */
function shown(name, line, quiet) {
  // Several Workers in one `wrangler dev` (the resolver and its analytics recorder): each
  // line the Worker logs comes prefixed with its name.
  const text = line.trim().replace(/^\[tenant-resolver\] /, '');
  if (!text || NOISE.some((re) => re.test(text))) return null;
  if (text.startsWith('{"event":"request"')) {
    if (quiet || !up) return null;
    try {
      return requestLine(JSON.parse(text));
    } catch {
      return `[${name}] ${text}`;
    }
  }
  if (name === 'control' && text.startsWith('{"event":')) return controlLine(text, quiet);
  return `[${name}] ${text}`;
}

/**
 * What scripts/dev shows of one of the control plane's events (`control/src/event.rs`): a cron
 * run as `[cron] lookups 0, proven 0, …, cloudflare calls 0 (12 ms)` (off with `quiet` unless
 * it is a warning or an error); any other event only when it is a warning or an error, as it is.
 */
function controlLine(text, quiet) {
  let event;
  try {
    event = JSON.parse(text);
  } catch {
    return `[control] ${text}`;
  }
  const info = event.level === 'info';
  if (event.event !== 'cron') return info || !up ? null : `[control] ${text}`;
  if (quiet && info) return null;
  const steps = ['lookups', 'proven', 'created', 'updated', 'vanished', 'refused', 'expired', 'deleted', 'failed'];
  const counts = steps.map((step) => `${step} ${event[step]}`).join(', ');
  const stopped = event.halt ? `; stopped: ${event.halt}${event.detail ? ` (${event.detail})` : ''}` : '';
  const problems = event.problems?.length ? `; ${event.problems.map((p) => `${p.hostname}: ${p.kind} ${p.detail}`).join('; ')}` : '';
  const level = info ? '' : `${event.level}: `;
  return `[cron] ${level}${counts}, cloudflare calls ${event.cloudflare_calls} (${event.duration_ms} ms)${stopped}${problems}`;
}

/** A build's progress lines (`buildWorker`'s `stream`), announced once it turns out to be a real build. */
function buildProgress(what, quiet) {
  let announced = false;
  return (line) => {
    if (/is up to date with its sources/.test(line)) return;
    if (!announced) {
      announced = true;
      say(`building ${what}'s Wasm (the first build takes a few minutes)…`);
    }
    if (!quiet) console.error(`[build] ${line}`);
  };
}

/** Waits for `url` to answer (any status, unless `ok` says otherwise); throws naming `what`. */
async function answered(what, url, { headers = {}, ok = () => true } = {}) {
  let res;
  let body;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(15_000) });
    body = await res.text();
  } catch (e) {
    throw new Error(`${what} did not answer ${url}: ${e.cause?.message ?? e.message}`);
  }
  if (!ok(res)) throw new Error(`${what} answered ${url} with ${res.status}: ${body.slice(0, 500)}`);
}

/** Every component answered: PostgREST, the demo app, the Worker (deep health), the control plane. */
async function checkUp(stack, attach) {
  const ok = (res) => res.ok;
  if (attach) {
    const headers = {
      apikey: attach.anonKey,
      ...(attach.anonKey.split('.').length === 3 ? { authorization: `Bearer ${attach.anonKey}` } : {}),
    };
    try {
      await answered('PostgREST', `${stack.supabaseUrl}/rest/v1/tenant_profiles?select=slug&limit=0`, { headers, ok });
    } catch (e) {
      throw new Error(
        `${e.message}\n(are the migrations pushed? set SUPABASE_DB_URL to push them, with the seed; is SUPABASE_ANON_KEY this project's?)`,
      );
    }
  } else {
    await answered('PostgREST', `${stack.postgrest.url}/`, { ok });
  }
  await answered('the demo app', `${stack.demo.url}/`);
  await answered('the Worker', `${stack.worker.url}/_tenant/health?deep=1`, { ok });
  if (stack.control) await answered('the control plane', `${stack.control.url}/health?deep=1`, { ok });
}

/** A .dev.vars file of `vars` (unset ones left out). */
function writeDevVars(file, vars) {
  const lines = [
    '# Written by scripts/dev for this run of the local stack; git-ignored. Everything a hand-run',
    "# `wrangler dev` needs for the README's examples, while scripts/dev runs.",
    ...Object.entries(vars)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `${k}=${v}`),
    '',
  ];
  fs.writeFileSync(file, lines.join('\n'));
}

const settings = readSettings(process.argv.slice(2), process.env);
await refuseBusyPorts(settings);
if (settings.checkOnly) process.exit(0);

const { port, controlPort, quiet, attach } = settings;
let up = false;
let stack;
let cron;
let stopping = false;

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  clearInterval(cron);
  console.error('\n[dev] stopping the stack…');
  await stack?.stop();
  await stopEverything();
  console.error('[dev] stopped');
  process.exit(code);
}

process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

/** A Worker's `startWorker` options for its output: its console (`shown`) and its build's progress. */
const output = (name, what) => ({
  logLevel: 'log',
  echo: (line) => {
    const out = shown(name, line, quiet);
    if (out) console.log(out);
  },
  build: { stream: buildProgress(what, quiet) },
});
const withControl = !attach || Boolean(attach.secretKey);
const options = {
  seed: true,
  demo: true,
  // The resolver's data points go to a local stand-in for Analytics Engine, which the control
  // plane's GET /analytics queries: traffic here shows in the demo coach's analytics.
  analytics: true,
  workerPort: port,
  ...output('resolver', 'the resolver'),
  vars: { PLATFORM_DOMAIN: 'localhost' },
  control: withControl && {
    port: controlPort,
    ...output('control', 'the control plane'),
    vars: { DASHBOARD_ORIGIN: `http://localhost:${port},http://127.0.0.1:${port}` },
    // Every `*.localhost` is the platform's here (PLATFORM_DOMAIN=localhost), so coaches'
    // domains are `*.test`, which the stand-in accepts (Cloudflare refuses reserved top
    // domains); it keeps verifying on its own, as Cloudflare does.
    cloudflare: { allowTopDomains: ['test'], autoAdvanceMs: 2000 },
  },
};

try {
  if (attach) {
    say(
      `attaching to the Supabase at ${attach.url}${attach.dbUrl ? `, pushing the migrations and the seed to ${redacted(attach.dbUrl)}` : ''}`,
    );
    if (!withControl) say('no SUPABASE_SECRET_KEY: the control plane (custom domains) is not started');
    stack = await attachStack({ ...options, ...attach });
  } else {
    say('starting the embedded stack: Postgres, the migrations and the seed, PostgREST, the demo app, the Workers');
    stack = await startStack(options);
  }
  await checkUp(stack, attach);
} catch (e) {
  if (stopping) await new Promise(() => {}); // shutdown() exits
  console.error(`[dev] the stack did not start:\n${e.message}`);
  await stack?.stop();
  await stopEverything();
  process.exit(1);
}

const { control } = stack;
if (control) cron = setInterval(() => control.scheduled().catch((e) => console.error(`[dev] cron: ${e.message}`)), CRON_EVERY_MS);

up = true;
writeDevVars(path.join(ROOT, '.dev.vars'), stack.workerVars);
if (control) writeDevVars(path.join(ROOT, 'control', '.dev.vars'), control.vars);

for (const p of stack.processes) {
  p.once('exit', (code) => {
    if (!stopping) {
      console.error(`[dev] ${p.label} exited unexpectedly (${code})`);
      shutdown(1);
    }
  });
}

const w = stack.worker.url;
const supabase = attach
  ? `${attach.url} (attached${attach.dbUrl ? `; migrations and seed pushed to ${redacted(attach.dbUrl)}` : ''})`
  : `the embedded stack: PostgreSQL ${stack.pg.version} at ${stack.dbUrl} (as postgres: not a superuser), PostgREST at ${stack.postgrest.url}`;
const lines = [
  '',
  `Local stack is up. Supabase: ${supabase}.`,
  '',
  "Open a coach's site in a browser, branded from the first paint:",
  `  http://coach.northstar.localhost:${port}/`,
  `  http://acme-leadership.localhost:${port}/`,
  '',
  'Or try:',
  `  curl '${w}/_tenant/health?deep=1'`,
  `  curl '${w}/_tenant/slug/leadingwithmeaning'`,
  `  curl -H 'Host: coach.northstar.localhost' '${w}/_tenant/brand.json'`,
  `  curl 'http://acme-leadership.localhost:${port}/_tenant/brand.json'`,
  '',
  quiet
    ? 'Requests are not shown (--quiet); warnings and errors are.'
    : 'Each request shows as a line: method, host, path → status, tenant (or error), (cache), time.',
];
if (control && !attach) {
  const dnsAdmin = control.dns.url.replace(/\/dns-query$/, '/records');
  const nora = mintJwt(stack.jwtSecret, { sub: NORA.user, role: 'authenticated', aud: 'authenticated' });
  lines.push(
    '',
    `Custom domains: the control plane on ${control.url}, Cloudflare played by a local stand-in`,
    `(${control.cloudflare.url}) that verifies a domain through the Worker, as Cloudflare does, and`,
    `DNS by another (${control.dns.url}). The cron runs every ${CRON_EVERY_MS / 1000} s here ([cron] lines).`,
    'Signed in as Nora (Northstar Coaching), open the Domains page:',
    `  http://localhost:${port}/domains#api=${encodeURIComponent(control.url)}&token=${nora}`,
    'and add e.g. coach.nora.test. It waits for its TXT record: publish the one the page shows at the',
    'DNS stand-in, as a coach would at their DNS host,',
    `  curl -X PUT ${dnsAdmin}/_localhost-challenge.coach.nora.test/TXT -d '["<the token shown>"]'`,
    'and it turns active within a minute; then (no DNS for .test here: name the host yourself)',
    `  curl -H 'Host: coach.nora.test' '${w}/_tenant/brand.json'`,
    'The same through the API:',
    `  export NORA='${nora}'`,
    `  curl -X POST ${control.url}/domains -H "Authorization: Bearer $NORA" -H 'Content-Type: application/json' \\`,
    `    -d '{"tenantId":"${NORA.tenant}","hostname":"coach.nora.test"}'`,
    `  curl -H "Authorization: Bearer $NORA" '${control.url}/domains?tenant_id=${NORA.tenant}'`,
    `  curl '${control.url}/__scheduled?cron=*+*+*+*+*'     # run the Cron Trigger now`,
    'Her brand (edit, preview on her site, publish, history, maintenance) on the Branding page:',
    `  http://localhost:${port}/branding#api=${encodeURIComponent(control.url)}&token=${nora}`,
    "Northstar's traffic on this stack, by hour (the Domains page charts it per domain):",
    `  curl -H "Authorization: Bearer $NORA" "${control.url}/analytics?tenant_id=${NORA.tenant}&since=$(date -u -d '-1 day' +%Y-%m-%dT%H:00:00Z 2>/dev/null || date -u -v-1d +%Y-%m-%dT%H:00:00Z)&bucket=hour"`,
  );
} else if (control) {
  const dnsAdmin = control.dns.url.replace(/\/dns-query$/, '/records');
  lines.push(
    '',
    `Custom domains: the control plane on ${control.url} with your project's secret key, Cloudflare`,
    `played by a local stand-in (${control.cloudflare.url}) and DNS by another (${control.dns.url}).`,
    `The cron runs every ${CRON_EVERY_MS / 1000} s here ([cron] lines). A coach of your project uses the Domains page with`,
    "their access token (a Supabase Auth session's access_token):",
    `  http://localhost:${port}/domains#api=${encodeURIComponent(control.url)}&token=<access token>`,
    `and publishes a claim's TXT record at the DNS stand-in: curl -X PUT ${dnsAdmin}/<name>/TXT -d '["<token>"]'`,
  );
} else {
  lines.push('', 'Custom domains: not started (the control plane needs SUPABASE_SECRET_KEY).');
}
lines.push(
  '',
  `  demo app    ${stack.demo.url}  (the origin tenant pages are forwarded to; it refuses what the`,
  `              Worker did not sign: curl -i ${stack.demo.url}/ -H 'X-Tenant-Id: anyone' is 401)`,
  `  signing     ORIGIN_SIGNING_SECRET=${stack.signingSecret}`,
  ...(attach ? [] : [`  JWT secret  ${stack.jwtSecret}  (mint user tokens with it)`]),
  `  anon key    ${stack.anonKey}`,
  `  .dev.vars${control ? ' and control/.dev.vars' : ''} written for a hand-run \`wrangler dev\``,
  '',
  'Ctrl-C stops everything.',
);
console.log(lines.join('\n'));
