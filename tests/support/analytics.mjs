// A stand-in for Workers Analytics Engine: it receives the data points a Worker writes under
// `wrangler dev` and answers the SQL API as Cloudflare does (a node:http server on a loopback
// port, like cloudflare.mjs and dns.mjs).
//
// How data points get out of `wrangler dev` (tried with wrangler 4.86, scratch Workers):
// - miniflare's Analytics Engine binding is a simulator whose `writeDataPoint(){}` drops the
//   point: no option, no log, nothing to read back. Nothing in wrangler's configuration reroutes
//   it (`unsafe` bindings are not simulated locally).
// - A service binding named like the dataset binding, to a recorder Worker whose default export
//   is a `WorkerEntrypoint` with a `writeDataPoint(point)` method, takes the same call:
//   `env.ANALYTICS.writeDataPoint(p)` is an RPC call on it, unchanged code. The recorder
//   (tests/fixtures/analytics/recorder.js) forwards each point by fetch to this server.
// - It must run in the same `wrangler dev` as the Worker (`wrangler dev -c worker.toml -c
//   recorder.toml`): 200 fire-and-forget writes from 32 concurrent requests all arrived, and two
//   such processes side by side (same recorder name, shared dev registry) each reached their own
//   recorder. Across two `wrangler dev` processes (the dev registry) the binding connects, but a
//   call that is not awaited is lost when the request ends: 0 of 6 arrived; awaited or in
//   waitUntil they arrive. The real `writeDataPoint` returns nothing and nobody awaits it (nor
//   does workers-rs), so only the one-process form is faithful.
// - The Worker's configuration stays as production's (`[[analytics_engine_datasets]]`):
//   `recorderConfigs()` writes a copy for the test stack with that binding swapped for the
//   service binding, `main` made absolute and `[build]` dropped (build first with the original),
//   plus one recorder configuration per dataset. An `[env.test]` with `[[env.test.services]]`
//   works too, but `--env test` renames every `-c` Worker to `<name>-test` (the binding must
//   name `…-recorder-test`, or it silently goes to the dev registry and the points are lost),
//   environments do not inherit vars, and production's file would carry a test-only binding.
// - workers-rs 0.8.7: `Env::analytics_engine` overrides `EnvBinding::get` with an unchecked cast
//   (miniflare's binding is a plain object, so the constructor-name check other bindings get is
//   skipped), so the service binding passes and `write_data_point` calls `writeDataPoint` on it:
//   no JS shim needed. Tried: a worker 0.8.7 Worker writing with `AnalyticsEngineDataPointBuilder`
//   (a string and a byte blob) through these configurations, 63 of 63 points arrived. A missing
//   binding is `Err("Binding `ANALYTICS` is undefined.")`: "without the binding the Worker writes
//   nothing" is that error ignored. wasm-bindgen drops the RPC call's promise (`-> Result<(),
//   JsValue>`), which the one-process form tolerates.
//
// Data points (POST /_standin/write/:dataset from the recorder; `write()` from a test): the
// documented limits (https://developers.cloudflare.com/analytics/analytics-engine/limits/) are
// checked, one index of at most 96 bytes, at most 20 blobs of 16 KB together, at most 20
// doubles; a point over them is refused (400, kept in `refused`). Missing blobs are '' and
// doubles 0; `_sample_interval` is 1 (nothing is sampled); `timestamp` is the recorder's clock at
// the call. Not checked: 25 points per invocation (the recorder cannot see invocations).
//
// The SQL API (https://developers.cloudflare.com/analytics/analytics-engine/sql-api/):
// POST /client/v4/accounts/:account_id/analytics_engine/sql, the statement as the body,
// `Authorization: Bearer <token>`. Credentials are refused as cloudflare.mjs refuses them: no
// header 400 code 9106; not `Bearer <token>` 400 code 6003; an unknown token 401 code 9109; a
// known token without Account Analytics Read (`tokenWithoutAnalytics`, by default the Cloudflare
// stand-in's token) or another account 403 code 10000; an account id that is not 32 hex digits
// 400 code 7003. A query it cannot run is 422 with the reason as plain text (Cloudflare documents
// only that success is 200 and shows errors read as text: the control plane must treat any other
// status as a failed query and log the body). `FORMAT JSON` (the default) answers
// `{"meta":[{"name","type"}],"data":[{…}],"rows":n}`, plus `rows_before_limit_at_least` when the
// query has a LIMIT (as ClickHouse writes it); `FORMAT JSONEachRow` one object per line.
// Types are ClickHouse's: UInt64 results (`count()`, `sum(_sample_interval)`) are JSON strings,
// Float64 numbers, DateTime 'YYYY-MM-DD hh:mm:ss', Date 'YYYY-MM-DD'.
//
// The SQL it answers (analytics-sql.mjs; https://developers.cloudflare.com/analytics/analytics-engine/sql-reference/):
//   SELECT <expr> [AS alias], … | *  FROM <dataset>  [WHERE …]  [GROUP BY <expr|alias>, …]
//   [HAVING …]  [ORDER BY <expr|alias> [ASC|DESC], …]  [LIMIT n|ALL [OFFSET m] | LIMIT m, n]
//   [FORMAT JSON|JSONEachRow]
// - literals: integers, decimals, 'strings', true/false, INTERVAL '1' HOUR (or 1; SECOND…YEAR);
// - operators: + - * / %, = != <> < > <= >=, AND OR NOT, [NOT] IN (literals), [NOT] BETWEEN,
//   [NOT] LIKE/ILIKE; a DateTime compared with 'YYYY-MM-DD[ hh:mm:ss]' reads the string as UTC
//   (an RFC 3339 string with a zone is refused: convert it first); DateTime ± INTERVAL;
// - functions: now(), toDateTime(x[, 'UTC']), toStartOfInterval(t, INTERVAL n unit) (a Date
//   for DAY and longer, as ClickHouse; toStartOfHour/toStartOfDay give DateTime),
//   toStartOfHour/Day/Minute/FiveMinutes/FifteenMinutes, toUnixTimestamp, toHour, if(c, a, b);
// - aggregates: count(), count([DISTINCT] x), sum, avg, min, max,
//   quantileExactWeighted(q)(x, _sample_interval) and quantileWeighted(q, x, _sample_interval)
//   (ClickHouse's rule: the first value, in order, whose running weight reaches ceil(q × total)).
// Refused, as ClickHouse refuses them: unknown columns, comparing a String with a number, a
// column neither grouped nor aggregated, an aggregate in WHERE or GROUP BY or inside another, an
// unknown table. Refused because the reference does not list them (the real API may accept
// them; queries that pass here use only documented functions): countIf, sumIf and every other
// unlisted function; write sum(if(c, _sample_interval, 0)). Refused as not implemented here
// (documented, not needed yet): subqueries, WITH, SHOW, DISTINCT, TabSeparated, time zones but
// UTC, the other functions of the reference.
//
// Not verified against the real API (no account here; the docs do not say): the 422 status of a
// refused query, UInt64 as JSON strings, `rows_before_limit_at_least`, and a Date from
// toStartOfInterval by DAY. Clients should accept numbers or numeric strings, and bucket days with
// toStartOfDay, which the reference documents as a DateTime.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { run, SqlError } from './analytics-sql.mjs';

