//! Forwarding a request to the app origin with the tenant's identity.
//!
//! The header rules live in the core (`crate::forward`); this is the I/O: copy the request
//! (method, headers, streamed body), send it with redirects left to the client, and mark the
//! answer as depending on the Host.

use worker::{web_sys, Fetch, Headers, Request, RequestInit, RequestRedirect, Response};

use crate::{forwarded_headers, target_url, vary_with_host, Error, Host, Identity};

/// Sends `req` to `origin` and returns the origin's answer, streamed.
pub async fn forward(
    req: Request,
    origin: &str,
    host: &Host,
    identity: Option<Identity<'_>>,
) -> Result<Response, Error> {
    let url = req
        .url()
        .map_err(|e| Error::OriginUnavailable(e.to_string()))?;
    let target = target_url(origin, url.path(), url.query());
    let headers = Headers::new();
    for (name, value) in forwarded_headers(req.headers().entries(), host, identity) {
        headers
            .append(&name, &value)
            .map_err(|e| Error::OriginUnavailable(e.to_string()))?;
    }
    // The raw method: `worker::Method` maps methods it does not know (WebDAV's, say) to GET.
    let method = req.inner().method();
    let mut init = RequestInit::new();
    init.with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if !matches!(method.as_str(), "GET" | "HEAD") {
        init.with_body(req.inner().body().map(Into::into));
    }
    let init = web_sys::RequestInit::from(&init);
    init.set_method(&method);
    let upstream = web_sys::Request::new_with_str_and_init(&target, &init)
        .map(Request::from)
        .map_err(|e| Error::OriginUnavailable(format!("{e:?}")))?;
    let response = Fetch::Request(upstream)
        .send()
        .await
        .map_err(|e| Error::OriginUnavailable(e.to_string()))?;

    let headers = response.headers().clone();
    let vary = vary_with_host(headers.get("vary").ok().flatten().as_deref());
    for (name, value) in [("vary", vary.as_str()), ("cdn-cache-control", "no-store")] {
        headers
            .set(name, value)
            .map_err(|e| Error::OriginUnavailable(e.to_string()))?;
    }
    Ok(response.with_headers(headers))
}
