// Domain events (issue 29) on the real stack: Postgres with the migrations, PostgREST, and the
// control plane in workerd with the Cloudflare and DNS stand-ins, DOMAIN_EVENTS_URL pointing at
// an app (tests/support/origin.mjs, recording every request, answering what the test says).
// Each status change of a tenant_domains row, whoever makes it, is queued by the database and
// posted by the next cron run, signed; origin/verify.mjs's verifyDomainEvent checks it with the
// stack's DOMAIN_EVENTS_SECRET. The Cron Trigger is run on demand (GET /__scheduled); time is
// moved by making a queued event due (next_attempt_at) or older (occurred_at) in the database.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020.js';
import { ROOT, psql, sleep, startControl, startStack } from '../scripts/stack.mjs';
import { verifyDomainEvent } from '../origin/verify.mjs';
import { activeHostname } from './support/cloudflare.mjs';
import { startOrigin } from './support/origin.mjs';
import { TENANTS } from './support/tenants.mjs';

const NORA = TENANTS.northstar;
const EVENTS_PATH = '/hooks/domain-events';
const SECRET = randomBytes(32).toString('hex');
const TIMEOUT_MS = 2000;

let stack;
let control;
let cf;
let app;
/** What the app answers a domain event with: a status, or `'hang'` (no answer at all). */
let answer = 200;
/** The answers held back by a hanging app, ended when the test ends. */
const hanging = [];
/** The control plane's log lines since it started. */
const lines = [];

before(async () => {
  stack = await startStack({ worker: false });
  app = await startOrigin({
    routes: {
      [EVENTS_PATH]: (req, res) => {
        if (answer === 'hang') return hanging.push(res);
        res.writeHead(answer, { 'content-type': 'text/plain' });
        res.end(answer < 300 ? 'ok' : 'not now');
      },
    },
  });
  control = await startControl(stack, {
    vars: {
      DOMAIN_EVENTS_URL: `${app.url}${EVENTS_PATH}`,
      DOMAIN_EVENTS_SECRET: SECRET,
      CLOUDFLARE_CALLS_PER_RUN: '20',
      // Each call to the app that does not answer waits this long.
      UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
    },
    cloudflare: { allowTopDomains: ['test'] },
    echo: Boolean(process.env.CONTROL_ECHO),
    // Every event is a console.log (crates/common/src/log.js), whatever its level.
    logLevel: 'log',
  });
  control.proc.onLine((line) => lines.push(line));
  cf = control.cloudflare;
});
after(async () => {
  await app?.stop();
  await stack?.stop();
});

/** Every test starts with no test domain, no queued event, and an app that answers 200. */
beforeEach(() => {
  sql(`delete from public.tenant_domains where hostname like '%.events.test';
    delete from private.domain_events`);
  cf.hostnames.clear();
  cf.reset();
  app.requests.length = 0;
  answer = 200;
  for (const res of hanging.splice(0)) res.destroy();
});

const sql = (text) => psql(stack.dbUrl, { sql: text }).trim();
const quote = (s) => (s === null ? 'null' : `'${String(s).replaceAll("'", "''")}'`);

/** An `active` row of Northstar no Cloudflare hostname backs (the cron leaves it alone), written by hand. */
function activeRow(hostname) {
  sql(`insert into public.tenant_domains (tenant_id, hostname, status, proven_at, verified_at)
       values ('${NORA.id}', ${quote(hostname)}, 'active', now(), now())`);
}

/** A proven `pending` row of Northstar for the stand-in's hostname `h`, as the cron leaves one it created. */
function pendingRow(h) {
  sql(`insert into public.tenant_domains
         (tenant_id, hostname, status, ssl_status, cloudflare_id, ownership_http_path, ownership_http_body, proven_at)
       values ('${NORA.id}', ${quote(h.hostname)}, 'pending', 'pending_validation', ${quote(h.id)},
          ${quote(new URL(h.ownership_verification_http.http_url).pathname)}, ${quote(h.ownership_verification_http.http_body)}, now())`);
}

const statusOf = (hostname) => sql(`select status from public.tenant_domains where hostname = ${quote(hostname)}`);

