//! The request event's glue: what `fetch` notes of a request while it answers it, and the one
//! `console.log` line of JSON it writes at the end (the event itself, its fields and their
//! JSON are the core's: `crate::event`).

use std::rc::Rc;

use worker::js_sys;

use super::{now_ms, Incoming};
use crate::cache::CacheStatus;
use crate::event::{error_code, RequestEvent};
use crate::tenant::Tenant;

/// A request on its way through the Worker: what it asked, when it arrived, and what the
/// handling found out so far (the route, the tenant, how the cache answered, the error code).
pub(super) struct Trace {
    started_ms: u64,
    request_id: String,
    method: String,
    host: Option<String>,
    path: Option<String>,
    pub route: Option<&'static str>,
    pub tenant: Option<Rc<Tenant>>,
    pub cache: CacheStatus,
    error_code: Option<String>,
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
            route: None,
            tenant: None,
            cache: CacheStatus::Bypass,
            error_code: None,
        }
    }

    /// Notes the Worker's own answer's body: an error's code, when it is one.
    pub fn answered(&mut self, body: &str) {
        self.error_code = error_code(body).map(str::to_owned);
    }

    /// Writes the event of the request, answered with `status`.
    pub fn emit(&self, status: u16) {
        let event = RequestEvent {
            request_id: &self.request_id,
            method: &self.method,
            host: self.host.as_deref(),
            path: self.path.as_deref(),
            route: self.route,
            tenant_id: self.tenant.as_ref().map(|t| t.id.as_str()),
            tenant_slug: self.tenant.as_ref().map(|t| t.slug.as_str()),
            cache: self.cache,
            status,
            error_code: self.error_code.as_deref(),
            duration_ms: now_ms().saturating_sub(self.started_ms),
        };
        worker::console_log!("{}", event.to_json());
    }
}

/// An id for a request that came without `cf-ray` (`wrangler dev`): 16 hex digits, as random
/// as `Math.random`, which is enough to tell requests apart in a log.
fn local_request_id() -> String {
    let half = || (js_sys::Math::random() * 4_294_967_296.0) as u32;
    format!("{:08x}{:08x}", half(), half())
}
