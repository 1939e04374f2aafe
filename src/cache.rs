//! The caching policy for tenant lookups: what a cached answer is worth, for how long, and the
//! `Cache-Control` it is served with ([`CacheControl`]).
//!
//! A lookup's answer (a tenant, or "no such tenant") is an [`Entry`] stamped with the time it
//! was fetched, kept in the Cache API as text ([`Entry::to_text`]). [`Policy::freshness`] says what that answer is worth now, given its age and what
//! the change feed says of it ([`Vouch`]): fresh (serve it), stale (serve it and refresh in the
//! background: stale-while-revalidate), changed (fetch first), or expired (fetch first). When a
//! fetch fails, a stale or changed tenant is still served (stale-if-error, [`Freshness::serves_on_error`]).
//!
//! With the change feed on (`CHANGES_POLL_SECONDS` > 0), a tenant stays fresh until the feed
//! reports a change or `CACHE_TTL_SECONDS` runs out, which is then only a backstop for when the
//! feed cannot be read; with it off, the TTL alone decides. Negative entries are fresh for a
//! shorter time, never served stale, and dropped by any change (a tenant may have appeared).
//!
//! The first tier, isolate memory, is `crate::memory`; the Workers Cache API, the second tier, is
//! I/O and lives in `edge`.

use std::rc::Rc;

use crate::feed::{TenantHash, Vouch};
use crate::key::Lookup;
use crate::reply::{Scope, Text};
use crate::tenant::Tenant;
use tenant_common::Host;
use tenant_common::{Slug, TenantId};

/// Default for `CACHE_TTL_SECONDS` with the change feed on: a backstop, since the feed reports
/// changes within seconds; it bounds staleness only while the feed cannot be read.
pub const DEFAULT_TTL_SECONDS: u32 = 3600;
/// Default for `CACHE_TTL_SECONDS` with the change feed off: the TTL alone bounds staleness.
pub const DEFAULT_TTL_SECONDS_WITHOUT_FEED: u32 = 60;
/// Default for `CHANGES_FAILING_TTL_SECONDS`: while the feed cannot be read, how long an answer
/// fetched meanwhile is fresh; the feed-off TTL, since the cache then works as with the feed off.
pub const DEFAULT_FAILING_TTL_SECONDS: u32 = DEFAULT_TTL_SECONDS_WITHOUT_FEED;
/// Default for `CACHE_STALE_SECONDS`: how long after that a stale answer may still be served.
pub const DEFAULT_STALE_SECONDS: u32 = 86_400;
/// Default for `NEGATIVE_TTL_SECONDS`: how long "no such tenant" is remembered.
pub const DEFAULT_NEGATIVE_TTL_SECONDS: u32 = 30;
/// Default for `CACHE_MEMORY_ENTRIES`: keys held in isolate memory.
pub const DEFAULT_MEMORY_ENTRIES: u32 = 1000;
/// Default for `CHANGES_POLL_SECONDS`: how often a data center reads the change feed.
pub const DEFAULT_CHANGES_POLL_SECONDS: u32 = 5;
/// After a failed background refresh, wait this long before trying again.
pub const REFRESH_BACKOFF_MS: u64 = 5_000;

/// A cache entry: the answer to one lookup, the tenant or `None` for "no such tenant".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub tenant: Option<Rc<Tenant>>,
    /// When the answer was asked of PostgREST (ms since the epoch): the request went out then,
    /// so it saw every change committed before.
    pub fetched_at_ms: u64,
}

impl Entry {
    /// The keys this answer to `lookup` is cached under, and what a purge of `lookup` drops:
    /// every key of its tenant and `lookup` (an alias domain beside the primary), or `lookup`
    /// alone for "no such tenant". Each key once.
    pub fn keys(&self, lookup: &Lookup) -> Vec<Lookup> {
        let mut keys = self.tenant.as_ref().map(|r| r.keys()).unwrap_or_default();
        if !keys.contains(lookup) {
            keys.push(lookup.clone());
        }
        keys
    }

