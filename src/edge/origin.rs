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

use wasm_bindgen::prelude::{wasm_bindgen, JsValue};
use wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{js_sys, web_sys, Fetch, Headers, Request};

use crate::error::Error;
use crate::forward::{
    forwarded_headers, injects, private_cache_control, target_url, vary_with_host, Forwarding,
    REWRITTEN_PAGE_DROPS,
};

#[wasm_bindgen(module = "/src/edge/inject.js")]
extern "C" {
    /// The response with `head` at the start of its `<head>` and `data-tenant` on `<html>`,
    /// streamed; or, when the page cannot be branded, the page unbranded and whole. Resolves
    /// once that is decided, with `X-Tenant-Branding` saying which. `catch`: a JS exception
    /// that crossed into Wasm uncaught would trap the instance (its memory tier and feed state
    /// lost, the requests in flight on it failed).
    #[wasm_bindgen(catch)]
    fn inject(
        response: &web_sys::Response,
        head: &str,
        slug: &str,
    ) -> Result<js_sys::Promise, JsValue>;
}

/// What `inject.js` says of a page it branded, in `X-Tenant-Branding`.
const INJECTED: &str = "injected";

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
/// when it is a full HTML page.
pub async fn forward(
    req: &web_sys::Request,
    target: Target<'_>,
    forwarding: Forwarding<'_>,
    branding: Option<Branding<'_>>,
) -> Result<web_sys::Response, Error> {
    let failed = |e: &dyn std::fmt::Display| Error::OriginUnavailable(e.to_string());
    let url = target_url(target.origin, target.path, Some(target.query));
    let headers = Headers::new();
    for (name, value) in forwarded_headers(Headers(req.headers()).entries(), forwarding) {
        headers.append(&name, &value).map_err(|e| failed(&e))?;
    }
    // web_sys's RequestInit, not worker's: worker's converts its Cloudflare options (image
    // resizing among them) through serde on every call, code this Worker has no use for.
    let init = web_sys::RequestInit::new();
    init.set_method(target.method);
    init.set_headers(headers.as_ref());
    init.set_redirect(web_sys::RequestRedirect::Manual);
    init.set_cache(web_sys::RequestCache::NoStore);
    if !matches!(target.method, "GET" | "HEAD") {
        if let Some(body) = req.body() {
            init.set_body(&body);
        }
    }
    let upstream = web_sys::Request::new_with_str_and_init(&url, &init)
        .map(Request::from)
        .map_err(|e| failed(&worker::Error::from(e)))?;
    let response = Fetch::Request(upstream)
        .send()
        .await
        .map_err(|e| failed(&e))?;
    let content_type = response.headers().get("content-type").ok().flatten();
    let status = response.status_code();
    let mut response = web_sys::Response::from(response);
    let branding = branding.filter(|_| injects(target.method, status, content_type.as_deref()));
    if let Some(b) = &branding {
        response = branded(response, b).await?;
    }

    let headers = Headers(response.headers());
    if header_is(&headers, "x-tenant-branding", INJECTED) {
        for name in REWRITTEN_PAGE_DROPS {
            headers.delete(name).map_err(|e| failed(&e))?;
        }
    }
    let header = |name: &str| headers.get(name).ok().flatten();
    let vary = vary_with_host(header("vary").as_deref());
    let cache_control = private_cache_control(header("cache-control").as_deref());
    for (name, value) in [
        ("vary", vary.as_str()),
        ("cache-control", cache_control.as_str()),
        ("cdn-cache-control", "no-store"),
        ("cloudflare-cdn-cache-control", "no-store"),
    ] {
        headers.set(name, value).map_err(|e| failed(&e))?;
    }
    Ok(response)
}

/// The page through `inject.js`. A synchronous exception (none is expected: the script turns
/// every failure of the rewriter into an unbranded page) leaves the page as the origin sent it;
/// a rejection means the origin's body failed before the injection point.
async fn branded(
    response: web_sys::Response,
    branding: &Branding<'_>,
) -> Result<web_sys::Response, Error> {
    let Ok(promise) = inject(&response, branding.head, branding.slug) else {
        return Ok(response);
    };
    let page = JsFuture::from(promise)
        .await
        .map_err(|_| Error::OriginUnavailable("the page's body failed".into()))?;
    Ok(page.unchecked_into())
}

fn header_is(headers: &Headers, name: &str, value: &str) -> bool {
    headers.get(name).ok().flatten().as_deref() == Some(value)
}
