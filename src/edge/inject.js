// Branding placed into a tenant's HTML page on its way through. Called from Rust
// (edge/origin.rs) through wasm-bindgen, once per page.
//
// Where the branding goes is found by workerd's native HTMLRewriter (lol-html), never by a
// hand-written scanner of HTML, so markup inside scripts, comments and attribute values is
// never mistaken for a tag. The one exception is a page that starts the way nearly every page
// does, in UTF-8: whitespace, a doctype, <html> and <head> with plain attributes, and nothing
// else before the end of the <head> tag (`plainStart`). Such a start holds no comment, script
// or text in which a tag could hide, and a reader of exactly that grammar finds the place the
// rewriter would find (an HTML tokenizer reads those bytes as those three tokens and nothing
// else); anything it does not recognise goes to the rewriter. It saves the rewriter's run,
// most of what branding a page costs the Worker. The rewriter only ever reads the page up to
// the injection point:
//
// - the origin's bytes are held back (at most PREFIX_LIMIT_BYTES) and the rewriter is run over
//   what has arrived (again each time that doubles) with handlers that write two markers
//   (random per isolate, so no page can hold them) before <html> and at the start of <head>
//   (or before <body>, where a page without <head> has its implied head end). The markers are
//   its only change, so where they come out, less the markers before them, is where the
//   branding goes in the origin's bytes;
// - a <head> tag makes the document's head only as the first thing a browser's tree builder
//   reads after doctypes, comments, whitespace and <html>: anywhere else it is ignored (one
//   inside <template>, <svg>, <math> or <select> is inert, foreign or dropped), and the head
//   is the one the browser implies at that first thing. So unless the start is plain, the
//   rewriter runs again over the page up to the place found, marking the first element other
//   than <html> or text, and around each comment and <html> tag before it (`headBegins`; what
//   it leaves unmarked there can only be whitespace, doctypes and end tags). When that first
//   thing is not the <head> (or <body>) found, the branding goes just before it instead;
// - the answer is then the held bytes with data-tenant after "<html" and the block at that
//   point, followed by the rest of the origin's body piped through natively, untouched and
//   unparsed: markup the streaming parser gives up on later in the page ("<select><style>",
//   a 4 MB attribute) can no longer cut it off, and no JS runs per chunk;
// - a page the rewriter cannot read (a charset it does not support), fails on before the
//   injection point, or has none in its first PREFIX_LIMIT_BYTES or at all goes out unbranded
//   and whole: the held bytes, then the rest. X-Tenant-Branding says why (`skipped;
//   reason=…`), and each tenant and reason is logged once per isolate (a `branding_skipped`
//   event, ./log.js).
//
// The answer (headers included) is returned once that is decided, so the header can say what
// happened. A page the origin sends uncompressed with a Content-Length of at most WHOLE_BYTES
// is read in one go and answered as bytes, which costs less than any stream; so is a page
// whose end has already arrived when its branding is placed (`arrived`). Compressed origin
// answers arrive decompressed (fetch decodes them) and leave compressed again: the runtime
// encodes a body by its Content-Encoding header.

import { apply } from './forward.js';

/** How much of a page is held back, at most, before the branding is placed or given up. */
const PREFIX_LIMIT_BYTES = 256 * 1024;
/** The largest page (by its Content-Length, uncompressed) read whole rather than streamed. */
const WHOLE_BYTES = 64 * 1024;

const encoder = new TextEncoder();

/** The markers, made on first use: workerd allows no random values at global scope. */
let marks;
/** `slug reason` pairs already logged by this isolate (bounded). */
const logged = new Set();

/**
 * The markers start and end with U+0001, a byte pages practically never hold, so they are
 * found in the rewriter's output with one native search each; the nonce makes them unique.
 */
function markers() {
  if (!marks) {
    const nonce = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
    const html = `\u0001${nonce}:html\u0001`;
    const head = `\u0001${nonce}:head\u0001`;
    const mark = (name) => ({ text: `\u0001${nonce}:${name}\u0001`, bytes: encoder.encode(`\u0001${nonce}:${name}\u0001`) });
    marks = { html, head, htmlBytes: encoder.encode(html), headBytes: encoder.encode(head), open: mark('open'), shut: mark('shut'), first: mark('first') };
  }
  return marks;
}

let lastHead = '';
let lastHeadBytes = new Uint8Array(0);

