//! `/_tenant/health`: what this isolate's last read of PostgREST found ([`LastUpstream`], no
//! I/O of its own), and `?deep=1`: how often a deep check may reach PostgREST.
//!
//! Every read of the tenant directory with the anon key (a lookup, an ownership check, a deep
//! check) leaves PostgREST in a [`Condition`]: it answered (`ok`, whatever it said of the
//! request), it failed (`unavailable`: a timeout, a refused connection, a 5xx, an unreadable
//! answer), or it answered what only a wrong setting explains (`misconfigured`, naming it).
//! The change feed reports itself apart (`changes`), and `/_tenant/me` reads with the caller's
//! token, which says nothing of the anon key.
//!
//! A deep check is a real PostgREST round trip, and anyone may ask for one. So an isolate runs
//! at most one per [`DEEP_CHECK_INTERVAL_MS`]: repeated and concurrent checks share the last
//! result, and the answer says how old that result is. Load on the database from health checks
//! is then bounded by the number of isolates, not by the number of callers.

use crate::error::UpstreamError;
use tenant_common::format_ms;

/// The shortest time between two deep checks that reach PostgREST, per isolate.
pub const DEEP_CHECK_INTERVAL_MS: u64 = 1000;

/// The last deep check: when it ran and what PostgREST answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeepCheck {
    pub checked_at_ms: u64,
    pub result: Result<(), UpstreamError>,
}

impl DeepCheck {
    /// How old this check is at `now_ms` (in ms), if it is young enough to share.
    pub fn shareable_age(&self, now_ms: u64) -> Option<u64> {
        let age = now_ms.saturating_sub(self.checked_at_ms);
        (age < DEEP_CHECK_INTERVAL_MS).then_some(age)
    }
}

/// What one read found of PostgREST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// It answered: a tenant, no such tenant, or a refusal of the request itself.
    Ok,
    /// It answered what only a wrong setting explains: this one.
    Misconfigured(&'static str),
    /// It failed: a timeout, a refused connection, a 5xx, an unreadable answer.
    Unavailable,
}

impl Condition {
    /// What a read found that failed with `error`, or did not (`None`).
    pub fn of(error: Option<&UpstreamError>) -> Condition {
        match error {
            None => Condition::Ok,
            Some(UpstreamError::Misconfigured { setting, .. }) => {
                Condition::Misconfigured(setting.name())
            }
            Some(_) => Condition::Unavailable,
        }
    }
}

/// This isolate's last read of PostgREST: what it found, and since when (ms) that has held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastUpstream {
    pub condition: Condition,
    pub since_ms: u64,
}

impl LastUpstream {
    /// The state after `previous` when a read at `at_ms` found `found`: the same condition (and
    /// setting) keeps its `since`.
    pub fn after(previous: Option<LastUpstream>, found: Condition, at_ms: u64) -> LastUpstream {
        match previous {
            Some(last) if last.condition == found => last,
            _ => LastUpstream {
                condition: found,
                since_ms: at_ms,
            },
        }
    }