/** The recorder Worker that forwards `writeDataPoint` calls here. */
export const RECORDER = fileURLToPath(new URL('../fixtures/analytics/recorder.js', import.meta.url));

const MESSAGES = {
  6003: 'Invalid request headers',
  7000: 'No route for that URI',
  9106: 'Missing X-Auth-Key, X-Auth-Email or Authorization headers',
  9109: 'Invalid access token',
  10000: 'Authentication error',
  10405: 'Method not allowed',
};
const envelope = (errors) => ({ success: false, errors, messages: [], result: null });
const failure = (code) => envelope([{ code, message: MESSAGES[code] }]);
const SQL_PATH = /^\/client\/v4\/accounts\/([^/]+)\/analytics_engine\/sql$/;
const WRITE_PATH = /^\/_standin\/write\/([^/]+)$/;

/** Why a data point breaks Analytics Engine's limits, or null. */
function overLimit(point) {
  const { indexes = [], blobs = [], doubles = [] } = point ?? {};
  if (!Array.isArray(indexes) || !Array.isArray(blobs) || !Array.isArray(doubles)) return 'indexes, blobs and doubles must be arrays';
  if (indexes.length > 1) return `at most one index per data point (got ${indexes.length})`;
  if (indexes.some((i) => i !== null && i !== undefined && typeof i !== 'string')) return 'an index must be a string';
  if (Buffer.byteLength(indexes[0] ?? '') > 96) return 'an index must not be more than 96 bytes';
  if (blobs.length > 20) return `at most 20 blobs per data point (got ${blobs.length})`;
  if (blobs.some((b) => b !== null && b !== undefined && typeof b !== 'string')) return 'a blob must be a string or bytes';
  if (blobs.reduce((s, b) => s + Buffer.byteLength(b ?? ''), 0) > 16 * 1024)
    return 'the blobs of a data point must not exceed 16 KB together';
  if (doubles.length > 20) return `at most 20 doubles per data point (got ${doubles.length})`;
  if (doubles.some((d) => d !== null && d !== undefined && typeof d !== 'number')) return 'a double must be a number';
  return null;
}

