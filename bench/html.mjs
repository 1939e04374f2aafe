// The forwarded-page path (issues 11, 12, 18 and 26): an app page through the resolver, branded
// or not (INJECT_BRANDING), signed or not (ORIGIN_SIGNING_SECRET), beside a pass-through Worker
// (bench/passthrough: `fetch(new Request(origin + path, request))`, what any forwarding Worker
// costs at the least) and the JS peer (bench/js-peer: the same job, branded and signed, as a
// team would write it in JS with HTMLRewriter and Web Crypto), in interleaved rounds on the
// Workers' own workerd (wrangler's proxy bypassed). The origin is a keep-alive node server
// answering a 7 KiB page; requests carry a browser's headers.
//
// Every page view of every coach's site takes this path, so what matters is the CPU each
// answer costs the Worker (what Cloudflare bills, and what adds to every page's latency): the
// utime + stime of the Worker's own workerd process over a run, divided by its answers, at a
// paced load (each connection pausing between requests, so the isolate is never saturated).
// Before measuring, the DevTools Network domain that wrangler's inspector turns on is turned
// off again (bench/devtools.mjs): production has no such session, and it doubles the cost of
// a subrequest.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { addWorker, directUrl, startWorker } from '../scripts/stack.mjs';
import { portOwner } from '../scripts/proc.mjs';
import { request } from '../tests/support/http.mjs';
import { verifyTenantRequest } from '../origin/verify.mjs';
import { quietDevTools } from './devtools.mjs';

const BENCH = path.dirname(new URL(import.meta.url).pathname);

