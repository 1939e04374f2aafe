//! The two cache tiers around [`store::find`]: isolate memory, then the Workers Cache API.
//!
//! A memory hit does no I/O. A memory miss runs one *load* per key per isolate, whose result
//! every concurrent caller shares: the Cache API if it holds a fresh entry, else PostgREST. A
//! stale memory entry is served at once while a background refresh (`ctx.wait_until`) loads a
//! new one; when that refresh fails the stale entry keeps being served until its stale window
//! ends. The policy (what is fresh, stale or expired) is `crate::cache`; this module is the I/O.
//!
//! Cache API docs: <https://developers.cloudflare.com/workers/runtime-apis/cache/>. It is per
//! data center, so a purge reaches only the data center that receives it.

use std::cell::RefCell;
use std::rc::Rc;

use worker::{Cache, Context, Response};

use super::flight::{Flights, Outcome};
use super::{now_ms, store};
use crate::{CacheStatus, Config, Entry, Freshness, Lookup, Memory, Record, UpstreamError};

/// Synthetic Cache API keys: never a real URL, versioned so a format change starts afresh.
const KEY_PREFIX: &str = "https://tenant-resolver.internal/v1/";

type LoadResult = Outcome<(Rc<Entry>, CacheStatus)>;

thread_local! {
    /// The memory tier. Workers run one request at a time per thread, so a `RefCell` is enough;
    /// it lives as long as the isolate.
    static MEMORY: RefCell<Memory> = RefCell::new(Memory::new(crate::Policy::default().memory_entries));
    /// Loads in flight, by key: concurrent misses wait for the same one.
    static LOADS: Rc<Flights<(Rc<Entry>, CacheStatus)>> = Flights::new();
}

/// A lookup's answer and how the cache produced it.
pub struct Resolved {
    pub record: Option<Rc<Record>>,
    pub status: CacheStatus,
    pub freshness: Freshness,
}

/// How many keys the memory tier holds, and at most.
pub fn memory_size() -> (usize, usize) {
    MEMORY.with_borrow(|m| (m.len(), m.capacity()))
}

/// Resolves `lookup` through the tiers. Every lookup is the same anon lookup whoever asks, so
/// every request shares the tiers and single flight.
pub async fn resolve(
    config: &Config,
    ctx: &Context,
    lookup: &Lookup,
) -> Result<Resolved, UpstreamError> {
    let policy = config.cache;
    MEMORY.with_borrow_mut(|m| {
        if m.capacity() != policy.memory_entries {
            m.set_capacity(policy.memory_entries);
        }
    });
    if let Some(entry) = MEMORY.with_borrow_mut(|m| m.get(lookup)) {
        let now = now_ms();
        match policy.freshness(&entry, now) {
            freshness @ Freshness::Fresh { .. } => {
                return Ok(Resolved {
                    record: entry.record.clone(),
                    status: CacheStatus::Hit,
                    freshness,
                });
            }
            Freshness::Stale => {
                if MEMORY.with_borrow_mut(|m| m.claim_refresh(lookup, now)) {
                    ctx.wait_until(refresh(config.clone(), lookup.clone()));
                }
                return Ok(Resolved {
                    record: entry.record.clone(),
                    status: CacheStatus::Stale,
                    freshness: Freshness::Stale,
                });
            }
            Freshness::Expired => {}
        }
    }
    let (leader, result) = load_once(config, lookup).await;
    let (entry, status) = result?;
    if leader && status == CacheStatus::Miss {
        ctx.wait_until(put_shared(policy, lookup.clone(), entry.clone()));
    }
    let freshness = policy.freshness(&entry, now_ms());
    Ok(Resolved {
        record: entry.record.clone(),
        status,
        freshness,
    })
}

/// Drops every key of the tenant named by `lookup` from both tiers; returns the keys dropped.
pub async fn purge(lookup: &Lookup) -> Vec<String> {
    let mut keys = MEMORY.with_borrow_mut(|m| m.purge(lookup));
    keys.push(lookup.to_string());
    if let Some(record) = get_shared(lookup).await.and_then(|e| e.record.clone()) {
        keys.extend(record.keys());
    }
    keys.sort();
    keys.dedup();
    let cache = Cache::default();
    for key in &keys {
        if let Err(e) = cache.delete(format!("{KEY_PREFIX}{key}"), true).await {
            worker::console_error!("cache purge of {key} failed: {e}");
        }
    }
    keys
}

