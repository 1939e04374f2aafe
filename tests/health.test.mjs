// The health route: /_tenant/health answers from the isolate alone; ?deep=1 round-trips
// PostgREST through the postgrest crate, at most once per second per isolate (concurrent and
// repeated checks share the last result and say how old it is), and answers 503 when
// PostgREST is gone.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, startStack, stopPostgrest } from '../scripts/stack.mjs';
import { get } from './support/http.mjs';
import { countUpstream } from './support/tenants.mjs';

/** How long a deep check is shared (src/health.rs), plus a margin. */
const SHARED_MS = 1000;

let stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

const health = (query = '') => get(`${stack.worker.url}/_tenant/health${query}`);

test('shallow health answers ok without PostgREST', async () => {
  const { result: res, upstream } = await countUpstream(stack, () => health());
  assert.equal(res.status, 200);
  assert.equal(res.json().status, 'ok');
  assert.equal(res.json().upstream, undefined, 'a shallow check says nothing of PostgREST');
  assert.match(res.headers['content-type'], /^application\/json/);
  assert.equal(upstream, 0);
});

test('deep health round-trips PostgREST and says how old the round trip is', async () => {
  await sleep(SHARED_MS + 100);
  const { result: res, upstream } = await countUpstream(stack, () => health('?deep=1'));
  assert.equal(res.status, 200, res.body);
  assert.equal(res.json().status, 'ok');
  assert.equal(res.json().upstream.status, 'ok');
  assert.ok(res.json().upstream.ageMs < SHARED_MS, `ageMs ${res.json().upstream.ageMs}`);
  assert.equal(res.headers.age, '0');
  assert.equal(upstream, 1, 'exactly one PostgREST request');
});

test('50 deep checks in a row reach PostgREST at most once per second', async () => {
  await sleep(SHARED_MS + 100);
  const started = Date.now();
  const { result: answers, upstream } = await countUpstream(stack, async () => {
    const list = [];
    for (let i = 0; i < 50; i += 1) list.push(await health('?deep=1'));
    return list;
  });
  const seconds = (Date.now() - started) / 1000;
  assert.deepEqual([...new Set(answers.map((a) => a.status))], [200]);
  assert.ok(upstream <= Math.ceil(seconds) + 1, `${upstream} PostgREST requests in ${seconds.toFixed(1)} s`);
  assert.ok(
    answers.some((a) => a.json().upstream.ageMs > 0),
    'shared answers say they are older',
  );
});

test('40 concurrent deep checks share one PostgREST request', async () => {
  await sleep(SHARED_MS + 100);
  const { result: answers, upstream } = await countUpstream(stack, () => Promise.all(Array.from({ length: 40 }, () => health('?deep=1'))));
  assert.deepEqual([...new Set(answers.map((a) => a.status))], [200]);
  assert.equal(upstream, 1);
});

test('deep health is 503 upstream_unavailable once PostgREST stops (after the shared second)', async () => {
  await stopPostgrest(stack);
  await sleep(SHARED_MS + 100);
  const res = await health('?deep=1');
  assert.equal(res.status, 503, res.body);
  assert.equal(res.json().error.code, 'upstream_unavailable');
  assert.ok(Number(res.headers['retry-after']) > 0, 'Retry-After is set');
  assert.equal(res.headers.age, '0', 'the failure is fresh');
  const shallow = await health();
  assert.equal(shallow.status, 200, 'shallow health does not depend on PostgREST');
});
