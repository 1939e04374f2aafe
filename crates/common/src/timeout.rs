//! The upstream timeout race: reqwest has no timeout on Wasm, so every upstream call of both
//! Workers races a timer (`UPSTREAM_TIMEOUT_MS`). Compiled only for Wasm: it needs the Workers
//! runtime's timer.

use std::future::Future;
use std::time::Duration;

use futures_util::future::{select, Either};

/// `request`'s result, or `timed_out()` when `ms` milliseconds pass first. Giving up drops
/// the request's future, which aborts its fetch.
#[inline]
pub async fn within<T, E>(
    ms: u32,
    request: impl Future<Output = Result<T, E>>,
    timed_out: impl FnOnce() -> E,
) -> Result<T, E> {
    let timer = worker::Delay::from(Duration::from_millis(u64::from(ms)));
    let request = std::pin::pin!(request);
    match select(request, timer).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(timed_out()),
    }
}