/** `head` as bytes: a tenant's pages come with the same block, so the last one is kept. */
function encoded(head) {
  if (head !== lastHead) {
    lastHead = head;
    lastHeadBytes = encoder.encode(head);
  }
  return lastHeadBytes;
}

/**
 * The answer with `head` at the start of its <head> and data-tenant (and, with the brand's
 * `lang`, lang) on <html>, or unbranded; its headers edited as `finish` (forward.js) edits a forwarded answer's, with the lines
 * `edits` and, once branded, `brandedEdits` applied: one new response.
 */
export function inject(response, head, slug, lang, edits, brandedEdits) {
  const attributes = ` data-tenant="${slug}"${lang ? ` lang="${lang}"` : ''}`;
  return brand(response, head, { slug, attributes }, { edits, brandedEdits });
}

async function brand(response, head, tenant, edits) {
  const type = response.headers.get('content-type') ?? 'text/html';
  if (!response.body) return answer(response, [], null, tenant, 'no-head', edits);
  const length = Number(response.headers.get('content-length') ?? Infinity);
  if (length <= WHOLE_BYTES && !response.headers.has('content-encoding')) {
    const page = new Uint8Array(await response.arrayBuffer());
    const verdict = await judge(page, type, true, false, head, tenant);
    return answer(response, verdict.parts ?? [page], null, tenant, verdict.reason, edits);
  }
  // Each read is asked for as soon as the last one is in, so it runs while the rewriter does.
  const reader = response.body.getReader();
  const held = [];
  let heldBytes = 0;
  let ranAt = 0;
  let next = reader.read();
  for (;;) {
    const { done, value } = await next;
    if (!done) {
      held.push(value);
      heldBytes += value.byteLength;
      next = reader.read();
    }
    const full = heldBytes >= PREFIX_LIMIT_BYTES;
    if (!done && !full && heldBytes < 2 * ranAt) continue;
    ranAt = heldBytes;
    const page = concat(held, heldBytes);
    const verdict = await judge(page, type, done, full, head, tenant);
    if (!verdict) continue;
    const parts = verdict.parts ?? [page];
    const rest = done ? null : await arrived(parts, { reader, next, body: response.body });
    return answer(response, parts, rest, tenant, verdict.reason, edits);
  }
}

/** What a read that has not settled by the next turn of the event loop comes to. */
const PENDING = Symbol('pending');

/** A promise of PENDING on the next turn of the event loop, after the I/O that is ready. */
const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 0, PENDING));

/**
 * Adds to `parts` what the origin has sent already, waiting for nothing more: a read that has
 * not settled by the next turn of the event loop is left to the pump. A page that has all
 * arrived by the time its branding is placed (most do: the origin sent it at once) is then
 * answered as bytes, which costs the Worker far less than piping a stream. Returns `rest` with
 * its pending read, or `null` once the body has ended.
 */
async function arrived(parts, rest) {
  for (let bytes = 0; bytes < PREFIX_LIMIT_BYTES; ) {
    const read = await Promise.race([rest.next, nextTurn()]).catch(() => PENDING);
    if (read === PENDING) return rest;
    if (read.done) return null;
    parts.push(read.value);
    bytes += read.value.byteLength;
    rest.next = rest.reader.read();
  }
  return rest;
}

/**
 * What the page so far comes to: `{ parts }` (the branded page so far, in pieces) or
 * `{ reason }` why it is not branded; `undefined` while more of it is needed.
 */
async function judge(page, type, ended, full, head, tenant) {
  const plain = PLAIN_TYPE.test(type) ? plainStart(page) : null;
  if (plain) return { parts: parts(page, plain.html, plain.at, head, tenant) };
  let found;
  try {
    found = await locate(page.subarray(0, PREFIX_LIMIT_BYTES), type);
  } catch {
    return { reason: 'charset' };
  }
  if (found.head >= 0) {
    const parts = await branded(page, found, head, tenant, type);
    return parts ? { parts } : { reason: 'markup' };
  }
  if (found.failed) return { reason: 'markup' };
  if (ended) return { reason: 'no-head' };
  if (full) return { reason: 'limit' };
  return undefined;
}

/**
 * Runs the rewriter over `bytes` with the marker handlers and says where the markers come out:
 * `{ html, head, by, failed }` (offsets in its output, -1 when absent; `by`, the element the
 * head marker went with). Throws when the rewriter cannot read the page's charset: only an
 * encoding it does not support (not ASCII-compatible, or an unknown label) makes it throw.
 */
