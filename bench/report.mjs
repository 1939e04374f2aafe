// bench/RESULTS.md from one run's numbers: tables per path, paired ratios, targets.

export const NAMES = ['resolver', 'ceiling', 'ts', 'jsconst', 'thin'];
export const PATHS = ['proxy', 'direct'];
/** How the hits are asked for: by slug, or brand.json by Host. */
export const MIXES = ['slug', 'host'];
const MIX_LABEL = { slug: 'by slug (`/_tenant/slug/<slug>`)', host: 'by Host (`/_tenant/brand.json`)' };
const LABEL = {
  resolver: 'resolver (Rust)',
  ceiling: 'ceiling (constant body, Rust)',
  ts: 'TypeScript (supabase-js + Cache API)',
  jsconst: 'JS constant (constant body, JS)',
  thin: 'thin entry (constant body, Rust without the `worker` crate)',
  quiet: 'resolver, events and analytics off',
};
/** The most a cached hit may cost, as a multiple of the JS constant Worker's (issue 26). */
const HIT_VS_JS = 1.15;
/** The most a cached hit with events and analytics on may cost against off (issue 27). */
const EVENTS_ON_VS_OFF = 1.05;
/** The most a branded, signed page may cost, as a multiple of the pass-through's (issue 26). */
const PAGE_VS_PASSTHROUGH = 1.3;
const PATH_LABEL = { proxy: "through wrangler dev's port (proxy → workerd)", direct: "direct to the Worker's workerd" };

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
export const ms = (n) => (n == null ? 'n/a' : n < 10 ? `${n.toFixed(2)} ms` : `${n.toFixed(0)} ms`);
export const rps = (n) => Math.round(n).toLocaleString('en-US');
const ratio = (n) => `${n.toFixed(2)}×`;
const us = (x) => (x == null ? 'n/a' : `${Math.round(x)} µs`);
/** `min–max` of `xs` as ratios. */
const range = (xs) => `${ratio(Math.min(...xs))}–${ratio(Math.max(...xs))}`;
const met = (ok) => (ok ? '**met**' : '**not met**');

/** Per path and mix: medians over rounds, sums of errors and upstream requests, paired ratios. */
function summarise(runs, p, mix) {
  const per = (n, key) => median(runs.map((round) => round[p][mix][n][key]));
  const sum = (n, key) => runs.reduce((a, round) => a + round[p][mix][n][key], 0);
  // `js`: the resolver's cost per hit against the JS constant's, as throughput shows it (JS
  // constant requests/s ÷ the resolver's); `cpu`: the same from CPU per answer, where measured.
  const cpu = (round) => round[p][mix].resolver.cpuPerRequestUs / round[p][mix].jsconst.cpuPerRequestUs;
  const ratios = runs.map((round) => ({
    ceiling: round[p][mix].resolver.rps / round[p][mix].ceiling.rps,
    ts: round[p][mix].resolver.rps / round[p][mix].ts.rps,
    js: round[p][mix].jsconst.rps / round[p][mix].resolver.rps,
    cpu: round[p][mix].resolver.cpuPerRequestUs == null ? null : cpu(round),
  }));
  const spread = (key) => range(ratios.map((x) => x[key]));
  const mid = (key) => median(ratios.map((x) => x[key]));
  return {
    per,
    sum,
    ratios,
    spread,
    ceiling: mid('ceiling'),
    ts: mid('ts'),
    js: mid('js'),
    cpu: ratios[0]?.cpu == null ? null : mid('cpu'),
  };
}

