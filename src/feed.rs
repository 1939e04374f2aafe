//! The tenant change feed, and what it means for what an isolate has cached.
//!
//! The database records every change of `tenant_profiles` in `tenant_changes`: the SHA-256 of
//! the tenant's id and when it changed (a hash, so the anon key that reads the feed cannot list
//! tenants). A data center reads the last [`WINDOW_MS`] of it at most once per
//! `CHANGES_POLL_SECONDS` and shares that read, a [`Snapshot`], with its other isolates through
//! the Cache API. Each isolate applies what it has not seen yet ([`Feed::apply`]): a changed
//! tenant leaves its memory under every key, and "no such tenant" answers go too (a new tenant,
//! slug or domain may have appeared). Entries read back from the Cache API are checked against
//! the changes the isolate knows ([`Feed::vouch`]).
//!
//! Windows overlap: every read covers the last [`WINDOW_MS`], though reads come every few
//! seconds, so a change committed late (a long transaction) is still in a later read, and
//! applying a change twice changes nothing. An isolate that has not read the feed for longer
//! than the window cannot know what changed meanwhile: what it cached before the gap is no
//! longer vouched for and is served stale (refreshed in the background), never trusted.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::UpstreamError;
use crate::timestamp;

/// How far back each read of the feed goes. The database keeps an hour (see the
/// `record_tenant_changes` migration); an isolate idle for longer than this re-vouches nothing.
pub const WINDOW_MS: u64 = 15 * 60 * 1000;
/// The most changes one read returns. When a read is full, it vouches only for the time its
/// oldest change covers: a burst of edits costs refreshes, never a missed change.
pub const READ_LIMIT: usize = 1000;
/// How far the database's change times and the Worker's fetch times may disagree: a change
/// stamped up to this long before an answer was fetched still counts as possibly unseen by it.
pub const CLOCK_MARGIN_MS: u64 = 1000;

/// The SHA-256 of a tenant id (its canonical lowercase text), as the feed publishes it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantHash([u8; 32]);

impl TenantHash {
    /// The hash of the tenant with this id.
    pub fn of(id: &str) -> TenantHash {
        TenantHash(Sha256::digest(id.as_bytes()).into())
    }

    /// Parses 64 lowercase hex digits.
    pub fn parse_hex(hex: &str) -> Option<TenantHash> {
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks(2).enumerate() {
            out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Some(TenantHash(out))
    }
}

impl fmt::Display for TenantHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for TenantHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TenantHash({self})")
    }
}

/// One change: which tenant, and when (ms since the epoch, the database's clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub tenant: TenantHash,
    pub at_ms: u64,
}

/// One read of the feed: every change from `covers_from_ms` until `read_at_ms`. A data center
/// shares it as PostgREST's rows and the time of the read, and each isolate rebuilds it with
/// [`Snapshot::from_rows`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// When the read was sent (the Worker's clock).
    pub read_at_ms: u64,
    /// The snapshot holds every change since this time.
    pub covers_from_ms: u64,
    pub changes: Vec<Change>,
}

/// A row of the feed as PostgREST returns it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    tenant_hash: String,
    changed_at: String,
}

impl Snapshot {
    /// Where a read sent at `read_at_ms` starts: the `changed_at=gte.` filter value.
    pub fn since(read_at_ms: u64) -> String {
        timestamp::format_ms(read_at_ms.saturating_sub(WINDOW_MS))
    }

    /// The snapshot of PostgREST's answer to a read sent at `read_at_ms` (newest first, at most
    /// [`READ_LIMIT`] rows). A full answer covers only from its oldest change on.
    pub fn from_rows(body: &str, read_at_ms: u64) -> Result<Snapshot, UpstreamError> {
        let rows: Vec<Row> =
            serde_json::from_str(body).map_err(|e| UpstreamError::Decode(e.to_string()))?;
        let full = rows.len() >= READ_LIMIT;
        let changes = rows
            .into_iter()
            .map(|row| {
                let at_ms = timestamp::parse_ms(&row.changed_at).ok_or_else(|| {
                    UpstreamError::Decode(format!("changed_at {:?}", row.changed_at))
                })?;
                let tenant = TenantHash::parse_hex(&row.tenant_hash).ok_or_else(|| {
                    UpstreamError::Decode(format!("tenant_hash {:?}", row.tenant_hash))
                })?;
                Ok(Change { tenant, at_ms })
            })
            .collect::<Result<Vec<_>, UpstreamError>>()?;
        let window_start = read_at_ms.saturating_sub(WINDOW_MS);
        let covers_from_ms = match changes.iter().map(|c| c.at_ms).min() {
            Some(oldest) if full => oldest.saturating_add(1).max(window_start),
            _ => window_start,
        };
        Ok(Snapshot {
            read_at_ms,
            covers_from_ms,
            changes,
        })
    }
}

