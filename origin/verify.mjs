// Verifies what the platform sends the app: the tenant identity the edge Worker forwards, and
// the domain events the control plane posts. One call each, at the app.
//
//   import { verifyTenantRequest, verifyDomainEvent } from './verify.mjs';
//   const v = await verifyTenantRequest(req, { secret: process.env.ORIGIN_SIGNING_SECRET });
//   if (!v.ok) return respond(401, v.reason);       // v.tenantId, v.slug, v.host otherwise
//   const e = await verifyDomainEvent(req, { secret: process.env.DOMAIN_EVENTS_SECRET });
//   if (!e.ok) return respond(401, e.reason);       // e.event: {id, type, hostname, tenantId, ...}
//
// `req` is anything with `headers`, `method` and `url`: a Node.js IncomingMessage (Express,
// Fastify, plain node:http), or a Fetch API Request (Next.js middleware, Deno, Workers, Bun).
// Dependency-free: Web Crypto (global in Node 19+, Deno, Workers; node:crypto's on Node 18).
//
// The Worker signs, with HMAC-SHA256 and ORIGIN_SIGNING_SECRET, the lines
//   v1 \n <t> \n <method> \n <X-Forwarded-Host> \n <path?query> \n <X-Tenant-Id> \n <X-Tenant-Slug>
// and sends `X-Tenant-Signature: t=<unix seconds>,v1=<lowercase hex>` (README "What the origin
// receives", with a test vector). A request is accepted only when a secret gives that
// signature for what this request carries, within `toleranceSeconds` of now.
//
// The control plane signs a domain event, with HMAC-SHA256 and DOMAIN_EVENTS_SECRET, as
//   <t>.<the body, byte for byte>
// and sends `X-Domain-Event-Signature: t=<unix seconds>,v1=<lowercase hex>` (docs/origin.md,
// "Domain events"). The same header format, another secret, another canonical string.

const subtle = globalThis.crypto?.subtle ?? (await import('node:crypto')).webcrypto.subtle;
const encoder = new TextEncoder();

