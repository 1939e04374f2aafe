// Bad input the Worker must turn away before asking PostgREST anything: Host headers, and the
// slugs, domains and ids of /_tenant/{slug|domain|id}/… . Generated from the input rules of the
// issue (length, characters, hyphens, empty labels, IP literals, non-ASCII, percent-encoding).
//
// Hosts are sent raw (see raw.mjs). Slugs, domains and ids are path segments as sent on the
// request line: encoded with encodeURIComponent so each stays one segment, except the
// `percentEncoded` ones, which are sent as written to prove the Worker does not decode them into
// a valid key.

const LABEL_63 = 'a'.repeat(63);
const NORTHSTAR = 'coach.northstar.localhost';
const ID = '7e000000-0000-4000-8000-000000000002';

/** Characters outside `[a-z0-9.-]` that an HTTP header or a path segment can still carry. */
const BAD_CHARS = [...'_ !$&\'()*+,;=~`^{}|"<>\\@%#?/:[]\t'];
/** Whitespace is trimmed from both ends of a header value by HTTP itself: only inside counts. */
const INNER_ONLY = new Set([' ', '\t']);

const unique = (list) => [...new Set(list)];

/** The same names with non-ASCII characters in them. */
const nonAscii = (name) => [
  name.replace('o', 'ö'),
  name.replace('coach', 'ｃｏａｃｈ'), // fullwidth: IDNA would map it back to ASCII
  name.replace('.', '\u3002'), // ideographic full stop: IDNA would map it to a dot
  name.replace('coach', 'coa\u200bch'), // zero-width space: IDNA would drop it
  name.replace('coach', 'коуч'),
  name.replace('coach', '例え'),
  name.replace('coach', '🦀'),
  `${name}\u00a0`,
];

/** Host header values that are not DNS hostnames (and carry no valid tenant either way). */
export const badHosts = unique([
  '',
  '.',
  '..',
  ':8787',
  '.:8787',
  // too long: the whole name, or one label
  [LABEL_63, LABEL_63, LABEL_63, LABEL_63].join('.'),
  `${'x.'.repeat(127)}localhost`,
  'a'.repeat(300),
  `${'a'.repeat(64)}.com`,
  `coach.${'n'.repeat(64)}.localhost`,
  `${'c'.repeat(64)}.northstar.localhost:8787`,
  // characters outside [a-z0-9.-], inside a label, in front and at the end
  ...BAD_CHARS.map((c) => `coach${c}northstar.localhost`),
  ...BAD_CHARS.filter((c) => !INNER_ONLY.has(c)).map((c) => `${c}${NORTHSTAR}`),
  ...BAD_CHARS.filter((c) => !INNER_ONLY.has(c) && c !== ':').map((c) => `${NORTHSTAR}${c}`),
  // leading and trailing hyphens
  '-',
  `-${NORTHSTAR}`,
  'coach-.northstar.localhost',
  'coach.-northstar.localhost',
  'coach.northstar-.localhost',
  `${NORTHSTAR}-`,
  `-${NORTHSTAR}:8787`,
  // empty labels (one trailing dot is allowed, two are not)
  'coach..northstar.localhost',
  `.${NORTHSTAR}`,
  `${NORTHSTAR}..`,
  `${NORTHSTAR}..:8787`,
  // IP literals
  '127.0.0.1',
  '127.0.0.1:8787',
  '10.0.0.1',
  '192.168.1.10',
  '0.0.0.0',
  '255.255.255.255',
  '1.2.3.4.',
  '127.1',
  '2130706433',
  '0x7f.0.0.1',
  '[::1]',
  '[::1]:8787',
  '::1',
  '[2001:db8::1]',
  '[::ffff:127.0.0.1]',
  '[fe80::1%25eth0]',
  // non-ASCII
  'bücher.de',
  'ß.localhost',
  ...nonAscii(NORTHSTAR),
  // underscores
  '_dmarc.northstar.localhost',
  'coach.north_star.localhost',
  'coach_.northstar.localhost',
  // percent-encoding (a URL parser would decode these into a valid host)
  'coach%2enorthstar.localhost',
  'coach.northstar%2Elocalhost',
  '%63oach.northstar.localhost',
  `${NORTHSTAR}%00`,
  // ports that are not ports (an empty one, `host:`, is valid HTTP and URL parsers drop it)
  `${NORTHSTAR}:http`,
  `${NORTHSTAR}:123456`,
  `${NORTHSTAR}:80:80`,
  `${NORTHSTAR}:-1`,
  `${NORTHSTAR}: 80`,
  // URL parts in the Host
  `user@${NORTHSTAR}`,
  `${NORTHSTAR}@evil.example`,
  `http://${NORTHSTAR}`,
  `${NORTHSTAR}/welcome`,
  `${NORTHSTAR}?x=1`,
  `${NORTHSTAR}#top`,
  `${NORTHSTAR}, leaders.acme.localhost`,
]);