/// What the feed says about a cached answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vouch {
    /// Nothing the feed knows says it changed since it was fetched (or the feed is off).
    Trusted,
    /// The feed cannot say: it was fetched before what this isolate's reads cover.
    Unvouched,
    /// Its tenant (or, for "no such tenant", some tenant) changed after it was fetched.
    Changed,
}

/// Which tier an answer is read from. Memory marked its answers when a change for
/// them was applied; entries from the Cache API are checked against the changes known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Memory,
    Shared,
}

/// What applying a snapshot changed: the tenants (with their newest change) whose cached
/// entries fetched before that change must go, and whether "no such tenant" entries must go.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub tenants: HashMap<TenantHash, u64>,
    /// The newest of the new changes: negative entries fetched before it must go.
    pub newest_ms: Option<u64>,
}

impl Applied {
    /// Whether an answer fetched at `fetched_at_ms` predates `change_ms` (within the clock margin).
    pub fn predates(fetched_at_ms: u64, change_ms: u64) -> bool {
        fetched_at_ms < change_ms.saturating_add(CLOCK_MARGIN_MS)
    }
}

/// One isolate's knowledge of the feed.
#[derive(Debug, Default)]
pub struct Feed {
    /// When the newest snapshot applied was read; `None` before the first.
    seen_until_ms: Option<u64>,
    /// Since when this isolate has seen every change without a gap.
    vouched_since_ms: u64,
    /// What the newest snapshot covers: changes before it are forgotten.
    covers_from_ms: u64,
    /// The newest change applied per tenant, within the window.
    latest: HashMap<TenantHash, u64>,
    /// The newest change applied of any tenant.
    latest_any_ms: u64,
    /// When the last read failed, if it did and none has succeeded since.
    failed_at_ms: Option<u64>,
}

impl Feed {
    /// Whether to read the feed at `now_ms`: never read yet, or the newest snapshot is
    /// `poll_ms` old; after a failed read, not before `poll_ms` has passed.
    pub fn due(&self, now_ms: u64, poll_ms: u64) -> bool {
        let retry = self.failed_at_ms.is_none_or(|f| now_ms >= f + poll_ms);
        retry
            && self
                .seen_until_ms
                .is_none_or(|seen| now_ms >= seen + poll_ms)
    }

    /// How long before `now_ms` the newest snapshot applied was read, if any.
    pub fn last_read_ms_ago(&self, now_ms: u64) -> Option<u64> {
        self.seen_until_ms.map(|seen| now_ms.saturating_sub(seen))
    }

    /// Whether the last read failed (the next one then runs in the background).
    pub fn failing(&self) -> bool {
        self.failed_at_ms.is_some()
    }

    /// Notes a failed read at `now_ms`.
    pub fn failed(&mut self, now_ms: u64) {
        self.failed_at_ms = Some(now_ms);
    }

    /// Whether `snapshot`, read at `read_at_ms` by some isolate of this data center, is worth
    /// applying at `now_ms`: newer than what this isolate has, and younger than `poll_ms`.
    pub fn wants(&self, snapshot_read_at_ms: u64, now_ms: u64, poll_ms: u64) -> bool {
        self.seen_until_ms
            .is_none_or(|seen| snapshot_read_at_ms > seen)
            && now_ms < snapshot_read_at_ms + poll_ms
    }

    /// Applies a snapshot; returns what the caches must drop. An older snapshot changes
    /// nothing; a change already applied is not applied again.
    pub fn apply(&mut self, snapshot: &Snapshot) -> Applied {
        let mut applied = Applied::default();
        if self
            .seen_until_ms
            .is_some_and(|seen| snapshot.read_at_ms <= seen)
        {
            return applied;
        }
        let gap = self
            .seen_until_ms
            .is_none_or(|seen| snapshot.covers_from_ms > seen);
        if gap {
            self.vouched_since_ms = snapshot.covers_from_ms;
        }
        for change in &snapshot.changes {
            let known = self.latest.get(&change.tenant).copied();
            if known.is_none_or(|t| change.at_ms > t) {
                self.latest.insert(change.tenant, change.at_ms);
                let newest = applied.tenants.entry(change.tenant).or_default();
                *newest = (*newest).max(change.at_ms);
                applied.newest_ms = applied.newest_ms.max(Some(change.at_ms));
                self.latest_any_ms = self.latest_any_ms.max(change.at_ms);
            }
        }
        self.covers_from_ms = snapshot.covers_from_ms;
        let forget_before = snapshot.covers_from_ms.saturating_sub(CLOCK_MARGIN_MS);
        self.latest.retain(|_, at| *at >= forget_before);
        self.seen_until_ms = Some(snapshot.read_at_ms);
        self.failed_at_ms = None;
        applied
    }

