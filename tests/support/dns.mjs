// A stand-in for a DNS over HTTPS resolver's JSON API (cloudflare-dns.com/dns-query,
// dns.google/resolve), which the control plane asks for a claim's TXT record
// (`_<platform>-challenge.<hostname>`) and, for its DNS doctor, a name's A, AAAA, CAA and
// `_acme-challenge` TXT records (control/src/dns.rs reads the answers): a node:http server on a
// loopback port, answering from records the test (or a person) sets, seeded per test case.
//
// - GET /dns-query?name=&type= with `accept: application/dns-json` (or `ct=application/dns-json`)
//   answers 200 `content-type: application/dns-json` with the API's shape:
//   {"Status","TC","RD","RA","AD","CD","Question":[{"name","type"}],"Answer":[{"name","type","TTL","data"}]}.
//   Without that accept header it answers 400, as Cloudflare does; a bad name or type is 400.
// - A name with records of the asked type: Status 0 (NOERROR) and those records. TXT data is
//   written as Cloudflare writes it: the value quoted, `"` and `\` escaped, bytes outside
//   printable ASCII as \DDD, a value over 255 bytes split into several quoted character-strings
//   (`"…" "…"`).
// - A and AAAA data are addresses as resolvers write them (`192.0.2.1`, `2606:4700::6810:84e5`:
//   IPv6 compressed and lowercase); CAA data is presentation form, as Google writes it
//   (`0 issue "letsencrypt.org"`). `set` refuses data that is none of these, so a test cannot
//   seed what no resolver answers.
// - A name with a CNAME: the CNAME in the answer, then the target's answer, as a recursive
//   resolver follows it (a loop, or more than 16 hops, is SERVFAIL).
// - A name with records of other types only, or with none but names beneath it (an empty
//   non-terminal): Status 0 with no Answer, and an SOA in Authority.
// - A name with no records at all: Status 3 (NXDOMAIN), an SOA in Authority.
// - `failNext(n, kind)`: the next n queries answer 'servfail' (Status 2), 'http500' (HTTP 500),
//   or 'hang' (never answered: for the caller's timeout).
// - Admin routes, for a person running the local stack by hand (not part of any resolver's API):
//     curl -X PUT  http://127.0.0.1:PORT/records/_x-challenge.shop.example.com/TXT -d '["token"]'
//     curl -X DELETE http://127.0.0.1:PORT/records/_x-challenge.shop.example.com/TXT
//     curl -X DELETE http://127.0.0.1:PORT/records/_x-challenge.shop.example.com   (every type)
//     curl http://127.0.0.1:PORT/records                                          (all, as JSON)
//   PUT and DELETE answer 204.
// Names are case-insensitive and a trailing dot is ignored, everywhere.

import http from 'node:http';
import net from 'node:net';

/** RR type numbers of the types the stand-in holds (and SOA, which it only answers with). */
export const TYPES = { A: 1, CNAME: 5, SOA: 6, TXT: 16, AAAA: 28, CAA: 257 };
const TYPE_NAMES = Object.fromEntries(Object.entries(TYPES).map(([k, v]) => [v, k]));
const TTL = 300;
const MAX_HOPS = 16;
const FAILURES = ['servfail', 'http500', 'hang'];

/** A name as the map holds it: lowercase, no trailing dot. */
const key = (name) => String(name).toLowerCase().replace(/\.$/, '');
/** A name as the API writes it: with a trailing dot. */
const fqdn = (name) => (String(name).endsWith('.') ? String(name) : `${name}.`);

