// Branding injected into a tenant's HTML as it streams through, with workerd's native
// HTMLRewriter (lol-html): nothing is buffered, and markup inside scripts, comments and
// attribute values is never mistaken for a tag. Called from Rust (edge/origin.rs) through
// wasm-bindgen; the handlers are plain objects made per response, so nothing outlives it.
//
// `head` goes at the start of <head>; a page without <head> gets it just before <body> (where
// the parser's implied head ends), and a page with neither is left as it is. <html> gets
// data-tenant="<slug>".
export function inject(response, head, slug) {
  let placed = false;
  const place = (insert) => ({
    element(element) {
      if (placed) return;
      placed = true;
      insert(element);
    },
  });
  let tagged = false;
  return new HTMLRewriter()
    .on('html', {
      element(element) {
        if (tagged) return;
        tagged = true;
        element.setAttribute('data-tenant', slug);
      },
    })
    .on('head', place((element) => element.prepend(head, { html: true })))
    .on('body', place((element) => element.before(head, { html: true })))
    .transform(response);
}
