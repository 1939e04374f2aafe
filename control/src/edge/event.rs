//! The events' glue: what `fetch` notes of a request while it answers it, and [`write()`], the
//! one way the control plane logs, an event (the events, their fields and their JSON are the
//! core's: `crate::event`; `tenant_common::emit` hands each to `console.log`, as an object whose fields
//! Workers Logs indexes).

use std::future::Future;

use tenant_common::emit;
use worker::{js_sys, Request};

use super::now_ms;
use crate::error::Error;
use crate::event::{
    self, clip_detail, clip_path, error_detail, Answered, ApiEvent, Event, WebhookEvent,
};

/// Logs `event`: one line of JSON under `wrangler dev`, an object in Workers Logs.
pub fn write<E: Event>(event: &E) {
    emit(&event::to_json(event));
}

/// A request on its way through the control plane: what it asked, when it arrived, and what
/// the handling found out so far (the action, the tenant and hostname it names, the upstream
/// calls made, the webhook's notice).
pub struct Trace {
    started_ms: u64,
    request_id: String,
    method: String,
    path: Option<String>,
    /// `crate::event::action_name` of the route; `"webhook"` makes the event a webhook's.
    pub action: Option<&'static str>,
    pub tenant_id: Option<String>,
    pub hostname: Option<String>,
    upstream_calls: u32,
    upstream_ms: u64,
    error_code: Option<String>,
    detail: Option<String>,
    /// The webhook's fields, filled by `take_notice`.
    pub webhook: WebhookEvent,
}

impl Trace {
    /// Starts the trace of `req` when it arrives.
    pub fn start(req: &Request) -> Trace {
        let header = |name: &str| req.headers().get(name).ok().flatten();
        Trace {
            started_ms: now_ms(),
            request_id: header("cf-ray").unwrap_or_else(local_request_id),
            method: req.inner().method(),
            path: req.url().ok().map(|u| clip_path(u.path())),
            action: None,
            tenant_id: None,
            hostname: None,
            upstream_calls: 0,
            upstream_ms: 0,
            error_code: None,
            detail: None,
            webhook: WebhookEvent::default(),
        }
    }

    /// Awaits `call`, `calls` upstream requests (side by side), counting them and their time.
    pub async fn upstream<T>(&mut self, calls: u32, call: impl Future<Output = T>) -> T {
        let started = now_ms();
        let answer = call.await;
        self.upstream_calls += calls;
        self.upstream_ms += now_ms().saturating_sub(started);
        answer
    }

    /// Notes what failed, in the request's own words, unless something said it already.
    pub fn note(&mut self, detail: &str) {
        self.detail.get_or_insert_with(|| clip_detail(detail));
    }

    /// Notes the error the request is answered with: its code, and for a 5xx what failed.
    pub fn failed(&mut self, error: &Error) {
        self.error_code = Some(error.code().to_string());
        if let Some(detail) = error_detail(error) {
            self.detail.get_or_insert(detail);
        }
    }

    /// Writes the event of the request, answered with `status`: the webhook's for the
    /// webhook's route, an API event for any other.
    pub fn emit(self, status: u16) {
        let duration_ms = now_ms().saturating_sub(self.started_ms);
        let answered = Answered {
            status,
            error_code: self.error_code,
            detail: self.detail,
            upstream_calls: self.upstream_calls,
            upstream_ms: self.upstream_ms,
            duration_ms,
        };
        if self.action == Some("webhook") {
            write(&WebhookEvent {
                request_id: self.request_id,
                answered,
                ..self.webhook
            });
        } else {
            write(&ApiEvent {
                request_id: self.request_id,
                method: self.method,
                path: self.path,
                action: self.action,
                tenant_id: self.tenant_id,
                hostname: self.hostname,
                answered,
            });
        }
    }
}

/// An id for a request that came without `cf-ray` (`wrangler dev`): 16 hex digits, as random
/// as `Math.random`, which is enough to tell requests apart in a log.
fn local_request_id() -> String {
    let half = || (js_sys::Math::random() * 4_294_967_296.0) as u32;
    format!("{:08x}{:08x}", half(), half())
}
