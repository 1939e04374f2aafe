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
//!
//! When the feed cannot be read (PostgREST failing, the grant revoked, the table not pushed
//! yet), the cache falls back to what it does with the feed off: an answer fetched meanwhile is
//! [`Vouch::Provisional`], fresh for a short TTL, never re-read per request; what was fetched
//! before keeps what the last good read said of it. Failed reads back off exponentially with
//! jitter ([`Feed::failed`]), and a data center's isolates share a [`Lease`] so that, most of the
//! time, one of them reads PostgREST per interval or back-off and the others take its snapshot.

use std::collections::HashMap;
use std::fmt;

use sha2::{Digest, Sha256};

use crate::error::UpstreamError;
use tenant_common::{format_ms, parse_ms};

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

/// A row of the feed, `{"tenant_hash", "changed_at"}`, both strings and nothing else. Read
/// through `serde_json::Value`, which the Worker links anyway, rather than a struct of its own.
fn row_fields(row: &serde_json::Value) -> Option<(&str, &str)> {
    let row = row.as_object().filter(|r| r.len() == 2)?;
    Some((
        row.get("tenant_hash")?.as_str()?,
        row.get("changed_at")?.as_str()?,
    ))
}

impl Snapshot {
    /// Where a read sent at `read_at_ms` starts: the `changed_at=gte.` filter value.
    pub fn since(read_at_ms: u64) -> String {
        format_ms(read_at_ms.saturating_sub(WINDOW_MS))
    }

    /// The snapshot of PostgREST's answer to a read sent at `read_at_ms` (newest first, at most
    /// [`READ_LIMIT`] rows). A full answer covers only from its oldest change on.
    pub fn from_rows(body: &str, read_at_ms: u64) -> Result<Snapshot, UpstreamError> {
        let rows: Vec<serde_json::Value> =
            serde_json::from_str(body).map_err(|e| UpstreamError::Decode(e.to_string()))?;
        let full = rows.len() >= READ_LIMIT;
        let changes = rows
            .iter()
            .map(|row| {
                let (tenant_hash, changed_at) = row_fields(row)
                    .ok_or_else(|| UpstreamError::Decode(format!("a feed row {row}")))?;
                let at_ms = parse_ms(changed_at)
                    .ok_or_else(|| UpstreamError::Decode(format!("changed_at {changed_at:?}")))?;
                let tenant = TenantHash::parse_hex(tenant_hash)
                    .ok_or_else(|| UpstreamError::Decode(format!("tenant_hash {tenant_hash:?}")))?;
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
    /// The feed cannot be read, and no read covers it (it was fetched after the last good one):
    /// trusted as if the feed were off, for the short TTL `CHANGES_FAILING_TTL_SECONDS`.
    Provisional,
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
    /// The failing episode this snapshot ended, if the feed could not be read before it.
    pub ended: Option<Failure>,
}

impl Applied {
    /// Whether an answer fetched at `fetched_at_ms` predates `change_ms` (within the clock margin).
    pub fn predates(fetched_at_ms: u64, change_ms: u64) -> bool {
        fetched_at_ms < change_ms.saturating_add(CLOCK_MARGIN_MS)
    }
}

/// The longest wait between two reads of a feed that keeps failing.
pub const MAX_BACKOFF_MS: u64 = 60_000;
/// At most this much later than one poll interval after the last read is the next one due, so
/// that a data center's isolates, which all applied the same snapshot, do not all find it
/// expired at the same moment: the first reads PostgREST, the others find its snapshot.
pub const MAX_DUE_JITTER_MS: u64 = 250;
/// How soon an isolate looks again for the data center's snapshot while another of its
/// isolates is reading PostgREST.
pub const RECHECK_MS: u64 = 100;
/// How long a request waits, at most, for a read of the feed that is due or running: enough for
/// the data center's snapshot in the Cache API, or a healthy PostgREST; never for a slow one.
pub const WAIT_BUDGET_MS: u64 = 50;
/// A read still running this long after its PostgREST timeout is taken as lost (its request
/// went away), and the next may start.
const LOST_AFTER_TIMEOUT_MS: u64 = 2000;

/// A failing episode: from the first read of the feed that failed until one succeeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// When the first failed read of the episode was sent.
    pub since_ms: u64,
    /// Failed reads in a row (in the whole data center, as far as its lease tells).
    pub attempts: u32,
    /// What the last one failed with (`UpstreamError::code`): a code, never a body.
    pub code: String,
}

/// What a data center's isolates tell each other through the Cache API, beside the snapshot:
/// nobody reads PostgREST before `until_ms`, because one of them is reading now or because the
/// feed is failing and reads back off. It narrows, but cannot close, the race of two isolates
/// reading at the same moment (the Cache API has no compare-and-set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub until_ms: u64,
    /// An isolate is reading now (its snapshot will follow), rather than backing off.
    pub reading: bool,
    pub failure: Option<Failure>,
}

impl Lease {
    /// The lease as the Cache API keeps it: `<until> <reading 0|1> <failing since|-> <attempts>
    /// <code>` (a code has no spaces). Text, not JSON: one small parser instead of serde's for
    /// two more structs in the Wasm.
    pub fn to_text(&self) -> String {
        match &self.failure {
            Some(f) => format!(
                "{} {} {} {} {}",
                self.until_ms, self.reading as u8, f.since_ms, f.attempts, f.code
            ),
            None => format!("{} {} - 0 -", self.until_ms, self.reading as u8),
        }
    }

