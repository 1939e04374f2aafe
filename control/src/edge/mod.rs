//! The Worker glue: the `fetch` and `scheduled` entries, reading requests and settings, doing
//! the I/O the core asks for, and turning the core's [`Reply`] into responses. Compiled only
//! for Wasm. Routing, validation, the lifecycle's decisions, Cloudflare's answers and error
//! mapping are the core's; what stays here is sequencing I/O.

mod cloudflare;
mod cron;
mod dns;
mod health;
mod last;
mod store;

use std::future::Future;
use std::rc::Rc;

use futures_util::StreamExt;
use worker::{event, Context, Env, Headers, Request, Response, ScheduleContext, ScheduledEvent};

use store::Written;

use crate::api::{self, route, Route};
use crate::config::Config;
use crate::domain::DomainRow;
use crate::error::{Error, Service, UpstreamError};
use crate::lifecycle;
use crate::reply::Reply;
use crate::token;
use crate::webhook::{self, Notice};
use tenant_common::{check_declared_length, BodyLimit};

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let method = req.inner().method();
    let origin = req.headers().get("origin").ok().flatten();
    let (reply, coach_api) = match handle(&mut req, &method, &env).await {
        Ok((reply, route)) => (reply, route.is_coach_api()),
        Err((error, coach_api)) => {
            if error.status() >= 500 {
                worker::console_error!("{}: {error:?}", error.code());
            }
            (Reply::error(&error), coach_api)
        }
    };
    let reply = if coach_api {
        let allowed = config(&env)
            .ok()
            .and_then(|c| c.allowed_origin(origin.as_deref()).map(str::to_string));
        reply.with_cors(allowed.as_deref())
    } else {
        reply
    };
    respond(reply, method == "HEAD")
}

/// Routes and answers a request; an error says whether it was on the coach's API (CORS).
async fn handle(
    req: &mut Request,
    method: &str,
    env: &Env,
) -> Result<(Reply, Route), (Error, bool)> {
    let route = route(
        method,
        req.url()
            .map_err(|_| (Error::RouteNotFound, false))?
            .as_str(),
    )
    .map_err(|e| (e, true))?;
    let coach_api = route.is_coach_api();
    let config = config(env).map_err(|e| (e, coach_api))?;
    answer(req, &config, &route)
        .await
        .map(|reply| (reply, route))
        .map_err(|e| (e, coach_api))
}

async fn answer(req: &mut Request, config: &Config, route: &Route) -> Result<Reply, Error> {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    match route {
        Route::Health { deep: false } => Ok(Reply::health(&last::seen())),
        Route::Health { deep: true } => {
            let (result, age_ms) = health::deep(config).await;
            Ok(match result {
                Ok(()) => Reply::deep_health(age_ms),
                Err(error) => Reply::deep_health_failed(&error, age_ms),
            })
        }
        Route::Preflight { allow } => Ok(Reply::preflight(allow)),
        Route::Webhook => {
            let secret = config.webhook_secret.as_deref().ok_or(Error::NotEnabled {
                setting: "CLOUDFLARE_WEBHOOK_SECRET",
            })?;
            webhook::authorize(header("cf-webhook-auth").as_deref(), secret)?;
            check_declared_length(header("content-length").as_deref(), webhook::MAX_BODY_BYTES)?;
            let body = read_bounded(req, webhook::MAX_BODY_BYTES).await?;
            take_notice(config, webhook::parse(&body)?).await
        }
        Route::List { tenant } => {
            let token = coach_token(header("authorization"))?;
            let rows = store::coach_domains(config, &token, tenant).await?;
            let domains: Vec<_> = rows.iter().map(|r| config.view(r)).collect();
            Ok(Reply::domains(&domains))
        }
        Route::Add => {
            let token = coach_token(header("authorization"))?;
            check_declared_length(header("content-length").as_deref(), api::MAX_BODY_BYTES)?;
            let body = read_bounded(req, api::MAX_BODY_BYTES).await?;
            let (tenant, hostname) = api::add_body(&body)?;
            if config.is_reserved(&hostname) {
                return Err(Error::InvalidDomain {
                    message: format!(
                        "the domain {hostname} is the platform's own: its hostnames and the names beneath them cannot be added"
                    ),
                });
            }
            let row =
                store::owner_rpc(config, &token, "add_tenant_domain", &tenant, &hostname).await?;
            Ok(Reply::domain(201, &config.view(&row)))
        }
        Route::Remove { tenant, hostname } => {
            let token = coach_token(header("authorization"))?;
            let row =
                store::owner_rpc(config, &token, "remove_tenant_domain", tenant, hostname).await?;
            Ok(Reply::domain(200, &config.view(&row)))
        }
        Route::Primary { tenant, hostname } => {
            let token = coach_token(header("authorization"))?;
            let row = store::owner_rpc(
                config,
                &token,
                "set_primary_tenant_domain",
                tenant,
                hostname,
            )
            .await?;
            Ok(Reply::domain(200, &config.view(&row)))
        }
    }
}

/// The coach's bearer token, if it has the shape of a JWT and claims `role: authenticated`
/// (`token::coach_token`; PostgREST verifies it).
fn coach_token(authorization: Option<String>) -> Result<String, Error> {
    Ok(token::coach_token(authorization.as_deref())?.to_string())
}