/**
 * A bad host per rule, each one that reaches the Worker through `wrangler dev` (whose proxy
 * answers 500 itself to a Host a URL parser rejects) and must be `invalid_host`.
 */
export const representativeBadHosts = [
  'coach..northstar.localhost',
  'coach.northstar.localhost..',
  '-coach.northstar.localhost',
  'coach.northstar-.localhost',
  'coach_northstar.localhost',
  `${'a'.repeat(64)}.com`,
  `${'x.'.repeat(127)}localhost`,
  '127.0.0.1',
  '127.0.0.1:8787',
  '[::1]',
  '[::1]:8787',
];

/** Slug path segments that break the database's rule (3-63 of [a-z0-9-], no edge hyphen). */
export const badSlugs = unique(
  [
    '',
    'a',
    'ab',
    'AB',
    '-',
    '---',
    '-abc',
    'abc-',
    '-abc-',
    '-leadingwithmeaning',
    'leadingwithmeaning-',
    'a'.repeat(64),
    `leadingwithmeaning${'x'.repeat(50)}`,
    'a'.repeat(1000),
    ...BAD_CHARS.map((c) => `lead${c}ing`),
    `${BAD_CHARS.join('')}abc`,
    'lead.ing',
    'leadingwithmeaning.',
    'ñandu',
    'leadingwithmeaníng',
    'коуч',
    '例え',
    '🦀crab',
    'lead\u0000ing',
    'lead\ning',
    'ｌｅａｄｉｎｇ',
    'eq.leadingwithmeaning',
    'leadingwithmeaning&select=email_config',
    'leadingwithmeaning,northstar-coaching',
    '*',
  ].map(encodeURIComponent),
);

/** Slug segments sent percent-encoded as written: decoded, they would be valid slugs. */
export const percentEncodedSlugs = ['leadingwith%6deaning', '%6CeadingWithMeaning', 'northstar%2Dcoaching', 'leadingwithmeaning%00'];

/** Domain path segments that are not tenant custom domains (one label, IPs, ports, URLs…). */
export const badDomains = unique(
  [
    '',
    'localhost',
    'com',
    'coach',
    '127.0.0.1',
    '10.0.0.1',
    '1.2.3.4.',
    '[::1]',
    '::1',
    `${NORTHSTAR}:80`,
    `${NORTHSTAR}:8787`,
    `https://${NORTHSTAR}`,
    `//${NORTHSTAR}`,
    `${NORTHSTAR}/welcome`,
    `user@${NORTHSTAR}`,
    'coach..northstar.localhost',
    `.${NORTHSTAR}`,
    `${NORTHSTAR}..`,
    `-${NORTHSTAR}`,
    'coach-.northstar.localhost',
    '*.localhost',
    `${'a'.repeat(64)}.com`,
    [LABEL_63, LABEL_63, LABEL_63, LABEL_63].join('.'),
    ...BAD_CHARS.map((c) => `coach${c}northstar.localhost`),
    'bücher.de',
    ...nonAscii(NORTHSTAR),
  ].map(encodeURIComponent),
);

/** Domain segments sent percent-encoded as written. */
export const percentEncodedDomains = ['coach%2Enorthstar.localhost', '%63oach.northstar.localhost', `${NORTHSTAR}%00`];

/** Id path segments that are not UUIDs. */
export const badIds = unique(
  [
    '',
    '1',
    '42',
    'null',
    'undefined',
    'leadingwithmeaning',
    ID.slice(0, -1),
    `${ID}0`,
    ID.replaceAll('-', ''),
    ID.replace('-', ''),
    ID.replaceAll('-', '_'),
    `{${ID}}`,
    `(${ID})`,
    `urn:uuid:${ID}`,
    ` ${ID}`,
    `${ID} `,
    `${ID},7e000000-0000-4000-8000-000000000003`,
    `eq.${ID}`,
    '0'.repeat(36),
    '-'.repeat(36),
    '00000000-0000-0000-0000-00000000000',
    '00000000-0000-0000-0000-0000000000000',
    ID.replace('7e', '7é'),
    ID.replace('7e', 'ｆｆ'),
    ...[0, 7, 8, 9, 13, 14, 18, 19, 23, 24, 35].map((i) => `${ID.slice(0, i)}g${ID.slice(i + 1)}`),
    ...BAD_CHARS.map((c) => `${ID.slice(0, 35)}${c}`),
  ].map(encodeURIComponent),
);

/** Id segments sent percent-encoded as written. */
export const percentEncodedIds = [`7e000000%2D0000-4000-8000-000000000002`, `${ID.slice(0, 35)}%32`, `${ID}%00`];
