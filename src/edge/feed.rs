//! The change feed's I/O: a data center reads it about once per `CHANGES_POLL_SECONDS`, and its
//! isolates share that read through the Cache API; each isolate hands what it has not seen yet
//! to its memory tier, through the callback `edge/cache.rs` passes to [`sync`] (this module
//! never calls the cache by name: the cache calls it). The policy (when a read is due, the
//! back-off, what a snapshot changes, what the feed says of a cached answer) is `crate::feed`.
//!
//! A read runs in the background (`ctx.wait_until`). The request that finds one due, and every
//! request arriving while it runs, wait for it at most [`WAIT_BUDGET_MS`] from its start: long
//! enough for the data center's snapshot in the Cache API, or a healthy PostgREST, so an edit
//! is visible within one poll interval; never long enough to make a cached hit wait for a slow
//! PostgREST. A read that fails backs off (exponentially, with jitter, up to a minute), and the
//! cache then works on the short TTL of `CHANGES_FAILING_TTL_SECONDS`, as with the feed off:
//! a feed that cannot be read never delays or fails a request, nor turns hits into reads.
//!
//! The isolates of a data center coordinate through two Cache API entries: the newest snapshot,
//! and a lease that says nobody should read PostgREST for now (one isolate is reading, or the
//! feed is failing and backing off).
//!
//! [`WAIT_BUDGET_MS`]: crate::feed::WAIT_BUDGET_MS

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use worker::{js_sys, Cache, Context, Delay, Response};

use super::event::log;
use super::{now_ms, store};
use crate::config::Config;
use crate::event::{Level, Line};
use crate::feed::{Applied, Feed, Lease, Snapshot, TenantHash, Tier, Vouch};
use crate::reply::FeedVitals;

/// Where a data center keeps its newest read of the feed (a synthetic Cache API key).
const SNAPSHOT_KEY: &str = "https://tenant-resolver.internal/v1/feed";
/// Where a data center keeps its lease on reading PostgREST.
const LEASE_KEY: &str = "https://tenant-resolver.internal/v1/feed-lease";
/// The header that says when a shared snapshot was read (ms since the epoch); its body is the
/// feed's rows as PostgREST returned them.
const READ_AT: &str = "x-read-at-ms";
/// How often a waiting request looks whether the read is done (on its own timer: see
/// `edge/flight.rs` for why a request never awaits another request's I/O).
const WAIT_POLL: Duration = Duration::from_millis(5);

thread_local! {
    /// This isolate's knowledge of the feed.
    static FEED: RefCell<Feed> = RefCell::new(Feed::default());
}

/// What a read that found changes hands them to: the memory tier (`edge/cache.rs`), which
/// calls [`sync`] and so is not called from here by name.
pub type OnChanges = fn(&Applied);

/// Brings this isolate's knowledge of the feed up to date if a read is due at `now_ms`, waiting
/// for it (or for one already running) no longer than `feed::WAIT_BUDGET_MS` from its start.
/// What the read finds changed is handed to `on_changes`.
pub async fn sync(config: &Rc<Config>, ctx: &Context, now_ms: u64, on_changes: OnChanges) {
    if !config.cache.feed_on() {
        return;
    }
    if FEED.with_borrow_mut(|f| f.start_read(now_ms, timeout_ms(config))) {
        ctx.wait_until(read(config.clone(), on_changes));
    }
    let Some(deadline) = FEED.with_borrow(|f| f.wait_deadline()) else {
        return;
    };
    while FEED.with_borrow(|f| f.wait_deadline()) == Some(deadline) && self::now_ms() < deadline {
        Delay::from(WAIT_POLL).await;
    }
}

/// What `/_tenant/health` reports of the feed.
pub fn vitals(config: &Config) -> FeedVitals {
    FEED.with_borrow(|f| FeedVitals {
        poll_seconds: config.cache.changes_poll_s,
        last_read_ms_ago: f.last_read_ms_ago(now_ms()),
        failing_since_ms: f.failure().map(|failure| failure.since_ms),
        last_error: f.failure().map(|failure| failure.code.clone()),
    })
}

/// What the feed says of an answer fetched at `fetched_at_ms`, of `tenant` (`None`: "no such
/// tenant"), read from `tier`. `Trusted` when the feed is off.
pub fn vouch(
    config: &Config,
    fetched_at_ms: u64,
    tenant: Option<&TenantHash>,
    tier: Tier,
) -> Vouch {
    if !config.cache.feed_on() {
        return Vouch::Trusted;
    }
    FEED.with_borrow(|f| f.vouch(fetched_at_ms, tenant, tier))
}

fn timeout_ms(config: &Config) -> u64 {
    u64::from(config.upstream_timeout_ms)
}

