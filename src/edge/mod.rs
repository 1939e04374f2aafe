//! The Worker glue: the `fetch` entry point, reading the request and the environment, doing
//! the I/O in the order the core asks for it, and turning the core's [`Reply`] values into
//! responses. Compiled only for Wasm. Every decision (the route, what to look up and what to
//! fall back to, what a cached answer is worth, what to answer) is a call into the pure core;
//! what stays here is sequencing I/O and converting to and from the runtime's types.

mod cache;
mod event;
mod feed;
mod flight;
mod health;
mod origin;
mod preview;
mod store;

use std::rc::Rc;

use futures_util::StreamExt;
use wasm_bindgen::prelude::{wasm_bindgen, JsValue};
use wasm_bindgen::JsCast;
use worker::{event, web_sys, Context, Env, Result};

use crate::cache::CacheStatus;
use crate::config::Config;
use crate::crawl::{self, Canonical};
use crate::error::Error;
use crate::event::{resolved_by, route_name, Level, Line, RESOLVED_BY_REDIRECT};
use crate::forward::{Forwarding, Identity};
use crate::key::Lookup;
use crate::purge;
use crate::reply::{Page, Reply, Scope, Text, Vitals};
use crate::route::{route, Asset, Route};
use crate::site::{classify, page_redirect, www_fallback, www_target, Resolution, Site};
use crate::tenant::Tenant;
use crate::url::RequestUrl;
use tenant_common::bearer_token;
use tenant_common::BodyLimit;
use tenant_common::Host;

#[wasm_bindgen(module = "/src/edge/answer.js")]
extern "C" {
    /// A response of `status` with `body` (copied) and the headers of `header_lines` (the
    /// `crate::lines` format).
    /// `catch`: the runtime throws on a status or header it refuses, and a JS exception that
    /// crossed into Wasm uncaught would trap the instance.
    #[wasm_bindgen(catch)]
    fn respond(
        status: u16,
        body: Option<&[u8]>,
        header_lines: &str,
    ) -> std::result::Result<web_sys::Response, JsValue>;
}

/// The Worker's answer to a request: one of its own, or the origin's.
enum Answer {
    Reply(Reply),
    Forwarded(web_sys::Response),
}

/// The request as the runtime hands it over, with the two things every route reads: the raw
/// method (`worker::Method` would map methods it does not know, WebDAV's say, to GET) and the
/// URL. The glue takes the runtime's own request type: converting it into `worker::Request`
/// would read its `cf` object and parse its URL again on every request.
struct Incoming {
    raw: web_sys::Request,
    method: String,
    url: String,
}

impl Incoming {
    fn header(&self, name: &str) -> Option<String> {
        self.raw.headers().get(name).ok().flatten()
    }

    fn url(&self) -> std::result::Result<RequestUrl<'_>, Error> {
        RequestUrl::split(&self.url).ok_or(Error::RouteNotFound)
    }

    /// The validated Host of the request (the header, else the URL's host).
    fn host(&self) -> std::result::Result<Host, Error> {
        match self.header("host") {
            Some(host) => Ok(Host::parse(&host)?),
            None => Ok(Host::parse(self.url()?.host())?),
        }
    }

    /// The same URL on `apex`: scheme, port, path and query kept.
    fn redirect_location(&self, apex: &Host) -> std::result::Result<String, Error> {
        Ok(self.url()?.with_host(apex.as_str()))
    }
}

/// One request's context: its settings, the runtime context, how it used the cache, the tenant
/// it found and how, and the PostgREST calls it makes.
struct Call<'a> {
    config: Rc<Config>,
    ctx: &'a Context,
    cache: CacheStatus,
    tenant: Option<Rc<Tenant>>,
    resolved_by: Option<&'static str>,
    calls: Rc<event::Calls>,
}

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> Result<web_sys::Response> {
    let req = Incoming {
        method: req.method(),
        url: req.url(),
        raw: req,
    };
    let mut trace = event::Trace::start(&req);
    let response = serve(req, &env, &ctx, &mut trace).await;
    trace.emit(&env, response.status());
    Ok(response)
}

