//! The change feed's I/O: a data center reads it at most once per `CHANGES_POLL_SECONDS`, and
//! its isolates share that read through the Cache API; each isolate applies what it has not seen
//! yet to its memory tier. The policy (what is due, what a snapshot changes, what the feed says
//! of a cached answer) is `crate::feed`.
//!
//! A request that finds the feed due waits for it (a Cache API read, or one PostgREST request
//! per data center and interval), so an edit is visible within one poll interval. After a failed
//! read, the next ones run in the background until one succeeds: a feed that cannot be read
//! never delays or fails a request, and the TTL backstop then bounds staleness.

use std::cell::RefCell;
use std::rc::Rc;

use worker::{Cache, Context, Response};

use super::flight::Flights;
use super::{cache, now_ms, store};
use crate::config::Config;
use crate::feed::{Feed, Snapshot, TenantHash, Tier, Vouch};
use crate::reply::FeedVitals;

/// Where a data center keeps its newest read of the feed (a synthetic Cache API key).
const SNAPSHOT_KEY: &str = "https://tenant-resolver.internal/v1/feed";
/// The header that says when a shared snapshot was read (ms since the epoch); its body is the
/// feed's rows as PostgREST returned them.
const READ_AT: &str = "x-read-at-ms";

thread_local! {
    /// This isolate's knowledge of the feed.
    static FEED: RefCell<Feed> = RefCell::new(Feed::default());
    /// A read in flight: concurrent requests wait for the same one.
    static READS: Rc<Flights<()>> = Flights::new();
}

/// Brings this isolate's knowledge of the feed up to date, if a read is due at `now_ms`.
pub async fn sync(config: &Rc<Config>, ctx: &Context, now_ms: u64) {
    let policy = config.cache;
    if !policy.feed_on() {
        return;
    }
    let poll_ms = u64::from(policy.changes_poll_s) * 1000;
    let (due, failing) = FEED.with_borrow(|f| (f.due(now_ms, poll_ms), f.failing()));
    if !due {
        return;
    }
    if failing {
        ctx.wait_until(read(config.clone(), poll_ms));
    } else {
        read(config.clone(), poll_ms).await;
    }
}

/// What `/_tenant/health` reports of the feed.
pub fn vitals(config: &Config) -> FeedVitals {
    FEED.with_borrow(|f| FeedVitals {
        poll_seconds: config.cache.changes_poll_s,
        last_read_ms_ago: f.last_read_ms_ago(now_ms()),
        failing: f.failing(),
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

/// One read, shared by the requests of this isolate: the data center's snapshot if it is newer
/// and young enough, else PostgREST (and the snapshot is shared for the next isolate).
async fn read(config: Rc<Config>, poll_ms: u64) {
    let reads = READS.with(Rc::clone);
    let (_, result) = reads
        .run("feed", config.upstream_timeout_ms, async {
            let now = now_ms();
            if let Some(snapshot) = get_shared().await {
                if FEED.with_borrow(|f| f.wants(snapshot.read_at_ms, now, poll_ms)) {
                    apply(&snapshot);
                    return Ok(());
                }
            }
            let (snapshot, rows) = store::changes(&config, now).await?;
            put_shared(rows, now, config.cache.changes_poll_s).await;
            apply(&snapshot);
            Ok(())
        })
        .await;
    if let Err(error) = result {
        worker::console_error!("change feed: {error}; the TTL backstop holds until it is back");
        FEED.with_borrow_mut(|f| f.failed(now_ms()));
    }
}

/// Applies a snapshot to this isolate: what changed is marked in (or leaves) its memory tier.
fn apply(snapshot: &Snapshot) {
    let applied = FEED.with_borrow_mut(|f| f.apply(snapshot));
    if applied.newest_ms.is_some() {
        cache::apply_changes(&applied);
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
    let stored = match Response::builder()
        .with_header("content-type", "application/json")
        .and_then(|r| r.with_header(READ_AT, &read_at_ms.to_string()))
        .and_then(|r| r.with_header("cache-control", &format!("public, max-age={poll_s}")))
    {
        Ok(response) => {
            Cache::default()
                .put(SNAPSHOT_KEY, response.fixed(rows.into_bytes()))
                .await
        }
        Err(e) => Err(e),
    };
    if let Err(e) = stored {
        worker::console_error!("sharing the change feed snapshot failed: {e}");
    }
}