/** The domain events the app received, verified, in order: `{ event, request }`. */
async function received({ secret = SECRET } = {}) {
  const out = [];
  for (const req of app.requests.filter((r) => r.url === EVENTS_PATH)) {
    const v = await verifyDomainEvent({ headers: req.headers, body: req.body }, { secret });
    assert.ok(v.ok, `${v.reason}: ${v.message}\n${req.headers['x-domain-event-signature']}\n${req.body}`);
    out.push({ event: v.event, request: req });
  }
  return out;
}

/** The types and hostnames of what the app received. */
const told = async () => (await received()).map(({ event }) => `${event.type} ${event.hostname}`);

/** The queue's rows of `hostname`, oldest first. */
const queued = (hostname) =>
  JSON.parse(sql(`select coalesce(json_agg(e order by e.seq), '[]') from private.domain_events e where e.hostname = ${quote(hostname)}`));

const validate = new Ajv2020({ allErrors: true, strict: true }).compile(
  JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'control-event.schema.json'), 'utf8')),
);

/**
 * The control plane's logged events of `kind` since line `from` that `where` takes (a line of an
 * earlier run may arrive late), once there are `count`; each valid against the schema.
 */
async function logged(kind, from, count = 1, where = () => true) {
  const of = () =>
    lines
      .slice(from)
      .filter((l) => l.startsWith('{"event":'))
      .map((l) => JSON.parse(l))
      .filter((e) => e.event === kind && where(e));
  for (const until = Date.now() + 5000; of().length < count && Date.now() < until; ) await sleep(50);
  for (const e of of()) assert.ok(validate(e), `${JSON.stringify(e)}: ${JSON.stringify(validate.errors)}`);
  return of();
}

