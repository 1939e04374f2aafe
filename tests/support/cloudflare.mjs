// A stand-in for Cloudflare's custom hostnames API (Cloudflare for SaaS), the one external
// service the tests cannot run: a node:http server on a loopback port, faithful to the v4 API's
// shapes and codes, that verifies ownership the way Cloudflare does.
//
// - Every answer is the v4 envelope {"success","errors":[{"code","message"}],"messages","result"}
//   (lists add "result_info"). Credentials and the zone are refused as the API refuses them: a
//   zone id that is not one (32 hex digits) is 400 with codes 7003 and 7000 ("Could not route
//   to …, perhaps your object identifier is invalid?"); no Authorization header 400 code 9106;
//   one that is not `Bearer <token>` 400 code 6003 (error_chain 6111); a token the API does not
//   know 401 code 9109 ("Invalid access token"); a valid token on a zone it may not use (another
//   zone's id, or a token without the permission there) 403 code 10000 ("Authentication
//   error"). GET /user/tokens/verify says whether a token is valid (200 "active", or 401 code
//   1000). `token` and `zoneId` can be changed to stand for a token rolled at Cloudflare or a
//   zone the token may not use; `reset()` restores them.
// - POST /zones/:zone/custom_hostnames answers 201, or refuses as Cloudflare does: 1400 (bad
//   JSON), 1407 (invalid), 1408 (non-ASCII), 1409 (reserved top domains: test, example, invalid,
//   localhost, unless a test allows one), 1410 (no registrable domain), 1411 (example.com, .net,
//   .org), 403 1405 (quota), 409 1406 (duplicate), 1432/1433/1440 (ssl method/type).
// - GET/DELETE /zones/:zone/custom_hostnames/:id: 200, or 404 1436.
// - GET /zones/:zone/custom_hostnames?hostname=&page=&per_page=: 200 with result_info.
// - 1,200 requests per 5 minutes per token (configurable), then 429 code 971 with retry-after;
//   `failNext(n, status)` makes the next n requests answer 429 or 5xx; `answerAll(status, body)`
//   makes every request answer that (what a wrong API base or a proxy in front of it does), or
//   every request `match(method, path)` selects; `answerAll(null)` ends it.
// - `advance()` is one round of Cloudflare's validation: each pending hostname's ownership is
//   checked by fetching http://<hostname>/.well-known/cf-custom-hostname-challenge/<id> through
//   the local resolver (its address, Host: <hostname>, Cloudflare's User-Agent); only a body
//   equal to the token makes the hostname active; its certificate then moves one step per round
//   through pending_validation → pending_issuance → pending_deployment → active, each move sent
//   as a webhook when one is configured.

import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { request } from './http.mjs';

export const USER_AGENT = 'Cloudflare Custom Hostname Verification';
const CHALLENGE = '/.well-known/cf-custom-hostname-challenge/';
const RESERVED_TOP_DOMAINS = ['test', 'example', 'invalid', 'localhost'];
const PROHIBITED_SUFFIXES = ['example.com', 'example.net', 'example.org'];
const NOT_CNAMED = 'custom hostname does not CNAME to this zone.';