    /// Reads [`Lease::to_text`]'s format; `None` for anything else.
    pub fn parse(text: &str) -> Option<Lease> {
        let mut fields = text.split(' ');
        let until_ms = fields.next()?.parse().ok()?;
        let reading = match fields.next()? {
            "0" => false,
            "1" => true,
            _ => return None,
        };
        let (since, attempts, code) = (fields.next()?, fields.next()?, fields.next()?);
        if fields.next().is_some() {
            return None;
        }
        let failure = match since {
            "-" => None,
            since => Some(Failure {
                since_ms: since.parse().ok()?,
                attempts: attempts.parse().ok()?,
                code: code.to_string(),
            }),
        };
        Some(Lease {
            until_ms,
            reading,
            failure,
        })
    }
}

/// One isolate's knowledge of the feed, and when it reads next.
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
    /// No read is due before this time: the next poll interval (jittered), a back-off, or
    /// another isolate's lease.
    next_read_ms: u64,
    /// When the read in flight started, if one is.
    reading_since_ms: Option<u64>,
    /// The failing episode, while the feed cannot be read.
    failure: Option<Failure>,
}

impl Feed {
    /// Starts a read at `now_ms` if one is due: its time has come and none is in flight (one
    /// running [`LOST_AFTER_TIMEOUT_MS`] past its `timeout_ms` is taken as lost). Returns
    /// whether the caller runs it.
    pub fn start_read(&mut self, now_ms: u64, timeout_ms: u64) -> bool {
        let in_flight = self
            .reading_since_ms
            .is_some_and(|since| now_ms < since + timeout_ms + LOST_AFTER_TIMEOUT_MS);
        if in_flight || now_ms < self.next_read_ms {
            return false;
        }
        self.reading_since_ms = Some(now_ms);
        true
    }

    /// Until when a request should wait for the read in flight, if one is: at most
    /// [`WAIT_BUDGET_MS`] from its start.
    pub fn wait_deadline(&self) -> Option<u64> {
        self.reading_since_ms.map(|since| since + WAIT_BUDGET_MS)
    }

    /// The lease an isolate takes at `now_ms` before it reads PostgREST, for as long as that
    /// read (with `timeout_ms`) can last.
    pub fn reading_lease(&self, now_ms: u64, timeout_ms: u64) -> Lease {
        self.lease(now_ms + timeout_ms + LOST_AFTER_TIMEOUT_MS, true)
    }

    /// The lease an isolate leaves after a failed read: nobody reads before its back-off ends.
    pub fn backing_off_lease(&self) -> Lease {
        self.lease(self.next_read_ms, false)
    }

    /// How long before `now_ms` the newest snapshot applied was read, if any.
    pub fn last_read_ms_ago(&self, now_ms: u64) -> Option<u64> {
        self.seen_until_ms.map(|seen| now_ms.saturating_sub(seen))
    }

    /// The failing episode, while the feed cannot be read.
    pub fn failure(&self) -> Option<&Failure> {
        self.failure.as_ref()
    }