describe('each state change is told to the app, once, signed', () => {
  test('pending → active, moved, failed and removed: one webhook per change, in order, each verified with the stack secret', async () => {
    const name = 'coach.events.test';
    const h = await activeHostname(cf, name);
    pendingRow(h);

    await control.scheduled();
    assert.equal(statusOf(name), 'active', 'the refresh made it active');
    let events = await received();
    assert.equal(events.length, 1, 'one change, one webhook');
    const [{ event: active, request: req }] = events;
    const domainId = sql(`select id from public.tenant_domains where hostname = '${name}'`);
    assert.deepEqual(
      { ...active, id: typeof active.id, at: typeof active.at },
      {
        id: 'string',
        type: 'domain.active',
        hostname: name,
        tenantId: NORA.id,
        domainId,
        status: 'active',
        previousStatus: 'pending',
        reason: null,
        at: 'string',
      },
    );
    assert.match(active.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Math.abs(Date.parse(active.at) - Date.now()) < 60_000, active.at);
    assert.equal(req.method, 'POST');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers['x-domain-event-id'], active.id);
    assert.match(req.headers['x-domain-event-signature'], /^t=\d+,v1=[0-9a-f]{64}$/);

    await control.scheduled();
    assert.equal((await received()).length, 1, 'a run with no change tells nothing more');

    h.status = 'moved';
    await control.scheduled();
    assert.equal(statusOf(name), 'moved');

    // Cloudflare forgets the hostname: the row fails (its reason told).
    cf.hostnames.delete(h.id);
    await control.scheduled();
    assert.equal(statusOf(name), 'failed');

    // The coach removes it (a write of any writer is told): removed, then the row deleted.
    sql(`update public.tenant_domains set status = 'removing' where hostname = '${name}'`);
    await control.scheduled();
    assert.equal(statusOf(name), '', 'the row is gone');
    await control.scheduled();

    events = await received();
    assert.deepEqual(
      events.map(({ event }) => [event.type, event.previousStatus]),
      [
        ['domain.active', 'pending'],
        ['domain.moved', 'active'],
        ['domain.failed', 'moved'],
        ['domain.removed', 'failed'],
      ],
    );
    assert.match(events[2].event.reason, /Cloudflare no longer has this hostname/);
    assert.equal(new Set(events.map(({ event }) => event.id)).size, 4, 'each event its own id');
    assert.ok(
      queued(name).every((e) => e.delivered_at !== null && e.attempts === 1),
      'every one delivered at its first attempt',
    );
    const deliveries = await logged('domain_event', 0, 4);
    assert.ok(deliveries.some((e) => e.event_id === active.id && e.outcome === 'delivered' && e.level === 'info'));
  });

  test('a tampered body, a wrong secret, or a replay outside the tolerance fails verification', async () => {
    const name = 'tamper.events.test';
    pendingRow(await activeHostname(cf, name));
    await control.scheduled();
    const [{ request: req }] = await received();
    const headers = req.headers;
    const ok = await verifyDomainEvent({ headers, body: Buffer.from(req.body) }, { secret: SECRET });
    assert.equal(ok.ok, true, 'the raw bytes verify too');

    const tampered = req.body.replace('"domain.active"', '"domain.failed"');
    assert.notEqual(tampered, req.body);
    assert.equal((await verifyDomainEvent({ headers, body: tampered }, { secret: SECRET })).reason, 'signature');
    const reserialized = JSON.stringify(JSON.parse(req.body), null, 1);
    assert.equal((await verifyDomainEvent({ headers, body: reserialized }, { secret: SECRET })).reason, 'signature');
    const wrong = randomBytes(32).toString('hex');
    assert.equal((await verifyDomainEvent({ headers, body: req.body }, { secret: wrong })).reason, 'signature');
    assert.equal(
      (await verifyDomainEvent({ headers, body: req.body }, { secret: wrong, previousSecret: SECRET })).ok,
      true,
      'the previous secret is accepted while rotating',
    );
    const later = Date.now() + 301_000;
    assert.equal((await verifyDomainEvent({ headers, body: req.body }, { secret: SECRET, now: later })).reason, 'expired');
    assert.equal((await verifyDomainEvent({ headers: {}, body: req.body }, { secret: SECRET })).reason, 'missing');
    // The published test vector (docs/origin.md), which control/src/notify.rs's test computes.
    const vector = {
      headers: { 'x-domain-event-signature': 't=1767225600,v1=4d400bb50eeda1558e191645c2eaa52f79ee6852e972cae6582b8f75a6e221af' },
      body: '{"id":"6f1c2b1e-0000-4000-8000-000000000001","type":"domain.active","hostname":"coach.example.com","tenantId":"3bb43f29-695c-493b-8b5c-3819ffc0675c","domainId":"6f1c2b1e-0000-4000-8000-0000000000d1","status":"active","previousStatus":"pending","reason":null,"at":"2026-12-08T03:00:00.000Z"}',
    };
    const atVector = { secret: 'test-domain-events-secret-0123456789abcdef', now: 1767225600_000 };
    assert.equal((await verifyDomainEvent(vector, atVector)).ok, true, 'the published vector verifies');
    const fetchRequest = new Request(`${app.url}${EVENTS_PATH}`, { method: 'POST', headers, body: req.body });
    assert.equal((await verifyDomainEvent(fetchRequest, { secret: SECRET })).ok, true, 'a Fetch Request verifies');
  });

  test("a hostname's events go out in order, one per run, each once", async () => {
    const name = 'order.events.test';
    activeRow(name);
    sql(`update public.tenant_domains set status = 'blocked' where hostname = '${name}';
      update public.tenant_domains set ssl_status = 'pending_deployment' where hostname = '${name}'`);
    assert.equal(queued(name).length, 2, 'two status changes queued; the certificate status alone none');
    await control.scheduled();
    assert.deepEqual(await told(), [`domain.active ${name}`]);
    await control.scheduled();
    assert.deepEqual(await told(), [`domain.active ${name}`, `domain.blocked ${name}`]);
    await control.scheduled();
    assert.equal((await told()).length, 2, 'nothing is sent twice');
  });
});

