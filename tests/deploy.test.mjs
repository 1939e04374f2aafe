// The README's "Deploying" section, run as written from the repo root, everywhere no Cloudflare
// account is needed. Each ```sh block runs in bash exactly as the README spells it, with a
// stand-in `npx` first on PATH that plays the parts needing an account: `wrangler deploy` runs
// for real with `--dry-run --outdir` appended, `wrangler secret put NAME` records the value it
// is given (as Cloudflare's secret store would keep it), `supabase link`/`db push` are recorded
// only (every test stack runs `supabase db push` for real). Run against the repo as shipped,
// the preflight stops each block before its deploy, naming the settings still commented out;
// run in a copy of the repo with those settings filled in, each block deploys (dry-run).
//
// The block's text is the test's input, so the commands cannot drift from what is tested; the
// test also fails if a block loses its preflight, its deploy, or the secret it must hand on.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'smol-toml';
import { ROOT, freePort, sleep, stopProcess } from '../scripts/stack.mjs';

const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const WRANGLER = path.join(ROOT, 'node_modules', '.bin', 'wrangler');
/**
 * The environment of a command that must not find a Cloudflare login (a HOME of its own, no
 * API token): the preflight then leaves the secrets to check by hand. Rust's stay where they are.
 */
const notLoggedIn = (home) => ({
  ...process.env,
  HOME: home,
  CLOUDFLARE_API_TOKEN: '',
  RUSTUP_HOME: process.env.RUSTUP_HOME ?? path.join(os.homedir(), '.rustup'),
  CARGO_HOME: process.env.CARGO_HOME ?? path.join(os.homedir(), '.cargo'),
  PATH: `${path.join(os.homedir(), '.cargo', 'bin')}:${process.env.PATH}`,
});

/** The ```sh blocks of the README's section `heading`. */
function shellBlocks(heading) {
  const start = README.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README has a "${heading}" section`);
  const end = README.indexOf('\n## ', start + 1);
  const section = README.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}

const [resolverBlock, controlBlock] = shellBlocks('Deploying');

/** The commands of a block: its lines without comments or blank lines. */
const commands = (block) =>
  block
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l && !l.startsWith('#'));

let dir;
/** The stand-in `npx`: a log of what it was asked, and secrets as `secrets/<config>/<env>/<NAME>`. */
function npxStandIn() {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(
    path.join(bin, 'npx'),
    `#!/usr/bin/env bash
# npx as tests/deploy.test.mjs plays it: what needs a Cloudflare or Supabase account is recorded.
set -euo pipefail
printf '%s\\n' "$*" >> "$NPX_LOG"
config=wrangler.toml env=
args=("$@")
for ((i = 0; i < \${#args[@]}; i++)); do
  case "\${args[i]}" in
    --config) config=\${args[i+1]} ;;
    --env) env=\${args[i+1]} ;;
  esac
done
case "$1 $2" in
  "wrangler deploy") exec "$REAL_WRANGLER" "\${@:2}" --dry-run --outdir "$NPX_OUT/$(date +%s%N)" ;;
  "wrangler secret")
    [ "$3" = put ] || { echo "npx stand-in: only secret put" >&2; exit 2; }
    mkdir -p "$NPX_SECRETS/$config/$env"
    cat > "$NPX_SECRETS/$config/$env/$4" ;;
  "supabase link" | "supabase db") ;;
  *) echo "npx stand-in: $* is not in the README's deploy steps" >&2; exit 2 ;;
