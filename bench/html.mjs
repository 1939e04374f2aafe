// The forwarded-page path (issues 11, 12 and 18): an app page through the resolver, branded or
// not (INJECT_BRANDING), signed or not (ORIGIN_SIGNING_SECRET), beside a pass-through Worker
// (bench/passthrough: `fetch(new Request(origin + path, request))`, what any forwarding Worker
// costs at the least), in interleaved rounds on the Workers' own workerd (wrangler's proxy
// bypassed). The origin is a keep-alive node server answering a 7 KiB page; requests carry a
// browser's headers.
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
import { disableNetworkDomain } from './devtools.mjs';

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

/** The variants: the pass-through first, then the resolver's four. */
export const HTML_NAMES = ['passthrough', 'branded_signed', 'branded', 'unbranded_signed', 'unbranded'];
const SETTINGS = {
  branded_signed: { ORIGIN_SIGNING_SECRET: SECRET },
  branded: {},
  unbranded_signed: { INJECT_BRANDING: 'false', ORIGIN_SIGNING_SECRET: SECRET },
  unbranded: { INJECT_BRANDING: 'false' },
};

/**
 * Starts the origin and the Workers, checks what each answers, turns DevTools' Network domain
 * off in each, then measures them in `rounds` interleaved rounds of `seconds` at a paced load
 * (`connections` connections each pausing `delayMs`) with `load(worker, url, targetsFile,
 * seconds, options)`.
 */
export async function measureHtml(stack, { domain, rounds, seconds, load, say, dir, connections = 8, delayMs = 10 }) {
  const origin = http.createServer({ keepAlive: true }, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
    res.end(PAGE);
  });
  origin.keepAliveTimeout = 60_000;
  await new Promise((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const originUrl = `http://127.0.0.1:${origin.address().port}`;
  try {
    const started = {
      passthrough: await startWorker({
        dir,
        config: path.join(path.dirname(new URL(import.meta.url).pathname), 'passthrough', 'wrangler.toml'),
        vars: { ORIGIN_URL: originUrl },
      }),
    };
    stack.processes.push(started.passthrough.proc);
    for (const name of HTML_NAMES.slice(1)) started[name] = await addWorker(stack, { ORIGIN_URL: originUrl, ...SETTINGS[name] });
    const workers = {};
    for (const name of HTML_NAMES) {
      // The pass-through Worker has no health route: it is found by the page it forwards.
      const url = await directUrl(started[name], name === 'passthrough' ? { probe: '/', type: /html/ } : {});
      const res = await request(`${url}/`, { host: domain });
      if (res.status !== 200) throw new Error(`${name}: / answered ${res.status}`);
      const branded = res.body.includes('id="tenant-brand"');
      if (branded !== name.startsWith('branded')) throw new Error(`${name}: branded ${branded}`);
      const pid = portOwner(started[name].proc.pid, Number(new URL(url).port));
      if (!pid) throw new Error(`${name}: no process listens on ${url}`);
      await disableNetworkDomain(started[name].inspectorPort);
      workers[name] = { name, url, pid, upstream: () => 0, bytes: res.bytes.length };
      say(`html: ${name} answers ${res.bytes.length} bytes on ${url} (workerd ${pid})`);
    }
    const targetsFile = path.join(dir, 'html-targets.txt');
    fs.writeFileSync(targetsFile, `/ ${domain}\n`);
    const options = (w) => ({ connections, delayMs, browser: true, pid: w.pid });
    for (const name of HTML_NAMES) await load(workers[name], workers[name].url, targetsFile, 2, options(workers[name]));
    const runs = [];
    for (let round = 1; round <= rounds; round += 1) {
      const result = {};
      for (const name of HTML_NAMES) {
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
      bytes: Object.fromEntries(HTML_NAMES.map((n) => [n, workers[n].bytes])),
      pageBytes: Buffer.byteLength(PAGE),
    };
  } finally {
    origin.closeAllConnections();
    await new Promise((resolve) => origin.close(resolve));
  }
}