function pathSection(r, p, mix) {
  const s = summarise(r.runs, p, mix);
  return `### ${PATH_LABEL[p]}, ${MIX_LABEL[mix]}

| worker | requests/s | CPU per answer | p50 | p99 | non-2xx | socket errors (timeouts) | PostgREST requests |
|---|---:|---:|---:|---:|---:|---:|---:|
${NAMES.map((n) => `| ${LABEL[n]} | ${rps(s.per(n, 'rps'))} | ${us(s.per(n, 'cpuPerRequestUs'))} | ${ms(s.per(n, 'p50Ms'))} | ${ms(s.per(n, 'p99Ms'))} | ${s.sum(n, 'non2xx')} | ${s.sum(n, 'socketErrors')} (${s.sum(n, 'timeouts')}) | ${s.sum(n, 'upstream')} |`).join('\n')}

| round | resolver req/s | ceiling req/s | TypeScript req/s | JS constant req/s | thin entry req/s | resolver / ceiling | resolver / TypeScript | JS constant / resolver | other processes' CPU (cores, per run) |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
${r.runs.map((round, i) => `| ${i + 1} | ${rps(round[p][mix].resolver.rps)} | ${rps(round[p][mix].ceiling.rps)} | ${rps(round[p][mix].ts.rps)} | ${rps(round[p][mix].jsconst.rps)} | ${rps(round[p][mix].thin.rps)} | ${ratio(s.ratios[i].ceiling)} | ${ratio(s.ratios[i].ts)} | ${ratio(s.ratios[i].js)} | ${NAMES.map((n) => round[p][mix][n].other.toFixed(2)).join(' / ')} |`).join('\n')}
| **median** | | | | | | **${ratio(s.ceiling)}** (${s.spread('ceiling')}) | **${ratio(s.ts)}** (${s.spread('ts')}) | **${ratio(s.js)}** (${s.spread('js')}) | |
`;
}

/** The workers measured at the fixed load. */
const pacedNames = (r) => Object.keys(r.paced[0]?.[MIXES[0]] ?? {});

/** Paired per-round ratios of CPU per answer at the fixed load, `a` ÷ `b`: `{ each, median }`. */
function pacedCpu(r, mix, a, b) {
  const each = r.paced.map((round) => round[mix][a].cpuPerRequestUs / round[mix][b].cpuPerRequestUs);
  return { each, median: median(each) };
}

