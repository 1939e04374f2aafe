//! PostgREST, through the `postgrest` crate, with the anon key and a timeout on every request.
//!
//! One PostgREST request per resolution. reqwest 0.11 (which `postgrest` uses) has no timeout
//! on Wasm, so each request, body included, is raced against a runtime timer ([`within`]).
//! The HTTP status is checked before a body is decoded; anything unexpected is an
//! [`UpstreamError`] (`UpstreamError::answered` reads what it means: a wrong setting, or
//! PostgREST failing), which the client sees as `misconfigured` or `upstream_unavailable`.
//! What each read of the tenant directory found is kept for `/_tenant/health` ([`last`]).

use std::cell::Cell;
use std::future::Future;

use postgrest::{Builder, Postgrest};

use super::{event, now_ms};
use crate::challenge;
use crate::config::Config;
use crate::error::{Error, Read, UpstreamError};
use crate::event::{Level, Line};
use crate::feed::{Snapshot, READ_LIMIT};
use crate::health::{found, READS_RELY_ON};
use crate::key::Lookup;
use crate::tenant::{active_profile, TenantRow, OLDER_SELECT, PROFILE_SELECT, PUBLIC_SELECT};
use tenant_common::Seen;

thread_local! {
    /// What this isolate's last read of the tenant directory found, and since when.
    static LAST: Cell<Option<Seen>> = const { Cell::new(None) };
    /// Until when this isolate reads tenants with `tenant::OLDER_SELECT` (ms since the epoch).
    static OLDER_UNTIL: Cell<u64> = const { Cell::new(0) };
}

/// How long an isolate that found the database older than itself reads it so before it asks
/// again whether `supabase db push` has run.
const OLDER_RETRY_MS: u64 = 10_000;

/// PostgreSQL's code for "no such column".
const NO_COLUMN: &str = "42703";

/// What this isolate's last read of the tenant directory found (`None` before any).
pub fn last() -> Option<Seen> {
    LAST.get()
}

/// What PostgREST's answer to `read`, other than the one asked for, means: a setting this
/// config names wrong, or PostgREST failing (`UpstreamError::answered`).
fn unexpected(config: &Config, read: Read, (status, body): (u16, String)) -> UpstreamError {
    UpstreamError::answered(status, body, read, config.rest_url_setting)
}

/// Notes what a read of the tenant directory came to: no error, or `error`.
fn note(error: Option<&UpstreamError>) {
    let found = found(error);
    LAST.with(|last| {
        last.set(Some(Seen::after(
            last.get(),
            found,
            READS_RELY_ON,
            now_ms(),
        )))
    });
}

/// PostgREST's error code for "a single object was requested and no row matched".
const NO_ROWS: &str = "PGRST116";
/// The header naming the tenant a lookup asks for; the row-level-security policy on
/// `tenant_profiles` reads it from `request.headers`.
const LOOKUP_HEADER: &str = "x-tenant-lookup";

/// A PostgREST client that sends the anon key as `apikey` (and as the bearer token when it is a
/// legacy JWT).
fn client(config: &Config) -> Postgrest {
    let client = Postgrest::new(&config.rest_url).insert_header("apikey", config.anon_key.as_str());
    match config.anon_key.bearer() {
        Some(jwt) => client.insert_header("authorization", format!("Bearer {jwt}")),
        None => client,
    }
}

