//! The deep health check's I/O: PostgREST, Cloudflare and the DNS resolver asked side by side, at most once per
//! isolate per [`DEEP_CHECK_INTERVAL_MS`](tenant_common::DEEP_CHECK_INTERVAL_MS); concurrent
//! and repeated checks share the last one (the policy is `crate::health`).
//!
//! A check that arrives while another runs waits for it by polling on its own timer, as the
//! resolver's single flight does (`src/edge/flight.rs`): workerd cancels a request that waits
//! only on another request's I/O.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use futures_util::future::join3;
use worker::Delay;

use super::event::Trace;
use super::{cloudflare, dns, now_ms, store};
use crate::config::Config;
use crate::error::{Error, Service, UpstreamError};
use crate::health::{read_cloudflare, read_dns, verdict, DeepCheck, Health};

/// A check in flight: its leader fills it when done.
type Pending = Rc<RefCell<Option<Health>>>;

/// How often a waiting check looks whether the running one is done.
const FOLLOW_POLL: Duration = Duration::from_millis(5);

thread_local! {
    /// The last deep check this isolate ran.
    static LAST: RefCell<Option<DeepCheck>> = const { RefCell::new(None) };
    /// The deep check in flight, if any.
    static RUNNING: RefCell<Option<Pending>> = const { RefCell::new(None) };
}

/// PostgREST's, Cloudflare's and the DNS resolver's health, and how old (ms) the check that
/// says so is. A check this request runs notes its three calls and what failed in `trace`.
pub async fn deep(config: &Config, trace: &mut Trace) -> (Health, u64) {
    let now = now_ms();
    let shared = LAST.with_borrow(|last| {
        let last = last.as_ref()?;
        Some((last.result.clone(), last.shareable_age(now)?))
    });
    if let Some(shared) = shared {
        return shared;
    }
    if let Some(pending) = RUNNING.with_borrow(Clone::clone) {
        return (follow(&pending, config.upstream_timeout_ms).await, age());
    }
    let leading = Leading::start();
    let checked_at_ms = now_ms();
    let platform = config.platform_domain.as_str();
    let (postgrest, listing, answer) = trace
        .upstream(
            3,
            join3(
                store::ping(config),
                cloudflare::zone_answers(config),
                dns::txt(config, platform),
            ),
        )
        .await;
    let cloudflare = read_cloudflare(listing);
    let dns = read_dns(answer.map(|_| ()));
    let failed: Vec<String> = [&postgrest, &cloudflare, &dns]
        .into_iter()
        .filter_map(|r| r.as_ref().err().map(ToString::to_string))
        .collect();
    if !failed.is_empty() {
        trace.note(&failed.join("; "));
    }
    let result = verdict(postgrest, cloudflare, dns);
    LAST.set(Some(DeepCheck {
        checked_at_ms,
        result: result.clone(),
    }));
    leading.finish(result.clone());
    (result, 0)
}

/// How old the last check is now.
fn age() -> u64 {
    LAST.with_borrow(|last| {
        last.as_ref()
            .map_or(0, |l| now_ms().saturating_sub(l.checked_at_ms))
    })
}

/// Waits for the running check, on this request's own timer, at most a second past the
/// upstream timeout (which bounds the leader's work).
async fn follow(pending: &Pending, timeout_ms: u32) -> Health {
    let polls = (u64::from(timeout_ms) + 1000) / FOLLOW_POLL.as_millis() as u64;
    for _ in 0..polls {
        if let Some(result) = pending.borrow().clone() {
            return result;
        }
        Delay::from(FOLLOW_POLL).await;
    }
    Err(Error::from(UpstreamError::Timeout {
        service: Service::Postgrest,
        after_ms: timeout_ms,
    }))
}

/// The running check's claim. Dropping it (done, or the leading request cancelled) ends the
/// run: followers get the result, or an error if there is none, and the next check starts
/// afresh.
struct Leading {
    pending: Pending,
}

impl Leading {
    fn start() -> Leading {
        let pending = Pending::default();
        RUNNING.set(Some(pending.clone()));
        Leading { pending }
    }

    fn finish(self, result: Health) {
        *self.pending.borrow_mut() = Some(result);
    }
}

impl Drop for Leading {
    fn drop(&mut self) {
        let mut pending = self.pending.borrow_mut();
        if pending.is_none() {
            *pending = Some(Err(Error::from(UpstreamError::Network {
                service: Service::Postgrest,
                detail: "the leading health check was cancelled".into(),
            })));
        }
        RUNNING.set(None);
    }
}
