//! What a Worker's calls to an upstream found, as its plain health check reports it
//! (`lastUpstream`): a [`Condition`], and since when this isolate has seen it ([`Seen`]). The
//! resolver keeps one for PostgREST, the control plane one each for PostgREST and Cloudflare;
//! both write it in one shape, here.

use crate::timestamp::format_ms;

/// What one call found of its upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// It answered: a success, or a refusal of the request itself (a coach's token, a hostname,
    /// no such tenant).
    Ok,
    /// It answered what only a wrong setting explains: this one.
    Misconfigured(&'static str),
    /// It failed: a timeout, a refused connection, a 5xx, a 429, an unreadable answer.
    Unavailable,
}

impl Condition {
    /// An upstream that answered with `status`.
    #[inline]
    pub fn of_status(status: u16) -> Condition {
        if status >= 500 || status == 429 {
            Condition::Unavailable
        } else {
            Condition::Ok
        }
    }
}

/// An upstream's condition in this isolate, and since when (ms) it has held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub condition: Condition,
    pub since_ms: u64,
}

impl Seen {
    /// The state after `previous`, when a call relying on the settings `uses` found `found` at
    /// `at_ms`. The same condition keeps its `since`. A misconfiguration stays until a call that
    /// relies on the setting it names finds something else (or another setting is found wrong):
    /// a call without that setting cannot tell whether it was fixed.
    #[inline]
    pub fn after(previous: Option<Seen>, found: Condition, uses: &[&str], at_ms: u64) -> Seen {
        match previous {
            Some(seen) if seen.condition == found => seen,
            Some(
                seen @ Seen {
                    condition: Condition::Misconfigured(setting),
                    ..
                },
            ) if !matches!(found, Condition::Misconfigured(_)) && !uses.contains(&setting) => seen,
            _ => Seen {
                condition: found,
                since_ms: at_ms,
            },
        }
    }
}

/// Appends `seen` as JSON to `json`: `{"state":"ok"|"misconfigured"|"unavailable","setting":…,
/// "since":"<RFC 3339>"}` (`setting` only when misconfigured), or `null` for `None`. Written by
/// hand: the resolver's Wasm carries no serializer for it.
#[inline]
pub fn write_seen(json: &mut String, seen: Option<Seen>) {
    let Some(Seen {
        condition,
        since_ms,
    }) = seen
    else {
        json.push_str("null");
        return;
    };
    json.push_str(r#"{"state":""#);
    // The setting is one of the Workers' own names: nothing to escape.
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

/// The shortest time between two deep health checks that reach upstream, per isolate.
pub const DEEP_CHECK_INTERVAL_MS: u64 = 1000;

/// The last deep health check an isolate ran: when, and what it found. Every check asked within
/// [`DEEP_CHECK_INTERVAL_MS`] of it shares its result, so however often `?deep=1` is asked, an
/// isolate reaches upstream for it at most once a second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeepCheck<R> {
    pub checked_at_ms: u64,
    pub result: R,
}

impl<R> DeepCheck<R> {
    /// How old this check is at `now_ms` (in ms), if it is young enough to share.
    #[inline]
    pub fn shareable_age(&self, now_ms: u64) -> Option<u64> {
        let age = now_ms.saturating_sub(self.checked_at_ms);
        (age < DEEP_CHECK_INTERVAL_MS).then_some(age)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deep_check_is_shared_for_one_interval() {
        let check = DeepCheck {
            checked_at_ms: 10_000,
            result: (),
        };
        assert_eq!(check.shareable_age(10_000), Some(0));
        assert_eq!(check.shareable_age(10_999), Some(999));
        assert_eq!(check.shareable_age(11_000), None);
        assert_eq!(check.shareable_age(9_000), Some(0), "a clock step back");
    }

    const USES: &[&str] = &["SUPABASE_URL", "SUPABASE_ANON_KEY"];

    #[test]
    fn a_condition_keeps_its_since_until_another_is_found() {
        let misconfigured = Condition::Misconfigured("SUPABASE_ANON_KEY");
        let first = Seen::after(None, Condition::Ok, USES, 100);
        assert_eq!(first.since_ms, 100);
        assert_eq!(Seen::after(Some(first), Condition::Ok, USES, 200), first);
        let wrong = Seen::after(Some(first), misconfigured, USES, 300);
        assert_eq!((wrong.condition, wrong.since_ms), (misconfigured, 300));
        assert_eq!(Seen::after(Some(wrong), misconfigured, USES, 400), wrong);
        let other = Seen::after(
            Some(wrong),
            Condition::Misconfigured("SUPABASE_URL"),
            USES,
            500,
        );
        assert_eq!(other.since_ms, 500, "another setting is another condition");
        assert_eq!(
            Seen::after(Some(other), Condition::Unavailable, USES, 600).since_ms,
            600
        );
    }

    #[test]
    fn a_misconfiguration_stays_until_a_call_relying_on_it_finds_otherwise() {
        let wrong = Seen::after(
            None,
            Condition::Misconfigured("SUPABASE_SECRET_KEY"),
            &[],
            100,
        );
        assert_eq!(Seen::after(Some(wrong), Condition::Ok, USES, 200), wrong);
        let fixed = Seen::after(Some(wrong), Condition::Ok, &["SUPABASE_SECRET_KEY"], 300);
        assert_eq!((fixed.condition, fixed.since_ms), (Condition::Ok, 300));
    }

    #[test]
    fn it_is_written_in_one_shape() {
        let json = |condition| {
            let mut json = String::new();
            write_seen(
                &mut json,
                Some(Seen {
                    condition,
                    since_ms: 0,
                }),
            );
            json
        };
        assert_eq!(
            json(Condition::Ok),
            r#"{"state":"ok","since":"1970-01-01T00:00:00.000Z"}"#
        );
        assert_eq!(
            json(Condition::Misconfigured("SUPABASE_URL")),
            r#"{"state":"misconfigured","setting":"SUPABASE_URL","since":"1970-01-01T00:00:00.000Z"}"#
        );
        let mut null = String::new();
        write_seen(&mut null, None);
        assert_eq!(null, "null");
        assert_eq!(Condition::of_status(503), Condition::Unavailable);
        assert_eq!(Condition::of_status(429), Condition::Unavailable);
        assert_eq!(Condition::of_status(404), Condition::Ok);
    }
}
