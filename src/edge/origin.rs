//! Forwarding a request to the app origin with the tenant's identity.
//!
//! The header and caching rules live in the core (`crate::forward`); this is the I/O: copy the
//! request (method, headers, streamed body), send it with redirects left to the client and with
//! `cache: "no-store"`, and mark the answer as private to the browser.
//!
//! Why `no-store` on the subrequest: every tenant's page is fetched from the same `ORIGIN_URL`
//! URL (the tenant travels in headers), so if Cloudflare's cache in front of the origin kept the
//! answer (it does for static file extensions by default) it would hand one tenant's page to
//! another. With `cache: "no-store"` the runtime neither looks in nor adds to that cache
//! (<https://developers.cloudflare.com/changelog/2024-11-11-cache-no-store/>).

use worker::{web_sys, CacheMode, Fetch, Headers, Request, RequestInit, RequestRedirect, Response};

use crate::{
    forwarded_headers, private_cache_control, target_url, vary_with_host, Error, Forwarding,
};

/// Sends `req` to `origin` and returns the origin's answer, streamed.
pub async fn forward(
    req: Request,
    origin: &str,
    forwarding: Forwarding<'_>,
) -> Result<Response, Error> {
    let failed = |e: &dyn std::fmt::Debug| Error::OriginUnavailable(format!("{e:?}"));
    let url = req.url().map_err(|e| failed(&e))?;
    let target = target_url(origin, url.path(), url.query());
    let headers = Headers::new();
    for (name, value) in forwarded_headers(req.headers().entries(), forwarding) {
        headers.append(&name, &value).map_err(|e| failed(&e))?;
    }
    // The raw method: `worker::Method` maps methods it does not know (WebDAV's, say) to GET.
    let method = req.inner().method();
    let mut init = RequestInit::new();
    init.with_headers(headers)
        .with_redirect(RequestRedirect::Manual)
        .with_cache(CacheMode::NoStore);
    if !matches!(method.as_str(), "GET" | "HEAD") {
        init.with_body(req.inner().body().map(Into::into));
    }
    let init = web_sys::RequestInit::from(&init);
    init.set_method(&method);
    let upstream = web_sys::Request::new_with_str_and_init(&target, &init)
        .map(Request::from)
        .map_err(|e| failed(&e))?;
    let response = Fetch::Request(upstream)
        .send()
        .await
        .map_err(|e| failed(&e))?;

    let headers = response.headers().clone();
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
    Ok(response.with_headers(headers))
}
