//! The two cache tiers around [`store::find`]: isolate memory, then the Workers Cache API.
//!
//! A memory hit does no I/O (beyond the change feed's read when one is due, `edge/feed.rs`). A
//! memory miss runs one *load* per key per isolate, whose result every concurrent caller shares:
//! the Cache API if it holds a fresh answer, else PostgREST. A stale answer in memory is served at
//! once while a background refresh (`ctx.wait_until`) loads a new one. What an answer is worth,
//! and what to serve when PostgREST fails, is the policy in `crate::cache`; this module is the
//! I/O.
//!
//! Cache API docs: <https://developers.cloudflare.com/workers/runtime-apis/cache/>. It is per
//! data center, so a purge reaches only the data center that receives it.

use std::cell::RefCell;
use std::rc::Rc;

use worker::{Cache, Context, Response};

use super::event::{log, Calls};
use super::flight::{Flights, Outcome};
use super::{feed, now_ms, store};
use crate::cache::{CacheStatus, Entry, Freshness, Policy};
use crate::config::Config;
use crate::error::UpstreamError;
use crate::event::{Level, Line};
use crate::feed::{Applied, Tier, Vouch};
use crate::key::Lookup;
use crate::memory::Memory;
use crate::tenant::Tenant;
use tenant_common::Host;

/// Synthetic Cache API keys: never a real URL, versioned so a format change starts afresh.
const KEY_PREFIX: &str = "https://tenant-resolver.internal/v5/";

type LoadResult = Outcome<(Rc<Entry>, CacheStatus)>;

/// How long a found ownership check is kept in the Cache API.
const CHALLENGE_TTL_S: u32 = 300;

thread_local! {
    /// The memory tier. Workers run one request at a time per thread, so a `RefCell` is enough;
    /// it lives as long as the isolate.
    static MEMORY: RefCell<Memory> = RefCell::new(Memory::new(Policy::default().memory_entries));
    /// Loads in flight, by key: concurrent misses wait for the same one.
    static LOADS: Rc<Flights<(Rc<Entry>, CacheStatus)>> = Flights::new();
    /// Reads of ownership checks in flight, by key.
    static CHALLENGES: Rc<Flights<Option<Rc<str>>>> = Flights::new();
}

/// A lookup's answer and how the cache produced it.
pub struct Served {
    pub entry: Rc<Entry>,
    pub status: CacheStatus,
    pub freshness: Freshness,
}

impl Served {
    /// The tenant found, if any.
    pub fn tenant(&self) -> Option<&Rc<Tenant>> {
        self.entry.tenant.as_ref()
    }
}

/// How many keys the memory tier holds, and at most.
pub fn memory_size() -> (usize, usize) {
    MEMORY.with_borrow(|m| (m.len(), m.capacity()))
}

/// Marks in memory what the change feed says changed (`feed::sync` calls it back).
fn apply_changes(applied: &Applied) {
    MEMORY.with_borrow_mut(|m| m.apply_changes(applied));
}

/// Resolves `lookup` through the tiers. Every lookup is the same anon lookup whoever asks, so
/// every request shares the tiers and single flight. The PostgREST reads this request leads
/// are counted in `calls`.
pub async fn resolve(
    config: &Rc<Config>,
    ctx: &Context,
    lookup: &Lookup,
    calls: &Calls,
) -> Result<Served, UpstreamError> {
    let now = now_ms();
    feed::sync(config, ctx, now, apply_changes).await;
    let policy = config.cache;
    let held = MEMORY.with_borrow_mut(|m| {
        if m.capacity() != policy.memory_entries {
            m.set_capacity(policy.memory_entries);
        }
        m.get(lookup)
    });
    if let Some(held) = held {
        let entry = held.entry;
        let vouch = if held.changed {
            Vouch::Changed
        } else {
            feed::vouch(config, entry.fetched_at_ms, entry.hash(), Tier::Memory)
        };
        match policy.freshness(&entry, now, vouch) {
            freshness @ Freshness::Fresh { .. } => {
                return Ok(Served {
                    entry,
                    status: CacheStatus::Hit,
                    freshness,
                });
            }
            Freshness::Stale => {
                if MEMORY.with_borrow_mut(|m| m.claim_refresh(lookup, now)) {
                    ctx.wait_until(refresh(config.clone(), lookup.clone()));
                }
                return Ok(Served {
                    entry,
                    status: CacheStatus::Stale,
                    freshness: Freshness::Stale,
                });
            }
            Freshness::Changed => {
                if let Some(served) = reload_changed(config, ctx, lookup, &entry, calls).await {
                    return Ok(served);
                }
            }
            Freshness::Expired => {}
        }
    }
    let (leader, result) = load_once(config, lookup, calls).await;
    let (entry, status) = result?;
    share(config, ctx, lookup, leader, &entry, status);
    Ok(served(config, entry, status))
}

