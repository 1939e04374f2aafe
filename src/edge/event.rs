//! The events' glue: what `fetch` notes of a request while it answers it, the PostgREST calls
//! it makes ([`Calls`]), and [`log`], the one way the Worker logs, an event (`crate::event`
//! writes the events, their fields and their JSON; `tenant_common::emit` hands each to `console.log`).

use std::cell::Cell;
use std::rc::Rc;

use tenant_common::emit;
use wasm_bindgen::prelude::*;
use worker::js_sys;

use super::{now_ms, Incoming};
use crate::cache::CacheStatus;
use crate::event::{branding, error_code, Level, Line, RequestEvent, Upstream};
use crate::tenant::Tenant;

/// Logs an event.
pub(super) fn log(line: Line) {
    emit(&line.end());
}

#[wasm_bindgen(module = "/src/edge/analytics.js")]
extern "C" {
    /// Writes the request's analytics data point, made from its logged `event`, when the
    /// Worker has the `ANALYTICS` binding and the request found its tenant; a failure's name.
    fn record(env: &JsValue, event: &JsValue, bytes: f64) -> Option<String>;
}

/// The PostgREST calls a request sends and awaits itself, counted where the glue calls
/// `store.rs` ([`Calls::start`], [`Calls::end`]). A request that waits for another's identical
/// read (single flight) counts none; reads in the background (a refresh, the change feed) count
/// for no request.
#[derive(Default)]
pub(super) struct Calls(Cell<Upstream>);

impl Calls {
    /// Notes that a call starts; hand the result to [`Calls::end`].
    pub fn start(&self) -> u64 {
        now_ms()
    }

    /// Notes that the call started at `started_ms` ended, failed or not.
    pub fn end(&self, started_ms: u64, failed: bool) {
        let mut upstream = self.0.get();
        upstream.calls += 1;
        upstream.ms += now_ms().saturating_sub(started_ms);
        upstream.failed |= failed;
        self.0.set(upstream);
    }
}

/// A request on its way through the Worker: what it asked, when it arrived, and what the
/// handling found out so far (the route, the tenant and how it was found, how the cache
/// answered, the PostgREST calls, the error code).
pub(super) struct Trace {
    started_ms: u64,
    pub request_id: String,
    method: String,
    host: Option<String>,
    pub path: Option<String>,
    colo: Option<String>,
    pub route: Option<&'static str>,
    pub tenant: Option<Rc<Tenant>>,
    pub resolved_by: Option<&'static str>,
    pub cache: CacheStatus,
    pub calls: Rc<Calls>,
    branding: Option<String>,
    error_code: Option<String>,
    /// The answer's body in bytes, where known before it is sent (0 for a streamed one).
    pub bytes: u64,
}

impl Trace {
    /// Starts the trace of `req` when it arrives.
    pub fn start(req: &Incoming) -> Trace {
        let url = req.url().ok();
        Trace {
            started_ms: now_ms(),
            request_id: req.header("cf-ray").unwrap_or_else(local_request_id),
            method: req.method.clone(),
            host: req
                .header("host")
                .or_else(|| url.as_ref().map(|u| u.host().to_owned())),
            path: url.map(|u| u.path.to_owned()),
            colo: colo(&req.raw),
            route: None,
            tenant: None,
            resolved_by: None,
            cache: CacheStatus::Bypass,
            calls: Rc::default(),
            branding: None,
            error_code: None,
            bytes: 0,
        }
    }

    /// Notes the Worker's own answer's body: an error's code, when it is one.
    pub fn answered(&mut self, body: &str) {
        self.error_code = error_code(body).map(str::to_owned);
    }

    /// Notes a forwarded answer's `X-Tenant-Branding` header.
    pub fn forwarded(&mut self, branding_header: Option<String>) {
        self.branding = branding(branding_header.as_deref());
    }

    /// Writes the event of the request, answered with `status`, and its analytics data point
    /// (`env`'s `ANALYTICS` binding).
    pub fn emit(&self, env: &JsValue, status: u16) {
        let event = RequestEvent {
            request_id: &self.request_id,
            method: &self.method,
            host: self.host.as_deref(),
            path: self.path.as_deref(),
            route: self.route,
            tenant_id: self.tenant.as_ref().map(|t| t.id.as_str()),
            tenant_slug: self.tenant.as_ref().map(|t| t.slug.as_str()),
            resolved_by: self.resolved_by,
            cache: self.cache,
            branding: self.branding.as_deref(),
            status,
            error_code: self.error_code.as_deref(),
            upstream: self.calls.0.get(),
            duration_ms: now_ms().saturating_sub(self.started_ms),
            colo: self.colo.as_deref(),
        };
        let event = emit(&event.to_json());
        if let Some(error) = record(env, &event, self.bytes as f64) {
            log(Line::new("analytics_failed", Level::Error)
                .str("request_id", Some(&self.request_id))
                .str("error", Some(&error)));
        }
    }
}

/// The data center that runs the request: `request.cf.colo` (`wrangler dev` gives a placeholder).
fn colo(raw: &worker::web_sys::Request) -> Option<String> {
    let cf = js_sys::Reflect::get(raw, &"cf".into()).ok()?;
    js_sys::Reflect::get(&cf, &"colo".into()).ok()?.as_string()
}

/// An id for a request that came without `cf-ray` (`wrangler dev`): 16 hex digits, as random
/// as `Math.random`, which is enough to tell requests apart in a log.
fn local_request_id() -> String {
    let half = || (js_sys::Math::random() * 4_294_967_296.0) as u32;
    format!("{:08x}{:08x}", half(), half())
}
