//! The control plane's events: what it logs, each one line of JSON (`edge/event.rs` writes it
//! with the console method of its level). As the resolver's request event (`src/event.rs`):
//! snake_case field names that do not change, a field with nothing to say `null` rather than
//! absent, `event` naming the kind, `level` and `version` on every line. The kinds
//! (schema/control-event.schema.json):
//!
//! - [`ApiEvent`] (`api`): one per request other than the webhook: the coach's API, health,
//!   a preflight, or a request no route takes;
//! - [`WebhookEvent`] (`webhook`): one per request to `POST /webhooks/cloudflare`;
//! - [`CronEvent`] (`cron`): one per run of the Cron Trigger, its counts per step;
//! - [`RowSkippedEvent`] (`row_skipped`): a `tenant_domains` row PostgREST gave that could not
//!   be read (whatever read it).
//!
//! Never a key, token, cookie, query string or request body: paths come without their query,
//! and what an upstream said is clipped to [`DETAIL_LIMIT`] characters.

use serde::Serialize;

use crate::api::Route;
use crate::error::Error;
pub use tenant_common::Level;

/// The control plane's version, on every event.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The most characters of an upstream's or an error's text an event holds.
pub const DETAIL_LIMIT: usize = 300;
/// The longest path an event holds, in bytes.
const PATH_LIMIT: usize = 1024;
/// The most row problems a cron event lists (its counts count them all).
pub const PROBLEM_LIMIT: usize = 20;

/// A kind of event: its name and its level.
pub trait Event: Serialize {
    /// The `event` field.
    const KIND: &'static str;
    /// The `level` field.
    fn level(&self) -> Level;
}

/// What every line holds before the event's own fields.
#[derive(Serialize)]
struct Line<'a, E> {
    event: &'static str,
    level: Level,
    version: &'static str,
    #[serde(flatten)]
    fields: &'a E,
}

/// `event` as one line of JSON: `event`, `level`, `version`, then its fields in their order.
pub fn to_json<E: Event>(event: &E) -> String {
    let line = Line {
        event: E::KIND,
        level: event.level(),
        version: VERSION,
        fields: event,
    };
    // Serializing plain structs of strings, numbers and options cannot fail.
    serde_json::to_string(&line).unwrap_or_default()
}

/// The name of a route's action in an [`ApiEvent`].
pub fn action_name(route: &Route) -> &'static str {
    match route {
        Route::Health { deep: false } => "health",
        Route::Health { deep: true } => "deep_health",
        Route::List { .. } => "list_domains",
        Route::Add => "add_domain",
        Route::Remove { .. } => "remove_domain",
        Route::Primary { .. } => "set_primary",
        Route::Analytics(_) => "analytics",
        Route::Brand { action, .. } => action.event_name(),
        Route::Maintenance { action, .. } => action.event_name(),
        Route::Webhook => "webhook",
        Route::Preflight { .. } => "preflight",
    }
}

/// The tenant id and the hostname a route names in its path or query, validated (a body's are
/// noted once read).
pub fn route_names(route: &Route) -> (Option<&str>, Option<&str>) {
    match route {
        Route::List { tenant } => (Some(tenant.as_str()), None),
        Route::Analytics(query) => (Some(query.tenant.as_str()), None),
        Route::Brand { tenant, .. } | Route::Maintenance { tenant, .. } => {
            (Some(tenant.as_str()), None)
        }
        Route::Remove { tenant, hostname } | Route::Primary { tenant, hostname } => {
            (Some(tenant.as_str()), Some(hostname.as_str()))
        }
        Route::Health { .. } | Route::Add | Route::Webhook | Route::Preflight { .. } => {
            (None, None)
        }
    }
}

/// One request other than the webhook: `{"event":"api",…}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiEvent {
    /// The `cf-ray` header when Cloudflare sent one, else an id of the Worker's own.
    pub request_id: String,
    pub method: String,
    /// The URL's path without its query, clipped; `None` when the URL could not be read.
    pub path: Option<String>,
    /// [`action_name`]; `None` when no route took the request.
    pub action: Option<&'static str>,
    /// The tenant the call names, once validated.
    pub tenant_id: Option<String>,
    /// The hostname the call names, once validated.
    pub hostname: Option<String>,
    #[serde(flatten)]
    pub answered: Answered,
}

/// How a request (an API call or the webhook) was answered: the fields every request's event
/// ends with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Answered {
    pub status: u16,
    /// The error contract's `code`, when the answer is an error.
    pub error_code: Option<String>,
    /// For a 5xx, or the webhook's failed write or read-back, what failed (clipped).
    pub detail: Option<String>,
    /// Requests made to PostgREST, Cloudflare or the DNS resolver, and the time spent waiting
    /// for them (calls made side by side count their wall time once).
    pub upstream_calls: u32,
    pub upstream_ms: u64,
    pub duration_ms: u64,
}