/** Latency and CPU per answer at a fixed load, each connection pausing between requests. */
function pacedSection(r) {
  if (!r.paced.length) return '';
  LABEL.before = `resolver, ${r.settings.before ?? 'before'}`;
  const per = (mix, n, key) => median(r.paced.map((round) => round[mix][n][key]));
  const rows = MIXES.flatMap((mix) =>
    pacedNames(r).map(
      (n) =>
        `| ${MIX_LABEL[mix]} | ${LABEL[n]} | ${rps(per(mix, n, 'rps'))} | **${us(per(mix, n, 'cpuPerRequestUs'))}** | ${ms(per(mix, n, 'p50Ms'))} | ${ms(per(mix, n, 'p99Ms'))} | ${r.paced.map((round) => ms(round[mix][n].p99Ms)).join(' / ')} | ${r.paced.reduce((a, round) => a + round[mix][n].non2xx + round[mix][n].socketErrors, 0)} |`,
    ),
  );
  const gap = (mix, a, b) => us(median(r.paced.map((round) => round[mix][a].cpuPerRequestUs - round[mix][b].cpuPerRequestUs)));
  const cpuRows = MIXES.map((mix) => {
    const [hit, crate, thin] = [
      pacedCpu(r, mix, 'resolver', 'jsconst'),
      pacedCpu(r, mix, 'ceiling', 'jsconst'),
      pacedCpu(r, mix, 'thin', 'jsconst'),
    ];
    return `| ${MIX_LABEL[mix]} | **${ratio(hit.median)}** (${range(hit.each)}) | ${ratio(crate.median)} (${range(crate.each)}) | ${ratio(thin.median)} (${range(thin.each)}) | ${gap(mix, 'ceiling', 'jsconst')} | ${gap(mix, 'ceiling', 'thin')} | ${gap(mix, 'resolver', 'ceiling')} |`;
  });
  const events = pacedNames(r).includes('quiet')
    ? MIXES.map((mix) => {
        const on = pacedCpu(r, mix, 'resolver', 'quiet');
        return `| ${MIX_LABEL[mix]} | ${us(per(mix, 'resolver', 'cpuPerRequestUs'))} | ${us(per(mix, 'quiet', 'cpuPerRequestUs'))} | ${gap(mix, 'resolver', 'quiet')} | **${ratio(on.median)}** (${range(on.each)}) | ${met(on.median <= EVENTS_ON_VS_OFF)} |`;
      })
    : [];
  const beforeRows = pacedNames(r).includes('before')
    ? MIXES.map((mix) => {
        const now = pacedCpu(r, mix, 'resolver', 'before');
        const quiet = pacedCpu(r, mix, 'quiet', 'before');
        return `| ${MIX_LABEL[mix]} | ${us(per(mix, 'before', 'cpuPerRequestUs'))} | ${us(per(mix, 'resolver', 'cpuPerRequestUs'))} | **${ratio(now.median)}** (${range(now.each)}) | ${ratio(quiet.median)} (${range(quiet.each)}) |`;
      })
    : [];
  const beforeTable = beforeRows.length
    ? `
Before and after in this run: ${r.settings.before} against this build, CPU per cached hit, paired
within a round; the last column takes this build with its events and analytics off (bench/quiet).

| mix | before | now | now ÷ before | now, events and analytics off ÷ before |
|---|---:|---:|---:|---:|
${beforeRows.join('\n')}
`
    : '';
  const eventsTable = events.length
    ? `
What the request event and the analytics data point cost on a cached hit (issue 27): the
resolver as deployed (the event logged, the data point written: the binding is miniflare's,
whose \`writeDataPoint\` keeps nothing, as the real one returns at once) against the same Wasm
with \`console.log\` a no-op and no \`ANALYTICS\` binding (bench/quiet). Paired within a round.
Goal: at most ${ratio(EVENTS_ON_VS_OFF)}.

| mix | on | off | on − off | on ÷ off | goal |
|---|---:|---:|---:|---:|---|
${events.join('\n')}
`
    : '';
  return `## Latency and CPU at a fixed load (direct)

The same ${r.settings.connections} connections, each pausing ${r.settings.pacedDelayMs} ms between requests, so the
isolate is not saturated: here p99 is the worker's. (At saturation, above, a closed loop's p99 is
mostly how workerd queues ${r.settings.connections} connections that all want the one isolate thread; see README.md.)
Medians over ${r.paced.length} interleaved rounds. **CPU per answer** is the utime + stime of the Worker's own
workerd process over a run, divided by its answers (as for forwarded pages below).

| mix | worker | requests/s | CPU per answer | p50 | p99 | p99 per round | errors |
|---|---|---:|---:|---:|---:|---|---:|
${rows.join('\n')}

What a cached hit costs against the same constant body answered by a JS Worker (CPU per answer,
ratios paired within a round, median and range): the resolver's; the ceiling's, whose excess is
the \`worker\` crate's own cost (the ceiling does nothing else); the thin entry's (the same Rust
body without the crate); then differences in µs, medians of the rounds' differences.

| mix | resolver ÷ JS constant | ceiling ÷ JS constant | thin entry ÷ JS constant | ceiling − JS constant (the crate and Wasm) | ceiling − thin entry (what a thinner entry saves) | resolver − ceiling (the resolver's own work) |
|---|---:|---:|---:|---:|---:|---:|
${cpuRows.join('\n')}
${eventsTable}${beforeTable}`;
}