    /// `body`, a health answer's JSON object (`Reply::health`), with `"lastUpstream"` added
    /// last: `{"state":"ok"|"misconfigured"|"unavailable","setting":…,"since":"<RFC 3339>"}`
    /// (`setting` only when misconfigured), or `null` before any read; the shape the control
    /// plane's `/health` writes too.
    pub fn added_to(body: &str, last: Option<LastUpstream>) -> String {
        let mut json = String::from(body.strip_suffix('}').unwrap_or(body));
        json.push_str(r#","lastUpstream":"#);
        match last {
            None => json.push_str("null"),
            Some(LastUpstream {
                condition,
                since_ms,
            }) => {
                json.push_str(r#"{"state":""#);
                // The setting is one of the Worker's own names: nothing to escape.
                match condition {
                    Condition::Ok => json.push_str("ok"),
                    Condition::Misconfigured(setting) => {
                        json.push_str(r#"misconfigured","setting":""#);
                        json.push_str(setting);
                    }
                    Condition::Unavailable => json.push_str("unavailable"),
                }
                json.push_str(r#"","since":""#);
                json.push_str(&format_ms(since_ms));
                json.push_str(r#""}"#);
            }
        }
        json.push('}');
        json
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Setting;

    #[test]
    fn a_condition_keeps_its_since_until_another_is_found() {
        let misconfigured = Condition::Misconfigured("SUPABASE_ANON_KEY");
        let first = LastUpstream::after(None, Condition::Ok, 100);
        assert_eq!(first.since_ms, 100);
        let same = LastUpstream::after(Some(first), Condition::Ok, 200);
        assert_eq!(same, first, "ok since the first read");
        let wrong = LastUpstream::after(Some(same), misconfigured, 300);
        assert_eq!((wrong.condition, wrong.since_ms), (misconfigured, 300));
        assert_eq!(LastUpstream::after(Some(wrong), misconfigured, 400), wrong);
        let other = LastUpstream::after(Some(wrong), Condition::Misconfigured("SUPABASE_URL"), 500);
        assert_eq!(other.since_ms, 500, "another setting is another condition");
        assert_eq!(
            LastUpstream::after(Some(other), Condition::Unavailable, 600).since_ms,
            600
        );
    }

    #[test]
    fn a_read_finds_what_its_error_says() {
        let misconfigured = UpstreamError::Misconfigured {
            setting: Setting::RestUrl,
            problem: "leads to a web page, not to PostgREST",
        };
        assert_eq!(
            Condition::of(Some(&misconfigured)),
            Condition::Misconfigured("SUPABASE_REST_URL")
        );
        assert_eq!(Condition::of(None), Condition::Ok);
        for failure in [
            UpstreamError::Timeout { after_ms: 300 },
            UpstreamError::Network("refused".into()),
            UpstreamError::Status {
                status: 502,
                body: String::new(),
            },
            UpstreamError::Decode("cut short".into()),
        ] {
            assert_eq!(Condition::of(Some(&failure)), Condition::Unavailable);
        }
    }

    #[test]
    fn health_says_what_the_last_read_found_and_since_when() {
        let body = r#"{"status":"ok","cache":{"memoryEntries":0},"wasmMemoryBytes":1}"#;
        let parsed = |last| -> serde_json::Value {
            serde_json::from_str(&LastUpstream::added_to(body, last)).unwrap()
        };
        let before = parsed(None);
        assert_eq!(before["lastUpstream"], serde_json::Value::Null);
        assert_eq!(before["status"], "ok", "the other members are kept");
        assert_eq!(before["cache"]["memoryEntries"], 0);
        let since_ms = 1_795_894_426_123;
        let wrong = parsed(Some(LastUpstream {
            condition: Condition::Misconfigured("SUPABASE_ANON_KEY"),
            since_ms,
        }));
        assert_eq!(
            wrong["lastUpstream"],
            serde_json::json!({"state":"misconfigured","setting":"SUPABASE_ANON_KEY","since":"2026-11-28T19:33:46.123Z"})
        );
        for (condition, state) in [
            (Condition::Ok, "ok"),
            (Condition::Unavailable, "unavailable"),
        ] {
            let v = parsed(Some(LastUpstream {
                condition,
                since_ms,
            }));
            assert_eq!(
                v["lastUpstream"],
                serde_json::json!({"state": state, "since":"2026-11-28T19:33:46.123Z"}),
                "no setting unless misconfigured"
            );
        }
    }

    #[test]
    fn a_check_is_shared_for_one_interval() {
        let check = DeepCheck {
            checked_at_ms: 10_000,
            result: Ok(()),
        };
        assert_eq!(check.shareable_age(10_000), Some(0));
        assert_eq!(check.shareable_age(10_999), Some(999));
        assert_eq!(check.shareable_age(11_000), None);
        assert_eq!(check.shareable_age(9_000), Some(0), "a clock step back");
    }
}