/// Loads `lookup` once per isolate: the first caller leads, concurrent callers wait for its
/// result. Returns whether this caller led, and the result.
async fn load_once(config: &Config, lookup: &Lookup) -> (bool, LoadResult) {
    let loads = LOADS.with(Rc::clone);
    loads
        .run(
            &lookup.to_string(),
            config.upstream_timeout_ms,
            load(config, lookup),
        )
        .await
}

/// One load: a fresh Cache API entry, else PostgREST; a stale Cache API entry only when
/// PostgREST fails (stale-if-error). The result goes into memory.
async fn load(config: &Config, lookup: &Lookup) -> LoadResult {
    let policy = config.cache;
    let shared = get_shared(lookup).await;
    let freshness = shared.as_ref().map(|e| policy.freshness(e, now_ms()));
    let (entry, status) = match (shared, freshness) {
        (Some(entry), Some(Freshness::Fresh { .. })) => (entry, CacheStatus::Hit),
        (shared, freshness) => match store::find(config, lookup).await {
            Ok(tenant) => {
                let record = tenant.map(|t| Rc::new(Record::of(&t)));
                (
                    Rc::new(Entry {
                        record,
                        fetched_at_ms: now_ms(),
                    }),
                    CacheStatus::Miss,
                )
            }
            Err(error) => match (shared, freshness) {
                (Some(entry), Some(Freshness::Stale)) => {
                    worker::console_error!("serving {lookup} stale: {error}");
                    (entry, CacheStatus::Stale)
                }
                _ => return Err(error),
            },
        },
    };
    // A stale entry goes into memory only where memory has none: re-putting it would reset the
    // refresh back-off of the entry memory already serves.
    MEMORY.with_borrow_mut(|m| {
        if status != CacheStatus::Stale || m.get(lookup).is_none() {
            m.put(lookup, (*entry).clone());
        }
    });
    Ok((entry, status))
}

/// The background refresh of a stale memory entry; on failure the entry stays (stale-if-error)
/// and the next refresh waits for the back-off.
async fn refresh(config: Config, lookup: Lookup) {
    match load_once(&config, &lookup).await {
        (true, Ok((entry, CacheStatus::Miss))) => put_shared(config.cache, lookup, entry).await,
        (_, Ok(_)) => {}
        (_, Err(error)) => {
            worker::console_error!("refresh of {lookup} failed, serving stale: {error}")
        }
    }
}

/// The Cache API entry for `lookup`, if any and readable.
async fn get_shared(lookup: &Lookup) -> Option<Rc<Entry>> {
    let mut response = Cache::default()
        .get(format!("{KEY_PREFIX}{lookup}"), true)
        .await
        .ok()??;
    let body = response.text().await.ok()?;
    serde_json::from_str(&body).ok().map(Rc::new)
}

/// Stores `entry` in the Cache API under `lookup` and every key of its tenant, for as long as
/// it may be served.
async fn put_shared(policy: crate::Policy, lookup: Lookup, entry: Rc<Entry>) {
    let Ok(body) = serde_json::to_string(&*entry) else {
        return;
    };
    let mut keys = entry.record.as_ref().map(|r| r.keys()).unwrap_or_default();
    keys.push(lookup.to_string());
    keys.dedup();
    let cache_control = format!("public, max-age={}", policy.shared_lifetime_s(&entry));
    let cache = Cache::default();
    for key in keys {
        let response = Response::builder()
            .with_header("content-type", "application/json")
            .and_then(|r| r.with_header("cache-control", &cache_control))
            .map(|r| r.fixed(body.clone().into_bytes()));
        let stored = match response {
            Ok(response) => cache.put(format!("{KEY_PREFIX}{key}"), response).await,
            Err(e) => Err(e),
        };
        if let Err(e) = stored {
            worker::console_error!("cache put of {key} failed: {e}");
        }
    }
}