async function locate(bytes, type) {
  markers();
  const run = (found) => {
    const place = (by, insert) => ({
      element(element) {
        if (found.by) return;
        found.by = by;
        insert(element);
      },
    });
    return new HTMLRewriter()
      .on('html', {
        element(element) {
          if (found.tagged || found.by) return;
          found.tagged = true;
          element.before(marks.html, { html: true });
        },
      })
      .on('head', place('head', (element) => element.prepend(marks.head, { html: true })))
      .on('body', place('body', (element) => element.before(marks.head, { html: true })))
      .transform(new Response(bytes, { headers: { 'content-type': type } }));
  };
  const found = {};
  const rewritten = run(found);
  try {
    return { ...where(new Uint8Array(await rewritten.arrayBuffer())), by: found.by, failed: false };
  } catch {
    // It failed somewhere in these bytes; what it wrote before failing may hold the markers.
    const again = {};
    const reader = run(again).body.getReader();
    const parts = [];
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
    } catch {
      // the failure itself
    }
    return { ...where(concat(parts)), by: again.by, failed: true };
  }
}

function where(output) {
  return { html: indexOf(output, marks.htmlBytes), head: indexOf(output, marks.headBytes) };
}

/**
 * The page so far with the branding in, as pieces, from where the markers came out (less the
 * markers before them, an offset in the page) and where the browser's head begins
 * (`headBegins`); `null` if the page there is not what the rewriter said (the start of "<html",
 * the end of the <head> tag or the start of "<body"). data-tenant goes on an <html> tag before
 * that point only: one after it may be foreign content's or a template's.
 */
async function branded(page, found, head, tenant, type) {
  const tag = found.html >= 0 && found.html < found.head ? found.html : -1;
  const at = found.head - (tag < 0 ? 0 : marks.htmlBytes.byteLength);
  const ok =
    (tag < 0 || startsWith(page, tag, '<html')) &&
    (found.by === 'head' ? page[at - 1] === 0x3e : startsWith(page, at, '<body'));
  const begins = ok ? await headBegins(page, at, found.by, type) : -1;
  return begins < 0 ? null : parts(page, tag < begins ? tag : -1, begins, head, tenant);
}

/**
 * Where the branding goes in a page whose first <head> tag ends at `at` (`by` 'head') or whose
 * first <body> tag starts there (`by` 'body'): `at` when that tag is the first thing a browser's
 * tree builder reads after doctypes, comments, whitespace and <html> tags (which leave it
 * before the head), else just before the first other thing (an element, text or an end tag):
 * the browser implies the head there and ignores a <head> tag after it. -1 when the rewriter's
 * reading of those bytes is not them and its markers.
 *
 * What `firstThing` leaves unmarked before its first mark is whitespace, doctypes (each ends at
 * its first ">") and end tags (the rewriter hands them to no handler): read as such here.
 */
async function headBegins(page, at, by, type) {
  if (plainStart(page)?.at === at) return at;
  const bom = page[0] === 0xef && page[1] === 0xbb && page[2] === 0xbf ? 3 : 0;
  const start = await firstThing(page.subarray(bom, at), type);
  if (!start) return -1;
  const { out, first, doctypes } = start;
  const { open, shut } = marks;
  const end = first ? indexOf(out, marks.first.bytes) : out.byteLength;
  let i = 0;
  let marked = 0;
  for (let left = doctypes; i < end; ) {
    if (out[i] === 0x01 && open.bytes.every((b, j) => out[i + j] === b)) {
      const close = indexOf(out, shut.bytes, i);
      if (close < 0 || close > end) return -1;
      marked += open.bytes.byteLength + shut.bytes.byteLength;
      i = close + shut.bytes.byteLength;
    } else if (isSpace(out[i])) {
      i++;
    } else if (left > 0 && startsWith(out, i, '<!')) {
      const close = out.indexOf(0x3e, i);
      if (close < 0 || close > end) return -1;
      left--;
      i = close + 1;
    } else {
      break;
    }
  }
  if (end < 0 || (i < end && out[i] !== 0x3c)) return -1;
  if (i === end && (!first || first === by)) return at;
  return bom + i - marked;
}

/** Text that is not only HTML's whitespace. */
const NOT_SPACE = /[^\t\n\f\r ]/;

/**
 * The rewriter's output for `bytes` with a marker before the first element other than <html>
 * or text other than whitespace, and markers around each comment and <html> tag before it:
 * `{ out, first, doctypes }` (`first`, that element's name or 'text', null without one; the
 * doctypes before it), or null when it fails or its output is not the bytes and its markers.
 */