/** The change feed's section: PostgREST requests per minute, feed on vs off, and edit → visible. */
function feedSection(f) {
  const perMin = (m) => f.measured[m].perMinute.toFixed(0);
  const offFormula = (f.tenants * f.dcs * 60) / f.ttl;
  const onFormula = (f.dcs * 60) / f.poll;
  const visible = f.editMs.filter((x) => x != null);
  return `## Upstream load with the change feed

${f.dcs} data centers with the feed on (\`CHANGES_POLL_SECONDS=${f.poll}\`) and ${f.dcs} with it off
(\`CACHE_TTL_SECONDS=${f.ttl}\`), at the same time, each a \`wrangler dev\` with its own Cache API behind
its own counting proxy to the one PostgREST; ${f.seconds} s of the same steady traffic to each
(${f.sent.toLocaleString('en-US')} requests in all, ${f.failed} not 200) over ${f.tenants} cached tenants, nothing changing.

| | feed reads | tenant reads | PostgREST requests per minute | formula (per minute) |
|---|---:|---:|---:|---|
| feed on | ${f.measured.on.feedReads} | ${f.measured.on.tenantReads} | **${perMin('on')}** | data centers × 60 / \`CHANGES_POLL_SECONDS\` = ${f.dcs} × 60 / ${f.poll} = ${onFormula}, whatever the tenants and traffic |
| feed off | ${f.measured.off.feedReads} | ${f.measured.off.tenantReads} | **${perMin('off')}** | tenants × data centers × 60 / TTL = ${f.tenants} × ${f.dcs} × 60 / ${f.ttl} = ${offFormula} |

At 1,000 tenants in 50 data centers the same formulas give ${((50 * 60) / f.poll).toLocaleString('en-US')} per minute with the feed
(${(50 / f.poll).toFixed(0)}/s) and ${((1000 * 50 * 60) / f.ttl).toLocaleString('en-US')} per minute without it (${((1000 * 50) / f.ttl).toFixed(0)}/s); at 100,000 tenants, still ${(50 / f.poll).toFixed(0)}/s with the feed.

Edit → visible in all ${f.dcs} data centers with the feed on (${f.editMs.length} edits, each from an
\`update\` in Postgres until every data center answers the new body; polled every 25 ms):
${f.editMs.map((x) => (x == null ? 'not visible within 30 s' : ms(x))).join(', ')}; the most **${ms(Math.max(...visible))}**.
`;
}

/** The outage section (bench/outage.mjs): the edge through a bad Supabase minute. */
function outageSection(o) {
  const { isolates: i, outage: u, slow: s } = o;
  return `## Through a bad Supabase minute

**One data center, ${i.isolates} isolates** (${i.isolates} \`wrangler dev\` sharing one Cache API through one
\`--persist-to\` directory, one counting proxy), \`CHANGES_POLL_SECONDS=${i.poll}\`, ${i.seconds} s of steady traffic
(${i.requests.toLocaleString('en-US')} requests, ${i.failed} not 200): **${i.feedReads} feed reads, ${i.perInterval.toFixed(2)} per poll interval**
(README: about one per data center and interval; the limit: 2 with 4 isolates); ${i.tenantReads} tenant reads.

**The feed unreadable** (its grant revoked) for ${u.seconds} s, ${u.dcs} data centers, ${u.tenants} tenants first looked up
during the outage, steady traffic (${u.requests.toLocaleString('en-US')} requests, ${u.failed} not 200): **${u.tenantReads} tenant reads,
${u.perMinute.toFixed(0)} per minute**, beside the bound of one read per tenant per data center per
\`CHANGES_FAILING_TTL_SECONDS\` (60): ${u.boundPerMinute} per minute, ${u.bound.toFixed(0)} over the outage including
the first lookups; ${u.feedReads} feed reads in all (backing off).

**PostgREST answering everything in 2 s**, one data center, tenants cached, ${s.seconds} s at 8 connections:

| | requests | not 200 | p50 | p99 | slowest |
|---|---:|---:|---:|---:|---:|
| PostgREST at full speed | ${s.healthy.requests.toLocaleString('en-US')} | ${s.healthy.failed} | ${ms(s.healthy.p50Ms)} | ${ms(s.healthy.p99Ms)} | ${ms(s.healthy.maxMs)} |
| PostgREST answering in 2 s | ${s.slow.requests.toLocaleString('en-US')} | ${s.slow.failed} | ${ms(s.slow.p50Ms)} | **${ms(s.slow.p99Ms)}** | ${ms(s.slow.maxMs)} |

A hit waits for a due read of the feed at most 50 ms (the README's bound), never for PostgREST;
${s.feedReads} feed reads ran in the background meanwhile.
`;
}

