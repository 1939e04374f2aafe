//! TXT lookups over DNS over HTTPS (the JSON API) with reqwest, within the upstream timeout.
//! What an answer means is `dns::read`'s to say.

use super::within;
use crate::config::Config;
use crate::dns::{read, txt_query_url, Lookup, MAX_BODY_BYTES};
use crate::error::{Service, UpstreamError};

/// The TXT records at `name`, asked of `DNS_RESOLVER_URL`. `Err` when the resolver itself
/// failed (a timeout, a network error, an HTTP status other than 200, an answer longer than
/// `dns::MAX_BODY_BYTES` by its `content-length`): the run stops asking it. A DNS-level
/// failure for this one name (SERVFAIL, say) is [`Lookup::Unknown`].
pub async fn txt(config: &Config, name: &str) -> Result<Lookup, UpstreamError> {
    let url = txt_query_url(&config.dns_resolver_url, name);
    let network = |e: reqwest::Error| UpstreamError::Network {
        service: Service::Dns,
        detail: e.without_url().to_string(),
    };
    let request = reqwest::Client::new()
        .get(url)
        .header("accept", "application/dns-json");
    let (status, text) = within(Service::Dns, config.upstream_timeout_ms, async {
        let response = request.send().await.map_err(network)?;
        let status = response.status().as_u16();
        let declared = response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
            return Ok((status, None));
        }
        let text = response.text().await.map_err(network)?;
        Ok((status, Some(text)))
    })
    .await?;
    match text {
        Some(text) if status == 200 => Ok(read(status, &text, name)),
        text => Err(UpstreamError::Status {
            service: Service::Dns,
            status,
            body: text.unwrap_or_else(|| format!("more than {MAX_BODY_BYTES} bytes")),
        }),
    }
}
