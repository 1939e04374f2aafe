// Upstream load with and without the change feed (issue 10): D simulated data centers (each a
// `wrangler dev` with its own Cache API) in front of one PostgREST, each behind its own counting
// proxy (tests/support/counting-proxy.mjs: a pass-through, so the reads of each data center
// can be told apart). The same steady traffic over N cached tenants runs against D data centers
// with the feed on (CHANGES_POLL_SECONDS, the TTL a backstop) and D with it off (TTL alone), at
// the same time; then, with the feed on, edits are timed from the database to every data center.

import http from 'node:http';
import { addWorker, psql, sleep } from '../scripts/stack.mjs';
import { startCountingProxy } from '../tests/support/counting-proxy.mjs';
import { request } from '../tests/support/http.mjs';

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const get = (url, host) => request(url, { host, agent });

/** A tenant by slug, or its brand.json by Host, alternately. */
const ask = (center, t, i) =>
  i % 2 ? get(`${center.url}/_tenant/slug/${t.slug}`) : get(`${center.url}/_tenant/brand.json`, t.customDomain);

/**
 * Measures PostgREST requests per minute for `targets` (N tenants, already in the database)
 * across `dcs` data centers, feed on (`poll` s) vs off (TTL `ttl` s), over `seconds` of traffic,
 * and the edit-to-visible time in every data center with the feed on (`edits` edits).
 */
export async function measureFeed(stack, { targets, dcs = 3, seconds = 120, poll = 5, ttl = 60, edits = 5, say }) {
  const modes = {
    on: { CHANGES_POLL_SECONDS: String(poll) },
    off: { CHANGES_POLL_SECONDS: '0', CACHE_TTL_SECONDS: String(ttl) },
  };
  const centers = [];
  for (const [mode, vars] of Object.entries(modes)) {
    for (let d = 0; d < dcs; d += 1) {
      const proxy = await startCountingProxy(stack.postgrest.url);
      const worker = await addWorker(stack, { SUPABASE_REST_URL: proxy.url, ...vars });
      centers.push({ mode, name: `${mode}-${d + 1}`, url: worker.url, proxy });
      say(`feed ${mode}: data center ${d + 1} of ${dcs} up`);
    }
  }
  try {
    for (const center of centers) {
      for (let i = 0; i < 2 * targets.length; i += 1) {
        const res = await ask(center, targets[i % targets.length], i);
        if (res.status !== 200) throw new Error(`${center.name}: warm-up answered ${res.status}: ${res.body}`);
      }
    }
    for (const center of centers) center.proxy.reset();

    say(`feed on vs off: ${seconds} s of steady traffic to ${centers.length} data centers over ${targets.length} tenants`);
    const until = Date.now() + seconds * 1000;
    let sent = 0;
    let failed = 0;
    await Promise.all(
      centers.map(async (center, c) => {
        for (let i = c; Date.now() < until; i += 1) {
          const res = await ask(center, targets[i % targets.length], i);
          sent += 1;
          if (res.status !== 200) failed += 1;
          await sleep(20);
        }
      }),
    );
    const measured = {};
    for (const mode of Object.keys(modes)) {
      const of = centers.filter((c) => c.mode === mode);
      const feedReads = of.reduce((a, c) => a + c.proxy.feedReads(), 0);
      const tenantReads = of.reduce((a, c) => a + c.proxy.tenantReads(), 0);
      measured[mode] = { feedReads, tenantReads, perMinute: ((feedReads + tenantReads) * 60) / seconds };
    }

    say(`feed on: timing ${edits} edits from Postgres to every data center`);
    const editMs = [];
    const on = centers.filter((c) => c.mode === 'on');
    for (let e = 0; e < edits; e += 1) {
      const t = targets[(e * 7) % targets.length];
      const tagline = `Edited ${e} at ${Date.now()}`;
      const started = Date.now();
      psql(stack.dbUrl, {
        sql: `update public.tenant_profiles set brand_config = jsonb_set(brand_config, '{tagline}', '"${tagline}"') where slug = '${t.slug}'`,
      });
      const pending = new Set(on);
      while (pending.size > 0 && Date.now() - started < 30_000) {
        for (const center of [...pending]) {
          const res = await get(`${center.url}/_tenant/slug/${t.slug}`);
          if (res.status === 200 && JSON.parse(res.body).brand.tagline === tagline) pending.delete(center);
        }
        if (pending.size > 0) await sleep(25);
      }
      editMs.push(pending.size === 0 ? Date.now() - started : null);
      await sleep(1000 + Math.random() * poll * 1000); // edits land at every phase of the poll interval
    }
    return { dcs, seconds, poll, ttl, tenants: targets.length, sent, failed, measured, editMs };
  } finally {
    for (const center of centers) await center.proxy.stop();
  }
}