/** A data point as a row of its dataset's table. */
function row(dataset, point, at) {
  const r = { dataset, timestamp: Math.floor(at / 1000), _sample_interval: 1, index1: point.indexes?.[0] ?? '' };
  for (let i = 0; i < 20; i++) {
    r[`blob${i + 1}`] = point.blobs?.[i] ?? '';
    r[`double${i + 1}`] = point.doubles?.[i] ?? 0;
  }
  return r;
}

/**
 * Starts the stand-in. Options: `accountId`, `token` (an API token with Account Analytics Read
 * on that account), `tokenWithoutAnalytics` (a token the API knows that may not read
 * analytics), `clock` (milliseconds; `now()` in queries and the time of `write()`).
 * Returns `{ url, apiBase, sqlUrl, accountId, token, points(), datasets(), write(), waitForPoints(),
 * requests, queries, refused, reset(), stop() }`; `token` can be set to stand for a rolled one.
 */
export async function startAnalytics({
  accountId = '01a7362d577a6c3019a474fd6f485823',
  token: configuredToken = 'cf-analytics-token',
  tokenWithoutAnalytics = 'cf-test-token',
  clock = Date.now,
} = {}) {
  let token = configuredToken;
  /** dataset → rows, in the order written. */
  const tables = new Map();
  /** Every request: `{ method, path, status, at }`. */
  const requests = [];
  /** Every SQL API call: `{ sql, status, error }` (`error`: the text of a refusal). */
  const queries = [];
  /** Every data point refused: `{ dataset, point, reason }`. */
  const refused = [];
  const waiters = new Set();

  function write(dataset, point, { at = clock() } = {}) {
    const reason = overLimit(point);
    if (reason) {
      refused.push({ dataset, point, reason });
      return reason;
    }
    if (!tables.has(dataset)) tables.set(dataset, []);
    tables.get(dataset).push(row(dataset, point, at));
    for (const w of waiters) w();
    return null;
  }

  function authenticate(req, account) {
    const header = req.headers.authorization;
    if (header === undefined) return [400, failure(9106)];
    const bearer = header.match(/^Bearer ([A-Za-z0-9_-]+)$/);
    if (!bearer) {
      return [
        400,
        envelope([
          { code: 6003, message: MESSAGES[6003], error_chain: [{ code: 6111, message: 'Invalid format for Authorization header' }] },
        ]),
      ];
    }
    if (bearer[1] === tokenWithoutAnalytics) return [403, failure(10000)];
    if (bearer[1] !== token) return [401, failure(9109)];
    if (account !== accountId) return [403, failure(10000)];
    return null;
  }

  function answer(req, body) {
    const { pathname } = new URL(req.url, 'http://analytics');
    const written = pathname.match(WRITE_PATH);
    if (written && req.method === 'POST') {
      let point;
      try {
        point = JSON.parse(body);
      } catch {
        return [400, 'text/plain', 'the body must be a JSON data point\n'];
      }
      const reason = write(decodeURIComponent(written[1]), point, { at: point?.timestamp ?? clock() });
      return reason ? [400, 'text/plain', `${reason}\n`] : [204, 'text/plain', ''];
    }
    const m = pathname.match(SQL_PATH);
    if (!m) return [404, 'json', failure(7000)];
    if (!/^[0-9a-f]{32}$/.test(m[1])) {
      return [
        400,
        'json',
        envelope([
          { code: 7003, message: `Could not route to ${pathname}, perhaps your object identifier is invalid?` },
          { code: 7000, message: MESSAGES[7000] },
        ]),
      ];
    }
    if (req.method !== 'POST') return [405, 'json', failure(10405)];
    const refusedAuth = authenticate(req, m[1]);
    if (refusedAuth) return [refusedAuth[0], 'json', refusedAuth[1]];
    const query = { sql: body, status: 200, error: null };
    queries.push(query);
    try {
      if (!body.trim()) throw new SqlError('Empty query: send the SQL statement as the request body');
      const { contentType, body: out } = run(body, tables, Math.floor(clock() / 1000));
      return [200, contentType, out];
    } catch (e) {
      if (!(e instanceof SqlError)) throw e;
      query.status = 422;
      query.error = e.message;
      return [422, 'text/plain; charset=UTF-8', `${e.message}\n`];
    }
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let status;
      let type;
      let out;
      try {
        [status, type, out] = answer(req, Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        [status, type, out] = [500, 'text/plain', `stand-in failure: ${e.stack}\n`];
      }
      requests.push({ method: req.method, path: req.url, status, at: Date.now() });
      const json = type === 'json';
      res.writeHead(status, { 'content-type': json ? 'application/json' : type });
      res.end(json ? JSON.stringify(out) : out);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;

  return {
    url,
    apiBase: `${url}/client/v4`,
    sqlUrl: `${url}/client/v4/accounts/${accountId}/analytics_engine/sql`,
    accountId,
    get token() {
      return token;
    },
    set token(value) {
      token = value;
    },
    tokenWithoutAnalytics,
    requests,
    queries,
    refused,
    /** The rows written to `dataset`, as the SQL API sees them (copies). */
    points: (dataset) => structuredClone(tables.get(dataset) ?? []),
    datasets: () => [...tables.keys()],
    /** Writes one data point as the binding would (`at`: its time in ms); returns why it was refused, or null. */
    write,
    /** Resolves with `dataset`'s rows once it holds at least `n`; rejects after `timeoutMs`. */
    waitForPoints(dataset, n, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if ((tables.get(dataset)?.length ?? 0) < n) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(structuredClone(tables.get(dataset)));
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${dataset}: ${tables.get(dataset)?.length ?? 0} data points after ${timeoutMs} ms, expected ${n}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    reset() {
      tables.clear();
      requests.length = 0;
      queries.length = 0;
      refused.length = 0;
      token = configuredToken;
    },
    stop() {
      for (const w of waiters) w();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Writes into `dir` the configurations that run the Worker of `config` (a wrangler.toml with
 * `[[analytics_engine_datasets]]`) with its data points sent to the stand-in at `url`: a copy of
 * it with each dataset binding replaced by a service binding of the same name to a recorder,
 * and one recorder configuration per dataset. Start them in one process:
 * `wrangler dev -c <configs[0]> -c <configs[1]> …` (the first is the Worker served). The copy
 * has no `[build]`: build with the original first. `url` null: the copy without its dataset
 * bindings and no recorder (the Worker as deployed without analytics). Returns
 * `{ configs, datasets }`; a configuration without datasets comes back as the only entry,
 * unchanged.
 */
export function recorderConfigs({ config, dir, url }) {
  const worker = parseToml(fs.readFileSync(config, 'utf8'));
  const bindings = worker.analytics_engine_datasets ?? [];
  if (bindings.length === 0) return { configs: [config], datasets: [] };
  delete worker.analytics_engine_datasets;
  delete worker.build;
  worker.main = path.resolve(path.dirname(config), worker.main);
  if (url === null) {
    fs.mkdirSync(dir, { recursive: true });
    const bare = path.join(dir, `${worker.name}.no-analytics.toml`);
    fs.writeFileSync(bare, stringifyToml(worker));
    return { configs: [bare], datasets: [] };
  }
  const recorderName = (dataset) => `analytics-recorder-${dataset.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`;
  worker.services = [
    ...(worker.services ?? []),
    ...bindings.map((b) => ({ binding: b.binding, service: recorderName(b.dataset ?? b.binding) })),
  ];
  fs.mkdirSync(dir, { recursive: true });
  const workerConfig = path.join(dir, `${worker.name}.analytics.toml`);
  fs.writeFileSync(workerConfig, stringifyToml(worker));
  const recorders = bindings.map((b) => {
    const dataset = b.dataset ?? b.binding;
    const file = path.join(dir, `${recorderName(dataset)}.toml`);
    const recorder = {
      name: recorderName(dataset),
      main: RECORDER,
      compatibility_date: worker.compatibility_date,
      vars: { DATASET: dataset, ANALYTICS_STANDIN_URL: url },
    };
    fs.writeFileSync(file, stringifyToml(recorder));
    return file;
  });
  return { configs: [workerConfig, ...recorders], datasets: bindings.map((b) => b.dataset ?? b.binding) };
}