esac
`,
    { mode: 0o755 },
  );
  return bin;
}

/**
 * Runs a README block in bash (`-e`, as a careful operator would) from `cwd`, its one
 * placeholder filled in as the operator fills it.
 */
function runBlock(text, cwd, name) {
  const block = text.replaceAll('<project-ref>', 'abcdefghijklmnopqrst');
  const run = path.join(dir, name);
  fs.mkdirSync(run, { recursive: true });
  const log = path.join(run, 'npx.log');
  const res = spawnSync('bash', ['-euo', 'pipefail', '-c', block], {
    cwd,
    encoding: 'utf8',
    input: '',
    timeout: 600_000,
    env: {
      ...notLoggedIn(run),
      PATH: `${path.join(dir, 'bin')}:${notLoggedIn(run).PATH}`,
      NPX_LOG: log,
      NPX_OUT: path.join(run, 'out'),
      NPX_SECRETS: path.join(run, 'secrets'),
      REAL_WRANGLER: WRANGLER,
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    },
  });
  const npx = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
  const secret = (config, env, n) => {
    const file = path.join(run, 'secrets', config, env, n);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  };
  return { ...res, output: `${res.stdout}${res.stderr}`, npx, secret };
}

/**
 * A copy of the repo with the environments' settings filled in as an operator would: every
 * commented `NAME = "…"` under `[env.staging.vars]` and `[env.production.vars]` uncommented,
 * placeholders made real. The build's inputs are copied as they are, so the build in it is
 * up to date; node_modules and scripts are links to this checkout's.
 */
function filledCopy() {
  const copy = path.join(dir, 'filled');
  for (const f of ['Cargo.toml', 'Cargo.lock', 'rust-toolchain.toml', 'package.json', 'control/Cargo.toml']) {
    fs.mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, f), path.join(copy, f));
  }
  for (const d of ['src', 'schema', 'control/src', 'crates', 'build', 'control/build']) {
    fs.cpSync(path.join(ROOT, d), path.join(copy, d), { recursive: true });
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  fs.symlinkSync(path.join(ROOT, 'scripts'), path.join(copy, 'scripts'));
  for (const config of ['wrangler.toml', 'control/wrangler.toml']) {
    let inVars = false;
    const lines = fs
      .readFileSync(path.join(ROOT, config), 'utf8')
      .split('\n')
      .map((line) => {
        if (line.startsWith('[')) inVars = /^\[env\.\w+\.vars\]$/.test(line);
        if (!inVars || !/^# [A-Z_]+ = "/.test(line)) return line;
        return line
          .slice(2)
          .replace(/<[a-z-]*project-ref>/, 'abcdefghijklmnopqrst')
          .replace(/<the [a-z ]*SaaS zone's id>/, '023e105f4ecef8ad9ca31a8372d0c353')
          .replace(/<the account id>/, '01a7362d577a6c3019a474fd6f485823');
      });
    fs.writeFileSync(path.join(copy, config), lines.join('\n'));
  }
  return copy;
}

let filled;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-test-'));
  npxStandIn();
  // Both Workers built (wrangler runs this itself; built first, the dry-runs only bundle).
  for (const w of ['build:resolver', 'build:control']) {
    const res = spawnSync('npm', ['run', '--silent', w], { cwd: ROOT, encoding: 'utf8', timeout: 1_200_000 });
    assert.equal(res.status, 0, res.stderr);
  }
  filled = filledCopy();
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the deploy blocks hold what a deploy needs, in order: the secrets, the preflight, then the deploy', () => {
  const resolver = commands(resolverBlock);
  assert.deepEqual(resolver.slice(0, 2), ['npx supabase link --project-ref <project-ref>', 'npx supabase db push'], 'the database first');
  const control = commands(controlBlock);
  const at = (list, command) => {
    const i = list.indexOf(command);
    assert.ok(i >= 0, `the block runs ${command}`);
    return i;
  };
  assert.ok(at(resolver, 'scripts/preflight --env production') < at(resolver, 'npx wrangler deploy --env production'));
  assert.ok(
    at(control, 'scripts/preflight --env production --config control/wrangler.toml') <
      at(control, 'npx wrangler deploy --config control/wrangler.toml --env production'),
  );
  for (const [block, secrets] of [
    [resolver, ['SUPABASE_ANON_KEY', 'ORIGIN_SIGNING_SECRET']],
    [control, ['SUPABASE_SECRET_KEY', 'SUPABASE_ANON_KEY', 'CLOUDFLARE_API_TOKEN', 'CLOUDFLARE_WEBHOOK_SECRET']],
  ]) {
    for (const secret of secrets) {
      const put = block.findIndex((c) => c.includes(`wrangler secret put ${secret} `));
      assert.ok(put >= 0 && put < block.findIndex((c) => c.startsWith('scripts/preflight')), `${secret} is put before the preflight`);
    }
  }
});

test('as shipped (production settings commented out), the preflight stops each deploy, naming every missing setting', () => {
  const resolver = runBlock(resolverBlock, ROOT, 'shipped-resolver');
  assert.notEqual(resolver.status, 0, resolver.output);
  for (const setting of ['SUPABASE_URL', 'PLATFORM_DOMAIN', 'ORIGIN_URL']) {
    assert.match(resolver.output, new RegExp(`✗ ${setting} is not set`), resolver.output);
  }
  assert.match(resolver.output, /secrets to check by hand \(wrangler is not logged in\): SUPABASE_ANON_KEY, ORIGIN_SIGNING_SECRET/);
  assert.ok(!resolver.npx.some((c) => c.startsWith('wrangler deploy')), 'nothing was deployed');

  const control = runBlock(controlBlock, ROOT, 'shipped-control');
  assert.notEqual(control.status, 0, control.output);
  for (const setting of ['SUPABASE_URL', 'CLOUDFLARE_ZONE_ID', 'CUSTOM_HOSTNAME_TARGET', 'PLATFORM_DOMAIN', 'DASHBOARD_ORIGIN']) {
    assert.match(control.output, new RegExp(`✗ ${setting} is not set`), control.output);
  }
  assert.ok(!control.npx.some((c) => c.startsWith('wrangler deploy')), 'nothing was deployed');
});

for (const env of ['production', 'staging']) {
  test(`with ${env}'s settings filled in, each block deploys ${env} (dry-run) and hands on the secret it generated`, () => {
    const swap = (block) => block.replaceAll('--env production', `--env ${env}`);
    const resolver = runBlock(swap(resolverBlock), filled, `filled-resolver-${env}`);
    assert.equal(resolver.status, 0, resolver.output);
    assert.match(resolver.output, /preflight: ok/);
    assert.match(resolver.output, /up to date with its sources/, 'the copy built nothing');
    assert.ok(resolver.npx.includes(`wrangler deploy --env ${env}`), resolver.npx.join('\n'));
    assert.match(resolver.output, /--dry-run: exiting now/);
    assert.match(resolver.output, /env\.PLATFORM_DOMAIN \("(staging\.)?coachplatform\.com"\)/);
    const signing = resolver.secret('wrangler.toml', env, 'ORIGIN_SIGNING_SECRET');
    assert.match(signing, /^[0-9a-f]{64}$/, 'the Worker got a 32-byte secret, without a newline');
    assert.ok(resolver.stdout.split('\n').includes(signing), 'the same value was printed for the app');

    const control = runBlock(swap(controlBlock), filled, `filled-control-${env}`);
    assert.equal(control.status, 0, control.output);
    assert.match(control.output, /preflight: ok/);
    assert.ok(control.npx.includes(`wrangler deploy --config control/wrangler.toml --env ${env}`), control.npx.join('\n'));
    assert.match(control.output, /--dry-run: exiting now/);
    assert.match(control.output, /env\.CUSTOM_HOSTNAME_TARGET/);
    const webhook = control.secret('control/wrangler.toml', env, 'CLOUDFLARE_WEBHOOK_SECRET');
    assert.match(webhook, /^[0-9a-f]{64}$/);
    assert.ok(control.stdout.split('\n').includes(webhook), 'the same value was printed for Cloudflare');
  });
}

