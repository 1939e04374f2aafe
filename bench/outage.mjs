// The edge through a bad Supabase minute (issue 15), measured beside the bounds the README
// states; the tests (tests/resilience.test.mjs) assert the bounds, this reports the numbers:
//
// - isolates: one data center of several isolates (`wrangler dev` processes sharing one Cache
//   API store through one --persist-to directory) behind one counting proxy: feed reads per
//   data center per poll interval (README: about one; the limit: 2 with 4 isolates);
// - outage: the feed unreadable (its grant revoked), tenants first looked up during it, several
//   data centers: tenant reads per minute, beside one read per tenant per data center per
//   CHANGES_FAILING_TTL_SECONDS;
// - slow: PostgREST answering everything in 2 s (a proxy holds its answers), tenants cached: the
//   p99 of cached hits, beside the same data center with PostgREST at full speed.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { addWorker, psql, sleep } from '../scripts/stack.mjs';
import { startCountingProxy } from '../tests/support/counting-proxy.mjs';
import { GRANT_FEED, REVOKE_FEED } from '../tests/support/feed-access.mjs';
import { request } from '../tests/support/http.mjs';

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

/** A tenant by slug, or its brand.json by Host, alternately; timed. */
async function ask(url, t, i) {
  const started = performance.now();
  const res =
    i % 2
      ? await request(`${url}/_tenant/slug/${t.slug}`, { agent })
      : await request(`${url}/_tenant/brand.json`, { host: t.customDomain, agent });
  return { status: res.status, ms: performance.now() - started };
}

/** `connections` loops per URL asking for `targets` until `seconds` have passed, `pauseMs` apart. */
async function steady(urls, targets, { seconds, connections = 4, pauseMs = 10 }) {
  const until = Date.now() + seconds * 1000;
  const answers = [];
  await Promise.all(
    urls.flatMap((url, u) =>
      Array.from({ length: connections }, async (_, c) => {
        for (let i = u * 31 + c * 7; Date.now() < until; i += 1) {
          answers.push(await ask(url, targets[i % targets.length], i));
          if (pauseMs) await sleep(pauseMs);
        }
      }),
    ),
  );
  return answers;
}

const quantile = (xs, q) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? null;
};

/** Asks every URL for every target once (both ways), so all are cached. */
async function warm(urls, targets) {
  for (const url of urls) {
    for (let i = 0; i < 2 * targets.length; i += 1) {
      const res = await ask(url, targets[i % targets.length], i);
      if (res.status !== 200) throw new Error(`warm-up of ${url} answered ${res.status}`);
    }
  }
}

/**
 * Runs the three measurements on `stack` for `targets` (tenants already in the database).
 * `say` logs progress.
 */
export async function measureOutage(
  stack,
  { targets, isolates = 4, isolateSeconds = 60, poll = 2, dcs = 3, outageSeconds = 90, slowSeconds = 20, say },
) {
  const proxies = [];
  const proxy = async () => {
    const p = await startCountingProxy(stack.postgrest.url);
    proxies.push(p);
    return p;
  };
  try {
    say(`outage bench: one data center of ${isolates} isolates sharing one Cache API`);
    const shared = await proxy();
    const persistTo = path.join(stack.dir, 'one-data-center');
    fs.mkdirSync(persistTo, { recursive: true });
    const isolateUrls = [];
    for (let i = 0; i < isolates; i += 1) {
      const w = await addWorker(stack, { SUPABASE_REST_URL: shared.url, CHANGES_POLL_SECONDS: String(poll) }, { persistTo });
      isolateUrls.push(w.url);
    }
    await warm(isolateUrls, targets);
    shared.reset();
    const isolateAnswers = await steady(isolateUrls, targets, { seconds: isolateSeconds });
    const isolateResult = {
      isolates,
      poll,
      seconds: isolateSeconds,
      requests: isolateAnswers.length,
      failed: isolateAnswers.filter((a) => a.status !== 200).length,
      feedReads: shared.feedReads(),
      tenantReads: shared.tenantReads(),
      perInterval: shared.feedReads() / (isolateSeconds / poll),
    };
    say(
      `${isolates} isolates: ${isolateResult.feedReads} feed reads in ${isolateSeconds} s (${isolateResult.perInterval.toFixed(2)} per interval of ${poll} s)`,
    );

    say(`outage bench: the feed unreadable for ${outageSeconds} s, ${dcs} data centers, ${targets.length} tenants`);
    const centers = [];
    for (let d = 0; d < dcs; d += 1) {
      const p = await proxy();
      const w = await addWorker(stack, { SUPABASE_REST_URL: p.url });
      centers.push({ url: w.url, proxy: p });
    }
    psql(stack.dbUrl, { sql: REVOKE_FEED });
    let outage;
    try {
      const started = Date.now();
      const answers = await steady(
        centers.map((c) => c.url),
        targets,
        { seconds: outageSeconds },
      );
      const minutes = (Date.now() - started) / 60_000;
      const tenantReads = centers.reduce((a, c) => a + c.proxy.tenantReads(), 0);
      const feedReads = centers.reduce((a, c) => a + c.proxy.feedReads(), 0);
      outage = {
        dcs,
        tenants: targets.length,
        seconds: outageSeconds,
        requests: answers.length,
        failed: answers.filter((a) => a.status !== 200).length,
        tenantReads,
        feedReads,
        perMinute: tenantReads / minutes,
        bound: targets.length * dcs * (1 + minutes),
        boundPerMinute: targets.length * dcs,
      };
      say(
        `outage: ${tenantReads} tenant reads (${outage.perMinute.toFixed(0)}/min) and ${feedReads} feed reads for ${answers.length} requests`,
      );
    } finally {
      psql(stack.dbUrl, { sql: GRANT_FEED });
    }

    say('outage bench: PostgREST answering in 2 s, cached hits');
    const slowProxy = await proxy();
    const slowWorker = await addWorker(stack, { SUPABASE_REST_URL: slowProxy.url, CHANGES_POLL_SECONDS: '1' });
    await warm([slowWorker.url], targets);
    const healthy = await steady([slowWorker.url], targets, { seconds: slowSeconds, connections: 8 });
    slowProxy.slow(2000);
    slowProxy.reset();
    const slow = await steady([slowWorker.url], targets, { seconds: slowSeconds, connections: 8 });
    slowProxy.slow(0);
    const stats = (answers) => ({
      requests: answers.length,
      failed: answers.filter((a) => a.status !== 200).length,
      p50Ms: quantile(
        answers.map((a) => a.ms),
        0.5,
      ),
      p99Ms: quantile(
        answers.map((a) => a.ms),
        0.99,
      ),
      maxMs: Math.max(...answers.map((a) => a.ms)),
    });
    const slowResult = { seconds: slowSeconds, healthy: stats(healthy), slow: stats(slow), feedReads: slowProxy.feedReads() };
    say(
      `slow PostgREST: hits p99 ${slowResult.slow.p99Ms.toFixed(1)} ms (healthy ${slowResult.healthy.p99Ms.toFixed(1)} ms), max ${slowResult.slow.maxMs.toFixed(0)} ms`,
    );
    return { isolates: isolateResult, outage, slow: slowResult };
  } finally {
    for (const p of proxies) await p.stop();
  }
}
