//! PostgREST, through the `postgrest` crate, with a timeout on every request.
//!
//! Two kinds of client, never mixed: [`Caller::Service`] sends the secret key (the cron and the
//! webhook: they write what no owner may), [`Caller::Coach`] sends the coach's own token, so
//! PostgREST runs the owner RPCs as that user and row-level security decides what they see.

use postgrest::{Builder, Postgrest};
use tenant_common::{Host, TenantId};

use super::{event, last, within};
use crate::api::{read_error, rpc_args, rpc_error};
use crate::config::Config;
use crate::domain::{DomainRow, COLUMNS, DIAGNOSIS};
use crate::error::{Error, Key, Service, UpstreamError};
use crate::event::{clip_detail, RowSkippedEvent};
use crate::health::{condition_of_error, read_postgrest};
use crate::lifecycle::{Guard, Update, CANDIDATES, CANDIDATE_LIMIT};
use tenant_common::Condition;

const TABLE: &str = "tenant_domains";

/// Who a request is made as.
#[derive(Clone, Copy)]
pub enum Caller<'a> {
    /// The control plane itself, with the secret key.
    Service,
    /// A coach, with their Supabase token.
    Coach(&'a str),
}

impl Caller<'_> {
    /// The key this caller's requests carry as `apikey`.
    fn key(self, config: &Config) -> Key {
        match self {
            Caller::Service => Key::Secret,
            Caller::Coach(_) => Key::Anon {
                set: config.anon_key.is_some(),
            },
        }
    }
}

fn client(config: &Config, caller: Caller<'_>) -> Postgrest {
    let base = Postgrest::new(&config.rest_url);
    match caller {
        Caller::Service => {
            let client = base.insert_header("apikey", config.secret_key.as_str());
            match config.secret_key.bearer() {
                Some(jwt) => client.insert_header("authorization", format!("Bearer {jwt}")),
                None => client,
            }
        }
        Caller::Coach(token) => {
            // The coach's token alone decides what this request may do; the apikey only gets it
            // through hosted Supabase's gateway, and is never a privileged key.
            let apikey = config.anon_key.as_ref().map_or(token, |k| k.as_str());
            base.insert_header("apikey", apikey)
                .insert_header("authorization", format!("Bearer {token}"))
        }
    }
}

/// Sends a request made as `caller` and reads its status and body, within the configured
/// timeout. An answer only a wrong setting explains is [`UpstreamError::Misconfigured`], naming
/// it, whatever the call (`UpstreamError::postgrest_misconfigured`); what the call found is
/// recorded for `/health` (`last`).
async fn send(
    config: &Config,
    caller: Caller<'_>,
    request: Builder,
) -> Result<(u16, String), UpstreamError> {
    let network = |e: reqwest::Error| UpstreamError::Network {
        service: Service::Postgrest,
        detail: e.to_string(),
    };
    let key = caller.key(config);
    let answer = within(Service::Postgrest, config.upstream_timeout_ms, async {
        let response = request.execute().await.map_err(network)?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(network)?;
        Ok((status, body))
    })
    .await
    .and_then(|(status, body)| {
        match UpstreamError::postgrest_misconfigured(status, &body, key, config.rest_url_setting) {
            Some(e) => Err(e),
            None => Ok((status, body)),
        }
    });
    let found = match &answer {
        Ok((status, _)) => Condition::of_status(*status),
        Err(e) => condition_of_error(e),
    };
    last::postgrest(found, &[config.rest_url_setting, key.setting()]);
    answer
}

fn status_error(status: u16, body: String) -> UpstreamError {
    UpstreamError::Status {
        service: Service::Postgrest,
        status,
        body,
    }
}