    /// The answer as the Cache API keeps it: what cannot be derived, as lines of text,
    ///
    /// ```text
    /// <fetched_at_ms>
    /// <tenant id> <slug> <primary domain or ->, or - for no such tenant
    /// <the tenant's public JSON, to the end>
    /// ```
    ///
    /// rather than JSON: serde's code for three more structs cost the Wasm more than this.
    pub fn to_text(&self) -> String {
        match &self.tenant {
            Some(t) => format!(
                "{}\n{} {} {}\n{}",
                self.fetched_at_ms,
                t.id.as_str(),
                t.slug.as_str(),
                t.primary.as_ref().map_or("-", |d| d.as_str()),
                t.json
            ),
            None => format!("{}\n-\n", self.fetched_at_ms),
        }
    }

    /// Reads [`Entry::to_text`]'s format; `None` for anything else (an entry of another
    /// version, say: it is then fetched again).
    pub fn from_text(text: &str) -> Option<Entry> {
        let (fetched_at, rest) = text.split_once('\n')?;
        let (keys, json) = rest.split_once('\n')?;
        let tenant = match keys.split(' ').collect::<Vec<_>>().as_slice() {
            ["-"] => None,
            [id, slug, primary] => Some(Rc::new(Tenant::new(
                TenantId::parse(id).ok()?,
                Slug::parse(slug).ok()?,
                match *primary {
                    "-" => None,
                    d => Some(Host::parse_domain(d).ok()?),
                },
                json.to_string(),
            ))),
            _ => return None,
        };
        Some(Entry {
            tenant,
            fetched_at_ms: fetched_at.parse().ok()?,
        })
    }

    /// The hash of its tenant, `None` for "no such tenant".
    pub fn hash(&self) -> Option<&TenantHash> {
        self.tenant.as_ref().map(|r| &r.hash)
    }
}

/// What an answer is worth now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Serve it; `remaining_s` is how long it stays fresh at most.
    Fresh { remaining_s: u32 },
    /// Serve it and refresh in the background.
    Stale,
    /// The feed reports its tenant changed: fetch first, serve it only if the fetch fails.
    Changed,
    /// Too old to serve: fetch first.
    Expired,
}

impl Freshness {
    /// Whether an answer worth this is served when fetching a newer one failed.
    pub fn serves_on_error(self) -> bool {
        matches!(self, Freshness::Stale | Freshness::Changed)
    }
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
    /// How often a data center reads the change feed; 0: the feed is off.
    pub changes_poll_s: u32,
    /// While the feed cannot be read, how long an answer no read covers is fresh.
    pub failing_ttl_s: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            ttl_s: DEFAULT_TTL_SECONDS,
            stale_s: DEFAULT_STALE_SECONDS,
            negative_ttl_s: DEFAULT_NEGATIVE_TTL_SECONDS,
            memory_entries: DEFAULT_MEMORY_ENTRIES as usize,
            changes_poll_s: DEFAULT_CHANGES_POLL_SECONDS,
            failing_ttl_s: DEFAULT_FAILING_TTL_SECONDS,
        }
    }
}

impl Policy {
    /// Whether the change feed is on.
    pub fn feed_on(&self) -> bool {
        self.changes_poll_s > 0
    }

