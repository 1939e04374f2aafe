//! Analytics Engine's SQL API over reqwest, within the upstream timeout, with the analytics
//! token (never the zone's). What an answer means is `analytics::read`'s to say.

use super::within;
use crate::analytics::{read, BucketView, Query};
use crate::config::{Analytics, Config};
use crate::error::{Service, UpstreamError};

/// The buckets of `query`, asked of the SQL API of `analytics`' account.
pub async fn buckets(
    config: &Config,
    analytics: &Analytics,
    query: &Query,
) -> Result<Vec<BucketView>, UpstreamError> {
    let network = |e: reqwest::Error| UpstreamError::Network {
        service: Service::Analytics,
        detail: e.without_url().to_string(),
    };
    let request = reqwest::Client::new()
        .post(analytics.sql_url(&config.cloudflare.api_base))
        .bearer_auth(&analytics.token)
        .header("content-type", "text/plain")
        .body(query.sql(&analytics.dataset));
    let (status, text) = within(Service::Analytics, config.upstream_timeout_ms, async {
        let response = request.send().await.map_err(network)?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(network)?;
        Ok((status, text))
    })
    .await?;
    read(status, &text)
}