async function firstThing(bytes, type) {
  const { open, shut, first } = marks;
  const seen = { first: null, doctypes: 0, enclosed: 0 };
  const rewriter = new HTMLRewriter()
    .onDocument({
      doctype() {
        if (!seen.first) seen.doctypes++;
      },
      comments(comment) {
        if (seen.first) return;
        comment.before(open.text, { html: true });
        comment.after(shut.text, { html: true });
        seen.enclosed++;
      },
      text(chunk) {
        if (seen.first || !NOT_SPACE.test(chunk.text)) return;
        seen.first = 'text';
        chunk.before(first.text, { html: true });
      },
    })
    .on('*', {
      element(element) {
        if (seen.first) return;
        const name = element.tagName.toLowerCase();
        if (name === 'html') {
          element.before(open.text, { html: true });
          element.prepend(shut.text, { html: true });
          seen.enclosed++;
        } else {
          seen.first = name;
          element.before(first.text, { html: true });
        }
      },
    });
  let out;
  try {
    out = new Uint8Array(await rewriter.transform(new Response(bytes, { headers: { 'content-type': type } })).arrayBuffer());
  } catch {
    return null;
  }
  const markers = seen.enclosed * (open.bytes.byteLength + shut.bytes.byteLength) + (seen.first ? first.bytes.byteLength : 0);
  return out.byteLength === bytes.byteLength + markers ? { out, first: seen.first, doctypes: seen.doctypes } : null;
}

/**
 * The page with the tenant's attributes (data-tenant, and lang from its brand) after "<html" at
 * `tag` (none when -1) and `head` at `at`, as pieces. They go first among <html>'s attributes:
 * of two with one name the first counts, so the brand's lang wins over the page's own.
 */
function parts(page, tag, at, head, tenant) {
  const pieces = tag < 0
    ? [page.subarray(0, at)]
    : [page.subarray(0, tag + 5), encoder.encode(tenant.attributes), page.subarray(tag + 5, at)];
  pieces.push(encoded(head), page.subarray(at));
  return pieces;
}

