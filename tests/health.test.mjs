// The skeleton's contract: the Worker answers /_tenant/health, and with ?deep=1 round-trips
// PostgREST through the postgrest crate, answering 503 when PostgREST is gone.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, stopPostgrest } from '../scripts/stack.mjs';
import { get } from './support/http.mjs';

let stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

test('shallow health answers ok without PostgREST', async () => {
  const res = await get(`${stack.worker.url}/_tenant/health`);
  assert.equal(res.status, 200);
  assert.equal(res.json().status, 'ok');
  assert.match(res.headers['content-type'], /^application\/json/);
});

test('deep health round-trips PostgREST', async () => {
  const before = stack.postgrest.requests();
  const res = await get(`${stack.worker.url}/_tenant/health?deep=1`);
  assert.equal(res.status, 200, res.body);
  assert.equal(res.json().status, 'ok');
  assert.equal(stack.postgrest.requests() - before, 1, 'exactly one PostgREST request');
});

test('deep health is 503 upstream_unavailable once PostgREST stops', async () => {
  await stopPostgrest(stack);
  const res = await get(`${stack.worker.url}/_tenant/health?deep=1`);
  assert.equal(res.status, 503, res.body);
  assert.equal(res.json().error.code, 'upstream_unavailable');
  assert.ok(Number(res.headers['retry-after']) > 0, 'Retry-After is set');
  const shallow = await get(`${stack.worker.url}/_tenant/health`);
  assert.equal(shallow.status, 200, 'shallow health does not depend on PostgREST');
});
