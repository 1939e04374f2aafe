// The Worker's own answers, built in one call from Rust (edge/mod.rs): the status, the body bytes
// and every header as one string of lines (./lines.js), which the core decided (src/reply.rs).
// The crossings between Wasm and JS, one per header, were most of an answer's cost. A `:page`
// line names a visitor page (below) written here in place of the body.

import { readLines } from './lines.js';

// A response built in one call. The body bytes are copied out of Wasm memory here, so the
// response owns them.
export function respond(status, body, headerLines) {
  const headers = new Headers();
  let page;
  const tenant = { message: '', lang: 'en' };
  readLines(headerLines, (name, value) => {
    if (name === ':page') page = value;
    else if (name === ':message') tenant.message = value;
    else if (name === ':lang') tenant.lang = value;
    else headers.append(name, value);
  });
  if (page === 'maintenance') {
    headers.set('content-security-policy', MAINTENANCE_POLICY);
    return new Response(maintenance(decoder.decode(body), tenant), { status, headers });
  }
  if (page !== undefined) {
    headers.set('content-security-policy', PAGE_POLICY);
    return new Response(PAGES[page], { status, headers });
  }
  return new Response(body === undefined ? null : body.slice(), { status, headers });
}

// The pages a visitor's browser gets in place of the Worker's own JSON errors (src/reply.rs,
// `Page`, decides when, and names the page in a `:page` line). Neutral and the same for every
// tenant: no name, nothing stored, nothing fetched, so an unknown host and an inactive tenant's
// answer the same bytes. Plain HTML with its style inline, which the page's own
// Content-Security-Policy allows, and nothing else.

const page = (title, text, head = '', lang = 'en') => `<!doctype html>
<html lang="${lang}">
<head>
${head}<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<style>body{margin:0;min-height:100vh;display:grid;place-items:center;font:16px/1.5 var(--brand-font-body,system-ui),sans-serif;color:var(--brand-text,#333);background:var(--brand-background,#fafafa)}h1{color:var(--brand-primary,inherit);font-family:var(--brand-font-heading,inherit)}main{max-width:32rem;padding:2rem;text-align:center}h1{font-size:1.5rem;margin:0 0 .5rem}</style>
</head>
<body>
<main><h1>${title}</h1><p>${text}</p></main>
</body>
</html>
`;

/** Each page by its `:page` name. */
const PAGES = {
  'no-site': page('There is no site here', 'Check the address, or come back later.'),
  unavailable: page('This site is temporarily unavailable', 'Please try again in a few minutes.'),
};

/** The Content-Security-Policy of every page: its inline style, nothing else. */
const PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

// A tenant's maintenance page (`reply::Page::Maintenance`): its `<head>` block (src/render.rs:
// its --brand-* properties, fonts and #tenant-data, written escaped there) first, so the page
// wears its brand, and its owner's message, escaped here. Its policy also lets the brand's
// icons and manifest load.

const decoder = new TextDecoder();

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** The maintenance page of the tenant whose `<head>` block is `head`: its owner's `message`, in its `lang`. */
const maintenance = (head, { message, lang }) => page('Down for maintenance', escapeHtml(message), head, lang);

const MAINTENANCE_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; img-src https:; manifest-src 'self'; base-uri 'none'; form-action 'none'";
