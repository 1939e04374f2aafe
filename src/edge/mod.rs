//! The Worker glue: the `fetch` entry, reading the request and the environment, and turning
//! the core's [`Reply`] values into responses. Compiled only for Wasm; every decision it makes
//! is a call into the pure core.

mod cache;
mod feed;
mod flight;
mod health;
mod origin;
mod store;

use std::rc::Rc;

use futures_util::StreamExt;
use worker::{event, Context, Env, Method, Request, Response, Result};

use crate::route::Asset;
use crate::{
    bearer_token, classify, purge, route, BodyLimit, CacheStatus, Config, Error, Forwarding, Host,
    Identity, Lookup, Record, Reply, Route, Scope, Site, Vitals,
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
    Tenant(Rc<Record>, cache::Resolved),
    /// `www.<d>` where `<d>` is a tenant's custom domain: redirect there.
    Redirect(Host),
}

/// One request's context: its settings, the runtime context, and how it used the cache.
struct Call<'a> {
    config: Rc<Config>,
    ctx: &'a Context,
    cache: CacheStatus,
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let head = req.method() == Method::Head;
    let mut cache = CacheStatus::Bypass;
    let reply = match handle(req, &env, &ctx, &mut cache).await {
        Ok(Outcome::Forwarded(response)) => {
            response.headers().set("x-tenant-cache", cache.as_str())?;
            return Ok(response);
        }
        Ok(Outcome::Reply(reply)) => reply,
        Err(error) => {
            if error.status() >= 500 {
                worker::console_error!("{}: {error:?}", error.code());
            }
            Reply::error(&error)
        }
    };
    respond(reply.header("x-tenant-cache", cache.as_str()), head)
}

async fn handle(
    req: Request,
    env: &Env,
    ctx: &Context,
    cache: &mut CacheStatus,
) -> std::result::Result<Outcome, Error> {
    let config = config(env)?;
    let url = req.url().map_err(|_| Error::RouteNotFound)?;
    let mut call = Call {
        config,
        ctx,
        cache: CacheStatus::Bypass,
    };
    // The raw method: `worker::Method` maps methods it does not know to GET.
    let method = req.inner().method();
    let route = route(&method, url.path(), url.query().unwrap_or_default())?;
    let result = answer(&mut call, req, route).await;
    *cache = call.cache;
    result
}

async fn answer(
    call: &mut Call<'_>,
    mut req: Request,
    route: Route,
) -> std::result::Result<Outcome, Error> {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let reply = match route {
        Route::Health { deep } => {
            let upstream_age_ms = if deep {
                let (result, age_ms) = health::deep(&call.config).await;
                if let Err(error) = result {
                    let error = Error::from(error);
                    worker::console_error!("deep health: {error:?}");
                    let reply = Reply::error(&error).header("age", (age_ms / 1000).to_string());
                    return Ok(Outcome::Reply(reply));
                }
                Some(age_ms)
            } else {
                None
            };
            let (entries, capacity) = cache::memory_size();
            Reply::health(Vitals {
                memory_entries: entries,
                memory_capacity: capacity,
                wasm_memory_bytes: core::arch::wasm32::memory_size(0) * 65536,
                upstream_age_ms,
                changes: feed::vitals(&call.config),
            })
        }
        Route::Tenant(lookup) => {
            let (record, resolved) = call.find(&lookup).await?.ok_or(Error::TenantNotFound)?;
            let cache_control = call.config.cache.cache_control(true, resolved.freshness);
            Reply::tenant(
                Asset::Json,
                &record.json,
                &record.etag,
                Scope::Public,
                cache_control,
                header("if-none-match").as_deref(),
            )
        }
        Route::Schema(schema) => Reply::schema(schema.body),
        Route::Brand(asset) => {
            let host = request_host(&req)?;
            match call.host_tenant(&host).await? {
                HostTenant::Tenant(record, resolved) => {
                    let cache_control = call.config.cache.cache_control(false, resolved.freshness);
                    let (body, tag) = record.asset(asset);
                    Reply::tenant(
                        asset,
                        body,
                        tag,
                        Scope::HostBound,
                        cache_control,
                        header("if-none-match").as_deref(),
                    )
                }
                HostTenant::Redirect(apex) => Reply::redirect(redirect_location(&req, &apex)?),
                HostTenant::Platform => return Err(Error::TenantNotFound),
            }
        }
        Route::Me => {
            let authorization = header("authorization");
            let profile =
                store::my_profile(&call.config, bearer_token(authorization.as_deref())?).await?;
            Reply::profile(profile.to_json())
        }
        Route::Purge => {
            let token = call
                .config
                .purge_token
                .as_deref()
                .ok_or(Error::NotEnabled {
                    setting: "PURGE_TOKEN",
                })?;
            purge::authorize(header("authorization").as_deref(), token)?;
            purge::check_declared_length(header("content-length").as_deref())?;
            let body = read_bounded(&mut req).await?;
            Reply::purged(&cache::purge(&purge::parse_body(&body)?).await)
        }
        Route::Preflight { allow } => Reply::preflight(allow),
        Route::Forward => {
            let host = request_host(&req)?;
            let tenant = match call.host_tenant(&host).await? {
                HostTenant::Redirect(apex) => {
                    return Ok(Outcome::Reply(Reply::redirect(redirect_location(
                        &req, &apex,
                    )?)))
                }
                HostTenant::Tenant(record, _) => Some(record),
                HostTenant::Platform => None,
            };
            let origin = call.config.origin_url.as_deref().ok_or(Error::NoOrigin)?;
            let url = req.url().map_err(|_| Error::RouteNotFound)?;
            let client_ip = header("cf-connecting-ip");
            let branded = tenant.as_ref().filter(|_| call.config.inject_branding);
            let forwarding = Forwarding {
                host: &host,
                proto: url.scheme(),
                client_ip: client_ip.as_deref(),
                identity: tenant.as_ref().map(|t| Identity {
                    tenant_id: t.id.as_str(),
                    tenant_slug: t.slug.as_str(),
                }),
                branded: branded.is_some(),
            };
            let branding = branded.map(|t| origin::Branding {
                head: &t.rendered().head,
                slug: t.slug.as_str(),
            });
            return Ok(Outcome::Forwarded(
                origin::forward(req, origin, forwarding, branding).await?,
            ));
        }
    };
    Ok(Outcome::Reply(reply))
}