    /// What `entry` is worth at `now_ms`, given what the change feed says of it (`Trusted`
    /// when the feed is off). A `Provisional` answer (fetched while the feed cannot be read)
    /// is fresh for `failing_ttl_s` at most: then stale, and refreshed once in the background.
    pub fn freshness(&self, entry: &Entry, now_ms: u64, vouch: Vouch) -> Freshness {
        let age_ms = now_ms.saturating_sub(entry.fetched_at_ms);
        let positive = entry.tenant.is_some();
        let ttl_s = if positive {
            self.ttl_s
        } else {
            self.negative_ttl_s
        };
        let ttl_s = match vouch {
            Vouch::Provisional => ttl_s.min(self.failing_ttl_s),
            _ => ttl_s,
        };
        let ttl_ms = u64::from(ttl_s) * 1000;
        if age_ms >= ttl_ms {
            let stale_ms = u64::from(self.stale_s) * 1000;
            return if positive && age_ms < ttl_ms + stale_ms {
                Freshness::Stale
            } else {
                Freshness::Expired
            };
        }
        match (vouch, positive) {
            (Vouch::Trusted | Vouch::Provisional, _) => {
                let remaining_s = (ttl_ms - age_ms).div_ceil(1000);
                Freshness::Fresh {
                    remaining_s: u32::try_from(remaining_s).unwrap_or(u32::MAX),
                }
            }
            (Vouch::Unvouched, true) => Freshness::Stale,
            (Vouch::Changed, true) => Freshness::Changed,
            (_, false) => Freshness::Expired,
        }
    }

    /// How long a shared cache (the Workers Cache API) should keep `entry`: through its stale
    /// window for a tenant, its negative TTL for "no such tenant".
    pub fn shared_lifetime_s(&self, entry: &Entry) -> u32 {
        if entry.tenant.is_some() {
            self.ttl_s.saturating_add(self.stale_s)
        } else {
            self.negative_ttl_s
        }
    }

    /// The `Cache-Control` value of a tenant answer served with `freshness`. With the change
    /// feed on, browsers and CDNs keep it no longer than one poll interval, so an edit reaches
    /// them as soon as it reaches the edge.
    pub fn cache_control(&self, scope: Scope, freshness: Freshness) -> String {
        let max_age = match freshness {
            Freshness::Fresh { remaining_s } if self.feed_on() => {
                remaining_s.min(self.changes_poll_s)
            }
            Freshness::Fresh { remaining_s } => remaining_s,
            Freshness::Stale | Freshness::Changed | Freshness::Expired => 0,
        };
        let visibility = match scope {
            Scope::Public => "public",
            Scope::HostBound => "private",
        };
        format!(
            "{visibility}, max-age={max_age}, stale-while-revalidate={}",
            self.stale_s
        )
    }
}

/// The `Cache-Control` values of tenant answers under one [`Policy`]. With the change feed on,
/// a fresh answer's is the same for every answer, so it is formatted once (public and
/// host-bound) and shared, never formatted again on a hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheControl {
    policy: Policy,
    /// A fresh answer's with the feed on, by [`Scope`].
    fresh: [Rc<str>; 2],
}

impl CacheControl {
    /// The values of `policy`, a fresh answer's formatted now.
    pub fn new(policy: Policy) -> CacheControl {
        let fresh = Freshness::Fresh {
            remaining_s: policy.changes_poll_s,
        };
        CacheControl {
            fresh: [Scope::Public, Scope::HostBound]
                .map(|scope| Rc::from(policy.cache_control(scope, fresh))),
            policy,
        }
    }

