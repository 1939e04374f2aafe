//! Domain events: each status change of a custom domain, told to the app at
//! `DOMAIN_EVENTS_URL` as a signed JSON webhook, so it can e-mail the coach.
//!
//! The database queues the events (a trigger on `tenant_domains`, in `private.domain_events`:
//! every writer's changes, never lost); each cron run, after its domain work, claims the due
//! ones (`claim_domain_events`: oldest first, one per hostname, so a hostname's events go out
//! in order) and sends at most [`DELIVERIES_PER_RUN`] of them, each within the upstream
//! timeout. This module decides everything about that: the body ([`Queued::body`]), what is
//! signed ([`canonical`], [`signature_header`]), what an answer means ([`meaning`]) and what
//! comes of an attempt ([`settle`]: delivered, retried after [`backoff_s`], or given up once
//! the event is [`GIVE_UP_AFTER_S`] old). `edge/notify.rs` only sends and records.
//! Behaviour: docs/control-plane.md, "Domain events"; the app's side: docs/origin.md.

use serde::{Deserialize, Serialize};

use crate::event::{clip_detail, Event, Level};

/// The header that carries the signature: `t=<unix seconds>,v1=<lowercase hex>`.
pub const SIGNATURE_HEADER: &str = "x-domain-event-signature";
/// The header that carries the event's id (also in the body): the app's key to deduplicate.
pub const ID_HEADER: &str = "x-domain-event-id";
/// The most events one cron run sends; the rest wait for the next run.
pub const DELIVERIES_PER_RUN: u32 = 20;
/// The first retry's delay, in seconds; each later one doubles it, up to [`MAX_RETRY_S`].
pub const FIRST_RETRY_S: u32 = 30;
/// The longest delay between two attempts at an event, in seconds.
pub const MAX_RETRY_S: u32 = 1800;
/// An event that fails an attempt this long (seconds) after its change is given up (logged as
/// an error): it was tried for a day, about 55 times.
pub const GIVE_UP_AFTER_S: u32 = 86_400;
/// How many unanswered attempts (a timeout, a refused connection) end a run's deliveries: the
/// app is down, and every other event would wait its timeout in vain. They keep their turn.
pub const UNANSWERED_PER_RUN: u32 = 2;

/// An event as `claim_domain_events` answers it (one row).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Queued {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub domain_id: String,
    pub tenant_id: String,
    pub hostname: String,
    pub status: Option<String>,
    pub previous_status: Option<String>,
    pub reason: Option<String>,
    /// When the status changed, RFC 3339 UTC with milliseconds (the database formats it).
    pub at: String,
    /// Attempts so far, this one included.
    pub attempts: u32,
    /// How long ago the status changed, by the database's clock, in seconds.
    pub age_seconds: f64,
}

/// The webhook's body: its keys, in this order, are the contract (docs/control-plane.md).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    hostname: &'a str,
    tenant_id: &'a str,
    domain_id: &'a str,
    status: Option<&'a str>,
    previous_status: Option<&'a str>,
    reason: Option<&'a str>,
    at: &'a str,
}

impl Queued {
    /// The rows of `claim_domain_events`' answer.
    pub fn from_rows(body: &str) -> Result<Vec<Queued>, serde_json::Error> {
        serde_json::from_str(body)
    }

    /// The JSON the app receives, the same on every attempt:
    /// `{"id","type","hostname","tenantId","domainId","status","previousStatus","reason","at"}`.
    pub fn body(&self) -> String {
        let body = Body {
            id: &self.id,
            kind: &self.kind,
            hostname: &self.hostname,
            tenant_id: &self.tenant_id,
            domain_id: &self.domain_id,
            status: self.status.as_deref(),
            previous_status: self.previous_status.as_deref(),
            reason: self.reason.as_deref(),
            at: &self.at,
        };
        // A struct of strings cannot fail to serialize.
        serde_json::to_string(&body).unwrap_or_default()
    }
}

/// What is signed: the signature's time in unix seconds, a dot, and the body exactly as sent.
pub fn canonical(t: u64, body: &str) -> String {
    format!("{t}.{body}")
}

