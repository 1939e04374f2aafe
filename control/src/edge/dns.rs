//! Lookups over DNS over HTTPS (the JSON API) with reqwest, within the upstream timeout.
//! What an answer means is `dns::read`'s and `dns::read_answer`'s to say.

use super::within;
use crate::config::Config;
use crate::dns::{
    query_url, read, read_answer, txt_values, Answer, Lookup, RecordType, MAX_BODY_BYTES,
};
use crate::doctor::{self, acme_record, caa_names, Diagnosis, Findings, Subject};
use crate::domain::{is_apex, DomainRow};
use crate::error::{Service, UpstreamError};

/// The TXT records at `name`, asked of `DNS_RESOLVER_URL`. `Err` when the resolver itself
/// failed (a timeout, a network error, an HTTP status other than 200, an answer longer than
/// `dns::MAX_BODY_BYTES` by its `content-length`): the run stops asking it. A DNS-level
/// failure for this one name (SERVFAIL, say) is [`Lookup::Unknown`].
pub async fn txt(config: &Config, name: &str) -> Result<Lookup, UpstreamError> {
    let body = ask(config, name, RecordType::Txt).await?;
    Ok(read(200, &body, name))
}

/// The records of type `kind` at `name` (and its CNAME chain), asked of `DNS_RESOLVER_URL`:
/// `Err` as for [`txt`]; a DNS-level failure for this name is the inner `Err`, saying why.
pub async fn answer(
    config: &Config,
    name: &str,
    kind: RecordType,
) -> Result<Result<Answer, String>, UpstreamError> {
    let body = ask(config, name, kind).await?;
    Ok(read_answer(200, &body, name, kind))
}

/// The body of the resolver's 200 answer to a query of `kind` at `name`, within the timeout.
async fn ask(config: &Config, name: &str, kind: RecordType) -> Result<String, UpstreamError> {
    let url = query_url(&config.dns_resolver_url, name, kind);
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
        Some(text) if status == 200 => Ok(text),
        text => Err(UpstreamError::Status {
            service: Service::Dns,
            status,
            body: text.unwrap_or_else(|| format!("more than {MAX_BODY_BYTES} bytes")),
        }),
    }
}

/// What one diagnosis looked up: the findings (`Err`: why a lookup failed), how many lookups
/// it made, and whether the resolver itself failed (then nothing more is asked of it now).
pub struct Looked {
    pub findings: Result<Findings, String>,
    pub lookups: usize,
    pub resolver_failed: bool,
}

/// Looks up what the doctor needs of `row`, stopping at the first failed lookup: A and AAAA
/// of the name, its CAA from the name up (`doctor::caa_names`, until a name has some), the
/// leftover `_acme-challenge`, the proof unless proven, and for an apex the target's A and
/// AAAA. At most `doctor::MAX_LOOKUPS`.
pub async fn findings(config: &Config, row: &DomainRow) -> Looked {
    let mut looked = Looked {
        findings: Err(String::new()),
        lookups: 0,
        resolver_failed: false,
    };
    let result = gather(config, row, &mut looked).await;
    looked.findings = result;
    looked
}

async fn gather(config: &Config, row: &DomainRow, looked: &mut Looked) -> Result<Findings, String> {
    let host = row.hostname.as_str();
    let target = config.target.as_str();
    let mut found = Findings {
        a: one(config, host, RecordType::A, looked).await?,
        aaaa: one(config, host, RecordType::Aaaa, looked).await?,
        ..Findings::default()
    };
    for name in caa_names(host) {
        let caa = one(config, &name, RecordType::Caa, looked).await?;
        if !caa.values.is_empty() {
            found.caa = caa.values;
            break;
        }
    }
    found.acme = one(config, &acme_record(host), RecordType::Txt, looked).await?;
    if !row.is_proven() {
        let record = config.challenge_record(host);
        let proof = one(config, &record, RecordType::Txt, looked).await?;
        found.proof = Some(txt_values(&proof));
    }
    if is_apex(host) {
        let a = one(config, target, RecordType::A, looked).await?;
        let aaaa = one(config, target, RecordType::Aaaa, looked).await?;
        found.target_addresses = Some(
            a.values
                .iter()
                .chain(&aaaa.values)
                .filter_map(|v| v.trim().parse().ok())
                .collect(),
        );
    }
    Ok(found)
}

/// One lookup of a diagnosis, counted; `Err` (why) when it is not a definitive answer.
async fn one(
    config: &Config,
    name: &str,
    kind: RecordType,
    looked: &mut Looked,
) -> Result<Answer, String> {
    looked.lookups += 1;
    match answer(config, name, kind).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(why)) => Err(format!("{} {name}: {why}", kind.name())),
        Err(e) => {
            looked.resolver_failed = true;
            Err(format!("{} {name}: the resolver failed: {e}", kind.name()))
        }
    }
}

/// Diagnoses `row` at `now_ms`: its verdict, and what it looked up.
pub async fn diagnose(config: &Config, row: &DomainRow, now_ms: u64) -> (Diagnosis, Looked) {
    let looked = findings(config, row).await;
    let record = config.challenge_record(&row.hostname);
    let subject = Subject {
        row,
        target: config.target.as_str(),
        challenge_record: &record,
    };
    let now = tenant_common::format_ms(now_ms);
    let diagnosis = doctor::diagnose(
        &subject,
        looked.findings.as_ref().map_err(String::as_str),
        &now,
    );
    (diagnosis, looked)
}