impl Call<'_> {
    /// The tenant for `lookup` through the cache tiers; records how the cache answered.
    async fn find(
        &mut self,
        lookup: &Lookup,
    ) -> std::result::Result<Option<(Rc<Record>, cache::Resolved)>, Error> {
        let resolved = cache::resolve(&self.config, self.ctx, lookup).await?;
        self.cache = resolved.status;
        Ok(resolved.record.clone().map(|record| (record, resolved)))
    }

    /// Finds the tenant a host belongs to; for an unknown `www.<d>`, whether `<d>` is a tenant's.
    async fn host_tenant(&mut self, host: &Host) -> std::result::Result<HostTenant, Error> {
        let lookup = match classify(host, self.config.platform_domain.as_ref()) {
            Site::Platform => return Ok(HostTenant::Platform),
            Site::Unknown => return Err(Error::TenantNotFound),
            Site::Tenant(lookup) => lookup,
        };
        if let Some((record, resolved)) = self.find(&lookup).await? {
            return Ok(HostTenant::Tenant(record, resolved));
        }
        if let Some(apex) = host.without_www() {
            if self.find(&Lookup::Domain(apex.clone())).await?.is_some() {
                return Ok(HostTenant::Redirect(apex));
            }
        }
        Err(Error::TenantNotFound)
    }
}

thread_local! {
    /// Settings parsed once per isolate: an isolate's environment never changes.
    static CONFIG: std::cell::OnceCell<std::result::Result<Rc<Config>, Error>> = const { std::cell::OnceCell::new() };
}

/// The validated settings, parsed on the isolate's first request.
fn config(env: &Env) -> std::result::Result<Rc<Config>, Error> {
    CONFIG.with(|cell| {
        cell.get_or_init(|| {
            Config::from_lookup(|name| env.var(name).ok().map(|v| v.to_string())).map(Rc::new)
        })
        .clone()
    })
}

/// The runtime's clock, in ms since the epoch.
fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}

/// The request body as text, read chunk by chunk and never past the purge body limit.
async fn read_bounded(req: &mut Request) -> std::result::Result<String, Error> {
    let unreadable = || Error::InvalidBody {
        expected: "a readable request body",
    };
    let mut body = BodyLimit::default();
    let Ok(mut stream) = req.stream() else {
        return body.text();
    };
    while let Some(chunk) = stream.next().await {
        body.push(&chunk.map_err(|_| unreadable())?)?;
    }
    body.text()
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