/** Cloudflare's messages for the codes the stand-in answers with. */
export const MESSAGES = {
  971: 'Please wait and consider throttling your request speed',
  1400: 'Unable to decode the JSON request body. Check your input and try again.',
  1405: 'Quota exceeded. If you are already a paid Cloudflare for SaaS customer, contact your account team for additional provisioning. If you are not yet enrolled, <a href="https://www.cloudflare.com/plans/enterprise/contact/">fill out this contact form</a> and our sales team will reach out to you.',
  1406: 'Duplicate custom hostname found.',
  1407: "Invalid custom hostname. Custom hostnames have to be smaller than 256 characters in length, cannot be IP addresses, cannot contain any special characters such as ``~`!@#$%^&*()=+{}[]\\|;:'\",<>/? and cannot begin or end with a '-' character. Check your input and try again.",
  1408: 'Custom hostnames with non-ASCII characters are not supported. Check your input and try again.',
  1409: "Reserved top domain custom hostnames, such as 'test', 'example', 'invalid' or 'localhost', is not supported. Check your input and try again.",
  1410: 'Unable to parse custom hostname - publicsuffix: cannot derive eTLD+1 for domain. Check your input and try again.',
  1411: 'Custom hostnames ending in example.com, example.net, or example.org are prohibited. Check your input and try again.',
  1432: 'The validation method is not supported. Only http, email, or txt are accepted. Check your input and try again.',
  1433: "The validation type is not supported. Only 'dv' is accepted. Check your input and try again.",
  1436: 'The custom hostname was not found.',
  1440: 'Both validation type and validation method are required. Check your input and try again.',
  1500: 'Internal Server Error',
  1000: 'Invalid API Token',
  6003: 'Invalid request headers',
  7000: 'No route for that URI',
  9106: 'Missing X-Auth-Key, X-Auth-Email or Authorization headers',
  9109: 'Invalid access token',
  10000: 'Authentication error',
};

const envelope = (result, errors = [], extra = {}) => ({ success: errors.length === 0, errors, messages: [], result, ...extra });
const failure = (code) => envelope(null, [{ code, message: MESSAGES[code] }]);

/** What Cloudflare refuses of a hostname on create, as `[status, code]`, or null. */
function refusal(hostname, allowTopDomains) {
  if (typeof hostname !== 'string' || hostname.length === 0) return [400, 1407];
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the class is "not ASCII", written as its bounds
  if (/[^\x00-\x7f]/.test(hostname)) return [400, 1408];
  const labels = hostname.split('.');
  const ldh = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
  if (hostname.length >= 256 || /^[\d.]+$/.test(hostname) || !labels.every((l) => ldh.test(l))) return [400, 1407];
  const top = labels.at(-1).toLowerCase();
  if (RESERVED_TOP_DOMAINS.includes(top) && !allowTopDomains.includes(top)) return [400, 1409];
  if (labels.length < 2) return [400, 1410];
  if (PROHIBITED_SUFFIXES.some((s) => hostname === s || hostname.endsWith(`.${s}`))) return [400, 1411];
  return null;
}

/**
 * Starts the stand-in. Options: `zoneId`, `token` (the API token it accepts), `resolver` (the
 * URL ownership checks connect to), `webhook` (`{ url, secret }`: where certificate events are
 * posted), `allowTopDomains` (reserved top domains to accept, e.g. ['test'] for a local
 * hostname), `quota` (hostnames the zone may hold), `limit` (requests per 5 minutes),
 * `autoAdvanceMs` (run `advance()` on a timer, as Cloudflare keeps retrying), `analytics` (the
 * Analytics Engine stand-in's URL: the SQL API's calls under this API base are passed on to it).
 * Returns `{ url, apiBase, webhook, hostnames, requests, webhooks, advance(), advanceUntil(),
 * failNext(), byName(), sendWebhook(), reset(), stop() }`; `webhook` can be set later.
 */