/// Sends a request and reads its status and body, within the configured timeout.
async fn send(config: &Config, request: Builder) -> Result<(u16, String), UpstreamError> {
    within(config.upstream_timeout_ms, async {
        let response = request
            .execute()
            .await
            .map_err(|e| UpstreamError::Network(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .text()
            .await
            .map_err(|e| UpstreamError::Network(e.to_string()))?;
        Ok((status, body))
    })
    .await
}

/// A row of `select=id`: exactly an id, or something other than PostgREST answered.
fn is_id_row(row: &serde_json::Value) -> bool {
    row.as_object()
        .is_some_and(|r| r.len() == 1 && r.get("id").is_some_and(|id| id.is_string()))
}

/// Round-trips PostgREST with the smallest read the anon key is allowed: tenant ids, of which
/// a request naming no tenant sees none. An answer that is not a JSON array is a failure too:
/// something else is listening.
pub async fn ping(config: &Config) -> Result<(), UpstreamError> {
    let request = client(config).from("tenant_profiles").select("id").limit(1);
    let result = match send(config, request).await {
        Ok((200, body)) => match serde_json::from_str::<serde_json::Value>(&body) {
            Ok(serde_json::Value::Array(rows)) if rows.iter().all(is_id_row) => Ok(()),
            _ => Err(
                UpstreamError::Decode(format!("not rows of ids: {body:.80}"))
                    .or_wrong_url(&body, config.rest_url_setting),
            ),
        },
        Ok(other) => Err(unexpected(config, Read::Tenants, other)),
        Err(e) => Err(e),
    };
    note(result.as_ref().err());
    result
}

/// The active tenant with this key, or `None`. Inactive tenants are invisible to the anon key
/// (row-level security), so they are `None` too. Row-level security shows the anon key only
/// the tenant a request names in `X-Tenant-Lookup` (`slug:acme`, …), so listing tenants is
/// impossible with the key; for a slug or an id the filter says the same again for the index.
/// A domain names its tenant only while one of the tenant's `tenant_domains` rows of that
/// hostname is active, which the policy asks the database itself: no filter to add.
///
/// A database without a column the Worker selects (deployed before `supabase db push`) is read
/// with `tenant::OLDER_SELECT` for `OLDER_RETRY_MS`, then asked again: logged `database_behind`.
pub async fn find(config: &Config, lookup: &Lookup) -> Result<Option<TenantRow>, UpstreamError> {
    let mut older = OLDER_UNTIL.get() > now_ms();
    let answer = loop {
        let select = if older { OLDER_SELECT } else { PUBLIC_SELECT };
        let request = client(config)
            .insert_header(LOOKUP_HEADER, lookup.to_string())
            .from("tenant_profiles")
            .select(select);
        let request = match lookup {
            Lookup::Slug(_) => request.eq("slug", lookup.value()),
            Lookup::Id(_) => request.eq("id", lookup.value()),
            Lookup::Domain(_) => request,
        };
        match send(config, request.single()).await {
            Ok((400, body)) if !older && body.contains(NO_COLUMN) => {
                older = true;
                OLDER_UNTIL.set(now_ms() + OLDER_RETRY_MS);
                event::log(
                    Line::new("database_behind", Level::Warn)
                        .str("setting", Some(config.rest_url_setting.name()))
                        .str(
                            "problem",
                            Some("has no tenant_profiles.maintenance: run `supabase db push`"),
                        ),
                );
            }
            answer => break answer,
        }
    };
    let read = |body: &str| match older {
        true => TenantRow::with_maintenance_off(body),
        false => TenantRow::from_json(body),
    };
    let result = match answer {
        Ok((200, body)) => read(&body)
            .map(Some)
            .map_err(|e| e.or_wrong_url(&body, config.rest_url_setting)),
        Ok((406, body)) if body.contains(NO_ROWS) => Ok(None),
        Ok(other) => Err(unexpected(config, Read::Tenants, other)),
        Err(e) => Err(e),
    };
    note(result.as_ref().err());
    result
}

/// The tenant as its draft would show it, when `key` names a live preview of it
/// (`public.tenant_preview`, which the anon key may call: the key is the capability), in the
/// public tenant JSON's shape; `None` when it names none.
pub async fn preview(config: &Config, key: &str) -> Result<Option<TenantRow>, UpstreamError> {
    let args = serde_json::json!({ "key": key });
    let request = client(config).rpc("tenant_preview", args.to_string());
    match send(config, request).await? {
        (200, body) if body.trim() == "null" => Ok(None),
        (200, body) => TenantRow::from_json(&body).map(Some),
        other => Err(unexpected(config, Read::Tenants, other)),
    }
}

/// The body of Cloudflare's ownership check of `host` at `path`, if a domain of that hostname
/// has one there (whatever its status): the one row the database shows a request naming that
/// exact path (`challenge::lookup_header`).
pub async fn challenge(
    config: &Config,
    host: &str,
    path: &str,
) -> Result<Option<String>, UpstreamError> {
    let request = client(config)
        .insert_header(LOOKUP_HEADER, challenge::lookup_header(host, path))
        .from("domain_challenges")
        .select("body")
        .eq("hostname", host)
        .eq("path", path);
    let result = match send(config, request).await {
        Ok((200, body)) => challenge::challenge_body(&body)
            .map_err(|e| UpstreamError::Decode(e).or_wrong_url(&body, config.rest_url_setting)),
        Ok(other) => Err(unexpected(config, Read::Challenges, other)),
        Err(e) => Err(e),
    };
    note(result.as_ref().err());
    result
}

/// The change feed as of `read_at_ms` (when this read is sent): the newest [`READ_LIMIT`]
/// changes of the last `feed::WINDOW_MS`, newest first, through `public.tenant_changes_since`,
/// which answers one JSON array of the rows: the table itself takes no filter from the anon key.
pub async fn changes(
    config: &Config,
    read_at_ms: u64,
) -> Result<(Snapshot, String), UpstreamError> {
    let params = serde_json::json!({
        "since": Snapshot::since(read_at_ms),
        "max_changes": READ_LIMIT,
    });
    let request = client(config).rpc("tenant_changes_since", params.to_string());
    match send(config, request).await? {
        (200, body) => Ok((Snapshot::from_rows(&body, read_at_ms)?, body)),
        (status, body) => Err(UpstreamError::Status { status, body }),
    }
}

/// The caller's own active profile (the oldest, if several) through
/// `public.my_tenant_profile()`, with the caller's token, as the JSON `/_tenant/me` serves:
/// PostgREST verifies the token, row-level security decides, and PostgREST writes the JSON. A token PostgREST refuses is
/// [`Error::Unauthorized`]; no active tenant is [`Error::TenantNotFound`]; Supabase's gateway
/// refusing the anon key, or a URL leading elsewhere, is [`Error::Misconfigured`].
pub async fn my_profile(config: &Config, user_token: &str) -> Result<String, Error> {
    let request = client(config)
        .rpc("my_tenant_profile", "{}")
        .select(PROFILE_SELECT)
        .is("is_active", "true")
        .order("created_at.asc")
        .limit(1)
        .single()
        .auth(user_token);
    match send(config, request).await? {
        (200, body) => match active_profile(&body)
            .map_err(|e| e.or_wrong_url(&body, config.rest_url_setting))?
        {
            Some(_) => Ok(body),
            None => Err(Error::TenantNotFound),
        },
        (406, body) if body.contains(NO_ROWS) => Err(Error::TenantNotFound),
        other => match unexpected(config, Read::Profile, other) {
            UpstreamError::Status {
                status: 401 | 403, ..
            } => Err(Error::user_unauthorized()),
            e => Err(e.into()),
        },
    }
}

/// Runs `request`, giving up with [`UpstreamError::Timeout`] after `ms` milliseconds.
pub fn within<T>(
    ms: u32,
    request: impl Future<Output = Result<T, UpstreamError>>,
) -> impl Future<Output = Result<T, UpstreamError>> {
    tenant_common::within(ms, request, move || UpstreamError::Timeout { after_ms: ms })
}