/// The body of Cloudflare's ownership check of `host` at `path`, if any. Read from PostgREST
/// once per isolate at a time (single flight) and kept in the data center's Cache API: found for
/// [`CHALLENGE_TTL_S`], not found for `NEGATIVE_TTL_SECONDS`, so the same check asked again and
/// again costs the database nothing. (A check is the Cloudflare hostname's: its body never
/// changes, and one served a little after its domain is gone verifies nothing.) A read this
/// request leads is counted in `calls`.
pub async fn challenge(
    config: &Rc<Config>,
    ctx: &Context,
    host: &Host,
    path: &str,
    calls: &Calls,
) -> Result<Option<Rc<str>>, UpstreamError> {
    let key = format!("{KEY_PREFIX}challenge:{host}{path}");
    if let Some(mut cached) = Cache::default()
        .get(key.as_str(), true)
        .await
        .ok()
        .flatten()
    {
        if let Ok(body) = cached.text().await {
            return Ok((!body.is_empty()).then(|| body.into()));
        }
    }
    let checks = CHALLENGES.with(Rc::clone);
    let read = async {
        let started_ms = calls.start();
        let body = store::challenge(config, host.as_str(), path).await;
        calls.end(started_ms, body.is_err());
        Ok(body?.map(Rc::from))
    };
    let (leader, body) = checks.run(&key, config.upstream_timeout_ms, read).await;
    let body = body?;
    if leader {
        let ttl = match body {
            Some(_) => CHALLENGE_TTL_S,
            None => config.cache.negative_ttl_s,
        };
        let text = body.as_deref().unwrap_or_default().to_string();
        ctx.wait_until(async move { put(&key, &text, ttl).await });
    }
    Ok(body)
}

/// Shares what a load for `lookup` read from PostgREST with the data center (Cache API), when
/// this request led that read.
fn share(
    config: &Rc<Config>,
    ctx: &Context,
    lookup: &Lookup,
    leader: bool,
    entry: &Rc<Entry>,
    status: CacheStatus,
) {
    if leader && status == CacheStatus::Miss {
        ctx.wait_until(put_shared(config.clone(), lookup.clone(), entry.clone()));
    }
}

/// A loaded answer as served, with what it is worth now.
fn served(config: &Config, entry: Rc<Entry>, status: CacheStatus) -> Served {
    let vouch = feed::vouch(config, entry.fetched_at_ms, entry.hash(), Tier::Memory);
    Served {
        freshness: config.cache.freshness(&entry, now_ms(), vouch),
        entry,
        status,
    }
}

/// A tenant the change feed reports changed is re-read once, by id, for all of its keys:
/// concurrent lookups by slug and by domain share that one read. Its answer serves `lookup` if
/// the tenant still has this key; otherwise (a slug or domain that moved, a tenant gone) `None`,
/// and the key is looked up on its own. When the read fails, the old answer is served
/// (stale-if-error).
async fn reload_changed(
    config: &Rc<Config>,
    ctx: &Context,
    lookup: &Lookup,
    old: &Rc<Entry>,
    calls: &Calls,
) -> Option<Served> {
    let by_id = Lookup::Id(old.tenant.as_ref()?.id.clone());
    let known = MEMORY
        .with_borrow_mut(|m| m.get(&by_id))
        .filter(|held| !held.changed);
    let (entry, status) = match known {
        Some(held) => (held.entry, CacheStatus::Hit),
        None => match load_once(config, &by_id, calls).await {
            (leader, Ok((entry, status))) => {
                share(config, ctx, &by_id, leader, &entry, status);
                (entry, status)
            }
            (_, Err(error)) => {
                log_stale(lookup, &error);
                return Some(Served {
                    entry: old.clone(),
                    status: CacheStatus::Stale,
                    freshness: Freshness::Stale,
                });
            }
        },
    };
    if entry.keys(&by_id).contains(lookup) {
        return Some(served(config, entry, status));
    }
    MEMORY.with_borrow_mut(|m| m.remove(lookup));
    None
}