impl Event for ApiEvent {
    const KIND: &'static str = "api";
    fn level(&self) -> Level {
        Level::of(self.answered.status)
    }
}

/// What became of the read-back a deployed certificate asks for (`lifecycle::activates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadBack {
    /// Read, and the row updated from it.
    Updated,
    /// Read; nothing to change.
    Unchanged,
    /// The webhooks' Cloudflare budget of this minute is spent: left to the cron.
    BudgetSpent,
    /// The budget could not be read (PostgREST failed): left to the cron.
    BudgetUnknown,
    /// Cloudflare answered 429: left to the cron.
    RateLimited,
    /// Cloudflare failed or refused: left to the cron.
    Failed,
}

impl ReadBack {
    fn level(self) -> Level {
        match self {
            ReadBack::Updated | ReadBack::Unchanged => Level::Info,
            ReadBack::BudgetSpent | ReadBack::RateLimited => Level::Warn,
            ReadBack::BudgetUnknown | ReadBack::Failed => Level::Error,
        }
    }
}

/// One request to the webhook: `{"event":"webhook",…}`. The row's fields are `None` when the
/// notice names no hostname a row holds (or was not read: a refused secret, a bad body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WebhookEvent {
    pub request_id: String,
    /// The notice's custom hostname id (`data.id`), when it is a certificate notice.
    pub cloudflare_id: Option<String>,
    /// Whether a row holds that hostname; `None` when the notice was not a certificate's.
    pub known: Option<bool>,
    pub hostname: Option<String>,
    pub domain_id: Option<String>,
    pub tenant_id: Option<String>,
    /// The row's certificate status before the notice, and after it: the notice's when
    /// written, else unchanged (a replayed, older or repeated notice, or the row changed
    /// meanwhile).
    pub ssl_status_before: Option<String>,
    pub ssl_status_after: Option<String>,
    /// Whether the notice changed the row's certificate status.
    pub changed: bool,
    /// The read-back of a deployed certificate, when one was asked for.
    pub read_back: Option<ReadBack>,
    #[serde(flatten)]
    pub answered: Answered,
}

impl Event for WebhookEvent {
    const KIND: &'static str = "webhook";
    fn level(&self) -> Level {
        let read_back = self.read_back.map_or(Level::Info, ReadBack::level);
        let refused = if self.answered.detail.is_some() {
            Level::Error
        } else {
            Level::Info
        };
        Level::of(self.answered.status).max(read_back).max(refused)
    }
}

/// Why a cron run stopped before its work was done, as its event says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HaltKind {
    /// The run's Cloudflare call budget is spent.
    Budget,
    /// Cloudflare answered 429.
    RateLimited,
    /// Cloudflare or PostgREST failed.
    Upstream,
    /// An answer (or a setting) only a wrong setting explains; `detail` names it.
    Misconfigured,
    /// A hostname was not found, and the zone answered no listing either.
    Unconfirmed,
}

impl HaltKind {
    fn level(self) -> Level {
        match self {
            HaltKind::Budget | HaltKind::RateLimited => Level::Warn,
            HaltKind::Upstream | HaltKind::Misconfigured | HaltKind::Unconfirmed => Level::Error,
        }
    }
}

/// What went wrong with one row (or claim) in a cron run; the run went on, unless it was the
/// DNS resolver failing (the proofs then wait for the next run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The TXT record could not be read (a DNS-level failure for that name): `warn`.
    LookupUnknown,
    /// The DNS resolver failed: no more lookups this run. `error`.
    ResolverFailed,
    /// A claim's proof could not be recorded (PostgREST failed): `error`.
    NotSettled,
    /// The database refused a write of the row: `error`.
    WriteRefused,
    /// A Cloudflare call for the row was refused or failed for it alone; the row waits for
    /// the next run: `warn`.
    CallSkipped,
}

impl ProblemKind {
    fn level(self) -> Level {
        match self {
            ProblemKind::LookupUnknown | ProblemKind::CallSkipped => Level::Warn,
            ProblemKind::ResolverFailed | ProblemKind::NotSettled | ProblemKind::WriteRefused => {
                Level::Error
            }
        }
    }
}

/// One row's problem in a [`CronEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    pub hostname: String,
    pub domain_id: String,
    /// The Cloudflare call (`create`, `get`, `find`, `delete`) of a [`ProblemKind::CallSkipped`].
    pub call: Option<&'static str>,
    /// What was said (clipped).
    pub detail: String,
}