/** The default tolerance between the signature's time and the origin's clock (seconds). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const REASONS = {
  missing: 'no X-Tenant-Signature (or X-Forwarded-Host): not forwarded by the Worker',
  malformed: 'X-Tenant-Signature is not t=<seconds>,v1=<64 hex digits>',
  expired: 'the signature is older than the tolerance',
  future: 'the signature is from further in the future than the tolerance',
  signature: 'the signature is wrong: signed for another method, host, path, query or tenant, or with another secret',
};

const EVENT_REASONS = {
  missing: 'no X-Domain-Event-Signature: not sent by the control plane',
  malformed: 'X-Domain-Event-Signature is not t=<seconds>,v1=<64 hex digits>, or the body is not a JSON event',
  expired: 'the signature is older than the tolerance (a replay)',
  future: 'the signature is from further in the future than the tolerance',
  signature: 'the signature is wrong: another body, or another secret',
};

/** One header's value from a Headers object or a Node.js headers object (first value only). */
function header(headers, name) {
  if (typeof headers?.get === 'function') return headers.get(name);
  const value = headers?.[name] ?? headers?.[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : (value ?? null);
}

/** The request target as the origin received it: the path and query. */
function target(url) {
  if (url.startsWith('/')) return url;
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}

/** The canonical string a signature at `t` covers (exported for tests and other verifiers). */
export function canonical(t, { method, host, pathAndQuery, tenantId = '', slug = '' }) {
  return ['v1', String(t), method, host, pathAndQuery, tenantId, slug].join('\n');
}

async function hmacHex(secret, text) {
  const key = await subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const tag = new Uint8Array(await subtle.sign('HMAC', key, encoder.encode(text)));
  return Array.from(tag, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Compares two strings of hex digits in time independent of where they differ. */
function equalInConstantTime(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

const refuse = (reason, reasons = REASONS) => ({ ok: false, reason, message: reasons[reason] });

/** The secrets to accept, after checking the options every verifier takes (throws on bad setup). */
function setup(caller, { secret, previousSecret, secrets, toleranceSeconds, now }) {
  const keys = (secrets ?? [secret, previousSecret]).filter((s) => typeof s === 'string' && s.length > 0);
  if (keys.length === 0) throw new TypeError(`${caller}: no secret given`);
  // A tolerance or clock that is not a finite number would make every time check false: an
  // old signature would verify. Refused at setup, whatever the request.
  if (typeof toleranceSeconds !== 'number' || !Number.isFinite(toleranceSeconds) || toleranceSeconds < 0) {
    throw new TypeError(`${caller}: toleranceSeconds must be a finite number of seconds, 0 or more (got ${String(toleranceSeconds)})`);
  }
  if (typeof now !== 'number' || !Number.isFinite(now)) {
    throw new TypeError(`${caller}: now must be a finite number of milliseconds (got ${String(now)})`);
  }
  return keys;
}

/**
 * Reads `t=<seconds>,v1=<hex>[,v1=<hex>…]` and checks its time against `now`: `{ t, tags }`, or
 * the reason to refuse (`malformed`, `expired`, `future`).
 */
function readSignature(signature, toleranceSeconds, now) {
  const parts = signature.split(',').map((p) => p.trim().split('='));
  const times = parts.filter(([k]) => k === 't').map(([, v]) => v);
  const tags = parts.filter(([k]) => k === 'v1').map(([, v]) => v);
  const known = parts.every((p) => p.length === 2 && (p[0] === 't' || p[0] === 'v1'));
  if (
    !known ||
    times.length !== 1 ||
    !/^\d{1,15}$/.test(times[0]) ||
    tags.length === 0 ||
    !tags.every((tag) => /^[0-9a-f]{64}$/.test(tag))
  ) {
    return { reason: 'malformed' };
  }
  const t = Number(times[0]);
  const nowSeconds = Math.floor(now / 1000);
  if (t + toleranceSeconds < nowSeconds) return { reason: 'expired' };
  if (t > nowSeconds + toleranceSeconds) return { reason: 'future' };
  return { t, tags };
}

/** Whether any of `keys` signs `text` with one of `tags` (every pair compared, in constant time). */
async function signedBy(keys, tags, text) {
  let matched = false;
  for (const key of keys) {
    const expected = await hmacHex(key, text);
    for (const tag of tags) matched = equalInConstantTime(expected, tag) || matched;
  }
  return matched;
}

/**
 * Verifies a forwarded request. `secret` is ORIGIN_SIGNING_SECRET; `previousSecret`
 * (ORIGIN_SIGNING_SECRET_PREVIOUS), while rotating, is accepted too; `secrets` may list them
 * instead. Resolves `{ ok: true, tenantId, slug, host }` (`tenantId` and `slug` null on the
 * platform's own host) or `{ ok: false, reason, message }` with `reason` one of `missing`,
 * `malformed`, `expired`, `future`, `signature`.
 */
export async function verifyTenantRequest(
  req,
  { secret, previousSecret, secrets, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS, now = Date.now() } = {},
) {
  const keys = setup('verifyTenantRequest', { secret, previousSecret, secrets, toleranceSeconds, now });
  const signature = header(req.headers, 'x-tenant-signature');
  const host = header(req.headers, 'x-forwarded-host');
  if (!signature || !host) return refuse('missing');
  const read = readSignature(signature, toleranceSeconds, now);
  if (read.reason) return refuse(read.reason);
  const tenantId = header(req.headers, 'x-tenant-id') ?? '';
  const slug = header(req.headers, 'x-tenant-slug') ?? '';
  const text = canonical(read.t, { method: req.method, host, pathAndQuery: target(req.url), tenantId, slug });
  if (!(await signedBy(keys, read.tags, text))) return refuse('signature');
  return { ok: true, tenantId: tenantId || null, slug: slug || null, host };
}

/** The canonical string of a domain event signed at `t`: `<t>.<body>` (exported for tests and other verifiers). */
export function domainEventCanonical(t, body) {
  return `${t}.${body}`;
}

/** The body of a domain event's request, as text: a Fetch Request's (read from a clone), or `body` given. */
async function bodyText(req) {
  const body = req.body;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  if (body instanceof ArrayBuffer) return new TextDecoder().decode(new Uint8Array(body));
  if (typeof req.clone === 'function' && typeof req.text === 'function') return req.clone().text();
  throw new TypeError('verifyDomainEvent: give a Fetch Request, or { headers, body } with the raw body (string or bytes)');
}

/**
 * Verifies a domain event the control plane posted (`X-Domain-Event-Signature` over
 * `<t>.<body>`). `req` is a Fetch API Request, or `{ headers, body }` with the body exactly as
 * received (a string, a Buffer or bytes: Node.js, Express's `express.raw()`), never a
 * re-serialized JSON. `secret` is DOMAIN_EVENTS_SECRET; `previousSecret` and `secrets`, the
 * tolerance (default 300 s: a replayed request older than that is refused) and `now` as for
 * `verifyTenantRequest`. Resolves `{ ok: true, event }` (the parsed body: `id`, `type`,
 * `hostname`, `tenantId`, …; deduplicate by `event.id`: delivery is at least once) or
 * `{ ok: false, reason, message }` with `reason` one of `missing`, `malformed`, `expired`,
 * `future`, `signature`.
 */
export async function verifyDomainEvent(
  req,
  { secret, previousSecret, secrets, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS, now = Date.now() } = {},
) {
  const keys = setup('verifyDomainEvent', { secret, previousSecret, secrets, toleranceSeconds, now });
  const signature = header(req.headers, 'x-domain-event-signature');
  if (!signature) return refuse('missing', EVENT_REASONS);
  const read = readSignature(signature, toleranceSeconds, now);
  if (read.reason) return refuse(read.reason, EVENT_REASONS);
  const body = await bodyText(req);
  if (!(await signedBy(keys, read.tags, domainEventCanonical(read.t, body)))) return refuse('signature', EVENT_REASONS);
  let event;
  try {
    event = JSON.parse(body);
  } catch {
    return refuse('malformed', EVENT_REASONS);
  }
  if (typeof event !== 'object' || event === null || typeof event.id !== 'string' || typeof event.type !== 'string') {
    return refuse('malformed', EVENT_REASONS);
  }
  return { ok: true, event };
}