export async function startCloudflare({
  zoneId: configuredZone = '023e105f4ecef8ad9ca31a8372d0c353',
  token: configuredToken = 'cf-test-token',
  resolver,
  webhook,
  allowTopDomains = [],
  quota = 1000,
  limit = 1200,
  autoAdvanceMs,
  analytics,
} = {}) {
  /** The token the API knows and the zone it may use (settable: see `token`, `zoneId` below). */
  let token = configuredToken;
  let zoneId = configuredZone;
  /** Where certificate events go: `{ url, secret }`, settable once the control plane is up. */
  let hook = webhook;
  /** id → custom hostname, as the API returns it (plus `_owned`: ownership verified). */
  const hostnames = new Map();
  /** Every API request: `{ method, path, status, at }`. */
  const requests = [];
  /** Every webhook sent: `{ type, id, status, answer }`. */
  const webhooks = [];
  const window = [];
  const failures = [];
  /** `{ status, body, match }`: what every request `match` selects gets (`answerAll`). */
  let everything = null;

  const apiBase = () => `${url}/client/v4`;
  const view = (h) => {
    const { _owned, ...visible } = h;
    return structuredClone(visible);
  };

  function answer(req, body) {
    if (everything?.match(req.method, req.url)) return [everything.status, everything.body];
    if (failures.length > 0) {
      const status = failures.shift();
      if (status === 429) return [429, failure(971), { 'retry-after': '60' }];
      return [status, failure(1500)];
    }
    const now = Date.now();
    while (window.length && window[0] < now - 300_000) window.shift();
    if (window.length >= limit) {
      const retry = Math.max(1, Math.ceil((window[0] + 300_000 - now) / 1000));
      return [429, failure(971), { 'retry-after': String(retry) }];
    }
    window.push(now);
    const u = new URL(req.url, 'http://cloudflare');
    if (u.pathname === '/client/v4/user/tokens/verify' && req.method === 'GET') return verify(req);
    const m = u.pathname.match(/^\/client\/v4\/zones\/([^/]+)\/custom_hostnames(?:\/([^/]+))?$/);
    if (!m) return [404, failure(7000)];
    if (!/^[0-9a-f]{32}$/.test(m[1])) {
      return [
        400,
        envelope(null, [
          { code: 7003, message: `Could not route to ${u.pathname}, perhaps your object identifier is invalid?` },
          { code: 7000, message: MESSAGES[7000] },
        ]),
      ];
    }
    const refused = authenticate(req);
    if (refused) return refused;
    if (m[1] !== zoneId) return [403, failure(10000)];
    const id = m[2];
    if (!id && req.method === 'POST') return create(body);
    if (!id && req.method === 'GET') return list(u.searchParams);
    const found = id && hostnames.get(id);
    if (!found) return [404, failure(1436)];
    if (req.method === 'GET') return [200, envelope(view(found))];
    if (req.method === 'DELETE') {
      hostnames.delete(id);
      return [200, envelope({ id })];
    }
    if (req.method === 'PATCH') return [202, envelope(view(found))];
    return [405, envelope(null, [{ code: 10405, message: 'Method not allowed' }])];
  }

  /** How the API refuses a request's credentials, as `[status, body]`, or null when it knows the token. */
  function authenticate(req) {
    const header = req.headers.authorization;
    if (header === undefined) return [400, failure(9106)];
    const bearer = header.match(/^Bearer ([A-Za-z0-9_-]+)$/);
    if (!bearer) {
      return [
        400,
        envelope(null, [
          { code: 6003, message: MESSAGES[6003], error_chain: [{ code: 6111, message: 'Invalid format for Authorization header' }] },
        ]),
      ];
    }
    if (bearer[1] !== token) return [401, failure(9109)];
    return null;
  }

  /** GET /user/tokens/verify: whether the token is valid, whatever it may do. */
  function verify(req) {
    const refused = authenticate(req);
    if (refused?.[0] === 401) return [401, failure(1000)];
    if (refused) return refused;
    return [
      200,
      {
        success: true,
        errors: [],
        messages: [{ code: 10000, message: 'This API Token is valid and active', type: null }],
        result: { id: 'ed17574386854bf78a67040be0a770b0', status: 'active' },
      },
    ];
  }

  function create(body) {
    let input;
    try {
      input = JSON.parse(body);
    } catch {
      return [400, failure(1400)];
    }
    const refused = refusal(input?.hostname, allowTopDomains);
    if (refused) return [refused[0], failure(refused[1])];
    const hostname = input.hostname.toLowerCase();
    if (!input.ssl?.method || !input.ssl?.type) return [400, failure(1440)];
    if (!['http', 'txt', 'email'].includes(input.ssl.method)) return [400, failure(1432)];
    if (input.ssl.type !== 'dv') return [400, failure(1433)];
    if ([...hostnames.values()].some((h) => h.hostname === hostname)) return [409, failure(1406)];
    if (hostnames.size >= quota) return [403, failure(1405)];
    const id = randomUUID();
    const created = {
      id,
      hostname,
      ssl: {
        id: randomUUID(),
        type: 'dv',
        method: input.ssl.method,
        status: 'initializing',
        settings: { min_tls_version: '1.2', http2: 'on' },
        bundle_method: 'ubiquitous',
        wildcard: false,
        certificate_authority: 'google',
        validation_errors: [],
      },
      status: 'pending',
      verification_errors: [NOT_CNAMED],
      ownership_verification: { type: 'txt', name: `_cf-custom-hostname.${hostname}`, value: randomUUID() },
      ownership_verification_http: { http_url: `http://${hostname}${CHALLENGE}${id}`, http_body: randomUUID() },
      created_at: new Date().toISOString(),
      _owned: false,
    };
    hostnames.set(id, created);
    return [201, envelope(view(created))];
  }

  function list(params) {
    const perPage = Math.min(50, Math.max(5, Number(params.get('per_page') ?? 20) || 20));
    const page = Math.max(1, Number(params.get('page') ?? 1) || 1);
    const name = params.get('hostname');
    const all = [...hostnames.values()].filter((h) => !name || h.hostname === name.toLowerCase());
    const result = all.slice((page - 1) * perPage, page * perPage).map(view);
    return [
      200,
      envelope(result, [], {
        result_info: {
          page,
          per_page: perPage,
          count: result.length,
          total_count: all.length,
          total_pages: Math.ceil(all.length / perPage),
        },
      }),
    ];
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      // Analytics Engine's SQL API shares the API base (and not the zone's rate limit): passed
      // on to the Analytics Engine stand-in, which answers it (analytics.mjs).
      if (analytics && /^\/client\/v4\/accounts\/[^/]+\/analytics_engine\//.test(req.url)) {
        try {
          const upstream = await fetch(`${analytics}${req.url}`, {
            method: req.method,
            headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k))),
            body: ['GET', 'HEAD'].includes(req.method) ? undefined : Buffer.concat(chunks),
          });
          res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await upstream.arrayBuffer()));
        } catch (e) {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`analytics stand-in: ${e.message}`);
        }
        return;
      }
      const [status, body, headers = {}] = answer(req, Buffer.concat(chunks).toString('utf8'));
      requests.push({ method: req.method, path: req.url, status, at: Date.now() });
      res.writeHead(status, {
        'content-type': 'application/json',
        ratelimit: `"default";r=${Math.max(0, limit - window.length)};t=300`,
        'ratelimit-policy': `"default";q=${limit};w=300`,
        ...headers,
      });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}`;

  /** Cloudflare's ownership check: the token fetched over plain HTTP, through the resolver. */
  async function ownershipVerified(h) {
    const { http_url: httpUrl, http_body: expected } = h.ownership_verification_http;
    const path = new URL(httpUrl).pathname;
    try {
      const res = await request(`${resolver}${path}`, {
        host: h.hostname,
        headers: { 'user-agent': USER_AGENT },
        timeoutMs: 5000,
      });
      return res.status === 200 && res.body.trim() === expected;
    } catch {
      return false;
    }
  }

  /** Posts a certificate event to the webhook (`secret` overrides the configured one). */
  async function sendWebhook(h, type, { secret = hook?.secret, to = hook?.url } = {}) {
    const payload = {
      metadata: {
        event: { id: randomUUID(), type, created_at: new Date().toISOString() },
        account: { id: 'account' },
        zone: { id: zoneId },
      },
      data: {
        id: h.id,
        hostname: h.hostname,
        ssl: { id: h.ssl.id, type: 'dv', method: h.ssl.method, status: h.ssl.status, settings: h.ssl.settings },
        custom_metadata: {},
        custom_origin_server: '',
      },
    };
    const headers = { 'content-type': 'application/json', ...(secret ? { 'cf-webhook-auth': secret } : {}) };
    const res = await request(to, { method: 'POST', headers, body: JSON.stringify(payload) });
    const sent = { type, id: h.id, status: h.ssl.status, answer: res.status };
    webhooks.push(sent);
    return res;
  }

  /** Each certificate step and the event Cloudflare sends for it. */
  const NEXT = {
    pending_validation: ['pending_issuance', 'ssl.custom_hostname_certificate.validation.succeeded'],
    pending_issuance: ['pending_deployment', 'ssl.custom_hostname_certificate.issuance.succeeded'],
    pending_deployment: ['active', 'ssl.custom_hostname_certificate.deployment.succeeded'],
  };

  /** One round of validation for every hostname; resolves once its webhooks are answered. */
  async function advance() {
    for (const h of [...hostnames.values()]) {
      if (!hostnames.has(h.id)) continue;
      if (h.ssl.status === 'initializing') {
        h.ssl.status = 'pending_validation';
        continue;
      }
      if (!h._owned) {
        if (await ownershipVerified(h)) {
          h._owned = true;
          h.status = 'active';
          h.verification_errors = [];
        } else {
          h.verification_errors = [NOT_CNAMED];
        }
        continue;
      }
      const next = NEXT[h.ssl.status];
      if (!next) continue;
      [h.ssl.status] = next;
      if (hook) await sendWebhook(h, next[1]).catch(() => {});
    }
  }

  const timer = autoAdvanceMs ? setInterval(() => advance().catch(() => {}), autoAdvanceMs) : null;

  return {
    url,
    get apiBase() {
      return apiBase();
    },
    /** The zone the token may use: another id stands for a CLOUDFLARE_ZONE_ID that is not it. */
    get zoneId() {
      return zoneId;
    },
    set zoneId(value) {
      zoneId = value;
    },
    /** The token the API knows: another value stands for a token rolled (or revoked) at Cloudflare. */
    get token() {
      return token;
    },
    set token(value) {
      token = value;
    },
    get webhook() {
      return hook;
    },
    set webhook(value) {
      hook = value;
    },
    hostnames,
    requests,
    webhooks,
    advance,
    /** Rounds of `advance()` until `done(hostname)` for the hostname named `name` (at most `rounds`). */
    async advanceUntil(name, done, rounds = 10) {
      for (let i = 0; i < rounds; i++) {
        const h = this.byName(name);
        if (h && done(h)) return h;
        await advance();
      }
      const h = this.byName(name);
      if (h && done(h)) return h;
      throw new Error(`${name} did not get there in ${rounds} rounds: ${JSON.stringify(h && view(h))}`);
    },
    /** The next `n` requests answer `status` (429 with retry-after, or a 5xx). */
    failNext(n, status = 429) {
      for (let i = 0; i < n; i++) failures.push(status);
    },
    /**
     * Every request answers `status` with the JSON `body` until `answerAll(null)`; with `match`,
     * only the requests `match(method, path)` selects (`path` with its query).
     */
    answerAll(status, body, match = () => true) {
      everything = status === null ? null : { status, body, match };
    },
    byName: (name) => [...hostnames.values()].find((h) => h.hostname === name),
    sendWebhook,
    reset() {
      requests.length = 0;
      webhooks.length = 0;
      failures.length = 0;
      window.length = 0;
      everything = null;
      token = configuredToken;
      zoneId = configuredZone;
    },
    stop() {
      if (timer) clearInterval(timer);
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Creates hostname `name` at the stand-in `cf` through its API, then makes it what Cloudflare
 * would make it once verified: active, its certificate active, no errors. Resolves with the
 * stand-in's hostname object (change its fields to change what the API answers).
 */
export async function activeHostname(cf, name) {
  const res = await request(`${cf.apiBase}/zones/${cf.zoneId}/custom_hostnames`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cf.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ hostname: name, ssl: { method: 'http', type: 'dv' } }),
  });
  if (res.status !== 201) throw new Error(`the stand-in did not create ${name}: ${res.status} ${res.body}`);
  const h = cf.hostnames.get(res.json().result.id);
  Object.assign(h, { status: 'active', verification_errors: [], _owned: true });
  h.ssl.status = 'active';
  return h;
}