/// One run of the Cron Trigger: `{"event":"cron",…}`, its counts per step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CronEvent {
    /// TXT records looked up, and claims found proven by them.
    pub lookups: u32,
    pub proven: u32,
    /// Rows deleted (their hostname gone), pending rows and claims given up as too old,
    /// hostnames created (or adopted), rows failed by Cloudflare's refusal, rows written with
    /// what a read of their hostname found (or a failure), rows whose hostname Cloudflare no
    /// longer has.
    pub deleted: u32,
    pub expired: u32,
    pub created: u32,
    pub refused: u32,
    pub updated: u32,
    pub vanished: u32,
    /// Rows (or claims) with a problem; the first [`PROBLEM_LIMIT`] are in `problems`.
    pub failed: u32,
    /// Cloudflare calls made from the run's budget, and the 429s met.
    pub cloudflare_calls: u32,
    pub rate_limits: u32,
    /// Why the run stopped early, and what it said (clipped); `None` when it did its work.
    pub halt: Option<HaltKind>,
    pub retry_after_s: Option<u32>,
    pub detail: Option<String>,
    pub problems: Vec<Problem>,
    pub duration_ms: u64,
    /// The worst level of the problems counted, listed or not.
    #[serde(skip)]
    problems_level: Level,
}

impl CronEvent {
    /// Counts a row's problem, listing it while fewer than [`PROBLEM_LIMIT`] are.
    pub fn problem(
        &mut self,
        kind: ProblemKind,
        hostname: &str,
        domain_id: &str,
        call: Option<&'static str>,
        detail: &str,
    ) {
        self.failed += 1;
        self.problems_level = self.problems_level.max(kind.level());
        if self.problems.len() < PROBLEM_LIMIT {
            self.problems.push(Problem {
                kind,
                hostname: hostname.to_string(),
                domain_id: domain_id.to_string(),
                call,
                detail: clip_detail(detail),
            });
        }
    }

    /// Records why the run stopped.
    pub fn halted(&mut self, kind: HaltKind, retry_after_s: Option<u32>, detail: &str) {
        self.halt = Some(kind);
        self.retry_after_s = retry_after_s;
        if kind == HaltKind::RateLimited {
            self.rate_limits += 1;
        }
        self.detail = Some(clip_detail(detail));
    }
}

impl Event for CronEvent {
    const KIND: &'static str = "cron";
    fn level(&self) -> Level {
        self.halt
            .map_or(Level::Info, HaltKind::level)
            .max(self.problems_level)
    }
}

/// A `tenant_domains` row PostgREST gave that could not be read: `{"event":"row_skipped",…}`,
/// always `error` (the database holds what the control plane cannot read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowSkippedEvent {
    /// What was wrong with it (clipped).
    pub detail: String,
}

impl Event for RowSkippedEvent {
    const KIND: &'static str = "row_skipped";
    fn level(&self) -> Level {
        Level::Error
    }
}

/// What an event says of an error answered: for a 5xx, what failed (an upstream's own words,
/// clipped, for `upstream_unavailable`; the message, naming the setting, for `misconfigured`);
/// `None` for a 4xx, whose code says it all.
pub fn error_detail(error: &Error) -> Option<String> {
    if error.status() < 500 {
        return None;
    }
    Some(clip_detail(&match error {
        Error::UpstreamUnavailable(e) => e.to_string(),
        other => other.to_string(),
    }))
}

/// `text` cut to [`DETAIL_LIMIT`] characters.
pub fn clip_detail(text: &str) -> String {
    text.chars().take(DETAIL_LIMIT).collect()
}