/** Paired per-round ratios of CPU per forwarded page, `a` ÷ `b`: `{ each, median }`. */
function pageCpu(h, a, b) {
  const each = h.runs.map((round) => round[a].cpuPerRequestUs / round[b].cpuPerRequestUs);
  return { each, median: median(each) };
}

/** The forwarded-HTML section: the page through the Workers, interleaved rounds. */
function htmlSection(h, beforeLabel) {
  // The variants measured, in the order html.mjs ran them (HTML_NAMES).
  const names = Object.keys(h.runs[0] ?? {});
  const label = {
    passthrough: 'pass-through Worker (JS, `bench/passthrough`)',
    js_peer: 'JS peer (HTMLRewriter + Web Crypto, `bench/js-peer`), branded and signed',
    branded_signed: 'resolver, branded and signed',
    quiet_signed: 'resolver, branded and signed, events and analytics off (`bench/quiet`)',
    before_signed: `resolver, ${beforeLabel ?? 'before'}, branded and signed`,
    branded: 'resolver, branded, unsigned',
    unbranded_signed: 'resolver, `INJECT_BRANDING=false`, signed',
    unbranded: 'resolver, `INJECT_BRANDING=false`, unsigned',
  };
  const per = (n, key) => median(h.runs.map((round) => round[n][key]));
  const cpuRatio = (a, b) => pageCpu(h, a, b).median;
  const cpuRange = (a, b) => range(pageCpu(h, a, b).each);
  const peer = pageCpu(h, 'branded_signed', 'js_peer');
  return `## Forwarded pages (inner mode)

A ${(h.pageBytes / 1024).toFixed(1)} KiB app page from a keep-alive node origin on loopback, \`GET /\` with a tenant's Host and a
browser's headers, on each Worker's own workerd with the DevTools Network and Runtime domains turned off (as
in production); a paced load (${h.connections} connections, each pausing ${h.delayMs} ms between requests); ${h.runs.length} interleaved
rounds, medians (ratios paired within a round). **CPU per answer** is the utime + stime of the
Worker's own workerd process over a run, divided by its answers: what Cloudflare bills.

The JS peer does the resolver's job for this page as a team would write it in JS: the tenant by
Host from memory, the same forwarded headers and signature (Web Crypto), the same \`<head>\` block
and data-tenant put in by \`HTMLRewriter\` as the page streams, the same answer headers; the run
checks that its page is the resolver's (data-tenant's place among \`<html>\`'s attributes aside) and
that the origin accepts both signatures. Headers that differ from the resolver's (time-dependent
ones and framing aside): forwarded to the origin, ${h.peerDiffers.forwarded.map((x) => `\`${x}\``).join(', ') || 'none'}; answered, ${h.peerDiffers.answer.map((x) => `\`${x}\``).join(', ') || 'none'}.

| worker | CPU per answer | × pass-through (per round) | requests/s | p50 | p99 | non-2xx | bytes answered |
|---|---:|---:|---:|---:|---:|---:|---:|
${names.map((n) => `| ${label[n]} | **${us(per(n, 'cpuPerRequestUs'))}** | ${n === 'passthrough' ? '1×' : `${ratio(cpuRatio(n, 'passthrough'))} (${cpuRange(n, 'passthrough')})`} | ${rps(per(n, 'rps'))} | ${ms(per(n, 'p50Ms'))} | ${ms(per(n, 'p99Ms'))} | ${h.runs.reduce((a, round) => a + round[n].non2xx, 0)} | ${h.bytes[n]} |`).join('\n')}

