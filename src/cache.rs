//! The caching policy for tenant lookups: what a cached answer is worth, and for how long.
//!
//! A lookup's answer (a tenant, or "no such tenant") is an [`Entry`] stamped with the time it
//! was fetched. [`Policy::freshness`] says what that entry is worth now: fresh (serve it), stale
//! (serve it and refresh in the background: stale-while-revalidate, and stale-if-error when the
//! refresh fails), or expired (fetch before answering). Negative entries are fresh for a shorter
//! time and never served stale.
//!
//! The first tier, isolate memory, is `crate::memory`; the Workers Cache API, the second tier, is
//! I/O and lives in `edge`.

use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::tenant::Tenant;

/// Default for `CACHE_TTL_SECONDS`: how long an answer is fresh.
pub const DEFAULT_TTL_SECONDS: u32 = 60;
/// Default for `CACHE_STALE_SECONDS`: how long after that a stale answer may still be served.
pub const DEFAULT_STALE_SECONDS: u32 = 86_400;
/// Default for `NEGATIVE_TTL_SECONDS`: how long "no such tenant" is remembered.
pub const DEFAULT_NEGATIVE_TTL_SECONDS: u32 = 30;
/// Default for `CACHE_MEMORY_ENTRIES`: keys held in isolate memory.
pub const DEFAULT_MEMORY_ENTRIES: u32 = 1000;
/// After a failed background refresh, wait this long before trying again.
pub const REFRESH_BACKOFF_MS: u64 = 5_000;

/// A tenant as the cache keeps it: its keys, and its public JSON already serialised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub slug: String,
    pub domain: Option<String>,
    /// The public tenant JSON served by every public route.
    pub json: String,
}

impl Record {
    /// The record of a tenant row.
    pub fn of(tenant: &Tenant) -> Record {
        Record {
            id: tenant.id.clone(),
            slug: tenant.slug.clone(),
            domain: tenant.custom_domain.clone(),
            json: tenant.to_json(),
        }
    }

    /// Every cache key this tenant is reachable by.
    pub fn keys(&self) -> Vec<String> {
        let mut keys = vec![format!("slug:{}", self.slug), format!("id:{}", self.id)];
        keys.extend(self.domain.as_ref().map(|d| format!("domain:{d}")));
        keys
    }
}

/// A cached answer to one lookup: the tenant, or `None` for "no such tenant".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub record: Option<Rc<Record>>,
    /// When the answer was fetched from PostgREST (ms since the epoch).
    pub fetched_at_ms: u64,
}

/// What an entry is worth now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Serve it; `remaining_s` is how long it stays fresh.
    Fresh { remaining_s: u32 },
    /// Serve it and refresh in the background.
    Stale,
    /// Too old to serve: fetch first.
    Expired,
}

/// How the answer to a request used the cache; sent as `X-Tenant-Cache`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    Hit,
    Miss,
    Stale,
    Bypass,
}

impl CacheStatus {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheStatus::Hit => "hit",
            CacheStatus::Miss => "miss",
            CacheStatus::Stale => "stale",
            CacheStatus::Bypass => "bypass",
        }
    }
}

/// The cache's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub ttl_s: u32,
    pub stale_s: u32,
    pub negative_ttl_s: u32,
    pub memory_entries: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            ttl_s: DEFAULT_TTL_SECONDS,
            stale_s: DEFAULT_STALE_SECONDS,
            negative_ttl_s: DEFAULT_NEGATIVE_TTL_SECONDS,
            memory_entries: DEFAULT_MEMORY_ENTRIES as usize,
        }
    }
}

impl Policy {
    /// What `entry` is worth at `now_ms`.
    pub fn freshness(&self, entry: &Entry, now_ms: u64) -> Freshness {
        let age_ms = now_ms.saturating_sub(entry.fetched_at_ms);
        let ttl_ms = u64::from(if entry.record.is_some() {
            self.ttl_s
        } else {
            self.negative_ttl_s
        }) * 1000;
        if age_ms < ttl_ms {
            let remaining_s = (ttl_ms - age_ms).div_ceil(1000);
            return Freshness::Fresh {
                remaining_s: u32::try_from(remaining_s).unwrap_or(u32::MAX),
            };
        }
        let stale_ms = u64::from(self.stale_s) * 1000;
        if entry.record.is_some() && age_ms < ttl_ms + stale_ms {
            Freshness::Stale
        } else {
            Freshness::Expired
        }
    }

    /// How long a shared cache (the Workers Cache API) should keep `entry`: through its stale
    /// window for a tenant, its negative TTL for "no such tenant".
    pub fn shared_lifetime_s(&self, entry: &Entry) -> u32 {
        if entry.record.is_some() {
            self.ttl_s.saturating_add(self.stale_s)
        } else {
            self.negative_ttl_s
        }
    }

    /// The `Cache-Control` value of a public answer served with `freshness`.
    pub fn cache_control(&self, scope_public: bool, freshness: Freshness) -> String {
        let max_age = match freshness {
            Freshness::Fresh { remaining_s } => remaining_s,
            Freshness::Stale | Freshness::Expired => 0,
        };
        let visibility = if scope_public { "public" } else { "private" };
        format!(
            "{visibility}, max-age={max_age}, stale-while-revalidate={}",
            self.stale_s
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A found tenant `slug`, fetched at `at` ms, with every key (slug, domain, id) set.
    pub(crate) fn found(slug: &str, at: u64) -> Entry {
        let record = Record {
            id: format!("00000000-0000-4000-8000-{:012}", slug.len()),
            slug: slug.into(),
            domain: Some(format!("coach.{slug}.com")),
            json: format!(r#"{{"slug":"{slug}"}}"#),
        };
        Entry {
            record: Some(Rc::new(record)),
            fetched_at_ms: at,
        }
    }

    const POLICY: Policy = Policy {
        ttl_s: 60,
        stale_s: 600,
        negative_ttl_s: 30,
        memory_entries: 10,
    };

    #[test]
    fn tenants_are_fresh_then_stale_then_expired() {
        let e = found("acme", 1_000);
        assert_eq!(
            POLICY.freshness(&e, 1_000),
            Freshness::Fresh { remaining_s: 60 }
        );
        assert_eq!(
            POLICY.freshness(&e, 60_500),
            Freshness::Fresh { remaining_s: 1 }
        );
        assert_eq!(POLICY.freshness(&e, 61_000), Freshness::Stale);
        assert_eq!(POLICY.freshness(&e, 660_999), Freshness::Stale);
        assert_eq!(POLICY.freshness(&e, 661_000), Freshness::Expired);
    }

    #[test]
    fn negative_entries_expire_without_a_stale_window() {
        let e = Entry {
            record: None,
            fetched_at_ms: 0,
        };
        assert_eq!(
            POLICY.freshness(&e, 29_999),
            Freshness::Fresh { remaining_s: 1 }
        );
        assert_eq!(POLICY.freshness(&e, 30_000), Freshness::Expired);
        assert_eq!(POLICY.shared_lifetime_s(&e), 30);
        assert_eq!(POLICY.shared_lifetime_s(&found("acme", 0)), 660);
    }

    #[test]
    fn cache_control_counts_down_the_remaining_freshness() {
        assert_eq!(
            POLICY.cache_control(true, Freshness::Fresh { remaining_s: 42 }),
            "public, max-age=42, stale-while-revalidate=600"
        );
        assert_eq!(
            POLICY.cache_control(false, Freshness::Stale),
            "private, max-age=0, stale-while-revalidate=600"
        );
    }

    #[test]
    fn entries_round_trip_through_json() {
        let e = found("acme", 7);
        let back: Entry = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
    }
}
