// The signed tenant identity (docs/origin.md, "What the origin receives"): with ORIGIN_SIGNING_SECRET
// every request the Worker forwards carries X-Tenant-Signature, and the app's origin, with
// origin/verify.mjs, accepts exactly those: a request sent straight to the origin with forged
// X-Tenant-* headers, or with a signature copied from another request, is refused. Real stack,
// a recording origin; what the origin received is verified as the app would verify it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { addWorker, startDemoApp, startStack, stopProcess } from '../scripts/stack.mjs';
import { canonical, verifyTenantRequest } from '../origin/verify.mjs';
import { startOrigin } from './support/origin.mjs';
import { TENANTS, assertError, client } from './support/tenants.mjs';

const PLATFORM = 'coachplatform.test';
const SECRET = 'current-signing-secret-0123456789abcdef';
const PREVIOUS = 'previous-signing-secret-0123456789abcd';
const northstar = TENANTS.northstar;

let origin;
let stack;
let call;
before(async () => {
  origin = await startOrigin();
  stack = await startStack({ vars: { PLATFORM_DOMAIN: PLATFORM, ORIGIN_URL: origin.url, ORIGIN_SIGNING_SECRET: SECRET } });
  call = client(stack.worker.url);
});
after(async () => {
  await stack?.stop();
  await origin?.stop();
});

/** Sends one request through the Worker and returns the one request the origin received. */
async function forwarded(path, options) {
  origin.reset();
  const res = await call(path, options);
  assert.equal(res.status, 200, `${options?.method ?? 'GET'} ${path}: ${res.body}`);
  assert.equal(origin.requests.length, 1, 'one request reached the origin');
  return origin.requests[0];
}

/** Sends `headers` straight to the origin (not through the Worker) and returns what it received. */
async function direct(path, headers, method = 'GET') {
  origin.reset();
  await fetch(`${origin.url}${path}`, { method, headers });
  return origin.requests[0];
}

const verify = (req, options = {}) => verifyTenantRequest(req, { secret: SECRET, ...options });

test('the test vector of docs/origin.md: canonical string and HMAC-SHA256', async () => {
  const text = canonical(1767225600, {
    method: 'GET',
    host: 'coach.leadingwithmeaning.com',
    pathAndQuery: '/welcome?x=1',
    tenantId: '3bb43f29-695c-493b-8b5c-3819ffc0675c',
    slug: 'leadingwithmeaning',
  });
  assert.equal(
    text,
    'v1\n1767225600\nGET\ncoach.leadingwithmeaning.com\n/welcome?x=1\n3bb43f29-695c-493b-8b5c-3819ffc0675c\nleadingwithmeaning',
  );
  const hex = crypto.createHmac('sha256', 'test-signing-secret-0123456789abcdef').update(text).digest('hex');
  assert.equal(hex, '3505163b090968dad6504e8fdea869ddbfa35ed25b3916c66f4469278bddea62');
});

test('a tenant page reaches the origin signed: the verifier returns its tenant and host', async () => {
  const seen = await forwarded('/welcome?x=1&y=%20z', { host: northstar.domain });
  assert.match(seen.headers['x-tenant-signature'], /^t=\d+,v1=[0-9a-f]{64}$/);
  const t = Number(seen.headers['x-tenant-signature'].match(/^t=(\d+)/)[1]);
  assert.ok(Math.abs(t - Date.now() / 1000) < 60, `t=${t} is now`);
  assert.deepEqual(await verify(seen), { ok: true, tenantId: northstar.id, slug: northstar.slug, host: northstar.domain });
});

test('the platform host is signed too, with no tenant', async () => {
  const seen = await forwarded('/pricing', { host: PLATFORM });
  assert.equal(seen.headers['x-tenant-id'], undefined);
  assert.deepEqual(await verify(seen), { ok: true, tenantId: null, slug: null, host: PLATFORM });
});

test('every method is signed as sent', async () => {
  for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND']) {
    const body = ['GET', 'HEAD', 'OPTIONS', 'PROPFIND'].includes(method) ? undefined : 'a=1';
    const seen = await forwarded(`/api/things/7?m=${method}`, { host: northstar.domain, method, body });
    assert.equal(seen.method, method);
    const result = await verify(seen);
    assert.equal(result.ok, true, `${method}: ${result.reason}`);
  }
});

test("a client's X-Tenant-Signature, in any spelling, never reaches the origin", async () => {
  const forged = `t=1,v1=${'0'.repeat(64)}`;
  const seen = await forwarded('/welcome', {
    host: PLATFORM,
    headers: { 'X-Tenant-Signature': forged, x_tenant_signature: forged, 'X-TENANT-SIGNATURE-2': forged },
  });
  const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
  assert.deepEqual(
    names.filter((n) => n.replace(/_/g, '-').includes('signature')),
    ['x-tenant-signature'],
    "the Worker's own, once",
  );
  assert.notEqual(seen.headers['x-tenant-signature'], forged);
  assert.equal((await verify(seen)).ok, true);
});