/// The signature header's value for the HMAC-SHA256 `tag` of [`canonical`] at `t`.
pub fn signature_header(t: u64, tag: &[u8]) -> String {
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

/// What the app's answer to one attempt was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP status (the body is not read).
    Status(u16),
    /// No answer within the timeout, or no connection: what happened.
    Unanswered(String),
}

/// What an answer means for the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// 2xx: the app has it.
    Delivered,
    /// Try again later: a 5xx, 408, 429, no answer, a redirect (not followed), or a 4xx that
    /// says the app or the setting is not ready for events (401, 403, 404, 405: a wrong secret
    /// or URL, fixed by an operator while the events wait).
    Retry,
    /// Any other 4xx (400, 409, 410, 413, 422, …): the app read this event and refuses it.
    /// Sending it again cannot help: given up at once.
    Rejected,
}

/// What the app's `answer` means (see [`Meaning`]).
pub fn meaning(answer: &Answer) -> Meaning {
    match answer {
        Answer::Status(200..=299) => Meaning::Delivered,
        Answer::Status(401 | 403 | 404 | 405 | 408 | 429) => Meaning::Retry,
        Answer::Status(400..=499) => Meaning::Rejected,
        Answer::Status(_) | Answer::Unanswered(_) => Meaning::Retry,
    }
}

/// The delay before the attempt after attempt number `attempts` (1 for the first): 30 s,
/// doubling each time (1 min, 2, 4, 8, 16), then every 30 min.
pub fn backoff_s(attempts: u32) -> u32 {
    let doublings = attempts.saturating_sub(1).min(16);
    FIRST_RETRY_S
        .saturating_mul(1 << doublings)
        .min(MAX_RETRY_S)
}

/// What comes of an attempt, recorded by `settle_domain_event`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The app has it: never sent again.
    Delivered,
    /// Due again in `in_s` seconds.
    Retry { in_s: u32 },
    /// Never sent again: the app refused it, or it failed for [`GIVE_UP_AFTER_S`].
    GivenUp,
}

impl Outcome {
    /// Its name in `settle_domain_event` and in the log.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Retry { .. } => "retry",
            Outcome::GivenUp => "given_up",
        }
    }
}

/// What comes of `event`'s attempt that got `answer`.
pub fn settle(event: &Queued, answer: &Answer) -> Outcome {
    match meaning(answer) {
        Meaning::Delivered => Outcome::Delivered,
        Meaning::Rejected => Outcome::GivenUp,
        Meaning::Retry if event.age_seconds >= f64::from(GIVE_UP_AFTER_S) => Outcome::GivenUp,
        Meaning::Retry => Outcome::Retry {
            in_s: backoff_s(event.attempts),
        },
    }
}

/// What the log and the queue keep of a failed attempt: the app's status, or what happened.
pub fn detail(answer: &Answer) -> Option<String> {
    match answer {
        Answer::Status(200..=299) => None,
        Answer::Status(status) => Some(format!("the app answered {status}")),
        Answer::Unanswered(what) => Some(clip_detail(what)),
    }
}

/// `domain_event`: one per attempt at delivering an event (`info` delivered, `warn` to be
/// retried, `error` given up).
#[derive(Debug, Serialize)]
pub struct DeliveryEvent {
    pub event_id: String,
    pub event_type: String,
    pub hostname: String,
    pub tenant_id: String,
    pub domain_id: String,
    pub attempt: u32,
    /// `delivered`, `retry` or `given_up`.
    pub outcome: &'static str,
    /// The app's HTTP status; `null` when it did not answer.
    pub status: Option<u16>,
    pub retry_in_s: Option<u32>,
    pub detail: Option<String>,
    pub duration_ms: u64,
}

