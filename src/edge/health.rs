//! The deep health check's I/O: at most one PostgREST round trip per isolate per
//! [`DEEP_CHECK_INTERVAL_MS`](tenant_common::DEEP_CHECK_INTERVAL_MS); concurrent and repeated
//! checks share the last one (the policy is `crate::health`).

use std::cell::RefCell;
use std::rc::Rc;

use super::event::Calls;
use super::flight::{Flights, Outcome};
use super::{now_ms, store};
use crate::config::Config;
use crate::health::DeepCheck;

thread_local! {
    /// The last deep check this isolate ran.
    static LAST: RefCell<Option<DeepCheck>> = const { RefCell::new(None) };
    /// A deep check in flight: concurrent callers wait for it.
    static CHECKS: Rc<Flights<()>> = Flights::new();
}

/// PostgREST's health, and how old (ms) the round trip that says so is; a round trip this
/// request makes is counted in `calls`.
pub async fn deep(config: &Config, calls: &Calls) -> (Outcome<()>, u64) {
    let now = now_ms();
    let shared = LAST.with_borrow(|last| {
        let last = last.as_ref()?;
        Some((last.result.clone(), last.shareable_age(now)?))
    });
    if let Some(shared) = shared {
        return shared;
    }
    let checks = CHECKS.with(Rc::clone);
    let (_, result) = checks
        .run("deep", config.upstream_timeout_ms, async {
            let checked_at_ms = calls.start();
            let result = store::ping(config).await;
            calls.end(checked_at_ms, result.is_err());
            LAST.set(Some(DeepCheck {
                checked_at_ms,
                result: result.clone(),
            }));
            result
        })
        .await;
    let age = LAST.with_borrow(|last| {
        last.as_ref()
            .map_or(0, |l| now_ms().saturating_sub(l.checked_at_ms))
    });
    (result, age)
}
