//! Cloudflare's custom hostnames API over reqwest (the HTTP client `postgrest` already brings),
//! a timeout on every call. What an answer means is `cloudflare::read`'s to say; an
//! "Authentication error" on the zone has the token checked (`GET /user/tokens/verify`) to
//! name the right setting. What each call found is recorded for `/health` (`last`).

use reqwest::Method;

use super::{last, within};
use crate::cloudflare::{
    after_token_check, create_body, decode, read, read_listing, read_token_check,
    wants_token_check, CustomHostname, TokenCheck, Verdict, TOKEN_VERIFY_PATH,
};
use crate::config::Config;
use crate::error::{Service, UpstreamError};
use crate::health::condition_of_verdict;
use tenant_common::Condition;

/// An answer: status, `retry-after`, body.
type Answer = (u16, Option<String>, String);

/// Sends one API call: `path` under the zone's `custom_hostnames`; what it answered.
async fn send(
    config: &Config,
    method: Method,
    path: &str,
    body: Option<String>,
) -> Result<Answer, UpstreamError> {
    let cf = &config.cloudflare;
    let url = format!(
        "{}/zones/{}/custom_hostnames{path}",
        cf.api_base, cf.zone_id
    );
    send_to(config, method, url, body).await
}

/// Sends one API call to `url`, with the token; what it answered.
async fn send_to(
    config: &Config,
    method: Method,
    url: String,
    body: Option<String>,
) -> Result<Answer, UpstreamError> {
    let cf = &config.cloudflare;
    let network = |e: reqwest::Error| UpstreamError::Network {
        service: Service::Cloudflare,
        detail: e.without_url().to_string(),
    };
    let mut request = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(&cf.token);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    within(Service::Cloudflare, config.upstream_timeout_ms, async {
        let response = request.send().await.map_err(network)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = response.text().await.map_err(network)?;
        Ok((status, retry_after, text))
    })
    .await
}

/// Sends one API call and reads its answer.
async fn call(config: &Config, method: Method, path: &str, body: Option<String>) -> Verdict {
    let verdict = match send(config, method, path, body).await {
        Ok((status, retry_after, text)) => read(status, retry_after.as_deref(), &text),
        Err(e) => Verdict::Stop(e),
    };
    found(config, verdict).await
}

/// `verdict` with the setting to blame settled (a refusal on the zone has the token checked),
/// recorded for `/health`.
async fn found(config: &Config, verdict: Verdict) -> Verdict {
    let verdict = if wants_token_check(&verdict, &config.cloudflare.token) {
        let url = format!("{}{TOKEN_VERIFY_PATH}", config.cloudflare.api_base);
        let check = match send_to(config, Method::GET, url, None).await {
            Ok((status, _, text)) => read_token_check(status, &text),
            Err(_) => TokenCheck::Unknown,
        };
        after_token_check(verdict, check)
    } else {
        verdict
    };
    last::cloudflare(condition_of_verdict(&verdict));
    verdict
}

/// A hostname from a successful answer, or the answer itself.
fn hostname(verdict: Verdict) -> Result<CustomHostname, Verdict> {
    match verdict {
        Verdict::Ok(result) => decode(result),
        other => Err(other),
    }
}

/// `POST /zones/{zone}/custom_hostnames`.
pub async fn create(config: &Config, name: &str) -> Result<CustomHostname, Verdict> {
    hostname(call(config, Method::POST, "", Some(create_body(name))).await)
}

/// `GET /zones/{zone}/custom_hostnames/{id}`.
pub async fn get(config: &Config, id: &str) -> Result<CustomHostname, Verdict> {
    hostname(call(config, Method::GET, &format!("/{id}"), None).await)
}

/// `DELETE /zones/{zone}/custom_hostnames/{id}`: `Ok` when gone, whether now or before (404).
pub async fn delete(config: &Config, id: &str) -> Result<(), Verdict> {
    match call(config, Method::DELETE, &format!("/{id}"), None).await {
        Verdict::Ok(_) | Verdict::NotFound => Ok(()),
        other => Err(other),
    }
}

/// `GET /zones/{zone}/custom_hostnames?hostname=…`: the zone's hostname of this name, if any.
pub async fn find(config: &Config, name: &str) -> Result<Option<CustomHostname>, Verdict> {
    let path = format!("?hostname={name}&per_page=5");
    match call(config, Method::GET, &path, None).await {
        Verdict::Ok(result) => {
            let found: Vec<CustomHostname> = decode(result)?;
            Ok(found.into_iter().find(|h| h.hostname == name))
        }
        other => Err(other),
    }
}

/// `GET /zones/{zone}/custom_hostnames?per_page=5`: `Ok` when the zone answered a listing
/// (`cloudflare::read_listing`), the proof asked before a hostname is declared gone, and the
/// deep health check's.
pub async fn zone_answers(config: &Config) -> Result<(), Verdict> {
    let listing = match send(config, Method::GET, "?per_page=5", None).await {
        Ok((status, retry_after, text)) => read_listing(status, retry_after.as_deref(), &text),
        Err(e) => Err(Verdict::Stop(e)),
    };
    match listing {
        Ok(()) => {
            last::cloudflare(Condition::Ok);
            Ok(())
        }
        Err(verdict) => Err(found(config, verdict).await),
    }
}