/** One character-string in zone-file form: quoted, `"` and `\` escaped, other bytes \DDD. */
function quote(bytes) {
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${String(b).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** A TXT value as the API's `data`: one quoted character-string per 255 bytes. */
export function txtData(value) {
  const bytes = Buffer.from(String(value), 'utf8');
  const strings = [];
  for (let at = 0; at < bytes.length; at += 255) strings.push(quote(bytes.subarray(at, at + 255)));
  return strings.length ? strings.join(' ') : '""';
}

/** Record data as a resolver writes it for type `t`; throws on data no resolver answers. */
function written(t, data) {
  if (t === 'A' && !net.isIPv4(data)) throw new Error(`not an IPv4 address: ${data}`);
  if (t === 'AAAA') {
    if (!net.isIPv6(data)) throw new Error(`not an IPv6 address: ${data}`);
    return new URL(`http://[${data}]/`).hostname.slice(1, -1);
  }
  if (t === 'CAA' && !/^\d{1,3} [A-Za-z0-9]+ "[^"]*"$/.test(data)) throw new Error(`not CAA presentation form: ${data}`);
  return data;
}

/** A type given as text ('TXT', 'txt') or number (16, '16'), as its number; undefined if unknown. */
function typeNumber(type) {
  if (type === undefined || type === null || type === '') return TYPES.A;
  const n = Number(type);
  if (Number.isInteger(n) && n >= 1 && n <= 65535) return n;
  return TYPES[String(type).toUpperCase()];
}

/**
 * Starts the stand-in. `records` (an object or Map: name → [{ type, data }], TXT data the plain
 * value) are the records it starts with and returns to on `reset()`; `port` fixes the port
 * (default: any free one). Returns `{ url, base, records, queries, set(), remove(), failNext(),
 * reset(), stop() }`; `url` is the resolver URL (`http://127.0.0.1:PORT/dns-query`), the value
 * of the control plane's DNS_RESOLVER_URL.
 */
export async function startDns({ records = {}, port = 0 } = {}) {
  /** name (key form) → [{ type: 'TXT'|'CNAME'|'CAA'|'A'|…, data }]. */
  const zone = new Map();
  /** Every DNS query: `{ name, type, at }` (`type` as asked). */
  const queries = [];
  const failures = [];
  /** Responses held open by 'hang', closed on stop(). */
  const hung = new Set();

  const initial = records instanceof Map ? [...records] : Object.entries(records);

  function set(name, type, values) {
    const t = String(type).toUpperCase();
    if (typeNumber(t) === undefined) throw new Error(`unknown record type ${type}`);
    const list = (Array.isArray(values) ? values : [values]).map((v) => written(t, String(v)));
    const kept = (zone.get(key(name)) ?? []).filter((r) => r.type !== t);
    const all = [...kept, ...list.map((data) => ({ type: t, data }))];
    if (all.length) zone.set(key(name), all);
    else zone.delete(key(name));
  }

  function remove(name, type) {
    if (type === undefined) {
      zone.delete(key(name));
      return;
    }
    set(name, type, []);
  }

  function load() {
    zone.clear();
    for (const [name, list] of initial) {
      for (const { type, data } of list) {
        const t = String(type).toUpperCase();
        const had = (zone.get(key(name)) ?? []).filter((r) => r.type === t).map((r) => r.data);
        set(name, t, [...had, data]);
      }
    }
  }
  load();

  /** The zone apex a name's SOA is given for: its last two labels. */
  const soa = (name) => {
    const apex = key(name).split('.').slice(-2).join('.');
    return {
      name: fqdn(apex),
      type: TYPES.SOA,
      TTL: 1800,
      data: `ns1.${apex}. hostmaster.${apex}. 2026010101 10000 2400 604800 1800`,
    };
  };

  /** Whether any record sits beneath `name` (which then exists as an empty non-terminal). */
  const hasDescendants = (name) => [...zone.keys()].some((k) => k.endsWith(`.${key(name)}`));

  /** A record as the API writes it, owned by `owner` (written as asked or as a CNAME gives it). */
  const answerRecord = (owner, { type, data }) => ({
    name: fqdn(owner),
    type: TYPES[type],
    TTL,
    data: type === 'TXT' ? txtData(data) : type === 'CNAME' ? fqdn(data) : data,
  });

  /** Resolves `name`/`type` as a recursive resolver would: `{ Status, Answer, Authority }`. */
  function resolve(name, type) {
    const answer = [];
    const seen = new Set();
    let current = name;
    for (let hop = 0; hop <= MAX_HOPS; hop++) {
      if (seen.has(key(current))) break;
      seen.add(key(current));
      const here = zone.get(key(current)) ?? [];
      const matching = here.filter((r) => TYPES[r.type] === type);
      if (matching.length) return { Status: 0, Answer: [...answer, ...matching.map((r) => answerRecord(current, r))] };
      const cname = here.find((r) => r.type === 'CNAME');
      if (cname) {
        answer.push(answerRecord(current, cname));
        current = cname.data;
        continue;
      }
      const Status = here.length || hasDescendants(current) ? 0 : 3;
      return { Status, Answer: answer, Authority: [soa(current)] };
    }
    return { Status: 2, Answer: [] };
  }

  function message(name, type, { Status, Answer = [], Authority = [] }) {
    return {
      Status,
      TC: false,
      RD: true,
      RA: true,
      AD: false,
      CD: false,
      Question: [{ name: fqdn(name), type }],
      ...(Answer.length ? { Answer } : {}),
      ...(Authority.length ? { Authority } : {}),
    };
  }

  function query(req, res, u) {
    const accept = req.headers.accept ?? '';
    const name = u.searchParams.get('name');
    const asked = u.searchParams.get('type');
    const type = typeNumber(asked);
    if (!accept.includes('application/dns-json') && u.searchParams.get('ct') !== 'application/dns-json') {
      return send(res, 400, { error: 'send accept: application/dns-json for the JSON API' });
    }
    if (
      !name ||
      name.length > 254 ||
      key(name)
        .split('.')
        .some((l) => l.length < 1 || l.length > 63) ||
      type === undefined
    ) {
      return send(res, 400, { error: 'Invalid query name or type' });
    }
    queries.push({ name, type: TYPE_NAMES[type] ?? String(type), at: Date.now() });
    const failure = failures.shift();
    if (failure === 'hang') {
      hung.add(res);
      res.on('close', () => hung.delete(res));
      return undefined;
    }
    if (failure === 'http500') {
      res.writeHead(500, { 'content-type': 'text/plain' });
      return res.end('Internal Server Error');
    }
    const resolved = failure === 'servfail' ? { Status: 2 } : resolve(name, type);
    return send(res, 200, message(name, type, resolved), 'application/dns-json');
  }

  function admin(req, res, parts, body) {
    const [name, type] = parts.map(decodeURIComponent);
    if (req.method === 'GET' && !name) {
      return send(res, 200, Object.fromEntries(zone));
    }
    if (!name || (type !== undefined && typeNumber(type) === undefined)) return send(res, 400, { error: 'use /records/<name>/<type>' });
    if (req.method === 'DELETE') {
      remove(name, type);
      return end(res, 204);
    }
    if (req.method === 'PUT' && type !== undefined) {
      let values;
      try {
        values = JSON.parse(body);
      } catch {
        values = undefined;
      }
      if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) {
        return send(res, 400, { error: 'the body is a JSON array of strings' });
      }
      set(name, type, values);
      return end(res, 204);
    }
    return send(res, 405, { error: 'GET /records, PUT or DELETE /records/<name>/<type>' });
  }

  const send = (res, status, body, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type });
    res.end(JSON.stringify(body));
  };
  const end = (res, status) => {
    res.writeHead(status);
    res.end();
  };

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url, 'http://dns');
      const parts = u.pathname.split('/').filter(Boolean);
      if (u.pathname === '/dns-query' && req.method === 'GET') return query(req, res, u);
      if (parts[0] === 'records' && parts.length <= 3) {
        return admin(req, res, parts.slice(1), Buffer.concat(chunks).toString('utf8'));
      }
      return send(res, 404, { error: 'no such route' });
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const base = `http://127.0.0.1:${server.address().port}`;

  return {
    /** The resolver URL: DNS_RESOLVER_URL. */
    url: `${base}/dns-query`,
    /** The server's origin, for the admin routes. */
    base,
    /** The records: name (lowercase, no trailing dot) → [{ type, data }]. */
    records: zone,
    queries,
    /** Sets the records of `type` at `name` to `values` (a string or an array; [] removes them). */
    set,
    /** Removes the records of `type` at `name`, or every record there without a type. */
    remove,
    /** The next `n` queries fail as `kind`: 'servfail', 'http500' or 'hang'. */
    failNext(n, kind = 'servfail') {
      if (!FAILURES.includes(kind)) throw new Error(`failNext: kind is one of ${FAILURES.join(', ')}`);
      for (let i = 0; i < n; i++) failures.push(kind);
    },
    /** Forgets queries and pending failures, and returns to the records it started with. */
    reset() {
      queries.length = 0;
      failures.length = 0;
      load();
    },
    stop() {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