test('straight to the origin, forged X-Tenant-* headers without a signature are refused', async () => {
  const seen = await direct('/welcome', {
    'x-forwarded-host': northstar.domain,
    'x-tenant-id': northstar.id,
    'x-tenant-slug': northstar.slug,
  });
  const refused = await verify(seen);
  assert.equal(refused.ok, false);
  assert.equal(refused.reason, 'missing');
  assert.match(refused.message, /X-Tenant-Signature/);
  for (const bad of ['t=1', 'v1=abc', `t=x,v1=${'0'.repeat(64)}`, `t=1,v1=${'0'.repeat(63)}`, 'garbage']) {
    const malformed = await direct('/welcome', { 'x-forwarded-host': northstar.domain, 'x-tenant-signature': bad });
    assert.equal((await verify(malformed)).reason, 'malformed', bad);
  }
});

test('a copied signature fails for another path, query, host, method or tenant, and after the tolerance', async () => {
  const seen = await forwarded('/welcome?x=1', { host: northstar.domain });
  const copy = (overrides) => ({
    'x-forwarded-host': northstar.domain,
    'x-tenant-id': northstar.id,
    'x-tenant-slug': northstar.slug,
    'x-tenant-signature': seen.headers['x-tenant-signature'],
    ...overrides,
  });
  const replayed = await direct('/welcome?x=1', copy({}));
  assert.equal((await verify(replayed)).ok, true, 'the same request, replayed within the tolerance, verifies');
  const cases = {
    'another path': await direct('/admin?x=1', copy({})),
    'another query': await direct('/welcome?x=2', copy({})),
    'another host': await direct('/welcome?x=1', copy({ 'x-forwarded-host': TENANTS.acme.domain })),
    'another tenant id': await direct('/welcome?x=1', copy({ 'x-tenant-id': TENANTS.acme.id })),
    'another slug': await direct('/welcome?x=1', copy({ 'x-tenant-slug': TENANTS.acme.slug })),
    'no tenant': await direct('/welcome?x=1', copy({ 'x-tenant-id': '', 'x-tenant-slug': '' })),
    'another method': await direct('/welcome?x=1', copy({}), 'DELETE'),
  };
  for (const [what, req] of Object.entries(cases)) {
    assert.equal((await verify(req)).reason, 'signature', what);
  }
  assert.equal((await verify(replayed, { now: Date.now() + 310_000 })).reason, 'expired');
  assert.equal((await verify(replayed, { now: Date.now() - 310_000 })).reason, 'future');
  assert.equal((await verify(replayed, { secret: 'another-secret-of-enough-length-0123456' })).reason, 'signature');
  for (const toleranceSeconds of ['300', NaN, Infinity, -1, null]) {
    await assert.rejects(
      verify(replayed, { toleranceSeconds, now: Date.now() + 365 * 86_400_000 }),
      TypeError,
      `toleranceSeconds ${String(toleranceSeconds)} is refused at setup, never a year-old signature verified`,
    );
  }
  await assert.rejects(verify(replayed, { now: Number.NaN }), TypeError, 'so is a clock that is not a number');
});

test('rotation: a signature by the previous secret verifies while both are configured', async () => {
  const old = await addWorker(stack, { ORIGIN_SIGNING_SECRET: PREVIOUS });
  try {
    origin.reset();
    const res = await client(old.url)('/welcome', { host: northstar.domain });
    assert.equal(res.status, 200, res.body);
    const seen = origin.requests[0];
    assert.equal((await verify(seen)).reason, 'signature', 'the new secret alone refuses it');
    assert.equal((await verify(seen, { previousSecret: PREVIOUS })).ok, true, 'new + previous accept it');
    assert.equal((await verify(seen, { secrets: [SECRET, PREVIOUS] })).ok, true);
    const current = await forwarded('/welcome', { host: northstar.domain });
    assert.equal((await verify(current, { previousSecret: PREVIOUS })).ok, true, "and the new one's");
  } finally {
    await stopProcess(old.proc);
  }
});

test('a secret shorter than 32 bytes is refused as misconfigured, and nothing is forwarded', async () => {
  const short = await addWorker(stack, { ORIGIN_SIGNING_SECRET: 'too-short' });
  try {
    origin.reset();
    const res = await client(short.url)('/welcome', { host: northstar.domain });
    assertError(res, 500, 'misconfigured');
    assert.match(res.json().error.message, /ORIGIN_SIGNING_SECRET/);
    assert.equal(origin.requests.length, 0);
  } finally {
    await stopProcess(short.proc);
  }
});

test('the demo app verifies every request: signed through the Worker 200, straight to it 401', async () => {
  const demo = await startDemoApp({ signingSecret: SECRET });
  const worker = await addWorker(stack, { ORIGIN_URL: demo.url });
  try {
    const page = await client(worker.url)('/', { host: northstar.domain });
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /<html/);
    const forged = await fetch(`${demo.url}/`, {
      headers: { 'x-forwarded-host': northstar.domain, 'x-tenant-id': northstar.id, 'x-tenant-slug': northstar.slug },
    });
    assert.equal(forged.status, 401);
    assert.match(await forged.text(), /refused \(missing\)/);
  } finally {
    await stopProcess(worker.proc);
    await demo.stop();
  }
});