/// Rows of a 200 answer; rows that cannot be read are logged and left out.
fn rows(status: u16, body: String) -> Result<Vec<DomainRow>, UpstreamError> {
    if status != 200 {
        return Err(status_error(status, body));
    }
    Ok(DomainRow::from_rows(&body)?
        .into_iter()
        .filter_map(|row| {
            row.map_err(|e| {
                event::write(&RowSkippedEvent {
                    detail: clip_detail(&e),
                })
            })
            .ok()
        })
        .collect())
}

/// The rows the cron may have work for, oldest first.
pub async fn candidates(config: &Config) -> Result<Vec<DomainRow>, UpstreamError> {
    let request = client(config, Caller::Service)
        .from(TABLE)
        .select(COLUMNS)
        .or(CANDIDATES)
        .order("created_at.asc")
        .limit(CANDIDATE_LIMIT);
    let (status, body) = send(config, Caller::Service, request).await?;
    rows(status, body)
}

/// The deep health check's read: one id of `tenant_domains` with the secret key, read by
/// `health::read_postgrest` (a wrong key or URL is named).
pub async fn ping(config: &Config) -> Result<(), UpstreamError> {
    let request = client(config, Caller::Service)
        .from(TABLE)
        .select("id")
        .limit(1);
    let (status, body) = send(config, Caller::Service, request).await?;
    read_postgrest(status, &body, config.rest_url_setting)
}

/// Spends `calls` Cloudflare calls of this minute's budget for `kind`, shared by every isolate
/// (`POST /rpc/spend_cloudflare_calls` as the service role): whether they fit within
/// `per_minute` (if not, nothing is spent).
pub async fn spend_cloudflare_calls(
    config: &Config,
    kind: &str,
    calls: u32,
    per_minute: u32,
) -> Result<bool, UpstreamError> {
    let args = serde_json::json!({ "kind": kind, "calls": calls, "per_minute": per_minute });
    let request = client(config, Caller::Service).rpc("spend_cloudflare_calls", args.to_string());
    match send(config, Caller::Service, request).await? {
        (200, body) => serde_json::from_str(&body).map_err(|e| UpstreamError::Decode {
            service: Service::Postgrest,
            detail: e.to_string(),
        }),
        (status, body) => Err(status_error(status, body)),
    }
}

/// Tells the database the platform's reserved names and the cool-down (`set_domain_rules`):
/// every run, so the two never disagree for longer than a run.
pub async fn set_domain_rules(config: &Config) -> Result<(), UpstreamError> {
    let request = client(config, Caller::Service).rpc("set_domain_rules", config.domain_rules());
    match send(config, Caller::Service, request).await? {
        (200 | 204, _) => Ok(()),
        (status, body) => Err(status_error(status, body)),
    }
}

/// Claims at most `max` due domain events (`claim_domain_events`: oldest first, one per
/// hostname, each leased for 5 minutes and its attempt counted).
pub async fn claim_domain_events(
    config: &Config,
    max: u32,
) -> Result<Vec<crate::notify::Queued>, UpstreamError> {
    let args = serde_json::json!({ "max_events": max }).to_string();
    let request = client(config, Caller::Service).rpc("claim_domain_events", args);
    match send(config, Caller::Service, request).await? {
        (200, body) => crate::notify::Queued::from_rows(&body).map_err(|e| UpstreamError::Decode {
            service: Service::Postgrest,
            detail: e.to_string(),
        }),
        (status, body) => Err(status_error(status, body)),
    }
}

/// Records what came of an attempt at domain event `id` (`settle_domain_event`).
pub async fn settle_domain_event(
    config: &Config,
    id: &str,
    outcome: &crate::notify::Outcome,
    detail: Option<&str>,
) -> Result<(), UpstreamError> {
    let retry_in_seconds = match outcome {
        crate::notify::Outcome::Retry { in_s } => Some(*in_s),
        _ => None,
    };
    let args = serde_json::json!({
        "event_id": id,
        "outcome": outcome.as_str(),
        "retry_in_seconds": retry_in_seconds,
        "detail": detail,
    });
    let request = client(config, Caller::Service).rpc("settle_domain_event", args.to_string());
    match send(config, Caller::Service, request).await? {
        (200, _) => Ok(()),
        (status, body) => Err(status_error(status, body)),
    }
}

