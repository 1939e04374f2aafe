// Branding placed into a tenant's HTML page on its way through. Called from Rust
// (edge/origin.rs) through wasm-bindgen, once per page.
//
// Where the branding goes is found by workerd's native HTMLRewriter (lol-html), never by a
// hand-written scanner, so markup inside scripts, comments and attribute values is never
// mistaken for a tag. But the rewriter only ever reads the page up to the injection point:
//
// - the origin's bytes are held back (at most PREFIX_LIMIT_BYTES) and the rewriter is run over
//   what has arrived (again each time that doubles) with handlers that write two markers
//   (random per isolate, so no page can hold them) before <html> and at the start of <head>
//   (or before <body>, where a page without <head> has its implied head end). The markers are
//   its only change, so where they come out, less the markers before them, is where the
//   branding goes in the origin's bytes;
// - the answer is then the held bytes with data-tenant after "<html" and the block at that
//   point, followed by the rest of the origin's body piped through natively, untouched and
//   unparsed: markup the streaming parser gives up on later in the page ("<select><style>",
//   a 4 MB attribute) can no longer cut it off, and no JS runs per chunk;
// - a page the rewriter cannot read (a charset it does not support), fails on before the
//   injection point, or has none in its first PREFIX_LIMIT_BYTES or at all goes out unbranded
//   and whole: the held bytes, then the rest. X-Tenant-Branding says why (`skipped;
//   reason=…`), and each tenant and reason is logged once per isolate.
//
// The answer (headers included) is returned once that is decided, so the header can say what
// happened. A page the origin sends uncompressed with a Content-Length of at most WHOLE_BYTES
// is read in one go and answered as bytes, which costs less than any stream. Compressed origin
// answers arrive decompressed (fetch decodes them) and leave compressed again: the runtime
// encodes a body by its Content-Encoding header.

/** How much of a page is held back, at most, before the branding is placed or given up. */
const PREFIX_LIMIT_BYTES = 256 * 1024;
/** The largest page (by its Content-Length, uncompressed) read whole rather than streamed. */
const WHOLE_BYTES = 64 * 1024;

const encoder = new TextEncoder();

/** The two markers, made on first use: workerd allows no random values at global scope. */
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
    marks = { html, head, htmlBytes: encoder.encode(html), headBytes: encoder.encode(head) };
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

/** The answer with `head` at the start of its <head> and data-tenant on <html>, or unbranded. */
export function inject(response, head, slug) {
  return brand(response, head, slug);
}

async function brand(response, head, slug) {
  const type = response.headers.get('content-type') ?? 'text/html';
  if (!response.body) return answer(response, [], null, slug, 'no-head');
  const length = Number(response.headers.get('content-length') ?? Infinity);
  if (length <= WHOLE_BYTES && !response.headers.has('content-encoding')) {
    const page = new Uint8Array(await response.arrayBuffer());
    const verdict = await judge(page, type, true, false, head, slug);
    return answer(response, verdict.parts ?? [page], null, slug, verdict.reason);
  }
  const origin = response.body.getReader();
  const held = [];
  let heldBytes = 0;
  let ranAt = 0;
  for (;;) {
    const { done, value } = await origin.read();
    if (!done) {
      held.push(value);
      heldBytes += value.byteLength;
    }
    const full = heldBytes >= PREFIX_LIMIT_BYTES;
    if (!done && !full && heldBytes < 2 * ranAt) continue;
    ranAt = heldBytes;
    const page = concat(held, heldBytes);
    const verdict = await judge(page, type, done, full, head, slug);
    if (verdict) return answer(response, verdict.parts ?? [page], done ? null : origin, slug, verdict.reason);
  }
}

/**
 * What the page so far comes to: `{ parts }` (the branded page so far, in pieces) or
 * `{ reason }` why it is not branded; `undefined` while more of it is needed.
 */
async function judge(page, type, ended, full, head, slug) {
  let found;
  try {
    found = await locate(page.subarray(0, PREFIX_LIMIT_BYTES), type);
  } catch {
    return { reason: 'charset' };
  }
  if (found.head >= 0) {
    const parts = branded(page, found, head, slug);
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
 * markers before them, an offset in the page); `null` if the page there is not what the
 * rewriter said (the start of "<html", the end of the <head> tag or the start of "<body").
 */
function branded(page, found, head, slug) {
  const tag = found.html >= 0 && found.html < found.head ? found.html : -1;
  const at = found.head - (tag < 0 ? 0 : marks.htmlBytes.byteLength);
  const ok =
    (tag < 0 || startsWith(page, tag, '<html')) &&
    (found.by === 'head' ? page[at - 1] === 0x3e : startsWith(page, at, '<body'));
  if (!ok) return null;
  // data-tenant goes first among <html>'s attributes: of two with one name the first counts.
  const parts = tag < 0
    ? [page.subarray(0, at)]
    : [page.subarray(0, tag + 5), encoder.encode(` data-tenant="${slug}"`), page.subarray(tag + 5, at)];
  parts.push(encoded(head), page.subarray(at));
  return parts;
}

/**
 * The answer: `parts`, then (unless the origin's body ended) the rest of it from `rest`, its
 * reader, piped through natively. Branded, or with `reason` why not, logged.
 */
function answer(response, parts, rest, slug, reason) {
  const headers = new Headers(response.headers); // a fetched answer's headers are immutable
  headers.delete('content-length');
  if (reason) {
    note(slug, reason);
    headers.set('x-tenant-branding', `skipped; reason=${reason}`);
  } else {
    headers.set('x-tenant-branding', 'injected');
  }
  let body = concat(parts);
  if (rest) {
    const { readable, writable } = new IdentityTransformStream();
    pump(writable, body, rest, response.body);
    body = readable;
  }
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

/**
 * Writes `prefix`, then pipes the rest of `body` (read so far through `reader`) after it. Runs
 * after the answer is returned: the answer's body is what it writes to.
 */
async function pump(writable, prefix, reader, body) {
  const writer = writable.getWriter();
  try {
    if (prefix.byteLength) await writer.write(prefix);
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
  console.warn(`branding skipped for ${slug}: reason=${reason} (logged once per tenant and reason)`);
}

/** Where `needle` (starting with a byte pages practically never hold) first is in `haystack`. */
function indexOf(haystack, needle) {
  for (let i = haystack.indexOf(needle[0]); i >= 0 && i <= haystack.byteLength - needle.byteLength; i = haystack.indexOf(needle[0], i + 1)) {
    let j = 1;
    while (j < needle.byteLength && haystack[i + j] === needle[j]) j++;
    if (j === needle.byteLength) return i;
  }
  return -1;
}

/** Whether `bytes` at `at` are the ASCII `text` (lowercase letters and `<`), in any case. */
function startsWith(bytes, at, text) {
  if (at < 0 || at + text.length > bytes.byteLength) return false;
  for (let i = 0; i < text.length; i++) {
    if ((bytes[at + i] | 0x20) !== text.charCodeAt(i)) return false;
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