Branded and signed, against the JS peer: **${ratio(peer.median)}** of its CPU per answer (${range(peer.each)}), ${us(median(h.runs.map((round) => round.branded_signed.cpuPerRequestUs - round.js_peer.cpuPerRequestUs)))} per answer.
The signature's own cost: branded ${ratio(cpuRatio('branded_signed', 'branded'))}, unbranded ${ratio(cpuRatio('unbranded_signed', 'unbranded'))}
(signed vs unsigned); branding's: ${ratio(cpuRatio('branded', 'unbranded'))}.${
    h.runs[0]?.quiet_signed
      ? ` The request event and the analytics data point (issue 27): branded and signed with both on ÷ off, ${ratio(cpuRatio('branded_signed', 'quiet_signed'))} (${cpuRange('branded_signed', 'quiet_signed')}), ${us(median(h.runs.map((round) => round.branded_signed.cpuPerRequestUs - round.quiet_signed.cpuPerRequestUs)))} per answer.`
      : ''
  }${
    h.runs[0]?.before_signed
      ? ` Before and after in this run: branded and signed now ÷ ${beforeLabel}, ${ratio(cpuRatio('branded_signed', 'before_signed'))} (${cpuRange('branded_signed', 'before_signed')}); with events and analytics off, ${ratio(cpuRatio('quiet_signed', 'before_signed'))} (${cpuRange('quiet_signed', 'before_signed')}).`
      : ''
  } The targets are judged under Targets below.