/// Records that claim `id`'s tenant proved control of its hostname (`prove_tenant_domain`): it
/// takes the hostname. Whether it is proven now (a claim removed or given up meanwhile is not).
pub async fn prove(config: &Config, id: &str) -> Result<bool, UpstreamError> {
    let request = client(config, Caller::Service)
        .rpc(
            "prove_tenant_domain",
            serde_json::json!({ "domain_id": id }).to_string(),
        )
        .single();
    match send(config, Caller::Service, request).await? {
        (200, body) => Ok(serde_json::from_str::<serde_json::Value>(&body)
            .is_ok_and(|row| row.get("proven_at").is_some_and(|at| at.is_string()))),
        (status, body) => Err(status_error(status, body)),
    }
}

/// The claims whose proof the cron looks up next (`claims_to_prove`: pending, not proven,
/// tenants in turn).
pub async fn claims(config: &Config) -> Result<Vec<DomainRow>, UpstreamError> {
    let request = client(config, Caller::Service)
        .rpc("claims_to_prove", "{}")
        .select(COLUMNS);
    let (status, body) = send(config, Caller::Service, request).await?;
    rows(status, body)
}

/// The row holding Cloudflare hostname `id`, if any.
pub async fn by_cloudflare_id(
    config: &Config,
    id: &str,
) -> Result<Option<DomainRow>, UpstreamError> {
    let request = client(config, Caller::Service)
        .from(TABLE)
        .select(COLUMNS)
        .eq("cloudflare_id", id);
    let (status, body) = send(config, Caller::Service, request).await?;
    Ok(rows(status, body)?.into_iter().next())
}

/// The row with this id, if it still exists.
pub async fn by_id(config: &Config, id: &str) -> Result<Option<DomainRow>, UpstreamError> {
    let request = client(config, Caller::Service)
        .from(TABLE)
        .select(COLUMNS)
        .eq("id", id);
    let (status, body) = send(config, Caller::Service, request).await?;
    Ok(rows(status, body)?.into_iter().next())
}

/// What a write did.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    /// The row matched its guard and was written.
    Matched,
    /// No row matched (changed or gone meanwhile).
    Unmatched,
    /// The database refused this row's new values (a CHECK or a unique index): this row's
    /// problem, not the run's. PostgREST's answer, for the log.
    Refused(String),
}

/// Applies `update` to row `id` if the row still is what it was decided on (its guard).
pub async fn update(config: &Config, id: &str, update: &Update) -> Result<Written, UpstreamError> {
    let request = client(config, Caller::Service)
        .from(TABLE)
        .select("id")
        .eq("id", id);
    let request = match update.guard {
        Guard::Status(status) => request.eq("status", status.as_str()),
        Guard::NoHostname => request.is("cloudflare_id", "null"),
        Guard::Unproven => request.eq("status", "pending").is("proven_at", "null"),
    };
    match send(
        config,
        Caller::Service,
        request.update(update.patch.to_json()),
    )
    .await?
    {
        (400 | 409, body) => Ok(Written::Refused(body)),
        (status, body) => Ok(if matched(status, body)? {
            Written::Matched
        } else {
            Written::Unmatched
        }),
    }
}

/// Deletes a `removing` row. Whether it matched.
pub async fn delete(config: &Config, id: &str) -> Result<bool, UpstreamError> {
    let request = client(config, Caller::Service)
        .from(TABLE)
        .select("id")
        .eq("id", id)
        .eq("status", "removing")
        .delete();
    let (status, body) = send(config, Caller::Service, request).await?;
    matched(status, body)
}