impl DeliveryEvent {
    /// The log's record of `event`'s attempt: `answer`, what came of it, in `duration_ms`.
    pub fn of(event: &Queued, answer: &Answer, outcome: &Outcome, duration_ms: u64) -> Self {
        DeliveryEvent {
            event_id: event.id.clone(),
            event_type: event.kind.clone(),
            hostname: event.hostname.clone(),
            tenant_id: event.tenant_id.clone(),
            domain_id: event.domain_id.clone(),
            attempt: event.attempts,
            outcome: outcome.as_str(),
            status: match answer {
                Answer::Status(status) => Some(*status),
                Answer::Unanswered(_) => None,
            },
            retry_in_s: match outcome {
                Outcome::Retry { in_s } => Some(*in_s),
                _ => None,
            },
            detail: detail(answer),
            duration_ms,
        }
    }
}

impl Event for DeliveryEvent {
    const KIND: &'static str = "domain_event";
    fn level(&self) -> Level {
        match self.outcome {
            "delivered" => Level::Info,
            "retry" => Level::Warn,
            _ => Level::Error,
        }
    }
}

/// `domain_events_stopped`: a run's deliveries ended early, the events not reached left
/// queued (`warn` when the app stopped answering, `error` when PostgREST failed).
#[derive(Debug, Serialize)]
pub struct StoppedEvent {
    #[serde(skip)]
    pub level: Level,
    pub detail: String,
}

