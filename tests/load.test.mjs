// Load: LOAD_SECONDS (default 60) at 64 connections, a mix of cache hits, misses and unknown
// hosts. Zero errors, the memory tier at or under its cap, and the isolate's memory flat: the
// Wasm linear memory (which never shrinks, so any leak shows) does not grow after warm-up.
// workerd's RSS is reported too, not asserted: V8 grows its JS heap lazily under load, in the
// proxy workerd that wrangler dev puts in front as much as in ours. Throughput is in bench/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { psql, startStack } from '../scripts/stack.mjs';
import { get } from './support/http.mjs';

const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const CONNECTIONS = 64;
const TENANTS = 100;
const MEMORY_ENTRIES = 500;
/** Wasm memory growth allowed from warm-up to the end: a few pages of allocator slack. */
const WASM_SLACK_BYTES = 1024 * 1024;

let stack;
before(async () => {
  stack = await startStack({ vars: { CACHE_MEMORY_ENTRIES: String(MEMORY_ENTRIES) } });
  psql(stack.dbUrl, {
    sql: `insert into public.tenant_profiles (slug, display_name, custom_domain, brand_config)
      select 'load-' || n, 'Load ' || n, 'coach.load-' || n || '.test', brand_config
      from generate_series(1, ${TENANTS}) n,
           (select brand_config from public.tenant_profiles where slug = 'leadingwithmeaning') lwm`,
  });
});
after(async () => {
  await stack?.stop();
});

/** Resident memory of the workerd processes under the Worker's process group, in bytes. */
function workerdRss() {
  const out = execFileSync('ps', ['-o', 'rss=,comm=', '-g', String(stack.worker.proc.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes('workerd'))
    .reduce((sum, l) => sum + Number(l.trim().split(/\s+/)[0]) * 1024, 0);
}

/** The next request of the mix: mostly hits, some misses, some unknown hosts. */
function nextRequest(n) {
  const tenant = 1 + (n % TENANTS);
  switch (n % 10) {
    case 0:
    case 1:
      return { path: `/_tenant/slug/miss-${n}` };
    case 2:
    case 3:
      return { path: '/_tenant/brand.json', host: `h${n}.unknown-host.test` };
    case 4:
    case 5:
      return { path: '/_tenant/brand.json', host: `coach.load-${tenant}.test` };
    default:
      return { path: `/_tenant/slug/load-${tenant}` };
  }
}

/** The Worker's /_tenant/health body. */
const health = async () => (await get(`${stack.worker.url}/_tenant/health`)).json();

const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

test(`${SECONDS} s at ${CONNECTIONS} connections: no errors, memory flat`, async (t) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const { port } = new URL(stack.worker.url);
  const counts = { ok: 0, errors: 0, statuses: {} };
  const send = ({ path, host }) =>
    new Promise((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, path, agent, headers: host ? { host } : {} }, (res) => {
        res.resume();
        res.on('end', () => {
          counts.statuses[res.statusCode] = (counts.statuses[res.statusCode] ?? 0) + 1;
          if (res.statusCode === 200 || res.statusCode === 404) counts.ok += 1;
          else counts.errors += 1;
          resolve();
        });
      });
      req.on('error', () => {
        counts.errors += 1;
        resolve();
      });
      req.end();
    });

  let n = 0;
  let warm;
  const deadline = Date.now() + SECONDS * 1000;
  const warmup = setTimeout(
    async () => {
      warm = { rss: workerdRss(), wasm: (await health()).wasmMemoryBytes };
    },
    Math.min(10_000, SECONDS * 250),
  );
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < deadline) {
        n += 1;
        await send(nextRequest(n));
      }
    }),
  );
  clearTimeout(warmup);
  agent.destroy();
  const end = { rss: workerdRss(), ...(await health()) };

  t.diagnostic(`${n} requests, statuses ${JSON.stringify(counts.statuses)}`);
  t.diagnostic(
    `Wasm memory ${mib(warm.wasm)} after warm-up, ${mib(end.wasmMemoryBytes)} at the end; workerd RSS ${mib(warm.rss)} → ${mib(end.rss)}`,
  );
  assert.equal(counts.errors, 0, `errors: ${JSON.stringify(counts.statuses)}`);
  assert.ok(counts.ok > CONNECTIONS * SECONDS, `the Worker kept answering (${counts.ok} answers)`);
  assert.ok(end.cache.memoryEntries <= MEMORY_ENTRIES, `memory tier ${end.cache.memoryEntries} ≤ ${MEMORY_ENTRIES}`);
  assert.ok(warm.wasm > 0, 'Wasm memory was sampled after warm-up');
  assert.ok(end.wasmMemoryBytes <= warm.wasm + WASM_SLACK_BYTES, `Wasm memory grew from ${warm.wasm} to ${end.wasmMemoryBytes} bytes`);
});