/// Whether a write with `return=representation` touched a row.
fn matched(status: u16, body: String) -> Result<bool, UpstreamError> {
    if status != 200 {
        return Err(status_error(status, body));
    }
    match serde_json::from_str::<Vec<serde_json::Value>>(&body) {
        Ok(rows) => Ok(!rows.is_empty()),
        Err(e) => Err(UpstreamError::Decode {
            service: Service::Postgrest,
            detail: e.to_string(),
        }),
    }
}

/// The coach's domains of `tenant`, oldest first, each with the doctor's last diagnosis.
/// Row-level security shows a coach their own tenants' rows (and their diagnoses) only:
/// another tenant's list is empty.
pub async fn coach_domains(
    config: &Config,
    token: &str,
    tenant: &TenantId,
) -> Result<Vec<DomainRow>, Error> {
    let request = client(config, Caller::Coach(token))
        .from(TABLE)
        .select(format!("{COLUMNS},{DIAGNOSIS}"))
        .eq("tenant_id", tenant.as_str())
        .order("created_at.asc");
    match send(config, Caller::Coach(token), request).await? {
        (200, body) => Ok(rows(200, body)?),
        (status, body) => Err(read_error(status, &body)),
    }
}

/// Calls an owner RPC (`add_tenant_domain`, `remove_tenant_domain`,
/// `set_primary_tenant_domain`) as the coach; the row it answers.
pub async fn owner_rpc(
    config: &Config,
    token: &str,
    function: &str,
    tenant: &TenantId,
    hostname: &Host,
) -> Result<DomainRow, Error> {
    let request = client(config, Caller::Coach(token))
        .rpc(function, rpc_args(tenant, hostname))
        .single();
    match send(config, Caller::Coach(token), request).await? {
        (200, body) => Ok(DomainRow::from_rpc(&body)?),
        (status, body) => Err(rpc_error(status, &body, "domain changes")),
    }
}

/// Whether the coach whose token this is owns `tenant` (active or not): `my_tenant_profile()`,
/// the owner's own view, filtered to that id. Another tenant's id, or an unknown one, is `false`.
pub async fn owns_tenant(config: &Config, token: &str, tenant: &TenantId) -> Result<bool, Error> {
    let request = client(config, Caller::Coach(token))
        .rpc("my_tenant_profile", "{}")
        .select("id")
        .eq("id", tenant.as_str());
    match send(config, Caller::Coach(token), request).await? {
        (200, body) => Ok(body.trim() != "[]"),
        (status, body) => Err(read_error(status, &body)),
    }
}

/// Calls an owner function that spends the brand budget (the brand's, `crate::brand::args`; the
/// maintenance switch's, `crate::maintenance`; a preview's) as the coach with `args` (JSON); the
/// JSON it answers.
pub async fn brand_rpc(
    config: &Config,
    token: &str,
    function: &str,
    args: String,
) -> Result<String, Error> {
    let request = client(config, Caller::Coach(token)).rpc(function, args);
    match send(config, Caller::Coach(token), request).await? {
        (200, body) => Ok(body),
        (status, body) => Err(rpc_error(status, &body, "brand changes")),
    }
}

/// Keeps the doctor's diagnoses (`doctor::Diagnosis::to_row`), one per domain, replacing the
/// last (`tenant_domain_diagnoses`, as the service role: a coach may read them, not write
/// them). A domain deleted meanwhile refuses the batch (409): nothing to keep.
pub async fn save_diagnoses(
    config: &Config,
    rows: Vec<serde_json::Value>,
) -> Result<(), UpstreamError> {
    if rows.is_empty() {
        return Ok(());
    }
    let request = client(config, Caller::Service)
        .from("tenant_domain_diagnoses")
        .upsert(serde_json::Value::Array(rows).to_string())
        .on_conflict("domain_id");
    match send(config, Caller::Service, request).await? {
        (200 | 201 | 204 | 409, _) => Ok(()),
        (status, body) => Err(status_error(status, body)),
    }
}
