//! `/_tenant/health?deep=1`: how often a deep check may reach PostgREST.
//!
//! A deep check is a real PostgREST round trip, and anyone may ask for one. So an isolate runs
//! at most one per [`DEEP_CHECK_INTERVAL_MS`]: repeated and concurrent checks share the last
//! result, and the answer says how old that result is. Load on the database from health checks
//! is then bounded by the number of isolates, not by the number of callers.

use crate::error::UpstreamError;

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

#[cfg(test)]
mod tests {
    use super::*;

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
