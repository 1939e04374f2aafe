//! The Worker glue: the `fetch` and `scheduled` entries, reading requests and settings, doing
//! the I/O the core asks for, and turning the core's [`Reply`] into responses. Compiled only
//! for Wasm. Routing, validation, the lifecycle's decisions, Cloudflare's answers and error
//! mapping are the core's; what stays here is sequencing I/O.

mod analytics;
mod cloudflare;
mod cron;
mod dns;
mod event;
mod health;
mod last;
mod notify;
mod preview;
mod store;

use std::future::Future;
use std::rc::Rc;

use futures_util::StreamExt;
use worker::{event, Context, Env, Headers, Request, Response, ScheduleContext, ScheduledEvent};

use event::Trace;
use store::Written;

use crate::api::{self, route, Route};
use crate::brand;
use crate::config::Config;
use crate::domain::DomainRow;
use crate::error::{Error, Service, UpstreamError};
use crate::event::{action_name, clip_detail, route_names, CronEvent, HaltKind, ReadBack};
use crate::lifecycle;
use crate::maintenance;
use crate::reply::Reply;
use crate::token;
use crate::webhook::{self, Notice};
use tenant_common::{check_declared_length, BodyLimit};

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let method = req.inner().method();
    let origin = req.headers().get("origin").ok().flatten();
    let mut trace = Trace::start(&req);
    let (reply, coach_api) = match handle(&mut req, &method, &env, &mut trace).await {
        Ok((reply, route)) => (reply, route.is_coach_api()),
        Err((error, coach_api)) => {
            trace.failed(&error);
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
    trace.emit(reply.status);
    respond(reply, method == "HEAD")
}

/// Routes and answers a request, noting what it finds in `trace`; an error says whether it
/// was on the coach's API (CORS).
async fn handle(
    req: &mut Request,
    method: &str,
    env: &Env,
    trace: &mut Trace,
) -> Result<(Reply, Route), (Error, bool)> {
    let route = route(
        method,
        req.url()
            .map_err(|_| (Error::RouteNotFound, false))?
            .as_str(),
    )
    .map_err(|e| (e, true))?;
    trace.action = Some(action_name(&route));
    let (tenant_id, hostname) = route_names(&route);
    trace.tenant_id = tenant_id.map(str::to_string);
    trace.hostname = hostname.map(str::to_string);
    let coach_api = route.is_coach_api();
    let config = config(env).map_err(|e| (e, coach_api))?;
    answer(req, &config, &route, trace)
        .await
        .map(|reply| (reply, route))
        .map_err(|e| (e, coach_api))
}

async fn answer(
    req: &mut Request,
    config: &Config,
    route: &Route,
    trace: &mut Trace,
) -> Result<Reply, Error> {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    match route {
        Route::Health { deep: false } => Ok(Reply::health(&last::seen())),
        Route::Health { deep: true } => {
            let (result, age_ms) = health::deep(config, trace).await;
            Ok(match result {
                Ok(()) => Reply::deep_health(age_ms),
                Err(error) => {
                    trace.failed(&error);
                    Reply::deep_health_failed(&error, age_ms)
                }
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
            take_notice(config, webhook::parse(&body)?, trace).await
        }
        Route::List { tenant } => {
            let token = coach_token(header("authorization"))?;
            let mut rows = trace
                .upstream(1, store::coach_domains(config, &token, tenant))
                .await?;
            diagnose_due(config, &mut rows, trace).await;
            let domains: Vec<_> = rows.iter().map(|r| config.view(r)).collect();
            Ok(Reply::domains(&domains))
        }
        Route::Add => {
            let token = coach_token(header("authorization"))?;
            check_declared_length(header("content-length").as_deref(), api::MAX_BODY_BYTES)?;
            let body = read_bounded(req, api::MAX_BODY_BYTES).await?;
            let (tenant, hostname) = api::add_body(&body)?;
            trace.tenant_id = Some(tenant.as_str().to_string());
            trace.hostname = Some(hostname.as_str().to_string());
            if config.is_reserved(&hostname) {
                return Err(Error::InvalidDomain {
                    message: format!(
                        "the domain {hostname} is the platform's own: its hostnames and the names beneath them cannot be added"
                    ),
                });
            }
            let add = store::owner_rpc(config, &token, "add_tenant_domain", &tenant, &hostname);
            let row = trace.upstream(1, add).await?;
            // Its pair's other name too (an apex's www, a www's apex), if it can be had: a
            // refusal of it (the tenant has it, its limit or budget) leaves the coach to add it.
            let partner = crate::domain::partner(hostname.as_str())
                .and_then(|p| tenant_common::Host::parse_domain(&p).ok())
                .filter(|p| !config.is_reserved(p));
            if let Some(partner) = partner {
                let add = store::owner_rpc(config, &token, "add_tenant_domain", &tenant, &partner);
                let _ = trace.upstream(1, add).await;
            }
            Ok(Reply::domain(201, &config.view(&row)))
        }
        Route::Analytics(query) => {
            query.within_reach(now_ms())?;
            let token = coach_token(header("authorization"))?;
            let settings = config.analytics.as_ref().ok_or(Error::NotEnabled {
                setting: "CLOUDFLARE_ANALYTICS_TOKEN",
            })?;
            // Another tenant's id gets what GET /domains gives it: nothing, and no query.
            let owner = trace.upstream(1, store::owns_tenant(config, &token, &query.tenant));
            if !owner.await? {
                return Ok(Reply::analytics(&[]));
            }
            thread_local!(static LIMITER: std::cell::RefCell<crate::analytics::Limiter> = Default::default());
            LIMITER.with(|l| l.borrow_mut().admit(&query.tenant, now_ms()))?;
            let buckets = analytics::buckets(config, settings, query);
            Ok(Reply::analytics(&trace.upstream(1, buckets).await?))
        }
        Route::Brand {
            tenant,
            action: action @ brand::Action::Preview,
        } => {
            let token = coach_token(header("authorization"))?;
            let secret = config.preview_secret.as_deref().ok_or(Error::NotEnabled {
                setting: "PREVIEW_SIGNING_SECRET",
            })?;
            let args = brand::args(*action, tenant, &[], None)?;
            let call = store::brand_rpc(config, &token, action.function(), args);
            let made = crate::preview::Made::parse(&trace.upstream(1, call).await?)?;
            let signature = preview::signature(secret, &made.key).await?;
            let link = crate::preview::link(
                &made.host(&config.platform_domain),
                &tenant_common::preview::token(&made.key, &signature),
            );
            Ok(Reply::preview(&link, &made.expires_at()))
        }
        Route::Maintenance { tenant, action } => {
            let token = coach_token(header("authorization"))?;
            let args = match action {
                maintenance::Action::Read => maintenance::read_args(tenant),
                maintenance::Action::Set => {
                    check_declared_length(
                        header("content-length").as_deref(),
                        maintenance::MAX_BODY_BYTES,
                    )?;
                    let body = read_bounded(req, maintenance::MAX_BODY_BYTES).await?;
                    maintenance::set_args(tenant, &body)?
                }
            };
            let call = store::brand_rpc(config, &token, action.function(), args);
            Ok(Reply::maintenance(trace.upstream(1, call).await?))
        }
        Route::Brand { tenant, action } => {
            let token = coach_token(header("authorization"))?;
            let expected = if action.publishes() {
                Some(brand::if_match(header("if-match").as_deref())?)
            } else {
                None
            };
            let body = if action.has_body() {
                check_declared_length(header("content-length").as_deref(), brand::MAX_BODY_BYTES)?;
                read_bounded(req, brand::MAX_BODY_BYTES).await?
            } else {
                Vec::new()
            };
            let args = brand::args(*action, tenant, &body, expected)?;
            let call = store::brand_rpc(config, &token, action.function(), args);
            Ok(Reply::brand(trace.upstream(1, call).await?))
        }
        Route::Remove { tenant, hostname } => {
            let token = coach_token(header("authorization"))?;
            let remove = store::owner_rpc(config, &token, "remove_tenant_domain", tenant, hostname);
            let row = trace.upstream(1, remove).await?;
            Ok(Reply::domain(200, &config.view(&row)))
        }
        Route::Primary { tenant, hostname } => {
            let token = coach_token(header("authorization"))?;
            let primary = store::owner_rpc(
                config,
                &token,
                "set_primary_tenant_domain",
                tenant,
                hostname,
            );
            let row = trace.upstream(1, primary).await?;
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
/// or the read failing, only leaves the row to the next cron run. What it finds and does is
/// noted in `trace.webhook`.
async fn take_notice(config: &Config, notice: Notice, trace: &mut Trace) -> Result<Reply, Error> {
    let Notice::Certificate {
        id,
        ssl_status,
        event_ms,
    } = notice
    else {
        return Ok(Reply::received(false));
    };
    trace.webhook.cloudflare_id = Some(id.clone());
    let held = trace
        .upstream(1, store::by_cloudflare_id(config, &id))
        .await?;
    trace.webhook.known = Some(held.is_some());
    let Some(row) = held else {
        return Ok(Reply::received(false));
    };
    let seen = &mut trace.webhook;
    seen.hostname = Some(row.hostname.clone());
    seen.domain_id = Some(row.id.clone());
    seen.tenant_id = Some(row.tenant_id.clone());
    seen.ssl_status_before = row.ssl_status.clone();
    seen.ssl_status_after = row.ssl_status.clone();
    let Some(update) = lifecycle::certificate(&row, &ssl_status, event_ms) else {
        return Ok(Reply::received(true));
    };
    let written = match trace
        .upstream(1, store::update(config, &row.id, &update))
        .await?
    {
        Written::Matched => true,
        Written::Unmatched => false,
        Written::Refused(body) => {
            trace.note(&format!("the database refused the write: {body}"));
            false
        }
    };
    if written {
        trace.webhook.ssl_status_after = Some(ssl_status.clone());
        trace.webhook.changed = true;
    }
    if written && lifecycle::activates(&row, &ssl_status) {
        let read_back = read_back(config, &id, &row, ssl_status, trace).await?;
        trace.webhook.read_back = Some(read_back);
    }
    Ok(Reply::received(true))
}

/// Reads a deployed certificate's hostname (`id`, `row`'s) back from Cloudflare, within the webhooks' budget,
/// and applies what changed; what became of it.
async fn read_back(
    config: &Config,
    id: &str,
    row: &DomainRow,
    ssl_status: String,
    trace: &mut Trace,
) -> Result<ReadBack, Error> {
    let spend =
        store::spend_cloudflare_calls(config, webhook::BUDGET_KIND, 1, config.calls_per_run);
    match trace.upstream(1, spend).await {
        Ok(true) => {}
        Ok(false) => return Ok(ReadBack::BudgetSpent),
        Err(e) => {
            trace.note(&format!("the webhooks' budget unknown: {e}"));
            return Ok(ReadBack::BudgetUnknown);
        }
    }
    let mut current: DomainRow = row.clone();
    current.ssl_status = Some(ssl_status);
    match trace.upstream(1, cloudflare::get(config, id)).await {
        Ok(hostname) => {
            let now = tenant_common::format_ms(now_ms());
            let Some(update) = lifecycle::refreshed(&current, &hostname, &now) else {
                return Ok(ReadBack::Unchanged);
            };
            trace
                .upstream(1, store::update(config, &row.id, &update))
                .await?;
            Ok(ReadBack::Updated)
        }
        Err(crate::cloudflare::Verdict::RateLimited { .. }) => Ok(ReadBack::RateLimited),
        Err(crate::cloudflare::Verdict::Stop(e)) => {
            trace.note(&e.to_string());
            Ok(ReadBack::Failed)
        }
        Err(verdict) => {
            trace.note(&clip_detail(&format!("{verdict:?}")));
            Ok(ReadBack::Failed)
        }
    }
}

/// One run of the Cron Trigger, and its event. A wrong setting stops the run at the first
/// answer naming it (its event an error), and the next minute's run asks once more (one call),
/// no sooner.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let started_ms = now_ms();
    let mut run = match config(&env) {
        Ok(config) => cron::run(&config, started_ms).await,
        Err(e) => {
            let mut run = CronEvent::default();
            run.halted(HaltKind::Misconfigured, None, &e.to_string());
            run
        }
    };
    run.duration_ms = now_ms().saturating_sub(started_ms);
    event::write(&run);
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

/// Diagnoses again the coach's domains whose diagnosis is due (`doctor::due_on_read`: a few
/// per request), stopping at the first failed lookup, and keeps the verdicts (the service
/// role writes them: the rows are those the coach's own token read). A verdict that cannot
/// be kept is still shown.
async fn diagnose_due(config: &Config, rows: &mut [DomainRow], trace: &mut Trace) {
    let now = now_ms();
    let mut kept = Vec::new();
    for i in crate::doctor::due_on_read(rows, now) {
        let (diagnosis, looked) = trace
            .upstream(0, dns::diagnose(config, &rows[i], now))
            .await;
        // Each lookup is an upstream call; counted once known.
        let lookups = u32::try_from(looked.lookups).unwrap_or(u32::MAX);
        trace.upstream(lookups, async {}).await;
        kept.push(diagnosis.to_row(&rows[i].id));
        rows[i].diagnosis = diagnosis.stored();
        if looked.findings.is_err() {
            break;
        }
    }
    if kept.is_empty() {
        return;
    }
    let saved = store::save_diagnoses(config, kept);
    if let Err(e) = trace.upstream(1, saved).await {
        trace.note(&format!("diagnoses not kept: {e}"));
    }
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