/// Answers a request, noting in `trace` what its event reports.
async fn serve(
    req: Incoming,
    env: &Env,
    ctx: &Context,
    trace: &mut event::Trace,
) -> web_sys::Response {
    let head = req.method == "HEAD";
    // A browser asking for a page gets an error as a page (`reply::Page`): the request is kept
    // to read its Accept header then, for the requests that could be pages only.
    // (A handle to the same JS object: `web_sys::Request::clone` is the Fetch API's, which
    // tees the body.)
    let raw = matches!(req.method.as_str(), "GET" | "HEAD")
        .then(|| web_sys::Request::unchecked_from_js(JsValue::clone(&req.raw)));
    let reply = match handle(req, env, ctx, trace).await {
        Ok(Answer::Forwarded(response)) => {
            let headers = response.headers();
            let _ = headers.set("x-tenant-cache", trace.cache.as_str());
            trace.forwarded(headers.get("x-tenant-branding").ok().flatten());
            trace.bytes = headers
                .get("content-length")
                .ok()
                .flatten()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            return response;
        }
        Ok(Answer::Reply(reply)) => reply,
        Err(error) => {
            let failed = |event| {
                Line::new(event, Level::Error)
                    .str("request_id", Some(&trace.request_id))
                    .str("error_code", Some(error.code()))
            };
            match &error {
                Error::UpstreamUnavailable(e) => {
                    event::log(failed("upstream_failed").str("upstream_error", Some(&e.code())))
                }
                Error::Misconfigured { setting, problem } => event::log(
                    failed("misconfigured")
                        .str("setting", Some(setting))
                        .str("problem", Some(problem)),
                ),
                _ => {}
            }
            let reply = Reply::error(&error);
            let accept = raw.and_then(|r| r.headers().get("accept").ok().flatten());
            let path = trace.path.as_deref().unwrap_or("/");
            let page = Page::for_error(reply.status, path, accept.as_deref());
            match (page, &error, &trace.tenant) {
                (Some(_), Error::Maintenance { .. }, Some(tenant)) => {
                    let message = tenant.maintenance.as_ref().map_or("", |m| &m.message);
                    reply.maintenance_page(message, tenant.rendered(), head)
                }
                (Some(page), ..) => reply.visitor_page(page, head),
                (None, ..) => reply,
            }
        }
    };
    trace.answered(&reply.body);
    let reply = reply.header("x-tenant-cache", trace.cache.as_str());
    let reply = if head { reply.without_body() } else { reply };
    let body = Some(reply.body.as_bytes()).filter(|b| !b.is_empty());
    trace.bytes = reply.body.len() as u64;
    // A header or status the runtime refuses is not expected (all are the Worker's own): then
    // the answer without its headers, else a bare 500, which the runtime cannot refuse.
    respond(reply.status, body, &reply.header_lines())
        .or_else(|_| respond(reply.status, body, ""))
        .or_else(|_| respond(500, None, ""))
        .unwrap_or_else(JsCast::unchecked_into)
}

async fn handle(
    req: Incoming,
    env: &Env,
    ctx: &Context,
    trace: &mut event::Trace,
) -> std::result::Result<Answer, Error> {
    let config = config(env)?;
    let mut call = Call {
        config,
        ctx,
        cache: CacheStatus::Bypass,
        tenant: None,
        resolved_by: None,
        calls: trace.calls.clone(),
    };
    let url = req.url()?;
    let route = route(&req.method, url.path, url.query)?;
    trace.route = route_name(&route);
    let result = answer(&mut call, req, route).await;
    trace.cache = call.cache;
    trace.tenant = call.tenant;
    trace.resolved_by = call.resolved_by;
    result
}