test("the preflight names an invalid setting by the Worker's own rules, and a secret written into [vars]", () => {
  const config = path.join(dir, 'invalid.toml');
  fs.writeFileSync(
    config,
    [
      'name = "tenant-resolver"',
      'main = "build/worker/shim.mjs"',
      '[build]',
      'command = "npm run --silent build:resolver"',
      '[env.production]',
      'name = "tenant-resolver"',
      '[env.production.vars]',
      'SUPABASE_URL = "https://abc.supabase.co/rest/v1/"',
      'PLATFORM_DOMAIN = "https://coachplatform.com"',
      'ORIGIN_URL = "app.coachplatform.com"',
      'UPSTREAM_TIMEOUT_MS = "3 seconds"',
      'SUPABASE_ANON_KEY = "sb_publishable_x"',
      '',
    ].join('\n'),
  );
  const res = spawnSync(path.join(ROOT, 'scripts', 'preflight'), ['--env', 'production', '--config', config], {
    cwd: ROOT,
    encoding: 'utf8',
    env: notLoggedIn(dir),
  });
  const output = `${res.stdout}${res.stderr}`;
  assert.equal(res.status, 1, output);
  for (const named of [
    /✗ name is "tenant-resolver", the top level's too/,
    /✗ PLATFORM_DOMAIN is not a domain/,
    /✗ ORIGIN_URL must be an http\(s\) URL/,
    /✗ UPSTREAM_TIMEOUT_MS must be a whole number/,
    /✗ SUPABASE_ANON_KEY is a secret: never in wrangler.toml/,
  ])
    assert.match(output, named);
  assert.ok(!output.includes('sb_publishable_x'), 'never the value');
  const usage = spawnSync(path.join(ROOT, 'scripts', 'preflight'), [], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /name the environment/);
});