/** A typical app page of about 7 KiB: a head with a few tags, a body of questions. */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Leadership assessment</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header><a class="logo" href="/"></a><nav><a href="/">Home</a><a href="/assessment">Assessment</a></nav></header>
<main>
${Array.from({ length: 28 }, (_, i) => `<section class="question"><h2>Question ${i + 1}</h2><p>When the team disagrees, I make sure every view has been heard before we decide, and I say what I will do next.</p></section>`).join('\n')}
</main>
</body>
</html>
`;

/** What a signed variant signs with. */
const SECRET = 'bench-origin-signing-secret-0123456789abcdef';

/** The variants: the pass-through and the JS peer first, then the resolver's. */
export const HTML_NAMES = [
  'passthrough',
  'js_peer',
  'branded_signed',
  'quiet_signed',
  'before_signed',
  'branded',
  'unbranded_signed',
  'unbranded',
];
/** Resolver variants run from another configuration, each like one of the above: bench/quiet
 * (events and analytics off) and, with BENCH_BEFORE, an earlier build (`before_signed`). */
const QUIET = { quiet_signed: 'branded_signed', before_signed: 'branded_signed' };
/** The JS Workers of this section, with their own wrangler.toml, and what each is started with. */
const JS_WORKERS = {
  passthrough: () => ({}),
  js_peer: () => ({ ORIGIN_SIGNING_SECRET: SECRET }),
};
/** What the check request sends besides Host: what each Worker forwards is compared. */
const CHECK_HEADERS = {
  accept: 'text/html,application/xhtml+xml',
  'if-none-match': '"an-older-page"',
  cookie: 'theme=light',
  'x-tenant-id': 'forged',
  'x-forwarded-host': 'forged.example',
  'x-real-ip': '192.0.2.1',
};
/** The resolver's `select` of a tenant's public row (src/tenant.rs, PUBLIC_SELECT). */
const PUBLIC_SELECT =
  'id,slug,displayName:display_name,tenantType:tenant_type,customDomain:custom_domain,enabledAssessments:enabled_assessments,brand:brand_config';
const SETTINGS = {
  branded_signed: { ORIGIN_SIGNING_SECRET: SECRET },
  branded: {},
  unbranded_signed: { INJECT_BRANDING: 'false', ORIGIN_SIGNING_SECRET: SECRET },
  unbranded: { INJECT_BRANDING: 'false' },
};

/**
 * The JS peer's tenants (bench/js-peer/tenants.json): each of `tenants` (the fixture's rows) as
 * `{ host, id, slug, json }`, `json` its public JSON exactly as PostgREST serves it to the
 * resolver (one object per request, the resolver's `select`), so the peer injects the same bytes.
 */
async function writePeerTenants(stack, tenants) {
  const headers = { apikey: stack.anonKey, authorization: `Bearer ${stack.anonKey}`, accept: 'application/vnd.pgrst.object+json' };
  const rows = [];
  for (let i = 0; i < tenants.length; i += 16) {
    const batch = tenants.slice(i, i + 16).map(async (t) => {
      // x-tenant-lookup: the anon key sees only the row a request names (the tenant_profiles policy).
      const res = await fetch(`${stack.postgrest.url}/tenant_profiles?select=${PUBLIC_SELECT}&id=eq.${t.id}`, {
        headers: { ...headers, 'x-tenant-lookup': `id:${t.id}` },
      });
      if (!res.ok) throw new Error(`PostgREST: tenant ${t.id} answered ${res.status}`);
      return { host: t.customDomain, id: t.id, slug: t.slug, json: (await res.text()).trim() };
    });
    rows.push(...(await Promise.all(batch)));
  }
  fs.writeFileSync(path.join(BENCH, 'js-peer', 'tenants.json'), JSON.stringify(rows));
}

/**
 * Starts the origin and the Workers, checks what each answers (the JS peer: the resolver's
 * branded page, but for where data-tenant sits among <html>'s attributes), turns DevTools'
 * Network domain off in each, then measures them in `rounds` interleaved rounds of `seconds`
 * at a paced load (`connections` connections each pausing `delayMs`) with `load(worker, url,
 * targetsFile, seconds, options)`. `tenants`: the fixture's, for the JS peer's memory.
 */
export async function measureHtml(stack, { domain, tenants, rounds, seconds, load, say, dir, connections = 8, delayMs = 10, before }) {
  const names = HTML_NAMES.filter((n) => n !== 'before_signed' || before);
  // The last request the origin received, to check what each Worker forwards (an assignment
  // per request: nothing is read during the measured runs).
  let seen = null;
  const origin = http.createServer({ keepAlive: true }, (req, res) => {
    seen = { method: req.method, url: req.url, headers: req.headers };
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
    res.end(PAGE);
  });
  origin.keepAliveTimeout = 60_000;
  await new Promise((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const originUrl = `http://127.0.0.1:${origin.address().port}`;
  try {
    await writePeerTenants(stack, tenants);
    const started = {};
    for (const [name, vars] of Object.entries(JS_WORKERS)) {
      const config = path.join(BENCH, name.replace('_', '-'), 'wrangler.toml');
      started[name] = await startWorker({ dir, config, vars: { ORIGIN_URL: originUrl, ...vars() } });
      stack.processes.push(started[name].proc);
    }
    for (const name of names.filter((n) => !JS_WORKERS[n] && !QUIET[n]))
      started[name] = await addWorker(stack, { ORIGIN_URL: originUrl, ...SETTINGS[name] });
    for (const [name, like] of Object.entries(QUIET).filter(([n]) => names.includes(n))) {
      const config = name === 'before_signed' ? before : path.join(BENCH, 'quiet', 'wrangler.toml');
      started[name] = await startWorker({ dir, config, vars: { ...stack.workerVars, ORIGIN_URL: originUrl, ...SETTINGS[like] } });
      stack.processes.push(started[name].proc);
    }
    const workers = {};
    const pages = {};
    const forwarded = {};
    for (const name of names) {
      // The JS Workers have no health route: each is found by the page it forwards.
      const url = await directUrl(started[name], JS_WORKERS[name] ? { probe: '/', type: /html/ } : {});
      // Twice: the first finds the tenant (the resolver reads it from PostgREST), the second is
      // what every measured request is, a hit.
      await request(`${url}/?check=1`, { host: domain, headers: CHECK_HEADERS });
      const res = await request(`${url}/?check=1`, { host: domain, headers: CHECK_HEADERS });
      if (res.status !== 200) throw new Error(`${name}: / answered ${res.status}`);
      const branded = res.body.includes('id="tenant-brand"');
      if (branded !== (name.startsWith('branded') || name === 'js_peer' || Boolean(QUIET[name])))
        throw new Error(`${name}: branded ${branded}`);
      pages[name] = res;
      forwarded[name] = seen;
      if (SETTINGS[QUIET[name] ?? name]?.ORIGIN_SIGNING_SECRET || name === 'js_peer') {
        const verdict = await verifyTenantRequest(seen, { secret: SECRET });
        if (!verdict.ok) throw new Error(`${name}: the origin refuses its signature: ${verdict.reason}`);
      }
      const pid = portOwner(started[name].proc.pid, Number(new URL(url).port));
      if (!pid) throw new Error(`${name}: no process listens on ${url}`);
      await quietDevTools(started[name].inspectorPort);
      workers[name] = { name, url, pid, upstream: () => 0, bytes: res.bytes.length };
      say(`html: ${name} answers ${res.bytes.length} bytes on ${url} (workerd ${pid})`);
    }
    // The peer's page is the resolver's: the same block at the same place; only data-tenant may
    // sit elsewhere among <html>'s attributes (HTMLRewriter's setAttribute appends it). A page
    // that differs stops the run: the comparison would mean nothing.
    const bare = (page) => page.body.replace(/ data-tenant="[^"]*"/, '');
    if (bare(pages.js_peer) !== bare(pages.branded_signed))
      throw new Error(
        `js_peer: its page differs from the resolver's:\n${pages.js_peer.body.slice(0, 2000)}\n---\n${pages.branded_signed.body.slice(0, 2000)}`,
      );
    // Headers that differ, the origin's request's and the answer's, are reported (RESULTS.md)
    // rather than fatal, so a header the resolver adds later shows there instead of stopping the
    // run. Not compared: what differs by time or by the sending Worker's name, and the framing
    // (the resolver answers a page whose end has arrived as bytes, with its length; the peer
    // streams it through the rewriter, chunked).
    const VARIES = new Set(['date', 'x-tenant-signature', 'cf-worker', 'keep-alive', 'connection', 'content-length', 'transfer-encoding']);
    const differing = (a, b) => [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((h) => !VARIES.has(h) && a[h] !== b[h]).sort();
    const peerDiffers = {
      forwarded: differing(forwarded.js_peer.headers, forwarded.branded_signed.headers),
      answer: differing(pages.js_peer.headers, pages.branded_signed.headers),
    };
    for (const [what, names] of Object.entries(peerDiffers)) {
      for (const h of names)
        say(
          `html: js_peer's ${what} ${h}: ${pages.js_peer.headers[h] ?? forwarded.js_peer.headers[h] ?? '(none)'}, the resolver's: ${pages.branded_signed.headers[h] ?? forwarded.branded_signed.headers[h] ?? '(none)'}`,
        );
    }
    const targetsFile = path.join(dir, 'html-targets.txt');
    fs.writeFileSync(targetsFile, `/ ${domain}\n`);
    const options = (w) => ({ connections, delayMs, browser: true, pid: w.pid });
    for (const name of names) await load(workers[name], workers[name].url, targetsFile, 2, options(workers[name]));
    const runs = [];
    for (let round = 1; round <= rounds; round += 1) {
      const result = {};
      for (const name of names) {
        result[name] = await load(workers[name], workers[name].url, targetsFile, seconds, options(workers[name]));
        say(
          `html round ${round} ${name}: ${Math.round(result[name].rps)} req/s, ${result[name].cpuPerRequestUs.toFixed(0)} µs CPU per answer, p50 ${result[name].p50Ms.toFixed(2)} ms`,
        );
      }
      runs.push(result);
    }
    return {
      runs,
      connections,
      delayMs,
      bytes: Object.fromEntries(names.map((n) => [n, workers[n].bytes])),
      pageBytes: Buffer.byteLength(PAGE),
      peerDiffers,
    };
  } finally {
    origin.closeAllConnections();
    await new Promise((resolve) => origin.close(resolve));
  }
}
