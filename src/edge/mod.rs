//! The Worker glue: the `fetch` entry, reading the request and the environment, and turning
//! the core's [`Reply`] values into responses. Compiled only for Wasm; every decision it makes
//! is a call into the pure core.

mod origin;
mod store;

use worker::{event, Context, Env, Method, Request, Response, Result};

use crate::{
    bearer_token, classify, route, Config, Error, Host, Identity, Lookup, Reply, Route, Scope,
    Site, Tenant,
};

/// What handling a request produced: an answer of our own, or the origin's.
enum Outcome {
    Reply(Reply),
    Forwarded(Response),
}

/// What a request's host resolved to.
enum HostTenant {
    /// The platform's own host: no tenant.
    Platform,
    Tenant(Tenant),
    /// `www.<d>` where `<d>` is a tenant's custom domain: redirect there.
    Redirect(Host),
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let head = req.method() == Method::Head;
    let reply = match handle(req, &env).await {
        Ok(Outcome::Forwarded(response)) => return Ok(response),
        Ok(Outcome::Reply(reply)) => reply,
        Err(error) => {
            if error.status() >= 500 {
                worker::console_error!("{}: {error:?}", error.code());
            }
            Reply::error(&error)
        }
    };
    respond(reply, head)
}

async fn handle(req: Request, env: &Env) -> std::result::Result<Outcome, Error> {
    let config = Config::from_lookup(|name| env.var(name).ok().map(|v| v.to_string()))?;
    let url = req.url().map_err(|_| Error::RouteNotFound)?;
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let reply = match route(
        req.method().as_ref(),
        url.path(),
        url.query().unwrap_or_default(),
    )? {
        Route::Health { deep } => {
            if deep {
                store::ping(&config).await?;
            }
            Reply::health()
        }
        Route::Tenant(lookup) => {
            let tenant = store::find(&config, &lookup)
                .await?
                .ok_or(Error::TenantNotFound)?;
            Reply::tenant(
                tenant.to_json(),
                Scope::Public,
                header("if-none-match").as_deref(),
            )
        }
        Route::Brand => {
            let host = request_host(&req)?;
            match host_tenant(&config, &host).await? {
                HostTenant::Tenant(tenant) => Reply::tenant(
                    tenant.to_json(),
                    Scope::HostBound,
                    header("if-none-match").as_deref(),
                ),
                HostTenant::Redirect(apex) => Reply::redirect(redirect_location(&req, &apex)?),
                HostTenant::Platform => return Err(Error::TenantNotFound),
            }
        }
        Route::Me => {
            let authorization = header("authorization");
            let profile =
                store::my_profile(&config, bearer_token(authorization.as_deref())?).await?;
            Reply::profile(profile.to_json())
        }
        Route::Purge => {
            return Err(Error::NotEnabled {
                setting: "PURGE_TOKEN",
            })
        }
        Route::Preflight { allow } => Reply::preflight(allow),
        Route::Forward => {
            let host = request_host(&req)?;
            let tenant = match host_tenant(&config, &host).await? {
                HostTenant::Redirect(apex) => {
                    return Ok(Outcome::Reply(Reply::redirect(redirect_location(
                        &req, &apex,
                    )?)))
                }
                HostTenant::Tenant(tenant) => Some(tenant),
                HostTenant::Platform => None,
            };
            let origin = config.origin_url.as_deref().ok_or(Error::NoOrigin)?;
            let identity = tenant.as_ref().map(|t| Identity {
                tenant_id: &t.id,
                tenant_slug: &t.slug,
            });
            return Ok(Outcome::Forwarded(
                origin::forward(req, origin, &host, identity).await?,
            ));
        }
    };
    Ok(Outcome::Reply(reply))
}

/// The validated Host of the request (the header, else the URL's host).
fn request_host(req: &Request) -> std::result::Result<Host, Error> {
    let raw = match req.headers().get("host").ok().flatten() {
        Some(host) => host,
        None => req
            .url()
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default(),
    };
    Host::parse(&raw)
}

/// Finds the tenant a host belongs to; for an unknown `www.<d>`, whether `<d>` is a tenant's.
async fn host_tenant(config: &Config, host: &Host) -> std::result::Result<HostTenant, Error> {
    let lookup = match classify(host, config.platform_domain.as_ref()) {
        Site::Platform => return Ok(HostTenant::Platform),
        Site::Unknown => return Err(Error::TenantNotFound),
        Site::Tenant(lookup) => lookup,
    };
    if let Some(tenant) = store::find(config, &lookup).await? {
        return Ok(HostTenant::Tenant(tenant));
    }
    if let Some(apex) = host.without_www() {
        if store::find(config, &Lookup::Domain(apex.clone()))
            .await?
            .is_some()
        {
            return Ok(HostTenant::Redirect(apex));
        }
    }
    Err(Error::TenantNotFound)
}

/// The same URL on `apex`: scheme, port, path and query kept.
fn redirect_location(req: &Request, apex: &Host) -> std::result::Result<String, Error> {
    let mut url = req.url().map_err(|_| Error::RouteNotFound)?;
    url.set_host(Some(apex.as_str()))
        .map_err(|_| Error::TenantNotFound)?;
    Ok(url.to_string())
}

/// Turns a [`Reply`] into a response; HEAD answers carry the headers without the body.
fn respond(reply: Reply, head: bool) -> Result<Response> {
    let mut response = Response::builder().with_status(reply.status);
    for (name, value) in &reply.headers {
        response = response.with_header(name, value)?;
    }
    Ok(if head || reply.body.is_empty() {
        response.empty()
    } else {
        response.fixed(reply.body.into_bytes())
    })
}