impl Event for StoppedEvent {
    const KIND: &'static str = "domain_events_stopped";
    fn level(&self) -> Level {
        self.level
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    fn queued(attempts: u32, age_seconds: f64) -> Queued {
        Queued {
            id: "6f1c2b1e-0000-4000-8000-000000000001".into(),
            kind: "domain.active".into(),
            domain_id: "6f1c2b1e-0000-4000-8000-0000000000d1".into(),
            tenant_id: "3bb43f29-695c-493b-8b5c-3819ffc0675c".into(),
            hostname: "coach.example.com".into(),
            status: Some("active".into()),
            previous_status: Some("pending".into()),
            reason: None,
            at: "2026-12-08T03:00:00.000Z".into(),
            attempts,
            age_seconds,
        }
    }

    #[test]
    fn the_body_has_the_contracts_keys_in_order_and_is_the_same_on_every_attempt() {
        let body = queued(1, 0.0).body();
        assert_eq!(
            body,
            r#"{"id":"6f1c2b1e-0000-4000-8000-000000000001","type":"domain.active","hostname":"coach.example.com","tenantId":"3bb43f29-695c-493b-8b5c-3819ffc0675c","domainId":"6f1c2b1e-0000-4000-8000-0000000000d1","status":"active","previousStatus":"pending","reason":null,"at":"2026-12-08T03:00:00.000Z"}"#
        );
        assert_eq!(queued(7, 3600.0).body(), body);
    }

    #[test]
    fn claimed_rows_are_read_as_postgrest_writes_them() {
        let rows = r#"[{"id":"e1","type":"domain.failed","domain_id":"d1","tenant_id":"t1","hostname":"a.test","status":"failed","previous_status":"pending","reason":"not verified within 7 days","at":"2026-12-08T03:00:00.000Z","attempts":2,"age_seconds":31.5}]"#;
        let events = Queued::from_rows(rows).unwrap();
        assert_eq!(events[0].kind, "domain.failed");
        assert_eq!(events[0].attempts, 2);
        assert_eq!(
            events[0].reason.as_deref(),
            Some("not verified within 7 days")
        );
    }

    #[test]
    fn the_signed_text_is_the_time_a_dot_and_the_body_as_sent() {
        assert_eq!(canonical(1767225600, r#"{"a":1}"#), r#"1767225600.{"a":1}"#);
    }

    /// The published test vector (docs/origin.md): what Web Crypto computes in the Worker,
    /// and what `origin/verify.mjs` checks.
    #[test]
    fn the_signature_header_of_the_published_vector() {
        let secret = "test-domain-events-secret-0123456789abcdef";
        let body = queued(1, 0.0).body();
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(canonical(1767225600, &body).as_bytes());
        let header = signature_header(1767225600, &mac.finalize().into_bytes());
        assert_eq!(
            header,
            "t=1767225600,v1=4d400bb50eeda1558e191645c2eaa52f79ee6852e972cae6582b8f75a6e221af"
        );
    }

    #[test]
    fn the_back_off_starts_at_30_seconds_doubles_and_stays_at_30_minutes() {
        let delays: Vec<u32> = (1..=9).map(backoff_s).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1800, 1800, 1800]);
        assert_eq!(backoff_s(0), 30);
        assert_eq!(backoff_s(u32::MAX), 1800);
    }

    #[test]
    fn retrying_on_that_schedule_tries_for_a_day_before_giving_up() {
        let (mut age, mut attempts) = (0u64, 0u32);
        loop {
            attempts += 1;
            let event = queued(attempts, age as f64);
            match settle(&event, &Answer::Status(503)) {
                Outcome::Retry { in_s } => age += u64::from(in_s),
                Outcome::GivenUp => break,
                Outcome::Delivered => unreachable!(),
            }
        }
        assert!(age >= u64::from(GIVE_UP_AFTER_S), "given up at {age} s");
        assert!(age < u64::from(GIVE_UP_AFTER_S + MAX_RETRY_S));
        assert_eq!(attempts, 54);
    }

    #[test]
    fn a_2xx_is_delivered() {
        for status in [200, 201, 202, 204, 299] {
            assert_eq!(
                meaning(&Answer::Status(status)),
                Meaning::Delivered,
                "{status}"
            );
            assert_eq!(
                settle(&queued(1, 0.0), &Answer::Status(status)),
                Outcome::Delivered
            );
        }
    }

    #[test]
    fn a_5xx_a_timeout_a_rate_limit_a_redirect_or_a_setting_not_ready_is_retried() {
        let answers = [
            Answer::Status(500),
            Answer::Status(503),
            Answer::Status(408),
            Answer::Status(429),
            Answer::Status(301),
            Answer::Status(401),
            Answer::Status(403),
            Answer::Status(404),
            Answer::Status(405),
            Answer::Unanswered("timed out after 5000 ms".into()),
        ];
        for answer in answers {
            assert_eq!(meaning(&answer), Meaning::Retry, "{answer:?}");
            assert_eq!(
                settle(&queued(3, 60.0), &answer),
                Outcome::Retry { in_s: 120 }
            );
        }
    }

    #[test]
    fn another_4xx_is_the_app_refusing_the_event_and_gives_it_up_at_once() {
        for status in [400, 409, 410, 413, 422] {
            assert_eq!(
                meaning(&Answer::Status(status)),
                Meaning::Rejected,
                "{status}"
            );
            assert_eq!(
                settle(&queued(1, 0.0), &Answer::Status(status)),
                Outcome::GivenUp
            );
        }
    }

    #[test]
    fn a_failure_a_day_after_the_change_gives_the_event_up() {
        let day = f64::from(GIVE_UP_AFTER_S);
        assert_eq!(
            settle(&queued(50, day - 1.0), &Answer::Status(500)),
            Outcome::Retry { in_s: 1800 }
        );
        assert_eq!(
            settle(&queued(51, day), &Answer::Status(500)),
            Outcome::GivenUp
        );
        assert_eq!(
            settle(&queued(51, day), &Answer::Status(204)),
            Outcome::Delivered
        );
    }

    #[test]
    fn an_attempts_log_line_says_what_came_of_it_at_its_level() {
        let event = queued(2, 40.0);
        let answer = Answer::Status(500);
        let line = DeliveryEvent::of(&event, &answer, &settle(&event, &answer), 12);
        assert_eq!(
            (line.outcome, line.status, line.retry_in_s, line.level()),
            ("retry", Some(500), Some(60), Level::Warn)
        );
        assert_eq!(line.detail.as_deref(), Some("the app answered 500"));
        let answer = Answer::Unanswered("connection refused".into());
        let line = DeliveryEvent::of(&event, &answer, &Outcome::GivenUp, 3);
        assert_eq!((line.status, line.level()), (None, Level::Error));
        let ok = DeliveryEvent::of(&event, &Answer::Status(204), &Outcome::Delivered, 3);
        assert_eq!((ok.detail.as_deref(), ok.level()), (None, Level::Info));
    }
}