async fn answer(
    call: &mut Call<'_>,
    req: Incoming,
    route: Route,
) -> std::result::Result<Answer, Error> {
    let header = |name: &str| req.header(name);
    let reply = match route {
        Route::Health { deep } => {
            let upstream_age_ms = if deep {
                let (result, age_ms) = health::deep(&call.config, &call.calls).await;
                if let Err(error) = result {
                    event::log(
                        Line::new("health_check_failed", Level::Error)
                            .str("upstream_error", Some(&error.code())),
                    );
                    let reply = Reply::error(&Error::from(error))
                        .header("age", (age_ms / 1000).to_string());
                    return Ok(Answer::Reply(reply));
                }
                Some(age_ms)
            } else {
                None
            };
            let (entries, capacity) = cache::memory_size();
            let mut reply = Reply::health(Vitals {
                memory_entries: entries,
                memory_capacity: capacity,
                wasm_memory_bytes: core::arch::wasm32::memory_size(0) * 65536,
                upstream_age_ms,
                changes: feed::vitals(&call.config),
            });
            reply.body = crate::health::added_to(&reply.body, store::last()).into();
            reply
        }
        Route::Tenant(lookup) => {
            let (tenant, served) = call.find(&lookup).await?.ok_or(Error::TenantNotFound)?;
            Reply::tenant(
                Asset::Json,
                tenant.asset(Asset::Json),
                Scope::Public,
                call.config
                    .cache_control
                    .value(Scope::Public, served.freshness),
                header("if-none-match").as_deref(),
            )
        }
        Route::Schema(schema) => Reply::schema(schema.body),
        Route::Brand(asset) => {
            let host = req.host()?;
            match call.host_tenant(&host).await? {
                Resolution::Tenant((tenant, served), _) => {
                    let draft = call.draft(&req, &tenant).await;
                    let cache_control = match draft {
                        Some(_) => Text::Static(crate::preview::CACHE_CONTROL),
                        None => call
                            .config
                            .cache_control
                            .value(Scope::HostBound, served.freshness),
                    };
                    let shown = draft.as_ref().unwrap_or(&tenant);
                    let reply = Reply::tenant(
                        asset,
                        shown.asset(asset),
                        Scope::HostBound,
                        cache_control,
                        header("if-none-match").as_deref(),
                    );
                    match draft {
                        Some(_) => reply.header(crate::preview::HEADER.0, crate::preview::HEADER.1),
                        None => reply,
                    }
                }
                Resolution::Redirect(target) => {
                    Reply::redirect(req.redirect_location(&target)?, &req.method)
                }
                Resolution::Platform => return Err(Error::TenantNotFound),
            }
        }
        Route::Challenge => {
            let host = req.host()?;
            let Site::Tenant(Lookup::Domain(_)) =
                classify(&host, call.config.platform_domain.as_ref())
            else {
                return Err(Error::RouteNotFound);
            };
            let path = req.url()?.path;
            match cache::challenge(&call.config, call.ctx, &host, path, &call.calls).await? {
                Some(body) => Reply::challenge(&body),
                None => return Err(Error::RouteNotFound),
            }
        }
        Route::Me => {
            let authorization = header("authorization");
            let token = bearer_token(authorization.as_deref())?;
            let started_ms = call.calls.start();
            let profile = store::my_profile(&call.config, token).await;
            let failed = matches!(
                profile,
                Err(Error::UpstreamUnavailable(_) | Error::Misconfigured { .. })
            );
            call.calls.end(started_ms, failed);
            Reply::profile(profile?)
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
            tenant_common::check_declared_length(
                header("content-length").as_deref(),
                purge::MAX_BODY_BYTES,
            )?;
            let body = read_bounded(&req.raw).await?;
            Reply::purged(&cache::purge(&Lookup::from_purge_body(&body)?).await)
        }
        Route::Preflight { allow } => Reply::preflight(allow),
        Route::Forward => {
            let host = req.host()?;
            let url = req.url()?;
            let tenant = match call.host_tenant(&host).await? {
                Resolution::Redirect(target) => {
                    return Ok(Answer::Reply(Reply::redirect(
                        req.redirect_location(&target)?,
                        &req.method,
                    )))
                }
                Resolution::Tenant((tenant, _), lookup) => {
                    let primary = tenant.primary.as_ref();
                    let to_primary = call.config.redirect_to_primary;
                    if let Some(target) = page_redirect(&lookup, &host, primary, to_primary) {
                        return Ok(Answer::Reply(Reply::redirect(
                            req.redirect_location(&target)?,
                            &req.method,
                        )));
                    }
                    if let Some((token, rest)) = crate::preview::from_query(url.query) {
                        let location = url.with_query(&rest);
                        let cookie = crate::preview::set_cookie(token, url.scheme == "https");
                        return Ok(Answer::Reply(Reply::preview_cookie(location, cookie)));
                    }
                    if let Some(m) = &tenant.maintenance {
                        return Err(Error::Maintenance {
                            retry_after_s: m.retry_after_s,
                        });
                    }
                    Some(tenant)
                }
                Resolution::Platform => None,
            };
            let origin = call.config.origin_url.as_deref().ok_or(Error::NoOrigin)?;
            let canonical = tenant.as_ref().map(|t| {
                let platform = call.config.platform_domain.as_ref();
                Canonical::of(&host, url.scheme, t.primary.as_ref(), &t.slug, platform)
            });
            let robots = canonical
                .as_ref()
                .filter(|_| url.path == crawl::ROBOTS_PATH);
            if let Some(robots) = robots.filter(|c| !c.indexable) {
                return Ok(Answer::Reply(Reply::robots(robots.robots())));
            }
            let icon = tenant
                .as_ref()
                .filter(|_| url.path == crawl::FAVICON_PATH)
                .and_then(|t| t.rendered().icon.clone());
            if let Some(icon) = icon {
                return Ok(Answer::Reply(Reply::icon(icon)));
            }
            let draft = match &tenant {
                Some(t) => call.draft(&req, t).await,
                None => None,
            };
            let mut edits = String::new();
            if canonical.as_ref().is_some_and(|c| !c.indexable) || draft.is_some() {
                crate::lines::write(&mut edits, crawl::NOINDEX.0, crawl::NOINDEX.1);
            }
            if draft.is_some() {
                crate::lines::write(&mut edits, "cache-control", crate::preview::CACHE_CONTROL);
                let (name, value) = crate::preview::HEADER;
                crate::lines::write(&mut edits, name, value);
            }
            let client_ip = header("cf-connecting-ip");
            let shown = draft.as_ref().or(tenant.as_ref());
            let branded = shown.filter(|_| call.config.inject_branding);
            let forwarding = Forwarding {
                host: &host,
                proto: url.scheme,
                client_ip: client_ip.as_deref(),
                identity: tenant.as_ref().map(|t| Identity {
                    tenant_id: t.id.as_str(),
                    tenant_slug: t.slug.as_str(),
                }),
                branded: branded.is_some(),
            };
            let head = branded.map(|t| {
                let link = canonical
                    .as_ref()
                    .map(|c| c.link(url.path))
                    .unwrap_or_default();
                format!("{link}{}", t.rendered().head)
            });
            let branding = branded
                .zip(head.as_deref())
                .map(|(t, head)| origin::Branding {
                    head,
                    slug: t.slug.as_str(),
                    lang: t.rendered().lang.as_deref(),
                });
            let target = origin::Target {
                origin,
                path: url.path,
                query: url.query,
                method: &req.method,
                timeout_ms: call.config.origin_timeout_ms,
                edits: &edits,
            };
            let signing_secret = call.config.signing_secret.as_deref();
            let response =
                origin::forward(&req.raw, target, forwarding, branding, signing_secret).await?;
            if let Some(robots) = robots.filter(|_| response.status() == 404) {
                return Ok(Answer::Reply(Reply::robots(robots.robots())));
            }
            return Ok(Answer::Forwarded(response));
        }
    };
    Ok(Answer::Reply(reply))
}