    /// What the feed says about an answer fetched at `fetched_at_ms`, of `tenant` (`None`: a
    /// "no such tenant" answer), read from `tier`.
    pub fn vouch(&self, fetched_at_ms: u64, tenant: Option<&TenantHash>, tier: Tier) -> Vouch {
        if self.seen_until_ms.is_none() {
            return Vouch::Unvouched;
        }
        let floor = match tier {
            Tier::Memory => self.vouched_since_ms,
            Tier::Shared => self.vouched_since_ms.max(self.covers_from_ms),
        };
        if fetched_at_ms < floor {
            return Vouch::Unvouched;
        }
        if tier == Tier::Memory {
            return Vouch::Trusted;
        }
        let changed_at = match tenant {
            Some(hash) => self.latest.get(hash).copied(),
            None => Some(self.latest_any_ms).filter(|t| *t > 0),
        };
        match changed_at {
            Some(t) if Applied::predates(fetched_at_ms, t) => Vouch::Changed,
            _ => Vouch::Trusted,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const MIN: u64 = 60_000;
    const T0: u64 = 1_800_000_000_000;

    pub(crate) fn hash(n: u8) -> TenantHash {
        TenantHash([n; 32])
    }

    fn snapshot(read_at_ms: u64, changes: &[(u8, u64)]) -> Snapshot {
        Snapshot {
            read_at_ms,
            covers_from_ms: read_at_ms - WINDOW_MS,
            changes: changes
                .iter()
                .map(|&(n, at_ms)| Change {
                    tenant: hash(n),
                    at_ms,
                })
                .collect(),
        }
    }

    #[test]
    fn the_hash_is_sha256_of_the_id_text() {
        let h = TenantHash::of("7e000000-0000-4000-8000-000000000002");
        let hex = h.to_string();
        assert_eq!(hex.len(), 64);
        assert_eq!(TenantHash::parse_hex(&hex), Some(h));
        assert_eq!(
            TenantHash::of("").to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        for bad in ["", "00", &"g".repeat(64), &"A".repeat(64), &"0".repeat(65)] {
            assert_eq!(TenantHash::parse_hex(bad), None, "{bad}");
        }
    }

    #[test]
    fn rows_become_a_snapshot() {
        let body = format!(
            r#"[{{"tenant_hash":"{}","changed_at":"2027-01-15T08:00:00.5+00:00"}}]"#,
            hash(7)
        );
        let s = Snapshot::from_rows(&body, T0).unwrap();
        assert_eq!(s.changes.len(), 1);
        assert_eq!(s.changes[0].tenant, hash(7));
        assert_eq!(s.covers_from_ms, T0 - WINDOW_MS);
        for garbage in [
            "",
            "{}",
            r#"[{"tenant_hash":"x","changed_at":"2027-01-15T08:00:00Z"}]"#,
        ] {
            assert!(Snapshot::from_rows(garbage, T0).is_err(), "{garbage}");
        }
        let shared = Snapshot::from_rows(&body, T0).unwrap();
        assert_eq!(
            shared, s,
            "a data center shares the rows: read again, the same snapshot"
        );
        let hex = hash(0xab).to_string();
        let mixed_case = body.replace(&hash(7).to_string(), &hex.to_uppercase());
        assert!(
            Snapshot::from_rows(&mixed_case, T0).is_err(),
            "lowercase hex only"
        );
    }

    #[test]
    fn a_full_read_covers_only_from_its_oldest_change() {
        let row = |i: u64| {
            format!(
                r#"{{"tenant_hash":"{}","changed_at":"{}"}}"#,
                hash(1),
                timestamp::format_ms(T0 - i * 100)
            )
        };
        let rows: Vec<String> = (0..READ_LIMIT as u64).map(row).collect();
        let s = Snapshot::from_rows(&format!("[{}]", rows.join(",")), T0).unwrap();
        assert_eq!(s.covers_from_ms, T0 - (READ_LIMIT as u64 - 1) * 100 + 1);
    }

    #[test]
    fn it_is_due_every_poll_interval_and_backs_off_after_a_failure() {
        let mut feed = Feed::default();
        assert!(feed.due(T0, 5000));
        feed.apply(&snapshot(T0, &[]));
        assert!(!feed.due(T0 + 4999, 5000));
        assert!(feed.due(T0 + 5000, 5000));
        feed.failed(T0 + 5000);
        assert!(feed.failing());
        assert!(!feed.due(T0 + 9999, 5000));
        assert!(feed.due(T0 + 10_000, 5000));
        feed.apply(&snapshot(T0 + 10_000, &[]));
        assert!(!feed.failing());
    }

    #[test]
    fn a_shared_snapshot_is_wanted_when_newer_and_young() {
        let mut feed = Feed::default();
        assert!(feed.wants(T0, T0 + 4000, 5000));
        assert!(!feed.wants(T0, T0 + 5000, 5000), "too old");
        feed.apply(&snapshot(T0, &[]));
        assert!(!feed.wants(T0, T0 + 1000, 5000), "already applied");
        assert!(feed.wants(T0 + 1, T0 + 1000, 5000));
    }

    #[test]
    fn nothing_is_vouched_for_before_the_first_read() {
        let feed = Feed::default();
        assert_eq!(
            feed.vouch(T0, Some(&hash(1)), Tier::Memory),
            Vouch::Unvouched
        );
        assert_eq!(feed.vouch(T0, None, Tier::Shared), Vouch::Unvouched);
    }

    #[test]
    fn a_change_is_applied_once_and_drops_older_entries() {
        let mut feed = Feed::default();
        feed.apply(&snapshot(T0, &[]));
        let applied = feed.apply(&snapshot(T0 + 5000, &[(1, T0 + 2000), (1, T0 + 1000)]));
        assert_eq!(applied.tenants, HashMap::from([(hash(1), T0 + 2000)]));
        assert_eq!(applied.newest_ms, Some(T0 + 2000));
        let again = feed.apply(&snapshot(T0 + 10_000, &[(1, T0 + 2000)]));
        assert_eq!(
            again,
            Applied::default(),
            "overlapping windows apply a change once"
        );
        assert!(Applied::predates(T0 + 2000, T0 + 2000));
        assert!(!Applied::predates(T0 + 3000, T0 + 2000));
    }

    #[test]
    fn a_late_commit_in_a_later_read_is_still_applied() {
        let mut feed = Feed::default();
        feed.apply(&snapshot(T0, &[]));
        // Stamped before the first read, committed (and visible) only after it.
        let applied = feed.apply(&snapshot(T0 + 5000, &[(3, T0 - 500)]));
        assert_eq!(applied.tenants.get(&hash(3)), Some(&(T0 - 500)));
    }

    #[test]
    fn an_older_snapshot_changes_nothing() {
        let mut feed = Feed::default();
        feed.apply(&snapshot(T0 + 5000, &[]));
        assert_eq!(
            feed.apply(&snapshot(T0, &[(1, T0 - 1)])),
            Applied::default()
        );
    }

    #[test]
    fn shared_entries_are_checked_against_known_changes() {
        let mut feed = Feed::default();
        feed.apply(&snapshot(T0, &[(1, T0 - MIN)]));
        assert_eq!(
            feed.vouch(T0 - 2 * MIN, Some(&hash(1)), Tier::Shared),
            Vouch::Changed
        );
        assert_eq!(
            feed.vouch(T0 - MIN + 500, Some(&hash(1)), Tier::Shared),
            Vouch::Changed,
            "within the clock margin"
        );
        assert_eq!(
            feed.vouch(T0 - MIN + 2000, Some(&hash(1)), Tier::Shared),
            Vouch::Trusted
        );
        assert_eq!(
            feed.vouch(T0 - 2 * MIN, Some(&hash(2)), Tier::Shared),
            Vouch::Trusted
        );
        assert_eq!(
            feed.vouch(T0 - 2 * MIN, None, Tier::Shared),
            Vouch::Changed,
            "a negative answer from before any change may hide a new tenant"
        );
        assert_eq!(feed.vouch(T0, None, Tier::Shared), Vouch::Trusted);
    }

    #[test]
    fn entries_older_than_the_window_are_unvouched() {
        let mut feed = Feed::default();
        feed.apply(&snapshot(T0, &[]));
        let before_window = T0 - WINDOW_MS - 1;
        assert_eq!(
            feed.vouch(before_window, Some(&hash(1)), Tier::Shared),
            Vouch::Unvouched
        );
        assert_eq!(
            feed.vouch(before_window, Some(&hash(1)), Tier::Memory),
            Vouch::Unvouched
        );
    }

    #[test]
    fn memory_stays_vouched_while_reads_overlap_and_not_after_a_gap() {
        let mut feed = Feed::default();
        feed.apply(&snapshot(T0, &[]));
        let fetched = T0 + 1000;
        for i in 1..=400 {
            feed.apply(&snapshot(T0 + i * 5000, &[]));
        }
        assert_eq!(
            feed.vouch(fetched, None, Tier::Memory),
            Vouch::Trusted,
            "33 minutes of reads without a gap"
        );
        assert_eq!(
            feed.vouch(fetched, Some(&hash(1)), Tier::Shared),
            Vouch::Unvouched,
            "a shared answer is checked against the window only"
        );
        feed.apply(&snapshot(T0 + 400 * 5000 + WINDOW_MS + 1, &[]));
        assert_eq!(
            feed.vouch(fetched, None, Tier::Memory),
            Vouch::Unvouched,
            "after a gap"
        );
    }
}