/** A Content-Type whose page the rewriter reads as UTF-8: `plainStart` reads only those. */
const PLAIN_TYPE = /^\s*text\/html\s*(;\s*charset\s*=\s*("?)utf-?8\2\s*)?$/i;

/**
 * Where the branding goes in a page that starts the way nearly every page does, read without
 * the rewriter: `{ html, at }` (where "<html" starts, -1 without one; where the <head> tag
 * ends) when the bytes up to the end of the <head> tag are exactly
 *
 *   [UTF-8 BOM] ws* [<!doctype ws [^>]* > ws*] [<html attrs > ws*] <head attrs >
 *
 * (tag names in any case; ws the HTML whitespace; attrs as `tagEnd` reads them), else `null`:
 * the rewriter decides. A tokenizer reads such bytes as a doctype (which ends at its first
 * ">", whatever is quoted in it), an <html> and a <head> start tag and whitespace, so the
 * <head> found is the document's, and it ends where the rewriter would put the block.
 */
export function plainStart(page) {
  let i = page[0] === 0xef && page[1] === 0xbb && page[2] === 0xbf ? 3 : 0;
  i = skipSpace(page, i);
  if (startsWith(page, i, '<!doctype') && isSpace(page[i + 9])) {
    const end = page.indexOf(0x3e, i);
    if (end < 0) return null;
    i = skipSpace(page, end + 1);
  }
  let html = -1;
  if (startsWith(page, i, '<html')) {
    const end = tagEnd(page, i + 5);
    if (end < 0) return null;
    html = i;
    i = skipSpace(page, end);
  }
  if (!startsWith(page, i, '<head')) return null;
  const at = tagEnd(page, i + 5);
  return at < 0 ? null : { html, at };
}

/**
 * Where a start tag whose name ends at `i` ends (after its ">"), or -1 unless what follows the
 * name is only attributes of a plain form, each after whitespace: a name of letters, digits and
 * `-_.:`, with no value, an unquoted value of those characters, or a quoted one (anything but
 * its quote). No "/", no stray quote or "<": whatever a tokenizer might read another way.
 */
function tagEnd(page, i) {
  for (;;) {
    const at = skipSpace(page, i);
    if (page[at] === 0x3e) return at + 1;
    if (at === i) return -1;
    i = skipName(page, at);
    if (i === at) return -1;
    if (page[i] !== 0x3d) continue;
    const quote = page[i + 1];
    if (quote === 0x22 || quote === 0x27) {
      const close = page.indexOf(quote, i + 2);
      if (close < 0) return -1;
      i = close + 1;
    } else {
      const end = skipName(page, i + 1);
      if (end === i + 1) return -1;
      i = end;
    }
  }
}

/** HTML's whitespace: tab, line feed, form feed, carriage return, space. */
const isSpace = (b) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d;

function skipSpace(page, i) {
  while (isSpace(page[i])) i++;
  return i;
}

/** `-`, `.`, `:` and `_`: the punctuation a plain attribute name or unquoted value may hold. */
const NAME_PUNCTUATION = [0x2d, 0x2e, 0x3a, 0x5f];

/** Past the letters, digits and `-.:_` at `i`. */
function skipName(page, i) {
  for (;; i++) {
    const b = page[i];
    const letter = (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7a;
    const digit = b >= 0x30 && b <= 0x39;
    if (!letter && !digit && !NAME_PUNCTUATION.includes(b)) return i;
  }
}

/**
 * The answer: `parts`, then (unless the origin's body ended) the rest of it, piped through
 * natively after `rest`'s pending read. Branded, or with `reason` why not, logged.
 */
function answer(response, parts, rest, tenant, reason, { edits, brandedEdits }) {
  const headers = new Headers(response.headers); // a fetched answer's headers are immutable
  headers.delete('content-length');
  if (reason) {
    note(tenant.slug, reason);
    headers.set('x-tenant-branding', `skipped; reason=${reason}`);
  } else {
    headers.set('x-tenant-branding', 'injected');
  }
  apply(headers, edits);
  if (!reason) apply(headers, brandedEdits);
  let body = concat(parts);
  if (rest) {
    const { readable, writable } = new IdentityTransformStream();
    pump(writable, body, rest);
    body = readable;
  }
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

/**
 * Writes `prefix` and what `rest`'s pending read brings, then pipes the rest of the body after
 * them. Runs after the answer is returned: the answer's body is what it writes to.
 */
async function pump(writable, prefix, { reader, next, body }) {
  const writer = writable.getWriter();
  try {
    if (prefix.byteLength) await writer.write(prefix);
    const read = await next;
    if (read.done) return await writer.close();
    await writer.write(read.value);
    writer.releaseLock();
    reader.releaseLock();
    await body.pipeTo(writable);
  } catch (e) {
    writer.abort(e).catch(() => {});
    reader.cancel(e).catch(() => {});
  }
}

/** Logs a page left unbranded, once per tenant and reason in this isolate. */
function note(slug, reason) {
  const key = `${slug} ${reason}`;
  if (logged.has(key)) return;
  if (logged.size >= 10000) logged.clear();
  logged.add(key);
  // Logged as the Rust side logs every event (crates/common/src/log.js, which a snippet of this
  // crate cannot import): an object Workers Logs indexes, printed as its line of JSON.
  const event = { event: 'branding_skipped', level: 'warn', tenant_slug: slug, reason };
  const line = JSON.stringify(event);
  Object.defineProperty(event, Symbol.for('nodejs.util.inspect.custom'), { value: () => line });
  console.log(event);
}

/** Where `needle` (starting with a byte pages practically never hold) first is in `haystack` from `from`. */
function indexOf(haystack, needle, from = 0) {
  for (let i = haystack.indexOf(needle[0], from); i >= 0 && i <= haystack.byteLength - needle.byteLength; i = haystack.indexOf(needle[0], i + 1)) {
    let j = 1;
    while (j < needle.byteLength && haystack[i + j] === needle[j]) j++;
    if (j === needle.byteLength) return i;
  }
  return -1;
}

/**
 * Whether `bytes` at `at` are the ASCII `text` (lowercase letters and `<!`), letters in any
 * case. Only letters fold: the case bit set on any other byte would read 0x1C as `<` and 0x01
 * as `!`.
 */
function startsWith(bytes, at, text) {
  if (at < 0 || at + text.length > bytes.byteLength) return false;
  for (let i = 0; i < text.length; i++) {
    const want = text.charCodeAt(i);
    const b = bytes[at + i];
    const letter = want >= 0x61 && want <= 0x7a;
    if (b !== want && !(letter && (b | 0x20) === want)) return false;
  }
  return true;
}

function concat(chunks, total = chunks.reduce((n, c) => n + c.byteLength, 0)) {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
