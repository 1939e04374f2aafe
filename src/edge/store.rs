//! PostgREST, through the `postgrest` crate, with the anon key and a timeout on every request.
//!
//! reqwest 0.11 (which `postgrest` uses) has no timeout on Wasm, so every request is raced
//! against a runtime timer ([`within`]). The HTTP status is checked before a body is decoded.

use std::future::Future;
use std::time::Duration;

use futures_util::future::{select, Either};
use postgrest::Postgrest;

use crate::{Config, UpstreamError};

/// A PostgREST client that sends the anon key as `apikey` (and as the bearer token when it is a
/// legacy JWT).
fn client(config: &Config) -> Postgrest {
    let client = Postgrest::new(&config.rest_url).insert_header("apikey", config.anon_key.as_str());
    match config.anon_key.bearer() {
        Some(jwt) => client.insert_header("authorization", format!("Bearer {jwt}")),
        None => client,
    }
}

/// Round-trips PostgREST with the smallest read the anon key is allowed: one tenant id.
pub async fn ping(config: &Config) -> Result<(), UpstreamError> {
    within(config.upstream_timeout_ms, async {
        let response = client(config)
            .from("tenant_profiles")
            .select("id")
            .limit(1)
            .execute()
            .await
            .map_err(|e| UpstreamError::Network(e.to_string()))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            let body = response.text().await.unwrap_or_default();
            Err(UpstreamError::Status { status, body })
        }
    })
    .await
}

/// Runs `request`, giving up with [`UpstreamError::Timeout`] after `ms` milliseconds.
pub async fn within<T>(
    ms: u32,
    request: impl Future<Output = Result<T, UpstreamError>>,
) -> Result<T, UpstreamError> {
    let timer = worker::Delay::from(Duration::from_millis(u64::from(ms)));
    let request = std::pin::pin!(request);
    match select(request, timer).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(UpstreamError::Timeout { after_ms: ms }),
    }
}