    /// The `Cache-Control` of a tenant answer served with `freshness` ([`Policy::cache_control`]).
    pub fn value(&self, scope: Scope, freshness: Freshness) -> Text {
        match freshness {
            Freshness::Fresh { remaining_s }
                if self.policy.feed_on() && remaining_s >= self.policy.changes_poll_s =>
            {
                Text::Shared(self.fresh[scope as usize].clone())
            }
            _ => Text::Owned(self.policy.cache_control(scope, freshness)),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A found tenant `slug`, fetched at `at` ms, with every key (slug, domain, id) set.
    pub(crate) fn found(slug: &str, at: u64) -> Entry {
        let tenant = Tenant::new(
            TenantId::parse(&format!("00000000-0000-4000-8000-{:012}", slug.len())).unwrap(),
            Slug::parse(slug).unwrap(),
            Some(Host::parse_domain(&format!("coach.{slug}.com")).unwrap()),
            format!(r#"{{"slug":"{slug}"}}"#),
        );
        Entry {
            tenant: Some(Rc::new(tenant)),
            fetched_at_ms: at,
        }
    }

    pub(crate) fn missing(at: u64) -> Entry {
        Entry {
            tenant: None,
            fetched_at_ms: at,
        }
    }

    const POLICY: Policy = Policy {
        ttl_s: 60,
        stale_s: 600,
        negative_ttl_s: 30,
        memory_entries: 10,
        changes_poll_s: 0,
        failing_ttl_s: 20,
    };

    const TRUSTED: Vouch = Vouch::Trusted;

    #[test]
    fn tenants_are_fresh_then_stale_then_expired() {
        let e = found("acme", 1_000);
        assert_eq!(
            POLICY.freshness(&e, 1_000, TRUSTED),
            Freshness::Fresh { remaining_s: 60 }
        );
        assert_eq!(
            POLICY.freshness(&e, 60_500, TRUSTED),
            Freshness::Fresh { remaining_s: 1 }
        );
        assert_eq!(POLICY.freshness(&e, 61_000, TRUSTED), Freshness::Stale);
        assert_eq!(POLICY.freshness(&e, 660_999, TRUSTED), Freshness::Stale);
        assert_eq!(POLICY.freshness(&e, 661_000, TRUSTED), Freshness::Expired);
    }

    #[test]
    fn negative_entries_expire_without_a_stale_window() {
        let e = missing(0);
        assert_eq!(
            POLICY.freshness(&e, 29_999, TRUSTED),
            Freshness::Fresh { remaining_s: 1 }
        );
        assert_eq!(POLICY.freshness(&e, 30_000, TRUSTED), Freshness::Expired);
        assert_eq!(POLICY.shared_lifetime_s(&e), 30);
        assert_eq!(POLICY.shared_lifetime_s(&found("acme", 0)), 660);
    }

    #[test]
    fn what_the_feed_says_decides_within_the_ttl() {
        let e = found("acme", 0);
        assert_eq!(
            POLICY.freshness(&e, 1_000, Vouch::Unvouched),
            Freshness::Stale
        );
        assert_eq!(
            POLICY.freshness(&e, 1_000, Vouch::Changed),
            Freshness::Changed
        );
        for vouch in [Vouch::Unvouched, Vouch::Changed] {
            assert_eq!(
                POLICY.freshness(&missing(0), 1_000, vouch),
                Freshness::Expired
            );
        }
        assert_eq!(
            POLICY.freshness(&e, 61_000, Vouch::Changed),
            Freshness::Stale,
            "past the backstop the TTL decides"
        );
    }

    #[test]
    fn while_the_feed_fails_an_answer_no_read_covers_is_fresh_for_the_failing_ttl() {
        let policy = Policy {
            changes_poll_s: 5,
            ttl_s: 3600,
            ..POLICY
        };
        let e = found("acme", 0);
        let provisional = Vouch::Provisional;
        assert_eq!(
            policy.freshness(&e, 19_000, provisional),
            Freshness::Fresh { remaining_s: 1 }
        );
        assert_eq!(
            policy.freshness(&e, 20_000, provisional),
            Freshness::Stale,
            "then stale: served while one refresh runs in the background"
        );
        assert_eq!(
            policy.freshness(&e, 20_000, TRUSTED),
            Freshness::Fresh { remaining_s: 3580 },
            "what the feed vouched for keeps the backstop TTL"
        );
        assert_eq!(
            policy.freshness(&missing(0), 19_000, provisional),
            Freshness::Fresh { remaining_s: 1 },
            "no such tenant: the shorter of the two TTLs"
        );
        assert_eq!(
            policy.freshness(&missing(0), 20_000, provisional),
            Freshness::Expired
        );
    }

    #[test]
    fn stale_and_changed_tenants_are_served_when_a_fetch_fails() {
        assert!(Freshness::Stale.serves_on_error());
        assert!(Freshness::Changed.serves_on_error());
        assert!(!Freshness::Expired.serves_on_error());
        assert!(!Freshness::Fresh { remaining_s: 1 }.serves_on_error());
    }

    #[test]
    fn cache_control_counts_down_the_remaining_freshness() {
        assert_eq!(
            POLICY.cache_control(Scope::Public, Freshness::Fresh { remaining_s: 42 }),
            "public, max-age=42, stale-while-revalidate=600"
        );
        assert_eq!(
            POLICY.cache_control(Scope::HostBound, Freshness::Stale),
            "private, max-age=0, stale-while-revalidate=600"
        );
    }

    #[test]
    fn with_the_feed_on_downstream_caches_keep_an_answer_one_poll_interval() {
        let policy = Policy {
            changes_poll_s: 5,
            ttl_s: 3600,
            ..POLICY
        };
        assert_eq!(
            policy.cache_control(Scope::Public, Freshness::Fresh { remaining_s: 3000 }),
            "public, max-age=5, stale-while-revalidate=600"
        );
        assert_eq!(
            policy.cache_control(Scope::Public, Freshness::Fresh { remaining_s: 2 }),
            "public, max-age=2, stale-while-revalidate=600"
        );
    }

    #[test]
    fn a_fresh_answer_with_the_feed_on_gets_the_same_cache_control_every_time() {
        let c = CacheControl::new(Policy::default());
        let fresh = Freshness::Fresh { remaining_s: 3000 };
        let a = c.value(Scope::Public, fresh);
        let b = c.value(Scope::Public, fresh);
        assert!(matches!((&a, &b), (Text::Shared(x), Text::Shared(y)) if Rc::ptr_eq(x, y)));
        assert_eq!(&*a, "public, max-age=5, stale-while-revalidate=86400");
        assert_eq!(
            &*c.value(Scope::HostBound, fresh),
            "private, max-age=5, stale-while-revalidate=86400"
        );
        let ending = c.value(Scope::Public, Freshness::Fresh { remaining_s: 2 });
        assert_eq!(&*ending, "public, max-age=2, stale-while-revalidate=86400");
        assert_eq!(
            &*c.value(Scope::Public, Freshness::Stale),
            "public, max-age=0, stale-while-revalidate=86400"
        );
    }

    #[test]
    fn a_tenant_is_cached_under_each_of_its_keys_once() {
        let e = found("acme", 0);
        let by_slug = Lookup::Slug(Slug::parse("acme").unwrap());
        assert_eq!(e.keys(&by_slug).len(), 3);
        assert_eq!(
            missing(0).keys(&by_slug),
            vec![by_slug.clone()],
            "no such tenant: the lookup's key only"
        );
    }

    #[test]
    fn an_answer_by_an_alias_domain_is_cached_under_it_and_every_key_of_its_tenant() {
        let by_alias = found("acme", 0);
        let alias = Lookup::Domain(Host::parse_domain("old.acme.com").unwrap());
        let primary = Lookup::Domain(Host::parse_domain("coach.acme.com").unwrap());
        let keys = by_alias.keys(&alias);
        assert!(keys.contains(&alias) && keys.contains(&primary), "{keys:?}");
        assert_eq!(keys.len(), 4, "slug, id, the primary and the alias");
    }

    #[test]
    fn entries_round_trip_through_their_text() {
        let e = found("acme", 7);
        assert_eq!(Entry::from_text(&e.to_text()), Some(e.clone()));
        let stored = e.to_text();
        assert!(
            !stored.contains("etag") && !stored.contains("hash"),
            "{stored}"
        );
        assert_eq!(Entry::from_text(&missing(9).to_text()), Some(missing(9)));
        let mut lines = found("acme", 7);
        let tenant = lines.tenant.take().unwrap();
        let multi = Tenant::new(
            tenant.id.clone(),
            tenant.slug.clone(),
            None,
            "{\"welcome\":\"a\\nb\"}\n".into(),
        );
        lines.tenant = Some(Rc::new(multi));
        assert_eq!(
            Entry::from_text(&lines.to_text()),
            Some(lines),
            "the JSON is the rest"
        );
        for bad in ["", "7", "7\n-", "x\n-\n", "7\nnot-a-uuid acme -\n{}"] {
            assert_eq!(Entry::from_text(bad), None, "{bad:?}");
        }
    }
}