    /// Notes that the read sent at `now_ms` failed with `code`. The next read is due after a
    /// back-off that doubles with each failure in a row, from one poll interval up to
    /// [`MAX_BACKOFF_MS`], of which a random half (`jitter` in `[0, 1)`) is waived, so isolates
    /// that failed together do not retry together. Returns whether this failure starts a
    /// failing episode (the caller logs it then, once).
    pub fn failed(&mut self, now_ms: u64, code: String, poll_ms: u64, jitter: f64) -> bool {
        self.reading_since_ms = None;
        let starts = self.failure.is_none();
        let failure = self.failure.get_or_insert(Failure {
            since_ms: now_ms,
            attempts: 0,
            code: String::new(),
        });
        failure.attempts = failure.attempts.saturating_add(1);
        failure.code = code;
        let doublings = failure.attempts.saturating_sub(1).min(16);
        let full = poll_ms
            .max(1000)
            .saturating_mul(1 << doublings)
            .min(MAX_BACKOFF_MS);
        let waived = (full as f64 / 2.0 * jitter.clamp(0.0, 1.0)) as u64;
        self.next_read_ms = now_ms.saturating_add(full - waived);
        starts
    }

    fn lease(&self, until_ms: u64, reading: bool) -> Lease {
        Lease {
            until_ms,
            reading,
            failure: self.failure.clone(),
        }
    }

    /// Another isolate of the data center holds `lease` at `now_ms`: this one does not read
    /// PostgREST before it ends. While that isolate reads, this one looks again for its
    /// snapshot every [`RECHECK_MS`]; while the feed fails, it takes on the failure and its
    /// back-off. Returns whether that starts a failing episode here.
    pub fn defer(&mut self, now_ms: u64, lease: &Lease) -> bool {
        self.reading_since_ms = None;
        self.next_read_ms = if lease.reading {
            lease.until_ms.min(now_ms.saturating_add(RECHECK_MS))
        } else {
            lease.until_ms
        };
        match &lease.failure {
            Some(failure) => {
                let starts = self.failure.is_none();
                self.failure = Some(failure.clone());
                starts
            }
            None => false,
        }
    }

    /// Whether `snapshot`, read at `read_at_ms` by some isolate of this data center, is worth
    /// applying at `now_ms`: newer than what this isolate has, and younger than `poll_ms`.
    pub fn wants(&self, snapshot_read_at_ms: u64, now_ms: u64, poll_ms: u64) -> bool {
        self.seen_until_ms
            .is_none_or(|seen| snapshot_read_at_ms > seen)
            && now_ms < snapshot_read_at_ms + poll_ms
    }

    /// Applies a snapshot, which ends the read in flight and any failing episode; the next read
    /// is due one poll interval after the snapshot's, plus up to a quarter of it (at most
    /// [`MAX_DUE_JITTER_MS`], `jitter` in `[0, 1)`). Returns what the caches must drop. An older
    /// snapshot changes nothing; a change already applied is not applied again.
    pub fn apply(&mut self, snapshot: &Snapshot, poll_ms: u64, jitter: f64) -> Applied {
        self.reading_since_ms = None;
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
        let spread = (poll_ms / 4).min(MAX_DUE_JITTER_MS) as f64 * jitter.clamp(0.0, 1.0);
        self.next_read_ms = snapshot.read_at_ms + poll_ms + spread as u64;
        applied.ended = self.failure.take();
        applied
    }

