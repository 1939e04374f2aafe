// The README's first command, `scripts/dev`, run as a developer runs it (issue 25): a port in
// use is refused before anything is started or written, and attached to a Supabase that is
// already running (here the embedded stack behind a Supabase-shaped gateway) it serves that
// project's tenants and prints one readable line per request.
//
// scripts/dev writes .dev.vars and control/.dev.vars in the checkout: this file keeps the
// developer's copies and puts them back when it ends.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ROOT, freePort, mintJwt, startStack } from '../scripts/stack.mjs';
import { startGateway } from './support/gateway.mjs';
import { get } from './support/http.mjs';

const DEV_VARS = [path.join(ROOT, '.dev.vars'), path.join(ROOT, 'control', '.dev.vars')];
/** The developer's .dev.vars files as they were (null: absent), put back after the tests. */
let saved;
before(() => {
  saved = DEV_VARS.map((file) => (fs.existsSync(file) ? fs.readFileSync(file) : null));
});
after(() => {
  DEV_VARS.forEach((file, i) => {
    if (saved[i] === null) fs.rmSync(file, { force: true });
    else fs.writeFileSync(file, saved[i]);
  });
});

/**
 * `scripts/dev` with `env` and `args`, from the repo root, in its own process group. `output()`
 * is everything it printed so far; `waitFor(re)` resolves with the first match of `re` in it;
 * `exited` resolves with its exit code; `stop()` sends SIGTERM to its group and waits.
 */