/// A webhook's notice: the certificate status written to its row, unless the row changed since
/// the notice was made (`lifecycle::certificate`); a deployed certificate so written reads the
/// hostname back from Cloudflare at once, so the domain turns active within seconds. That read
/// is spent from the webhooks' budget, shared by every isolate through the database
/// (`store::spend_cloudflare_calls`: `CLOUDFLARE_CALLS_PER_RUN` a minute); the budget spent,
/// or the read failing, only leaves the row to the next cron run.
async fn take_notice(config: &Config, notice: Notice) -> Result<Reply, Error> {
    let Notice::Certificate {
        id,
        ssl_status,
        event_ms,
    } = notice
    else {
        return Ok(Reply::received(false));
    };
    let Some(row) = store::by_cloudflare_id(config, &id).await? else {
        return Ok(Reply::received(false));
    };
    let Some(update) = lifecycle::certificate(&row, &ssl_status, event_ms) else {
        return Ok(Reply::received(true));
    };
    let written = match store::update(config, &row.id, &update).await? {
        Written::Matched => true,
        Written::Unmatched => false,
        Written::Refused(body) => {
            worker::console_error!("webhook: write refused: {body:.200}");
            false
        }
    };
    if written && lifecycle::activates(&row, &ssl_status) && webhook_budget(config, &id).await {
        let mut current: DomainRow = row.clone();
        current.ssl_status = Some(ssl_status);
        match cloudflare::get(config, &id).await {
            Ok(hostname) => {
                let now = tenant_common::format_ms(now_ms());
                if let Some(update) = lifecycle::refreshed(&current, &hostname, &now) {
                    store::update(config, &row.id, &update).await?;
                }
            }
            Err(crate::cloudflare::Verdict::Stop(e @ UpstreamError::Misconfigured { .. })) => {
                worker::console_error!("webhook: reading {id} back: {e}; left to the cron");
            }
            Err(verdict) => {
                worker::console_warn!("webhook: reading {id} back failed: {verdict:?}");
            }
        }
    }
    Ok(Reply::received(true))
}

/// Whether the webhooks' Cloudflare budget of this minute has a call left for reading `id`
/// back, spending it; a budget that cannot be read is as good as spent.
async fn webhook_budget(config: &Config, id: &str) -> bool {
    let spent =
        store::spend_cloudflare_calls(config, webhook::BUDGET_KIND, 1, config.calls_per_run).await;
    match spent {
        Ok(true) => true,
        Ok(false) => {
            worker::console_warn!("webhook: cloudflare budget spent, {id} left to the cron");
            false
        }
        Err(e) => {
            worker::console_warn!(
                "webhook: cloudflare budget unknown ({e}), {id} left to the cron"
            );
            false
        }
    }
}

#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    match config(&env) {
        Ok(config) => {
            let report = cron::run(&config, now_ms()).await;
            match &report.stopped {
                // A wrong setting: the run stopped at the first answer naming it, and the next
                // minute's run asks once more (one call), no sooner.
                Some(cron::Halt::Upstream(UpstreamError::Misconfigured { .. })) => {
                    worker::console_error!("cron: {report}");
                }
                Some(_) => worker::console_warn!("cron: {report}"),
                None => worker::console_log!("cron: {report}"),
            }
        }
        Err(e) => worker::console_error!("cron: {e}"),
    }
}

/// The validated settings, parsed on the isolate's first event (or the wrong setting found).
fn config(env: &Env) -> Result<Rc<Config>, Error> {
    use tenant_common::SettingsCell;
    thread_local!(static CONFIG: SettingsCell<Config, Error> = const { SettingsCell::new() });
    CONFIG.with(|cell| cell.get_or_parse(|| Config::from_lookup(tenant_common::env_vars(env))))
}

fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}

/// Runs `request`, giving up with [`UpstreamError::Timeout`] after `ms` milliseconds (reqwest
/// has no timeout on Wasm; dropping its future aborts the fetch).
pub(crate) fn within<T>(
    service: Service,
    ms: u32,
    request: impl Future<Output = Result<T, UpstreamError>>,
) -> impl Future<Output = Result<T, UpstreamError>> {
    tenant_common::within(ms, request, move || UpstreamError::Timeout {
        service,
        after_ms: ms,
    })
}

/// The request body, read chunk by chunk and never past `limit` bytes.
async fn read_bounded(req: &mut Request, limit: usize) -> Result<Vec<u8>, Error> {
    let mut body = BodyLimit::new(limit);
    let Ok(mut stream) = req.stream() else {
        return Ok(body.into_bytes());
    };
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| Error::InvalidBody {
            expected: "a readable request body",
        })?;
        body.push(&chunk)?;
    }
    Ok(body.into_bytes())
}

/// The runtime's response for a [`Reply`].
fn respond(reply: Reply, head: bool) -> worker::Result<Response> {
    let headers = Headers::new();
    for (name, value) in &reply.headers {
        headers.set(name, value)?;
    }
    let response = if head || reply.body.is_empty() {
        Response::empty()?
    } else {
        Response::from_bytes(reply.body.into_bytes())?
    };
    Ok(response.with_status(reply.status).with_headers(headers))
}