/// One read: the data center's snapshot if it is newer and young enough; else, unless another
/// isolate holds the lease, PostgREST (and the snapshot is shared with the data center).
async fn read(config: Rc<Config>, on_changes: OnChanges) {
    let poll_ms = u64::from(config.cache.changes_poll_s) * 1000;
    let now = now_ms();
    if let Some(snapshot) = get_shared().await {
        if FEED.with_borrow(|f| f.wants(snapshot.read_at_ms, now, poll_ms)) {
            apply(&snapshot, poll_ms, on_changes);
            return;
        }
    }
    if let Some(lease) = get_lease().await.filter(|lease| lease.until_ms > now) {
        if FEED.with_borrow_mut(|f| f.defer(now, &lease)) {
            log_failing(&lease_code(&lease), &config);
        }
        return;
    }
    let reading = FEED.with_borrow(|f| f.reading_lease(now, timeout_ms(&config)));
    put_lease(&reading, now).await;
    match store::changes(&config, now).await {
        Ok((snapshot, rows)) => {
            put_shared(rows, now, config.cache.changes_poll_s).await;
            apply(&snapshot, poll_ms, on_changes);
            if Cache::default().delete(LEASE_KEY, true).await.is_err() {
                log_cache_failed("release_lease");
            }
        }
        Err(error) => {
            let code = error.code();
            let starts = FEED.with_borrow_mut(|f| f.failed(now, code.clone(), poll_ms, jitter()));
            if starts {
                log_failing(&code, &config);
            }
            let backing_off = FEED.with_borrow(|f| f.backing_off_lease());
            put_lease(&backing_off, now).await;
        }
    }
}

/// Logs, once per failing episode, that the feed cannot be read (`upstream_error`) and what the
/// cache does now: answers fetched from now on are fresh for `fresh_for_s`; reads back off up
/// to a minute; `feed_recovered` says when it is back.
fn log_failing(code: &str, config: &Config) {
    log(Line::new("feed_read_failed", Level::Error)
        .str("upstream_error", Some(code))
        .num("fresh_for_s", config.cache.failing_ttl_s.into()));
}

/// Logs that the data center's Cache API refused a `step` of sharing the feed.
fn log_cache_failed(step: &str) {
    log(Line::new("feed_cache_failed", Level::Error).str("step", Some(step)));
}

fn lease_code(lease: &Lease) -> String {
    lease
        .failure
        .as_ref()
        .map_or_else(String::new, |f| f.code.clone())
}

/// A uniform random number in `[0, 1)`, for the jitter of due times and back-offs.
fn jitter() -> f64 {
    js_sys::Math::random()
}

/// Applies a snapshot to this isolate: what changed goes to `on_changes` (the memory tier marks
/// it, or drops it).
fn apply(snapshot: &Snapshot, poll_ms: u64, on_changes: OnChanges) {
    let applied = FEED.with_borrow_mut(|f| f.apply(snapshot, poll_ms, jitter()));
    if applied.newest_ms.is_some() {
        on_changes(&applied);
    }
    if let Some(ended) = applied.ended {
        log(Line::new("feed_recovered", Level::Info)
            .num(
                "down_s",
                snapshot.read_at_ms.saturating_sub(ended.since_ms) / 1000,
            )
            .num("failed_reads", ended.attempts.into())
            .str("upstream_error", Some(&ended.code)));
    }
}

/// The data center's newest snapshot, if any and readable.
async fn get_shared() -> Option<Snapshot> {
    let mut response = Cache::default().get(SNAPSHOT_KEY, true).await.ok()??;
    let read_at_ms = response.headers().get(READ_AT).ok()??.parse().ok()?;
    let rows = response.text().await.ok()?;
    Snapshot::from_rows(&rows, read_at_ms).ok()
}

/// Shares `snapshot` with the data center's other isolates for one poll interval.
async fn put_shared(rows: String, read_at_ms: u64, poll_s: u32) {
    let read_at = read_at_ms.to_string();
    let headers = [(READ_AT, read_at.as_str())];
    if put(SNAPSHOT_KEY, rows, u64::from(poll_s), &headers)
        .await
        .is_err()
    {
        log_cache_failed("share_snapshot");
    }
}

/// The data center's lease, if any and readable.
async fn get_lease() -> Option<Lease> {
    let mut response = Cache::default().get(LEASE_KEY, true).await.ok()??;
    Lease::parse(&response.text().await.ok()?)
}

/// Tells the data center's other isolates `lease`, for as long as it holds after `now_ms`.
async fn put_lease(lease: &Lease, now_ms: u64) {
    let max_age_s = lease.until_ms.saturating_sub(now_ms).div_ceil(1000).max(1);
    if put(LEASE_KEY, lease.to_text(), max_age_s, &[])
        .await
        .is_err()
    {
        log_cache_failed("share_lease");
    }
}

/// Stores `body` under `key` in the data center's Cache API for `max_age_s`, with
/// `headers` besides.
async fn put(
    key: &str,
    body: String,
    max_age_s: u64,
    headers: &[(&str, &str)],
) -> worker::Result<()> {
    let mut response = Response::builder()
        .with_header("content-type", "application/json")?
        .with_header("cache-control", &format!("public, max-age={max_age_s}"))?;
    for (name, value) in headers {
        response = response.with_header(name, value)?;
    }
    Cache::default()
        .put(key, response.fixed(body.into_bytes()))
        .await
}