function dev(env, args = []) {
  const child = spawn(path.join(ROOT, 'scripts', 'dev'), args, {
    cwd: ROOT,
    env: {
      ...process.env,
      STACK_QUIET: '',
      STACK_ECHO: '',
      SUPABASE_URL: '',
      SUPABASE_ANON_KEY: '',
      SUPABASE_DB_URL: '',
      SUPABASE_SECRET_KEY: '',
      ...env,
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const waiters = [];
  const onData = (chunk) => {
    text += chunk.toString();
    for (const w of waiters.slice()) {
      const match = text.match(w.re);
      if (match) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(match);
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  return {
    output: () => text,
    exited,
    waitFor(re, timeoutMs) {
      const match = text.match(re);
      if (match) return Promise.resolve(match);
      return new Promise((resolve, reject) => {
        const w = { re, resolve };
        waiters.push(w);
        const timer = setTimeout(
          () => reject(new Error(`scripts/dev printed no ${re} in ${timeoutMs} ms:\n${text.slice(-4000)}`)),
          timeoutMs,
        );
        exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`scripts/dev exited (${code}) before printing ${re}:\n${text.slice(-4000)}`));
        });
        const resolveOnce = w.resolve;
        w.resolve = (m) => {
          clearTimeout(timer);
          resolveOnce(m);
        };
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      return exited;
    },
  };
}

/** An HTTP server on 127.0.0.1:`port` answering 200 to everything, as a running Worker would. */
async function occupy(port) {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

const snapshot = () => DEV_VARS.map((file) => (fs.existsSync(file) ? fs.readFileSync(file) : null));

test('a port in use is refused before anything is started or written, naming the port', async (t) => {
  const [port, controlPort] = [await freePort(), await freePort()];
  for (const [busy, env] of [
    [port, { PORT: String(port), CONTROL_PORT: String(controlPort) }],
    [controlPort, { PORT: String(port), CONTROL_PORT: String(controlPort) }],
  ]) {
    const server = await occupy(busy);
    const before = snapshot();
    const run = dev(env);
    try {
      const code = await Promise.race([run.exited, new Promise((r) => setTimeout(() => r('still running'), 60_000))]);
      assert.notEqual(code, 0, `scripts/dev with ${busy} in use exited 0`);
      assert.notEqual(code, 'still running', `scripts/dev with ${busy} in use still runs after 60 s:\n${run.output().slice(-3000)}`);
      assert.match(run.output(), new RegExp(`\\b${busy}\\b.*in use`), run.output());
      assert.match(run.output(), /PORT=\d+ scripts\/dev/, 'it says what to do');
      assert.doesNotMatch(run.output(), /Local stack is up/);
      assert.deepEqual(snapshot(), before, '.dev.vars and control/.dev.vars are untouched');
    } finally {
      await run.stop();
      await server.close();
    }
    t.diagnostic(`${busy} in use: ${run.output().trim().split('\n').at(-1)}`);
  }
});

test('attached to a running Supabase, it serves its tenants and shows one line per request', async (t) => {
  // A Supabase that already runs: the embedded database behind a gateway shaped like the one of
  // `supabase start` and hosted projects (/rest/v1, apikey checked).
  const stack = await startStack({ worker: false });
  const gateway = await startGateway({
    rest: stack.postgrest.url,
    keys: [stack.anonKey, mintJwt(stack.jwtSecret, { role: 'service_role' })],
  });
  const [port, controlPort] = [await freePort(), await freePort()];
  const worker = `http://127.0.0.1:${port}`;
  const run = dev({ SUPABASE_URL: gateway.url, SUPABASE_ANON_KEY: stack.anonKey, PORT: String(port), CONTROL_PORT: String(controlPort) });
  let code;
  try {
    await run.waitFor(/Local stack is up/, 900_000);
    assert.match(run.output(), new RegExp(`Supabase: ${gateway.url} \\(attached`), 'the banner names the Supabase used');
    assert.match(run.output(), /control plane .*not started/i, 'no secret key: no control plane, said once');
    assert.doesNotMatch(run.output(), /\[stack\] postgres|postgrest ready/, 'no Postgres, no PostgREST of its own');

    const before = gateway.requests;
    const res = await get(`${worker}/_tenant/slug/leadingwithmeaning`);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json().slug, 'leadingwithmeaning');
    assert.ok(gateway.requests > before, 'the Worker read the tenant through the project URL');
    const [line] = await run.waitFor(
      /^GET 127\.0\.0\.1 \/_tenant\/slug\/leadingwithmeaning → 200 leadingwithmeaning \((hit|miss|stale)\) \d+ ms$/m,
      15_000,
    );
    t.diagnostic(line);

    const page = await get(`${worker}/`, { host: `coach.northstar.localhost:${port}` });
    assert.equal(page.status, 200, 'forwarded to the demo app, signed');
    const [pageLine] = await run.waitFor(
      /^GET coach\.northstar\.localhost \/ → 200 northstar-coaching \((hit|miss|stale)\) \d+ ms$/m,
      15_000,
    );
    t.diagnostic(pageLine);

    await get(`${worker}/_tenant/slug/nobody-here`);
    await run.waitFor(/^GET 127\.0\.0\.1 \/_tenant\/slug\/nobody-here → 404 tenant_not_found \(\w+\) \d+ ms$/m, 15_000);
    assert.doesNotMatch(
      run.output(),
      /\[wrangler:info\]|"event":"request"/,
      "wrangler's own request lines and the raw events are not shown",
    );
    assert.equal(run.output().match(/ \/_tenant\/slug\/leadingwithmeaning → /g).length, 1, 'one line per request');

    const vars = fs.readFileSync(DEV_VARS[0], 'utf8');
    assert.match(vars, new RegExp(`^SUPABASE_URL=${gateway.url}$`, 'm'));
    assert.match(vars, /^PLATFORM_DOMAIN=localhost$/m);
    assert.doesNotMatch(vars, /SUPABASE_REST_URL/);
  } finally {
    code = await run.stop();
    await gateway.stop();
    await stack.stop();
  }
  assert.equal(code, 0, 'SIGTERM stops it cleanly');
  await assert.rejects(fetch(worker, { signal: AbortSignal.timeout(2000) }), 'nothing listens on its port any more');
});