test('environments cannot be confused: each its own Worker, the top level deploys nothing that serves', () => {
  for (const [config, base] of [
    ['wrangler.toml', 'tenant-resolver'],
    ['control/wrangler.toml', 'tenant-control'],
  ]) {
    const toml = parse(fs.readFileSync(path.join(ROOT, config), 'utf8'));
    assert.equal(toml.name, base);
    assert.equal(toml.workers_dev, false, `${config}: no workers.dev URL at the top level`);
    assert.equal(toml.routes, undefined, `${config}: no routes at the top level`);
    for (const env of ['staging', 'production']) {
      assert.equal(toml.env[env].name, `${base}-${env}`, `${config}: [env.${env}] is its own Worker`);
      assert.equal(toml.env[env].workers_dev, false);
    }
    if (base === 'tenant-control') {
      assert.deepEqual(toml.triggers.crons, [], 'no Cron Trigger at the top level');
      for (const env of ['staging', 'production']) assert.deepEqual(toml.env[env].triggers.crons, ['* * * * *']);
    }
  }
});

test('a hand-run `npx wrangler dev --config control/wrangler.toml` from the repo root builds and answers /health', async () => {
  const line = README.split('\n').find((l) => l.trim().startsWith('npx wrangler dev --config control/wrangler.toml'));
  assert.ok(line, 'the README shows how to run the control plane by hand');
  // Ports of its own instead of the README's.
  const command = line
    .replace(/\s+#.*$/, '')
    .replace(/--(inspector-)?port \d+/g, '')
    .trim()
    .split(/\s+/)
    .slice(1);
  const port = await freePort();
  const child = spawn(
    path.join(ROOT, 'node_modules', '.bin', command[0]),
    [
      ...command.slice(1),
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(await freePort()),
      '--show-interactive-dev-session=false',
    ],
    {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', CI: 'true' },
    },
  );
  let output = '';
  child.stdout.on('data', (c) => {
    output += c;
  });
  child.stderr.on('data', (c) => {
    output += c;
  });
  try {
    let answer;
    for (let i = 0; i < 600 && !answer && child.exitCode === null; i++) {
      await sleep(500);
      answer = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
    }
    assert.ok(answer, `no answer:\n${output}`);
    assert.ok([200, 500].includes(answer.status), `${answer.status}`);
    assert.match(answer.headers.get('content-type'), /json/);
    assert.doesNotMatch(output, /not found/);
  } finally {
    await stopProcess(child);
  }
});