describe('an app that is down gets every event later, and never holds the cron up', () => {
  test('the app answering 500 gets the event again once it is due, the same id; meanwhile a domain is still activated', async () => {
    const first = 'down.events.test';
    const second = 'activated.events.test';
    pendingRow(await activeHostname(cf, first));
    await control.scheduled();
    const before = sql(`select count(*) from private.domain_events where hostname = '${first}'`);
    assert.equal(before, '1');
    app.requests.length = 0;

    answer = 500;
    sql(`update public.tenant_domains set status = 'blocked' where hostname = '${first}'`);
    pendingRow(await activeHostname(cf, second));
    const from = lines.length;
    await control.scheduled();
    assert.equal(statusOf(second), 'active', 'the cron did its domain work while the app failed');
    const attempts = app.requests.filter((r) => r.url === EVENTS_PATH).map((r) => JSON.parse(r.body));
    assert.deepEqual(attempts.map((e) => e.type).sort(), ['domain.active', 'domain.blocked'], 'both tried, and refused');
    const blocked = attempts.find((e) => e.type === 'domain.blocked');
    const [row] = queued(first).filter((e) => e.id === blocked.id);
    assert.equal(row.delivered_at, null);
    assert.equal(row.attempts, 1);
    assert.equal(row.last_error, 'the app answered 500');
    const due = Date.parse(row.next_attempt_at) - Date.now();
    assert.ok(due > 20_000 && due <= 31_000, `retried in 30 s, not at once (${due} ms)`);
    const [retry] = await logged('domain_event', from, 1, (e) => e.event_id === blocked.id);
    assert.deepEqual([retry.outcome, retry.status, retry.retry_in_s, retry.level], ['retry', 500, 30, 'warn']);

    app.requests.length = 0;
    await control.scheduled();
    assert.equal(app.requests.length, 0, 'not due yet: backing off');

    // An hour later (the event older, still due): the app is back.
    answer = 204;
    sql(`update private.domain_events set next_attempt_at = now(), occurred_at = occurred_at - interval '1 hour'
      where hostname like '%.events.test' and delivered_at is null`);
    await control.scheduled();
    const again = await received();
    assert.deepEqual(again.map(({ event }) => event.type).sort(), ['domain.active', 'domain.blocked']);
    assert.equal(again.find(({ event }) => event.type === 'domain.blocked').event.id, blocked.id, 'the same event id');
    assert.ok(
      [...queued(first), ...queued(second)].every((e) => e.delivered_at !== null),
      'delivered, once the app answered 2xx',
    );
    assert.equal(queued(first).find((e) => e.id === blocked.id).attempts, 2);
  });

  test('an app that does not answer is given up on for the run after two timeouts; the run did its domain work first', async () => {
    for (const n of ['a', 'b', 'c']) activeRow(`${n}.hang.events.test`);
    const name = 'served.hang.events.test';
    pendingRow(await activeHostname(cf, name));
    answer = 'hang';
    const from = lines.length;
    const started = Date.now();
    await control.scheduled();
    assert.equal(statusOf(name), 'active', 'activated in the same pass');
    assert.equal(app.requests.filter((r) => r.url === EVENTS_PATH).length, 2, 'two attempts, then the run stops sending');
    assert.ok(Date.now() - started < 4 * TIMEOUT_MS, 'each attempt within the timeout');
    const [stopped] = await logged('domain_events_stopped', from);
    assert.equal(stopped.level, 'warn');
    assert.match(stopped.detail, /did not answer 2 times: 2 domain events wait/);
    const timedOut = await logged('domain_event', from, 2, (e) => e.status === null);
    assert.deepEqual(
      timedOut.map((e) => [e.outcome, e.status, e.detail]),
      [
        ['retry', null, `no answer within ${TIMEOUT_MS} ms`],
        ['retry', null, `no answer within ${TIMEOUT_MS} ms`],
      ],
    );
    assert.equal(sql(`select count(*) from private.domain_events where delivered_at is null`), '4', 'none lost');
  });

  test('an event failing for a day is given up, logged as an error; a 4xx the app refuses, at once', async () => {
    const name = 'old.events.test';
    pendingRow(await activeHostname(cf, name));
    answer = 503;
    await control.scheduled();
    assert.equal(queued(name)[0].given_up_at, null, 'a young event is retried');
    sql(`update private.domain_events set occurred_at = now() - interval '25 hours', next_attempt_at = now()
      where delivered_at is null and given_up_at is null`);
    const from = lines.length;
    await control.scheduled();
    const [row] = queued(name);
    assert.notEqual(row.given_up_at, null, 'given up after a day');
    const [gaveUp] = await logged('domain_event', from, 1, (e) => e.outcome !== 'retry');
    assert.deepEqual([gaveUp.outcome, gaveUp.level, gaveUp.status], ['given_up', 'error', 503]);

    answer = 422;
    sql(`update public.tenant_domains set status = 'blocked' where hostname = '${name}'`);
    app.requests.length = 0;
    await control.scheduled();
    assert.equal(app.requests.length, 1);
    const [, refused] = queued(name);
    assert.notEqual(refused.given_up_at, null, 'a 422 is the app refusing this event: not sent again');
    assert.equal(refused.attempts, 1);
  });
});