/// The longest prefix of a URL's `path` (no query: the caller passes the path alone) of at most
/// [`PATH_LIMIT`] bytes that ends on a character boundary.
pub fn clip_path(path: &str) -> String {
    let mut end = path.len().min(PATH_LIMIT);
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    path[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn listed() -> ApiEvent {
        ApiEvent {
            request_id: "8f1d2c3b4a596877".into(),
            method: "GET".into(),
            path: Some("/domains".into()),
            action: Some("list_domains"),
            tenant_id: Some("7e000000-0000-4000-8000-000000000002".into()),
            hostname: None,
            answered: Answered {
                status: 200,
                error_code: None,
                detail: None,
                upstream_calls: 1,
                upstream_ms: 4,
                duration_ms: 6,
            },
        }
    }

    fn json<E: Event>(event: &E) -> Value {
        serde_json::from_str(&to_json(event)).unwrap()
    }

    #[test]
    fn an_api_event_is_one_line_with_every_field_in_order() {
        assert_eq!(
            to_json(&listed()),
            format!(
                r#"{{"event":"api","level":"info","version":"{VERSION}","request_id":"8f1d2c3b4a596877","method":"GET","path":"/domains","action":"list_domains","tenant_id":"7e000000-0000-4000-8000-000000000002","hostname":null,"status":200,"error_code":null,"detail":null,"upstream_calls":1,"upstream_ms":4,"duration_ms":6}}"#
            )
        );
    }

    #[test]
    fn the_level_is_error_for_5xx_warn_for_4xx_info_otherwise() {
        for (status, level) in [
            (200, "info"),
            (201, "info"),
            (204, "info"),
            (400, "warn"),
            (401, "warn"),
            (429, "warn"),
            (500, "error"),
            (503, "error"),
        ] {
            assert_eq!(
                json(&ApiEvent {
                    answered: Answered {
                        status,
                        ..listed().answered
                    },
                    ..listed()
                })["level"],
                level
            );
        }
    }

    #[test]
    fn every_route_has_its_action() {
        use tenant_common::{Host, TenantId};
        let tenant = TenantId::parse("7e000000-0000-4000-8000-000000000002").unwrap();
        let hostname = Host::parse_domain("coach.example.com").unwrap();
        for (route, name) in [
            (Route::Health { deep: false }, "health"),
            (Route::Health { deep: true }, "deep_health"),
            (
                Route::List {
                    tenant: tenant.clone(),
                },
                "list_domains",
            ),
            (Route::Add, "add_domain"),
            (
                Route::Remove {
                    tenant: tenant.clone(),
                    hostname: hostname.clone(),
                },
                "remove_domain",
            ),
            (
                Route::Maintenance {
                    tenant: tenant.clone(),
                    action: crate::maintenance::Action::Read,
                },
                "read_maintenance",
            ),
            (
                Route::Maintenance {
                    tenant: tenant.clone(),
                    action: crate::maintenance::Action::Set,
                },
                "set_maintenance",
            ),
            (
                Route::Brand {
                    tenant: tenant.clone(),
                    action: crate::brand::Action::Preview,
                },
                "preview_brand",
            ),
            (Route::Primary { tenant, hostname }, "set_primary"),
            (Route::Webhook, "webhook"),
            (Route::Preflight { allow: "DELETE" }, "preflight"),
        ] {
            assert_eq!(action_name(&route), name);
        }
    }

    #[test]
    fn a_route_names_its_tenant_and_hostname_when_it_has_them() {
        use tenant_common::{Host, TenantId};
        let id = "7e000000-0000-4000-8000-000000000002";
        let tenant = TenantId::parse(id).unwrap();
        let hostname = Host::parse_domain("coach.example.com").unwrap();
        let list = Route::List {
            tenant: tenant.clone(),
        };
        assert_eq!(route_names(&list), (Some(id), None));
        let remove = Route::Remove { tenant, hostname };
        assert_eq!(route_names(&remove), (Some(id), Some("coach.example.com")));
        assert_eq!(route_names(&Route::Add), (None, None));
        let maintenance = Route::Maintenance {
            tenant: TenantId::parse(id).unwrap(),
            action: crate::maintenance::Action::Set,
        };
        assert_eq!(route_names(&maintenance), (Some(id), None));
    }

    #[test]
    fn a_webhook_event_says_what_changed_and_is_an_error_when_its_read_back_failed() {
        let applied = WebhookEvent {
            request_id: "r".into(),
            cloudflare_id: Some("0d89c70d-ad9f-4843-b99f-6cc0252067e9".into()),
            known: Some(true),
            hostname: Some("coach.example.com".into()),
            ssl_status_before: Some("pending_deployment".into()),
            ssl_status_after: Some("active".into()),
            changed: true,
            read_back: Some(ReadBack::Updated),
            answered: Answered {
                status: 200,
                ..Answered::default()
            },
            ..WebhookEvent::default()
        };
        let v = json(&applied);
        assert_eq!(v["event"], "webhook");
        assert_eq!(v["level"], "info");
        assert_eq!(v["read_back"], "updated");
        assert_eq!(v["domain_id"], Value::Null);
        assert_eq!(v.as_object().unwrap().len(), 19);
        for (read_back, level) in [
            (ReadBack::BudgetSpent, "warn"),
            (ReadBack::RateLimited, "warn"),
            (ReadBack::Failed, "error"),
            (ReadBack::BudgetUnknown, "error"),
        ] {
            let event = WebhookEvent {
                read_back: Some(read_back),
                ..applied.clone()
            };
            assert_eq!(json(&event)["level"], level, "{read_back:?}");
        }
        let refused = WebhookEvent {
            answered: Answered {
                detail: Some("the database refused the write".into()),
                ..applied.answered.clone()
            },
            ..applied.clone()
        };
        assert_eq!(json(&refused)["level"], "error");
        let unauthorized = WebhookEvent {
            answered: Answered {
                status: 401,
                error_code: Some("unauthorized".into()),
                ..Answered::default()
            },
            ..WebhookEvent::default()
        };
        assert_eq!(json(&unauthorized)["level"], "warn");
    }

    #[test]
    fn a_cron_event_counts_every_problem_and_lists_the_first_few() {
        let mut run = CronEvent::default();
        assert_eq!(json(&run)["level"], "info");
        for i in 0..PROBLEM_LIMIT + 5 {
            run.problem(
                ProblemKind::CallSkipped,
                &format!("{i}.example.com"),
                "id",
                Some("get"),
                &"x".repeat(DETAIL_LIMIT * 2),
            );
        }
        let v = json(&run);
        assert_eq!(v["failed"], (PROBLEM_LIMIT + 5) as u64);
        assert_eq!(v["problems"].as_array().unwrap().len(), PROBLEM_LIMIT);
        assert_eq!(v["problems"][0]["kind"], "call_skipped");
        assert_eq!(v["problems"][0]["call"], "get");
        assert_eq!(
            v["problems"][0]["detail"].as_str().unwrap().len(),
            DETAIL_LIMIT
        );
        assert_eq!(v["level"], "warn");
        run.problem(
            ProblemKind::WriteRefused,
            "a.example.com",
            "id",
            None,
            "23514",
        );
        assert_eq!(json(&run)["level"], "error", "counted past the list too");
    }

    #[test]
    fn a_cron_event_halted_says_why_and_a_rate_limit_is_counted() {
        let mut run = CronEvent {
            cloudflare_calls: 3,
            ..CronEvent::default()
        };
        run.halted(
            HaltKind::RateLimited,
            Some(30),
            "rate limited by cloudflare",
        );
        let v = json(&run);
        assert_eq!(
            (
                &v["halt"],
                &v["retry_after_s"],
                &v["rate_limits"],
                &v["level"]
            ),
            (
                &Value::from("rate_limited"),
                &Value::from(30),
                &Value::from(1),
                &Value::from("warn")
            )
        );
        run.halted(
            HaltKind::Misconfigured,
            None,
            "misconfigured: CLOUDFLARE_API_TOKEN",
        );
        assert_eq!(json(&run)["level"], "error");
        let done = json(&CronEvent::default());
        for key in ["halt", "retry_after_s", "detail"] {
            assert_eq!(done[key], Value::Null, "{key}");
        }
        assert_eq!(done["problems"], Value::Array(vec![]));
    }

    #[test]
    fn only_a_5xx_has_a_detail_and_an_upstreams_is_its_own_words() {
        use crate::error::{Service, UpstreamError};
        assert_eq!(error_detail(&Error::NotOwner), None);
        assert_eq!(error_detail(&Error::user_unauthorized()), None);
        let down = Error::UpstreamUnavailable(UpstreamError::Status {
            service: Service::Postgrest,
            status: 502,
            body: "bad gateway".into(),
        });
        assert_eq!(
            error_detail(&down).as_deref(),
            Some("postgrest answered 502: bad gateway")
        );
        let wrong = Error::Misconfigured {
            setting: "SUPABASE_SECRET_KEY",
            problem: "is refused",
        };
        assert!(error_detail(&wrong)
            .unwrap()
            .contains("SUPABASE_SECRET_KEY"));
    }

    #[test]
    fn a_skipped_row_is_an_error() {
        let v = json(&RowSkippedEvent {
            detail: "status: unknown variant".into(),
        });
        assert_eq!(
            (&v["event"], &v["level"]),
            (&"row_skipped".into(), &"error".into())
        );
    }

    #[test]
    fn a_long_path_is_clipped_on_a_character_boundary_and_text_stays_one_line() {
        let path = format!("/domains/{}", "ü".repeat(1000));
        let clipped = clip_path(&path);
        assert!(clipped.len() <= PATH_LIMIT && clipped.len() >= PATH_LIMIT - 1);
        let line = to_json(&ApiEvent {
            path: Some("/evil\"\n{\"event\":\"api\"}".into()),
            ..listed()
        });
        assert!(!line.contains('\n'));
        assert_eq!(
            serde_json::from_str::<Value>(&line).unwrap()["path"],
            "/evil\"\n{\"event\":\"api\"}"
        );
    }
}
