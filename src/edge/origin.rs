//! Forwarding a request to the app origin with the tenant's identity.
//!
//! The header, caching and branding rules live in the core (`crate::forward`); this is the I/O:
//! copy the request (method, headers, streamed body), send it with redirects left to the client
//! and with `cache: "no-store"`, put the tenant's branding into an HTML answer as it streams
//! through (workerd's `HTMLRewriter`, in `inject.js`), and mark the answer as private to the
//! browser.
//!
//! Why `no-store` on the subrequest: every tenant's page is fetched from the same `ORIGIN_URL`
//! URL (the tenant travels in headers), so if Cloudflare's cache in front of the origin kept the
//! answer (it does for static file extensions by default) it would hand one tenant's page to
//! another. With `cache: "no-store"` the runtime neither looks in nor adds to that cache
//! (<https://developers.cloudflare.com/changelog/2024-11-11-cache-no-store/>).

use std::fmt::Write;

use wasm_bindgen::prelude::{wasm_bindgen, JsValue};
use wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{js_sys, web_sys};

use crate::error::Error;
use crate::forward::{
    forwarded_headers, injects, private_cache_control, request_target, target_url, vary_with_host,
    Forwarding, REWRITTEN_PAGE_DROPS,
};
use crate::signature::{self, Signed};

#[wasm_bindgen(module = "/src/edge/inject.js")]
extern "C" {
    /// The response with `head` at the start of its `<head>` and `data-tenant` on `<html>`,
    /// streamed; or, when the page cannot be branded, the page unbranded and whole; with
    /// `finish`'s header edits. Resolves once that is decided, with `X-Tenant-Branding` saying
    /// which. `catch`: a JS exception that crossed into Wasm uncaught would trap the instance
    /// (its memory tier and feed state lost, the requests in flight on it failed).
    #[wasm_bindgen(catch)]
    fn inject(
        response: &web_sys::Response,
        head: &str,
        slug: &str,
        vary: &str,
        cache_control: &str,
        drops: &str,
    ) -> Result<js_sys::Promise, JsValue>;
}

/// The forward path's calls into the runtime, one per step rather than one per header (the
/// crossings were most of its cost). `catch` on each, for the reason above.
#[wasm_bindgen(module = "/src/edge/respond.js")]
extern "C" {
    /// The request's headers, as `name: value\n` lines.
    #[wasm_bindgen(catch, js_name = headerLines)]
    fn header_lines(request: &web_sys::Request) -> Result<String, JsValue>;

    /// Sends the forwarded request (with `X-Tenant-Signature` over `canonical` when `secret`
    /// is not empty); resolves with the origin's answer.
    #[wasm_bindgen(catch)]
    fn send(
        request: &web_sys::Request,
        url: &str,
        method: &str,
        lines: &str,
        secret: &str,
        t: f64,
        canonical: &str,
    ) -> Result<js_sys::Promise, JsValue>;

    /// `status\ncontent-type\nvary\ncache-control` of the origin's answer.
    #[wasm_bindgen(catch)]
    fn describe(response: &web_sys::Response) -> Result<String, JsValue>;

    /// The answer: the origin's, with `Vary` and `Cache-Control` set and no shared cache.
    #[wasm_bindgen(catch)]
    fn finish(
        response: &web_sys::Response,
        vary: &str,
        cache_control: &str,
    ) -> Result<web_sys::Response, JsValue>;
}

/// What branding an HTML answer gets: the `<head>` block and the tenant's slug.
pub struct Branding<'a> {
    pub head: &'a str,
    pub slug: &'a str,
}

/// Where a forwarded request goes: the origin, and the request's path, query and raw method.
pub struct Target<'a> {
    pub origin: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub method: &'a str,
}

/// Sends `req` to the origin and returns the origin's answer, streamed, with `branding` in it
/// when it is a full HTML page. With `signing_secret`, the request carries
/// `X-Tenant-Signature` over what the origin reads (`crate::signature`); the HMAC itself is
/// Web Crypto's, in `respond.js`, which costs the Wasm no bytes.
pub async fn forward(
    req: &web_sys::Request,
    target: Target<'_>,
    forwarding: Forwarding<'_>,
    branding: Option<Branding<'_>>,
    signing_secret: Option<&str>,
) -> Result<web_sys::Response, Error> {
    let failed = |e: JsValue| Error::OriginUnavailable(worker::Error::from(e).to_string());
    let url = target_url(target.origin, target.path, Some(target.query));
    let client = header_lines(req).map_err(failed)?;
    let pairs = client
        .lines()
        .filter_map(|line| line.split_once(": "))
        .map(|(name, value)| (name.to_string(), value.to_string()));
    let mut lines = String::new();
    for (name, value) in forwarded_headers(pairs, forwarding) {
        let _ = writeln!(lines, "{name}: {value}");
    }
    let t = (js_sys::Date::now() / 1000.0).floor();
    let canonical = match signing_secret {
        Some(_) => signature::canonical(
            t as u64,
            &Signed {
                method: target.method,
                host: forwarding.host.as_str(),
                path_and_query: request_target(&url),
                tenant_id: forwarding.identity.map_or("", |i| i.tenant_id),
                slug: forwarding.identity.map_or("", |i| i.tenant_slug),
            },
        ),
        None => String::new(),
    };
    let secret = signing_secret.unwrap_or_default();
    let sent = send(req, &url, target.method, &lines, secret, t, &canonical).map_err(failed)?;
    let response: web_sys::Response = JsFuture::from(sent).await.map_err(failed)?.unchecked_into();

    let facts = describe(&response).map_err(failed)?;
    let mut facts = facts.split('\n');
    let mut fact = || facts.next().filter(|v| !v.is_empty());
    let status = fact().and_then(|s| s.parse().ok()).unwrap_or(0);
    let content_type = fact();
    let vary = vary_with_host(fact());
    let cache_control = private_cache_control(fact());
    if let Some(b) = branding.filter(|_| injects(target.method, status, content_type)) {
        if let Some(page) = branded(&response, &b, &vary, &cache_control).await? {
            return Ok(page);
        }
    }
    finish(&response, &vary, &cache_control).map_err(failed)
}

/// The page through `inject.js`, with `finish`'s header edits (and, once branded, none of
/// `REWRITTEN_PAGE_DROPS`). A synchronous exception (none is expected: the script turns every failure of the rewriter
/// into an unbranded page) gives `None`: the page goes out as the origin sent it. A rejection
/// means the origin's body failed before the injection point.
async fn branded(
    response: &web_sys::Response,
    branding: &Branding<'_>,
    vary: &str,
    cache_control: &str,
) -> Result<Option<web_sys::Response>, Error> {
    let drops = REWRITTEN_PAGE_DROPS.join(",");
    let Ok(promise) = inject(
        response,
        branding.head,
        branding.slug,
        vary,
        cache_control,
        &drops,
    ) else {
        return Ok(None);
    };
    let page = JsFuture::from(promise)
        .await
        .map_err(|_| Error::OriginUnavailable("the page's body failed".into()))?;
    Ok(Some(page.unchecked_into()))
}
