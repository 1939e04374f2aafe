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
//!
//! The origin has `ORIGIN_TIMEOUT_MS` to send its answer's headers: `forward.js` aborts the
//! request then (its body stream with it, which a race in Rust would leave to the runtime),
//! and the client gets `504 origin_timeout`. The body then streams for as long as it takes.

use wasm_bindgen::prelude::{wasm_bindgen, JsValue};
use wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{js_sys, web_sys};

use crate::error::Error;
use crate::forward::{
    answer_edits, branded_page_edits, injects, request_lines, request_target, target_url,
    Forwarding, OriginAnswer,
};
use crate::signature::{self, Signed};

#[wasm_bindgen(module = "/src/edge/inject.js")]
extern "C" {
    /// The response with `head` at the start of its `<head>` and `data-tenant` (and `lang`,
    /// unless empty) on `<html>`,
    /// streamed; or, when the page cannot be branded, the page unbranded and whole; with the
    /// header `edits` (and, once branded, `branded_edits`) applied as `finish` applies them.
    /// Resolves once that is decided, with `X-Tenant-Branding` saying which. `catch`: a JS
    /// exception that crossed into Wasm uncaught would trap the instance (its memory tier and
    /// feed state lost, the requests in flight on it failed).
    #[wasm_bindgen(catch)]
    fn inject(
        response: &web_sys::Response,
        head: &str,
        slug: &str,
        lang: &str,
        edits: &str,
        branded_edits: &str,
    ) -> Result<js_sys::Promise, JsValue>;
}

/// The forward path's calls into the runtime, one per step rather than one per header (the
/// crossings were most of its cost); every list of headers in the `crate::lines` format.
/// `catch` on each, for the reason above.
#[wasm_bindgen(module = "/src/edge/forward.js")]
extern "C" {
    /// The request's headers.
    #[wasm_bindgen(catch, js_name = headerLines)]
    fn header_lines(request: &web_sys::Request) -> Result<String, JsValue>;

    /// Sends the forwarded request (with `X-Tenant-Signature` over `canonical` when `secret`
    /// is not empty); resolves with the origin's answer, or with `null` when its headers have
    /// not arrived within `timeout_ms` (the request aborted).
    #[wasm_bindgen(catch)]
    fn send(
        request: &web_sys::Request,
        url: &str,
        method: &str,
        lines: &str,
        secret: &str,
        t: f64,
        canonical: &str,
        timeout_ms: u32,
    ) -> Result<js_sys::Promise, JsValue>;

    /// What the rules read of the origin's answer: [`OriginAnswer::read`] reads it.
    #[wasm_bindgen(catch)]
    fn describe(response: &web_sys::Response) -> Result<String, JsValue>;

    /// The answer: the origin's, with the header `edits` applied.
    #[wasm_bindgen(catch)]
    fn finish(response: &web_sys::Response, edits: &str) -> Result<web_sys::Response, JsValue>;
}

/// The line format's JS (`crate::lines`), which `forward.js`, `answer.js` and `inject.js`
/// import: wasm-bindgen copies a script into the Worker only when a block names it.
#[wasm_bindgen(module = "/src/edge/lines.js")]
extern "C" {
    /// The line of one header; never called (the Rust writer is `crate::lines::write`).
    fn line(name: &str, value: &str) -> String;
}

/// What branding an HTML answer gets: the `<head>` block, the tenant's slug and its brand's
/// language (`<html lang>`, when it has one).
pub struct Branding<'a> {
    pub head: &'a str,
    pub slug: &'a str,
    pub lang: Option<&'a str>,
}

/// Where a forwarded request goes: the origin, and the request's path, query and raw method;
/// and how long the origin has to answer (`ORIGIN_TIMEOUT_MS`).
pub struct Target<'a> {
    pub origin: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub method: &'a str,
    pub timeout_ms: u32,
    /// Header edits of the answer beyond the forwarding rules', in the `crate::lines` format.
    pub edits: &'a str,
}

/// Sends `req` to the origin and returns the origin's answer, streamed, with `branding` in it
/// when it is a full HTML page. With `signing_secret`, the request carries
/// `X-Tenant-Signature` over what the origin reads (`crate::signature`); the HMAC itself is
/// Web Crypto's, in `forward.js`, which costs the Wasm no bytes. An origin that sends no
/// answer within `target.timeout_ms` is [`Error::OriginTimeout`].
pub async fn forward(
    req: &web_sys::Request,
    target: Target<'_>,
    forwarding: Forwarding<'_>,
    branding: Option<Branding<'_>>,
    signing_secret: Option<&str>,
) -> Result<web_sys::Response, Error> {
    let failed = |e: JsValue| Error::OriginUnavailable(worker::Error::from(e).to_string());
    let url = target_url(target.origin, target.path, Some(target.query));
    let lines = request_lines(&header_lines(req).map_err(failed)?, forwarding);
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
    let sent = send(
        req,
        &url,
        target.method,
        &lines,
        secret,
        t,
        &canonical,
        target.timeout_ms,
    )
    .map_err(failed)?;
    let answered = JsFuture::from(sent).await.map_err(failed)?;
    if answered.is_null() {
        return Err(Error::OriginTimeout {
            after_ms: target.timeout_ms,
        });
    }
    let response: web_sys::Response = answered.unchecked_into();

    let described = describe(&response).map_err(failed)?;
    let origin = OriginAnswer::read(&described);
    let edits = answer_edits(&origin) + target.edits;
    if let Some(b) = branding.filter(|_| injects(target.method, origin.status, origin.content_type))
    {
        if let Some(page) = branded(&response, &b, &edits).await? {
            return Ok(page);
        }
    }
    finish(&response, &edits).map_err(failed)
}

/// The page through `inject.js`, with `edits` (and, once branded, `branded_page_edits`). A
/// synchronous exception (none is expected: the script turns every failure of the rewriter
/// into an unbranded page) gives `None`: the page goes out as the origin sent it. A rejection
/// means the origin's body failed before the injection point.
async fn branded(
    response: &web_sys::Response,
    branding: &Branding<'_>,
    edits: &str,
) -> Result<Option<web_sys::Response>, Error> {
    let Ok(promise) = inject(
        response,
        branding.head,
        branding.slug,
        branding.lang.unwrap_or_default(),
        edits,
        &branded_page_edits(),
    ) else {
        return Ok(None);
    };
    let page = JsFuture::from(promise)
        .await
        .map_err(|_| Error::OriginUnavailable("the page's body failed".into()))?;
    Ok(Some(page.unchecked_into()))
}