impl Call<'_> {
    /// The answer to `lookup` through the cache tiers; records how the cache answered, and the
    /// tenant found and by which key.
    async fn resolve(&mut self, lookup: &Lookup) -> std::result::Result<cache::Served, Error> {
        let served = cache::resolve(&self.config, self.ctx, lookup, &self.calls).await?;
        self.cache = served.status;
        if let Some(tenant) = served.tenant() {
            self.tenant = Some(tenant.clone());
            self.resolved_by = Some(resolved_by(lookup, false));
        }
        Ok(served)
    }

    /// The draft of `tenant` the request's preview cookie shows (`edge/preview.rs`), if any;
    /// the cookie is read only while previews are on, so a request without them crosses into
    /// the runtime no more than before.
    async fn draft(&self, req: &Incoming, tenant: &Tenant) -> Option<Rc<Tenant>> {
        self.config.preview_secret.as_ref()?;
        let cookies = req.header("cookie");
        preview::draft(&self.config, &self.calls, cookies.as_deref(), tenant).await
    }

    /// The tenant for `lookup` through the cache tiers; records how the cache answered.
    async fn find(
        &mut self,
        lookup: &Lookup,
    ) -> std::result::Result<Option<(Rc<Tenant>, cache::Served)>, Error> {
        let served = self.resolve(lookup).await?;
        Ok(served.tenant().cloned().map(|tenant| (tenant, served)))
    }

    /// Finds the tenant a host belongs to, and the lookup that found it; for a host no tenant
    /// has (no active domain), the fallback the core names (`site::www_fallback`), which
    /// redirects to that tenant's primary domain.
    async fn host_tenant(
        &mut self,
        host: &Host,
    ) -> std::result::Result<Resolution<(Rc<Tenant>, cache::Served)>, Error> {
        let lookup = match classify(host, self.config.platform_domain.as_ref()) {
            Site::Platform => return Ok(Resolution::Platform),
            Site::Unknown => return Err(Error::TenantNotFound),
            Site::Tenant(lookup) => lookup,
        };
        let served = self.resolve(&lookup).await?;
        if let Some(tenant) = served.tenant().cloned() {
            self.resolved_by = Some(resolved_by(&lookup, true));
            return Ok(Resolution::Tenant((tenant, served), lookup));
        }
        if let Some((lookup, apex)) = www_fallback(host) {
            if let Some((tenant, _)) = self.find(&lookup).await? {
                self.resolved_by = Some(RESOLVED_BY_REDIRECT);
                return Ok(Resolution::Redirect(www_target(
                    apex,
                    tenant.primary.as_ref(),
                )));
            }
        }
        Err(Error::TenantNotFound)
    }
}

/// The validated settings, parsed on the isolate's first request (or the wrong setting found).
fn config(env: &Env) -> std::result::Result<Rc<Config>, Error> {
    use tenant_common::SettingsCell;
    thread_local!(static CONFIG: SettingsCell<Config, Error> = const { SettingsCell::new() });
    CONFIG.with(|cell| cell.get_or_parse(|| Config::from_lookup(tenant_common::env_vars(env))))
}

/// The runtime's clock, in ms since the epoch.
fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}

/// The request body as text, read chunk by chunk and never past the purge body limit.
async fn read_bounded(req: &web_sys::Request) -> std::result::Result<String, Error> {
    let unreadable = || Error::InvalidBody {
        expected: "a readable request body",
    };
    let mut body = BodyLimit::new(purge::MAX_BODY_BYTES);
    let Ok(mut stream) = worker::Request::from(Clone::clone(req)).stream() else {
        return purge::body_text(body.into_bytes());
    };
    while let Some(chunk) = stream.next().await {
        body.push(&chunk.map_err(|_| unreadable())?)?;
    }
    purge::body_text(body.into_bytes())
}