    /// What the feed says about an answer fetched at `fetched_at_ms`, of `tenant` (`None`: a
    /// "no such tenant" answer), read from `tier`.
    ///
    /// While the feed fails, an answer fetched after the last good read (or any answer, if
    /// there was none) is only [`Vouch::Provisional`]: the cache then works on a short TTL, as
    /// with the feed off, instead of re-reading what no read can vouch for on every request.
    /// What was fetched before keeps what the feed last said of it.
    pub fn vouch(&self, fetched_at_ms: u64, tenant: Option<&TenantHash>, tier: Tier) -> Vouch {
        if self.failure.is_some() && self.seen_until_ms.is_none_or(|seen| fetched_at_ms > seen) {
            return Vouch::Provisional;
        }
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
    const POLL: u64 = 5000;
    /// The PostgREST timeout: a read in flight this long and two seconds is taken as lost.
    const ABANDON: u64 = 2000;

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
                format_ms(T0 - i * 100)
            )
        };
        let rows: Vec<String> = (0..READ_LIMIT as u64).map(row).collect();
        let s = Snapshot::from_rows(&format!("[{}]", rows.join(",")), T0).unwrap();
        assert_eq!(s.covers_from_ms, T0 - (READ_LIMIT as u64 - 1) * 100 + 1);
    }

    #[test]
    fn a_read_is_due_every_poll_interval_and_one_runs_at_a_time() {
        let mut feed = Feed::default();
        assert!(feed.start_read(T0, ABANDON), "the first request reads");
        assert_eq!(feed.wait_deadline(), Some(T0 + WAIT_BUDGET_MS));
        assert!(!feed.start_read(T0 + 10, ABANDON), "one read at a time");
        feed.apply(&snapshot(T0, &[]), POLL, 0.0);
        assert_eq!(feed.wait_deadline(), None, "nothing to wait for");
        assert!(!feed.start_read(T0 + 4999, ABANDON));
        assert!(feed.start_read(T0 + 5000, ABANDON));
        assert!(!feed.start_read(T0 + 5000 + ABANDON + 1999, ABANDON));
        assert!(
            feed.start_read(T0 + 5000 + ABANDON + 2000, ABANDON),
            "a read that never ended is taken as lost"
        );
        assert_eq!(
            feed.reading_lease(T0, ABANDON).until_ms,
            T0 + ABANDON + 2000,
            "the lease lasts as long as a read can"
        );
    }

    #[test]
    fn due_times_are_spread_over_a_quarter_interval_at_most() {
        for (poll, jitter, due) in [
            (5000, 0.0, 5000),
            (5000, 0.999, 5000 + MAX_DUE_JITTER_MS - 1),
            (400, 0.999, 400 + 99),
        ] {
            let mut feed = Feed::default();
            feed.apply(&snapshot(T0, &[]), poll, jitter);
            assert!(!feed.start_read(T0 + due - 1, ABANDON), "{poll} {jitter}");
            assert!(feed.start_read(T0 + due, ABANDON), "{poll} {jitter}");
        }
    }

    #[test]
    fn failed_reads_back_off_exponentially_up_to_a_minute() {
        let mut feed = Feed::default();
        let mut now = T0;
        let mut waits = Vec::new();
        for attempt in 0..10 {
            assert!(feed.start_read(now, ABANDON));
            let starts = feed.failed(now, "http_401_42501".into(), 1000, 0.0);
            assert_eq!(
                starts,
                attempt == 0,
                "only the first failure starts an episode"
            );
            let next = feed.backing_off_lease().until_ms;
            assert!(!feed.start_read(next - 1, ABANDON));
            waits.push(next - now);
            now = next;
        }
        assert_eq!(
            waits,
            [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]
        );
        let failure = feed.failure().unwrap();
        assert_eq!((failure.since_ms, failure.attempts), (T0, 10));
        assert_eq!(failure.code, "http_401_42501");
        let ended = feed.apply(&snapshot(now, &[]), 1000, 0.0).ended;
        assert_eq!(ended.map(|f| f.attempts), Some(10), "a good read ends it");
        assert!(feed.failure().is_none());
    }

    #[test]
    fn jitter_waives_up_to_half_of_a_back_off() {
        let wait = |jitter| {
            let mut feed = Feed::default();
            feed.failed(T0, "timeout".into(), POLL, jitter);
            feed.backing_off_lease().until_ms - T0
        };
        assert_eq!(wait(0.0), 5000);
        assert_eq!(wait(0.5), 3750);
        assert!(wait(0.999) > 2500);
    }

    #[test]
    fn answers_no_read_covers_are_provisional_while_the_feed_fails() {
        let mut feed = Feed::default();
        feed.failed(T0, "http_404_42P01".into(), POLL, 0.0);
        for tier in [Tier::Memory, Tier::Shared] {
            assert_eq!(
                feed.vouch(T0 - MIN, Some(&hash(1)), tier),
                Vouch::Provisional,
                "never read: nothing is vouched for, everything is provisional"
            );
        }
        let mut feed = Feed::default();
        feed.apply(&snapshot(T0, &[(2, T0 - MIN)]), POLL, 0.0);
        feed.failed(T0 + 5000, "timeout".into(), POLL, 0.0);
        assert_eq!(
            feed.vouch(T0 - 1000, Some(&hash(1)), Tier::Memory),
            Vouch::Trusted,
            "fetched before the last good read: what the feed last said"
        );
        assert_eq!(
            feed.vouch(T0 - 2 * MIN, Some(&hash(2)), Tier::Shared),
            Vouch::Changed
        );
        assert_eq!(
            feed.vouch(T0 + 1, Some(&hash(1)), Tier::Memory),
            Vouch::Provisional,
            "fetched after it"
        );
        assert_eq!(feed.vouch(T0 + 1, None, Tier::Shared), Vouch::Provisional);
    }

    #[test]
    fn another_isolates_lease_defers_this_ones_read() {
        let mut feed = Feed::default();
        feed.apply(&snapshot(T0, &[]), POLL, 0.0);
        assert!(feed.start_read(T0 + POLL, ABANDON));
        let reading = Lease {
            until_ms: T0 + POLL + ABANDON,
            reading: true,
            failure: None,
        };
        assert!(!feed.defer(T0 + POLL, &reading));
        assert_eq!(feed.wait_deadline(), None);
        assert!(!feed.start_read(T0 + POLL + RECHECK_MS - 1, ABANDON));
        assert!(
            feed.start_read(T0 + POLL + RECHECK_MS, ABANDON),
            "looks again for the snapshot soon"
        );
        let mut other = Feed::default();
        other.failed(T0, "timeout".into(), POLL, 0.0);
        other.failed(T0 + 5000, "timeout".into(), POLL, 0.0);
        let backing_off = other.backing_off_lease();
        assert!(!backing_off.reading);
        assert!(feed.defer(T0 + POLL, &backing_off), "takes on the failure");
        assert_eq!(feed.failure(), other.failure());
        assert!(!feed.start_read(other.backing_off_lease().until_ms - 1, ABANDON));
        assert!(feed.start_read(other.backing_off_lease().until_ms, ABANDON));
        assert!(!feed.defer(T0 + POLL, &backing_off), "the same episode");
    }

    #[test]
    fn a_lease_round_trips_through_its_text() {
        let mut feed = Feed::default();
        feed.failed(T0, "http_401_42501".into(), POLL, 0.0);
        let lease = feed.reading_lease(T0, 3000);
        assert_eq!(Lease::parse(&lease.to_text()), Some(lease));
        let free = Feed::default().backing_off_lease();
        assert_eq!(Lease::parse(&free.to_text()), Some(free));
        for bad in [
            "",
            "x 1 - 0 -",
            "1 2 - 0 -",
            "1 1 5 x code",
            "1 1 - 0 - extra",
        ] {
            assert_eq!(Lease::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_shared_snapshot_is_wanted_when_newer_and_young() {
        let mut feed = Feed::default();
        assert!(feed.wants(T0, T0 + 4000, 5000));
        assert!(!feed.wants(T0, T0 + 5000, 5000), "too old");
        feed.apply(&snapshot(T0, &[]), POLL, 0.0);
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
        feed.apply(&snapshot(T0, &[]), POLL, 0.0);
        let applied = feed.apply(
            &snapshot(T0 + 5000, &[(1, T0 + 2000), (1, T0 + 1000)]),
            POLL,
            0.0,
        );
        assert_eq!(applied.tenants, HashMap::from([(hash(1), T0 + 2000)]));
        assert_eq!(applied.newest_ms, Some(T0 + 2000));
        let again = feed.apply(&snapshot(T0 + 10_000, &[(1, T0 + 2000)]), POLL, 0.0);
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
        feed.apply(&snapshot(T0, &[]), POLL, 0.0);
        // Stamped before the first read, committed (and visible) only after it.
        let applied = feed.apply(&snapshot(T0 + 5000, &[(3, T0 - 500)]), POLL, 0.0);
        assert_eq!(applied.tenants.get(&hash(3)), Some(&(T0 - 500)));
    }

    #[test]
    fn an_older_snapshot_changes_nothing() {
        let mut feed = Feed::default();
        feed.apply(&snapshot(T0 + 5000, &[]), POLL, 0.0);
        assert_eq!(
            feed.apply(&snapshot(T0, &[(1, T0 - 1)]), POLL, 0.0),
            Applied::default()
        );
    }

    #[test]
    fn shared_entries_are_checked_against_known_changes() {
        let mut feed = Feed::default();
        feed.apply(&snapshot(T0, &[(1, T0 - MIN)]), POLL, 0.0);
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
        feed.apply(&snapshot(T0, &[]), POLL, 0.0);
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
        feed.apply(&snapshot(T0, &[]), POLL, 0.0);
        let fetched = T0 + 1000;
        for i in 1..=400 {
            feed.apply(&snapshot(T0 + i * 5000, &[]), POLL, 0.0);
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
        feed.apply(&snapshot(T0 + 400 * 5000 + WINDOW_MS + 1, &[]), POLL, 0.0);
        assert_eq!(
            feed.vouch(fetched, None, Tier::Memory),
            Vouch::Unvouched,
            "after a gap"
        );
    }
}