/// Drops every key of the tenant named by `lookup` from both tiers; returns the keys dropped.
pub async fn purge(lookup: &Lookup) -> Vec<String> {
    let mut keys = MEMORY.with_borrow_mut(|m| m.purge(lookup));
    let shared = get_shared(lookup).await;
    let shared_keys = shared.map_or_else(|| vec![lookup.clone()], |e| e.keys(lookup));
    for key in shared_keys {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let cache = Cache::default();
    let mut names = Vec::with_capacity(keys.len());
    for key in keys {
        if cache
            .delete(format!("{KEY_PREFIX}{key}"), true)
            .await
            .is_err()
        {
            log_cache_failed("cache_purge_failed", &key.to_string());
        }
        names.push(key.to_string());
    }
    names.sort();
    names
}

/// Loads `lookup` once per isolate: the first caller leads (its PostgREST read counted in its
/// `calls`), concurrent callers wait for its result. Returns whether this caller led, and the
/// result.
async fn load_once(config: &Config, lookup: &Lookup, calls: &Calls) -> (bool, LoadResult) {
    let loads = LOADS.with(Rc::clone);
    loads
        .run(
            &lookup.to_string(),
            config.upstream_timeout_ms,
            load(config, lookup, calls),
        )
        .await
}

/// One load: a fresh Cache API answer, else PostgREST; when PostgREST fails, the Cache API answer
/// if the policy still serves it (stale-if-error). The result goes into memory.
async fn load(config: &Config, lookup: &Lookup, calls: &Calls) -> LoadResult {
    let policy = config.cache;
    let shared = get_shared(lookup).await.map(|entry| {
        let vouch = feed::vouch(config, entry.fetched_at_ms, entry.hash(), Tier::Shared);
        let freshness = policy.freshness(&entry, now_ms(), vouch);
        (entry, freshness)
    });
    let (entry, status) = match shared {
        Some((entry, Freshness::Fresh { .. })) => (entry, CacheStatus::Hit),
        shared => {
            let asked_at_ms = calls.start();
            let found = store::find(config, lookup).await;
            calls.end(asked_at_ms, found.is_err());
            match found {
                Ok(row) => {
                    let tenant = row.and_then(|r| Tenant::of(&r)).map(Rc::new);
                    let entry = Entry {
                        tenant,
                        fetched_at_ms: asked_at_ms,
                    };
                    (Rc::new(entry), CacheStatus::Miss)
                }
                Err(error) => match shared {
                    Some((entry, freshness)) if freshness.serves_on_error() => {
                        log_stale(lookup, &error);
                        (entry, CacheStatus::Stale)
                    }
                    _ => return Err(error),
                },
            }
        }
    };
    // A stale answer goes into memory only where memory has none: re-putting it would reset the
    // refresh back-off of the answer memory already serves.
    MEMORY.with_borrow_mut(|m| {
        if status != CacheStatus::Stale || m.get(lookup).is_none() {
            m.put(lookup, entry.clone());
        }
    });
    Ok((entry, status))
}

/// The background refresh of a stale memory answer; on failure the answer stays (stale-if-error)
/// and the next refresh waits for the back-off.
async fn refresh(config: Rc<Config>, lookup: Lookup) {
    match load_once(&config, &lookup, &Calls::default()).await {
        (true, Ok((entry, CacheStatus::Miss))) => put_shared(config, lookup, entry).await,
        (_, Ok(_)) => {}
        (_, Err(error)) => log(Line::new("refresh_failed", Level::Error)
            .str("lookup", Some(&lookup.to_string()))
            .str("upstream_error", Some(&error.code()))),
    }
}

/// Logs that PostgREST failed to answer `lookup` and an older answer is served instead.
fn log_stale(lookup: &Lookup, error: &UpstreamError) {
    log(Line::new("stale_served", Level::Error)
        .str("lookup", Some(&lookup.to_string()))
        .str("upstream_error", Some(&error.code())));
}

/// Logs that the Cache API refused a step (`event`) on `key`.
fn log_cache_failed(event: &str, key: &str) {
    log(Line::new(event, Level::Error).str("key", Some(key)));
}

/// The Cache API answer for `lookup`, if any and readable.
async fn get_shared(lookup: &Lookup) -> Option<Rc<Entry>> {
    let mut response = Cache::default()
        .get(format!("{KEY_PREFIX}{lookup}"), true)
        .await
        .ok()??;
    let body = response.text().await.ok()?;
    Entry::from_text(&body).map(Rc::new)
}

/// Stores `entry` in the Cache API under every key it answers (`Entry::keys`), for as long as
/// it may be served.
async fn put_shared(config: Rc<Config>, lookup: Lookup, entry: Rc<Entry>) {
    let body = entry.to_text();
    let max_age_s = config.cache.shared_lifetime_s(&entry);
    for key in entry.keys(&lookup) {
        put(&format!("{KEY_PREFIX}{key}"), &body, max_age_s).await;
    }
}

/// Stores `body` in the Cache API under `key` for `max_age_s`; a failure is logged.
async fn put(key: &str, body: &str, max_age_s: u32) {
    let response = Response::builder()
        .with_header("cache-control", &format!("public, max-age={max_age_s}"))
        .map(|r| r.fixed(body.as_bytes().to_vec()));
    let stored = match response {
        Ok(response) => Cache::default().put(key, response).await,
        Err(e) => Err(e),
    };
    if stored.is_err() {
        log_cache_failed(
            "cache_put_failed",
            key.strip_prefix(KEY_PREFIX).unwrap_or(key),
        );
    }
}