`;
}

export function report(r) {
  const paths = r.settings.paths;
  const sums = Object.fromEntries(paths.map((p) => [p, Object.fromEntries(MIXES.map((m) => [m, summarise(r.runs, p, m)]))]));
  const up = r.resolverUpstream;
  const upstreamOk = up.elapsedS < r.settings.ttl && up.total <= r.settings.loaded;
  const cell = (p, m, key, goal) => `${ratio(sums[p][m][key])} ${met(sums[p][m][key] >= goal)}`;
  const p99 = (p, m) => {
    const [mine, ceiling] = [sums[p][m].per('resolver', 'p99Ms'), sums[p][m].per('ceiling', 'p99Ms')];
    return `${ms(mine)} vs ${ms(ceiling)} ${met(mine <= ceiling)}`;
  };
  const targetRows = paths.flatMap((p) =>
    MIXES.map((m) => `| ${PATH_LABEL[p]}, ${MIX_LABEL[m]} | ${cell(p, m, 'ceiling', 0.9)} | ${p99(p, m)} | ${cell(p, m, 'ts', 1.5)} |`),
  );
  // Issue 26's targets against JS: CPU per answer where it is measured (the Worker's own workerd,
  // on the direct path), else the throughput ratio (through wrangler's proxy, whose CPU is not
  // the Worker's).
  const hitRows = MIXES.flatMap((m) => {
    const rows = [];
    if (r.paced.length && pacedNames(r).includes('jsconst')) {
      const x = pacedCpu(r, m, 'resolver', 'jsconst');
      rows.push(
        `| cached hit ≤ ${HIT_VS_JS}× the JS constant Worker, ${MIX_LABEL[m]} | CPU per answer at the fixed load (direct), resolver ÷ JS constant, median of the paired rounds | ${ratio(x.median)} (${range(x.each)}) ${met(x.median <= HIT_VS_JS)} |`,
      );
    }
    if (sums.direct) {
      rows.push(
        `| | the same, saturated (direct) | ${ratio(sums.direct[m].cpu)} (${sums.direct[m].spread('cpu')}) ${met(sums.direct[m].cpu <= HIT_VS_JS)} |`,
      );
    }
    if (sums.proxy) {
      rows.push(
        `| | throughput through wrangler's proxy (no CPU figure there): JS constant req/s ÷ resolver req/s | ${ratio(sums.proxy[m].js)} (${sums.proxy[m].spread('js')}) ${met(sums.proxy[m].js <= HIT_VS_JS)} |`,
      );
    }
    return rows;
  });
  const h = r.html;
  const page = (a, b) => pageCpu(h, a, b);
  const pageRows = [
    `| branded, signed page ≤ the JS peer's CPU | CPU per answer (forwarded pages, direct), resolver branded + signed ÷ JS peer, median of the paired rounds | ${ratio(page('branded_signed', 'js_peer').median)} (${range(page('branded_signed', 'js_peer').each)}) ${met(page('branded_signed', 'js_peer').median <= 1)} |`,
    `| branded, signed page ≤ ${PAGE_VS_PASSTHROUGH}× the pass-through | CPU per answer, resolver branded + signed ÷ pass-through, median of the paired rounds | ${ratio(page('branded_signed', 'passthrough').median)} (${range(page('branded_signed', 'passthrough').each)}) ${met(page('branded_signed', 'passthrough').median <= PAGE_VS_PASSTHROUGH)} |`,
  ];

  return `# Benchmark results

Written by \`bench/run\` (see [README.md](README.md) for what is measured and how to read this);
regenerate, do not edit.

## Machine and versions

| | |
|---|---|
| date | ${r.date} |
| machine | ${r.machine.cores} cores (nproc), ${r.machine.cpu}, ${r.machine.memGiB} GiB memory; shared with other work (see "other processes' CPU") |
| rustc | ${r.versions.rustc} |
| worker crate | ${r.versions.worker} (wasm-bindgen ${r.versions.wasmBindgen}) |
| wrangler / workerd | ${r.versions.wrangler} / ${r.versions.workerd} (compatibility date ${r.versions.compat}) |
| PostgREST | ${r.versions.postgrest} |
| @supabase/supabase-js | ${r.versions.supabaseJs} |
| node / wrk | ${r.versions.node} / ${r.versions.wrk} |
| load | wrk, ${r.settings.threads} threads, ${r.settings.connections} connections, ${r.settings.seconds} s per run; ${r.settings.rounds} rounds, each resolver → ceiling → TypeScript → JS constant → thin entry by slug, then by Host, ${paths.length === 2 ? 'through the proxy, then the same directly' : 'directly (inner mode)'}; ${r.settings.loaded} of ${r.settings.tenants} tenants, all cached (warm-up first) |
| bodies (median) | resolver ${r.bodyBytes.resolver} B, ceiling ${r.bodyBytes.ceiling} B, TypeScript ${r.bodyBytes.ts} B, JS constant ${r.bodyBytes.jsconst} B, thin entry ${r.bodyBytes.thin} B |
| total wall time | ${(r.wallS / 60).toFixed(1)} min |

## Cache-hit throughput and latency

Medians over the ${r.settings.rounds} rounds; non-2xx, socket errors and PostgREST requests are totals over
the measured runs. Ratios are taken within each round (paired runs), then the median.

${paths.flatMap((p) => MIXES.map((m) => pathSection(r, p, m))).join('\n')}
## PostgREST requests (upstream load)

| worker | warm-up, cold pass (${r.settings.loaded} slugs + ${r.settings.loaded} hosts) | warm-up, second pass | wrk warm-up + all measured runs |
|---|---:|---:|---:|
${['resolver', 'ts'].map((n) => `| ${LABEL[n]} | ${r.warm[n].upstream[0]} | ${r.warm[n].upstream[1] ?? '–'} | ${r.afterWarm[n]} |`).join('\n')}

The resolver caches a tenant once under all its keys (slug, domain, id); the TypeScript version
caches per lookup key, so it asks once per slug and once per host. Resolver total:
**${up.total} tenant reads for ${r.settings.loaded} tenants** over ${up.elapsedS.toFixed(0)} s, within one TTL (${r.settings.ttl} s),
besides ${up.feedReads} reads of the change feed (one per poll interval while it had traffic; counted apart).

${pacedSection(r)}
${htmlSection(r.html, r.settings.before)}
${r.feed ? feedSection(r.feed) : ''}
${r.outage ? outageSection(r.outage) : ''}

## Size and startup

| | resolver | ceiling | TypeScript | JS constant | thin entry |
|---|---:|---:|---:|---:|---:|
| Wasm raw (\`build/index_bg.wasm\`) | ${kib(r.wasm.resolver.raw)} (${r.wasm.resolver.raw} B) | ${kib(r.wasm.ceiling.raw)} | n/a | n/a | ${kib(r.wasm.thin.raw)} |
| Wasm gzip -9 | **${kib(r.wasm.resolver.gzip)}** (${r.wasm.resolver.gzip} B) | ${kib(r.wasm.ceiling.gzip)} | n/a | n/a | ${kib(r.wasm.thin.gzip)} |
| startup phase (\`wrangler check startup\`: span of workerd's CPU profile) | ${ms(r.startup.resolver)} | ${ms(r.startup.ceiling)} | ${ms(r.startup.ts)} | ${ms(r.startup.jsconst)} | ${ms(r.startup.thin)} |
| \`wrangler dev\` start → first 200 (wrangler's own start and the build command included) | ${(r.devStart.resolver / 1000).toFixed(1)} s | ${(r.devStart.ceiling / 1000).toFixed(1)} s | ${(r.devStart.ts / 1000).toFixed(1)} s | ${(r.devStart.jsconst / 1000).toFixed(1)} s | ${(r.devStart.thin / 1000).toFixed(1)} s |

## Targets

Cache hits, median of the paired ratios (and of the rounds' p99):

| path and mix | throughput ≥ 0.9× the ceiling | p99 ≤ the ceiling's (saturated) | throughput ≥ 1.5× the TypeScript resolver |
|---|---|---|---|
${targetRows.join('\n')}
${
  r.paced.length
    ? `
