// `scripts/preflight --env ENV [--config PATH]`: every missing or invalid setting of one
// environment of a Worker, named before `wrangler deploy` takes it live.
//
// It reads that environment's `[env.ENV.vars]` (wrangler does not inherit the top-level [vars]
// into an environment, so neither does this), asks `wrangler secret list` which secrets the
// deployed Worker has when wrangler is logged in (else names them: check by hand), and runs the
// Worker's own settings parser over them (crates/preflight/src/main.rs, a native build of the
// same Rust the Worker runs). It also refuses an environment whose Worker name is the top
// level's: a bare `wrangler deploy` would replace its script.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'smol-toml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'usage: scripts/preflight --env ENV [--config control/wrangler.toml]';

function fail(message, code = 2) {
  console.error(`preflight: ${message}`);
  process.exit(code);
}

function args(argv) {
  const out = { config: 'wrangler.toml' };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    const value = () => inline ?? argv[++i] ?? fail(`${flag} needs a value\n${USAGE}`);
    if (flag === '--env' || flag === '-e') out.env = value();
    else if (flag === '--config' || flag === '-c') out.config = value();
    else if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown argument ${argv[i]}\n${USAGE}`);
  }
  if (!out.env) fail(`name the environment to check (the top level is for local development only)\n${USAGE}`);
  return out;
}

/** Whether wrangler has credentials to ask Cloudflare with (an API token, or `wrangler login`'s). */
function loggedIn() {
  if (process.env.CLOUDFLARE_API_TOKEN) return true;
  const homes = [path.join(os.homedir(), '.config', '.wrangler'), path.join(os.homedir(), '.wrangler')];
  return homes.some((home) => {
    try {
      return /oauth_token/.test(fs.readFileSync(path.join(home, 'config', 'default.toml'), 'utf8'));
    } catch {
      return false;
    }
  });
}

/** The secret names of the deployed Worker, or `{ why }` when they cannot be read. */
function secretNames(configPath, env) {
  if (!loggedIn()) return { why: 'wrangler is not logged in' };
  const res = spawnSync(
    path.join(ROOT, 'node_modules', '.bin', 'wrangler'),
    ['secret', 'list', '--config', configPath, '--env', env, '--format', 'json'],
    { encoding: 'utf8', timeout: 60_000, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
  );
  try {
    if (res.status !== 0) throw new Error();
    return { names: JSON.parse(res.stdout).map((s) => s.name) };
  } catch {
    return { why: `wrangler secret list failed: ${(res.stderr || res.stdout || res.error?.message || '').trim().split('\n').pop()}` };
  }
}

const { env, config } = args(process.argv.slice(2));
const configPath = path.resolve(config);
let toml;
try {
  toml = parse(fs.readFileSync(configPath, 'utf8'));
} catch (e) {
  fail(`cannot read ${config}: ${e.message}`);
}
const section = toml.env?.[env];
if (!section) fail(`${config} has no [env.${env}] (it has: ${Object.keys(toml.env ?? {}).join(', ') || 'none'})`);
const worker = /build:control|build-worker control/.test(toml.build?.command ?? '') ? 'control' : 'resolver';
const name = section.name ?? `${toml.name}-${env}`;
const vars = Object.fromEntries(Object.entries(section.vars ?? {}).map(([k, v]) => [k, String(v)]));
const secrets = secretNames(config, env);

const problems = [];
if (name === toml.name) {
  problems.push({
    setting: 'name',
    problem: `is "${name}", the top level's too: a bare \`wrangler deploy\` would replace this environment's script`,
  });
}

const checker = spawnSync('cargo', ['run', '--quiet', '-p', 'tenant-preflight', '--bin', 'preflight'], {
  cwd: ROOT,
  input: JSON.stringify({ worker, vars, secrets: secrets.names ?? null }),
  encoding: 'utf8',
  env: { ...process.env, PATH: `${path.join(process.env.CARGO_HOME ?? path.join(os.homedir(), '.cargo'), 'bin')}:${process.env.PATH}` },
  maxBuffer: 16 * 1024 * 1024,
});
if (checker.status !== 0) fail(`the settings checker did not run:\n${checker.stderr}`);
const report = JSON.parse(checker.stdout);
problems.push(...report.problems);

const deploy = `npx wrangler deploy${config === 'wrangler.toml' ? '' : ` --config ${config}`} --env ${env}`;
console.log(`preflight: ${name} (${config}, --env ${env})`);
for (const { setting, problem } of problems) console.log(`  ✗ ${setting} ${problem}`);
if (report.unchecked.length > 0) {
  console.log(`  ? secrets to check by hand (${secrets.why}): ${report.unchecked.join(', ')}`);
  console.log(`    npx wrangler secret list${config === 'wrangler.toml' ? '' : ` --config ${config}`} --env ${env}`);
}
if (!(section.routes ?? section.route) && !section.workers_dev) {
  console.log('  ! no routes: the deploy will serve nothing until routes are set (README "Deploying")');
}
if (problems.length > 0) {
  console.error(
    `preflight: ${problems.length} setting${problems.length === 1 ? '' : 's'} to fix in ${config} [env.${env}] (or its secrets) before \`${deploy}\``,
  );
  process.exit(1);
}
console.log(`preflight: ok: \`${deploy}\` may go ahead`);
