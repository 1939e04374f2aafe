//! `/_tenant/health`: what this isolate's last read of PostgREST found ([`Seen`], no
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
//! at most one per [`DEEP_CHECK_INTERVAL_MS`](tenant_common::DEEP_CHECK_INTERVAL_MS): repeated
//! and concurrent checks share the last result, and the answer says how old that result is.
//! Load on the database from health checks is then bounded by the number of isolates, not by
//! the number of callers.

use crate::error::UpstreamError;
use tenant_common::{write_seen, Condition, Seen};

/// The last deep check: when it ran and what PostgREST answered.
pub type DeepCheck = tenant_common::DeepCheck<Result<(), UpstreamError>>;

/// What a read of the tenant directory found that failed with `error`, or did not (`None`).
pub fn found(error: Option<&UpstreamError>) -> Condition {
    match error {
        None => Condition::Ok,
        Some(UpstreamError::Misconfigured { setting, .. }) => {
            Condition::Misconfigured(setting.name())
        }
        Some(_) => Condition::Unavailable,
    }
}

/// The settings every read of the tenant directory relies on (its URL, either way it is set,
/// and the anon key): a read finding PostgREST fine clears any misconfiguration of them.
pub const READS_RELY_ON: &[&str] = &["SUPABASE_URL", "SUPABASE_REST_URL", "SUPABASE_ANON_KEY"];

/// `body`, a health answer's JSON object (`Reply::health`), with `"lastUpstream"` added last:
/// this isolate's [`Seen`] of PostgREST in the shape both Workers write, or `null` before any
/// read.
pub fn added_to(body: &str, last: Option<Seen>) -> String {
    let mut json = String::from(body.strip_suffix('}').unwrap_or(body));
    json.push_str(r#","lastUpstream":"#);
    write_seen(&mut json, last);
    json.push('}');
    json
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Setting;

    #[test]
    fn a_read_finds_what_its_error_says() {
        let misconfigured = UpstreamError::Misconfigured {
            setting: Setting::RestUrl,
            problem: "leads to a web page, not to PostgREST",
        };
        assert_eq!(
            found(Some(&misconfigured)),
            Condition::Misconfigured("SUPABASE_REST_URL")
        );
        assert_eq!(found(None), Condition::Ok);
        for failure in [
            UpstreamError::Timeout { after_ms: 300 },
            UpstreamError::Network("refused".into()),
            UpstreamError::Status {
                status: 502,
                body: String::new(),
            },
            UpstreamError::Decode("cut short".into()),
        ] {
            assert_eq!(found(Some(&failure)), Condition::Unavailable);
        }
    }

    #[test]
    fn health_says_what_the_last_read_found_and_since_when() {
        let body = r#"{"status":"ok","cache":{"memoryEntries":0},"wasmMemoryBytes":1}"#;
        let parsed =
            |last| -> serde_json::Value { serde_json::from_str(&added_to(body, last)).unwrap() };
        let before = parsed(None);
        assert_eq!(before["lastUpstream"], serde_json::Value::Null);
        assert_eq!(before["status"], "ok", "the other members are kept");
        assert_eq!(before["cache"]["memoryEntries"], 0);
        let since_ms = 1_795_894_426_123;
        let wrong = parsed(Some(Seen {
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
            let v = parsed(Some(Seen {
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
}
