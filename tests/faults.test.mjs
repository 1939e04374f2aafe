// Fault tests: PostgREST stopped, hanging, answering 500 or garbage. The Worker never answers
// 500: every route that needs PostgREST says 503 upstream_unavailable with Retry-After, and
// gives up after UPSTREAM_TIMEOUT_MS.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, mintJwt, sleep, startWorker, stopProcess } from '../scripts/stack.mjs';
import { startFaultyUpstream } from './support/faulty-upstream.mjs';
import { request } from './support/http.mjs';

const TIMEOUT_MS = 500;

let dir;
let upstream;
let worker;
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenant-faults-'));
  upstream = await startFaultyUpstream('hang');
  worker = await startWorker({
    dir,
    vars: {
      SUPABASE_REST_URL: upstream.url,
      SUPABASE_ANON_KEY: mintJwt('fault-test-secret-0123456789abcdef', { role: 'anon' }),
      UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
    },
  });
});
after(async () => {
  await stopProcess(worker?.proc);
  await upstream?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Every route that needs PostgREST, each with a key no earlier request has cached. */
function routesNeedingPostgrest(n) {
  return [
    { path: `/_tenant/slug/fault-${n}` },
    { path: `/_tenant/id/00000000-0000-4000-8000-${String(n).padStart(12, '0')}` },
    { path: '/_tenant/brand.json', headers: { host: `coach-${n}.fault.example` } },
    { path: `/page-${n}`, headers: { host: `www-${n}.fault.example` } },
    // Deep checks are shared for a second per isolate: wait one out so this one asks afresh.
    { path: '/_tenant/health?deep=1', pauseMs: 1100 },
    { path: '/_tenant/me', headers: { authorization: 'Bearer aaa.bbb.ccc' } },
  ];
}

let round = 0;
async function assertAllUnavailable(mode) {
  upstream.mode = mode;
  round += 1;
  for (const { path: p, headers = {}, pauseMs = 0 } of routesNeedingPostgrest(round)) {
    await sleep(pauseMs);
    const before = upstream.requests;
    const started = Date.now();
    const res = await request(`${worker.url}${p}`, { headers });
    const elapsed = Date.now() - started;
    assert.equal(res.status, 503, `${mode} ${p}: ${res.status} ${res.body}`);
    assert.equal(res.json().error.code, 'upstream_unavailable');
    assert.ok(Number(res.headers['retry-after']) > 0, 'Retry-After is set');
    assert.ok(upstream.requests > before, `${p} asked the upstream`);
    if (mode === 'hang') {
      assert.ok(elapsed >= TIMEOUT_MS - 50, `${p} waited for the timeout (${elapsed} ms)`);
      assert.ok(elapsed < TIMEOUT_MS + 4000, `${p} gave up after the timeout (${elapsed} ms)`);
    }
  }
}

describe('PostgREST misbehaving', () => {
  test('hanging: every route gives up after UPSTREAM_TIMEOUT_MS with 503', () => assertAllUnavailable('hang'));
  test('answering 500: 503, never 500', () => assertAllUnavailable('500'));
  test('answering malformed JSON: 503', () => assertAllUnavailable('malformed'));
  test('answering HTML: 503', () => assertAllUnavailable('html'));
  test('answering JSON of the wrong shape: 503', () => assertAllUnavailable('wrong-shape'));
});

test('a row with a private column is refused, not passed on', async () => {
  upstream.mode = 'leaky-row';
  const res = await request(`${worker.url}/_tenant/slug/leaky`);
  assert.equal(res.status, 503);
  assert.doesNotMatch(res.body, /secret@example.com/);
});

test('PostgREST not listening at all: 503 at once', async () => {
  const closed = await startWorker({
    dir,
    vars: {
      SUPABASE_REST_URL: `http://127.0.0.1:${await freePort()}`,
      SUPABASE_ANON_KEY: mintJwt('fault-test-secret-0123456789abcdef', { role: 'anon' }),
    },
  });
  try {
    const res = await request(`${closed.url}/_tenant/slug/anyone`);
    assert.equal(res.status, 503);
    assert.equal(res.json().error.code, 'upstream_unavailable');
  } finally {
    await stopProcess(closed.proc);
  }
});
