// The forwarded-HTML path (issues 11 and 12): an app page through the resolver with branding
// injected, through the resolver with INJECT_BRANDING=false, and through a pass-through Worker
// (bench/passthrough: what any forwarding Worker costs at the least), in interleaved rounds on
// the Workers' own workerd (the inner mode: wrangler's proxy bypassed). The origin is a node
// server on loopback answering a typical 10 KB page.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { addWorker, directUrl, startWorker } from '../scripts/stack.mjs';
import { request } from '../tests/support/http.mjs';

/** A typical app page: a head with a few tags, a body of about 10 KB. */
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
${Array.from({ length: 40 }, (_, i) => `<section class="question"><h2>Question ${i + 1}</h2><p>When the team disagrees, I make sure every view has been heard before we decide, and I say what I will do next.</p></section>`).join('\n')}
</main>
</body>
</html>
`;

export const HTML_NAMES = ['branded', 'unbranded', 'passthrough'];

/**
 * Starts the origin and the three Workers, checks what each answers, then measures them in
 * `rounds` interleaved rounds of `seconds` with `load(worker, url, targetsFile, seconds)`.
 */
export async function measureHtml(stack, { domain, rounds, seconds, load, say, dir }) {
  const origin = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
    res.end(PAGE);
  });
  await new Promise((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const originUrl = `http://127.0.0.1:${origin.address().port}`;
  try {
    const started = {
      branded: await addWorker(stack, { ORIGIN_URL: originUrl }),
      unbranded: await addWorker(stack, { ORIGIN_URL: originUrl, INJECT_BRANDING: 'false' }),
      passthrough: await startWorker({
        dir,
        config: path.join(path.dirname(new URL(import.meta.url).pathname), 'passthrough', 'wrangler.toml'),
        vars: { ORIGIN_URL: originUrl },
      }),
    };
    stack.processes.push(started.passthrough.proc);
    const workers = {};
    for (const name of HTML_NAMES) {
      // The pass-through Worker has no health route: it is found by the page it forwards.
      const url = await directUrl(started[name], name === 'passthrough' ? { probe: '/', type: /html/ } : {});
      const res = await request(`${url}/`, { host: domain });
      if (res.status !== 200) throw new Error(`${name}: / answered ${res.status}`);
      const branded = res.body.includes('id="tenant-brand"');
      if (branded !== (name === 'branded')) throw new Error(`${name}: branded ${branded}`);
      workers[name] = { name, url, upstream: () => 0, bytes: res.bytes.length };
      say(`html: ${name} answers ${res.bytes.length} bytes on ${url}`);
    }
    const targetsFile = path.join(dir, 'html-targets.txt');
    fs.writeFileSync(targetsFile, `/ ${domain}\n`);
    for (const name of HTML_NAMES) await load(workers[name], workers[name].url, targetsFile, 2);
    const runs = [];
    for (let round = 1; round <= rounds; round += 1) {
      const result = {};
      for (const name of HTML_NAMES) {
        result[name] = await load(workers[name], workers[name].url, targetsFile, seconds);
        say(`html round ${round} ${name}: ${Math.round(result[name].rps)} req/s, p50 ${result[name].p50Ms.toFixed(2)} ms`);
      }
      runs.push(result);
    }
    return { runs, bytes: Object.fromEntries(HTML_NAMES.map((n) => [n, workers[n].bytes])), pageBytes: Buffer.byteLength(PAGE) };
  } finally {
    origin.closeAllConnections();
    await new Promise((resolve) => origin.close(resolve));
  }
}