At a fixed load (direct, medians of the rounds' p99):

| mix | p99 ≤ the ceiling's |
|---|---|
${MIXES.map((mix) => {
  const p = (n) => median(r.paced.map((round) => round[mix][n].p99Ms));
  return `| ${MIX_LABEL[mix]} | ${ms(p('resolver'))} vs ${ms(p('ceiling'))} ${met(p('resolver') <= p('ceiling'))} |`;
}).join('\n')}
`
    : ''
}
Against what a team would write in JS (issue 26):

| target | metric | result |
|---|---|---|
${[...pageRows, ...hitRows].join('\n')}

| target | result |
|---|---|
| at most one tenant read per tenant per TTL | ${up.total} for ${r.settings.loaded} tenants in ${up.elapsedS.toFixed(0)} s (TTL ${r.settings.ttl} s) ${met(upstreamOk)} |
| gzip Wasm ≤ ${kib(r.settings.budget)} | ${kib(r.wasm.resolver.gzip)} ${met(r.wasm.resolver.gzip <= r.settings.budget)} |
${
  r.feed
    ? `| feed on: PostgREST requests ≤ data centers / \`CHANGES_POLL_SECONDS\` per second | ${(r.feed.measured.on.perMinute / 60).toFixed(2)}/s ≤ ${(r.feed.dcs / r.feed.poll).toFixed(2)}/s ${met(r.feed.measured.on.feedReads + r.feed.measured.on.tenantReads <= r.feed.dcs * (Math.floor(r.feed.seconds / r.feed.poll) + 1))} |
| feed on: edit → visible in every data center ≤ \`CHANGES_POLL_SECONDS\` + 1 s | ${ms(Math.max(...r.feed.editMs.map((x) => x ?? Infinity)))} ≤ ${(r.feed.poll + 1) * 1000} ms ${met(r.feed.editMs.every((x) => x != null && x <= (r.feed.poll + 1) * 1000))} |`
    : '| change feed | not measured in this run (`BENCH_FEED_SECONDS=0`) |'
}
${
  r.outage
    ? `| feed reads per data center per interval, ${r.outage.isolates.isolates} isolates ≤ 2 | ${r.outage.isolates.perInterval.toFixed(2)} ${met(r.outage.isolates.perInterval <= 2)} |
| feed unreadable: tenant reads ≤ tenants × data centers × (1 + minutes) | ${r.outage.outage.tenantReads} ≤ ${r.outage.outage.bound.toFixed(0)} ${met(r.outage.outage.tenantReads <= r.outage.outage.bound)} |
| PostgREST in 2 s: p99 of cached hits < 1 s | ${ms(r.outage.slow.slow.p99Ms)} ${met(r.outage.slow.slow.p99Ms < 1000)} |`
    : '| outages | not measured in this run (`BENCH_OUTAGE_SECONDS=0`) |'
}

All traffic is loopback; wrk, wrangler's proxy and the Worker's workerd share the same
${r.machine.cores} cores, so a ratio says more than an absolute figure. See [README.md](README.md).
`;
}
