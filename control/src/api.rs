//! The control plane's HTTP surface: the coach's domains API and Cloudflare's webhook.
//!
//! [`route`] turns method, path and query into a [`Route`] with validated keys, so malformed
//! input is a 400 before any upstream request. The coach's calls go to the owner RPCs with the
//! coach's own token; [`rpc_error`] maps what they refuse (by the `hint` the database gives) to
//! the error contract, without ever passing PostgREST's body on, but for the database's
//! validation message of a refused hostname.

use serde::Deserialize;
use tenant_common::{Host, TenantId};

use crate::analytics::Query;
use crate::brand::Action;
use crate::error::{Error, Service, UpstreamError};
use crate::maintenance;

/// Largest body of `POST /domains`; a hostname and an id are well under 400 bytes.
pub const MAX_BODY_BYTES: usize = 4096;
const ADD_EXPECTED: &str = r#"a JSON object {"tenantId": "<uuid>", "hostname": "<domain>"}"#;
const TENANT_EXPECTED: &str = "the query parameter tenant_id=<uuid>";

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /health`: the settings are valid (no upstream request); `deep` (`?deep=1`) also
    /// checks PostgREST and Cloudflare (`crate::health`).
    Health { deep: bool },
    /// `GET /domains?tenant_id=…`
    List { tenant: TenantId },
    /// `POST /domains`, body `{"tenantId","hostname"}` (read after routing).
    Add,
    /// `DELETE /domains/{hostname}?tenant_id=…`
    Remove { tenant: TenantId, hostname: Host },
    /// `POST /domains/{hostname}/primary?tenant_id=…`
    Primary { tenant: TenantId, hostname: Host },
    /// `GET /analytics?tenant_id=…&since=…&bucket=hour|day` (`crate::analytics`).
    Analytics(Query),
    /// `/brand…?tenant_id=…` (`crate::brand`); a body, when the action takes one, is read after
    /// routing.
    Brand { tenant: TenantId, action: Action },
    /// `GET /maintenance?tenant_id=…` or `PUT /maintenance?tenant_id=…` (`crate::maintenance`);
    /// a body is read after routing.
    Maintenance {
        tenant: TenantId,
        action: maintenance::Action,
    },
    /// `POST /webhooks/cloudflare`
    Webhook,
    /// A CORS preflight (`OPTIONS`) of a domains route; `allow` lists its methods.
    Preflight { allow: &'static str },
}

impl Route {
    /// Whether the route is the coach's API (CORS applies), not the webhook or health.
    pub fn is_coach_api(&self) -> bool {
        !matches!(self, Route::Health { .. } | Route::Webhook)
    }
}

/// Routes a request. `url` is the full request URL.
pub fn route(method: &str, url: &str) -> Result<Route, Error> {
    let url = url::Url::parse(url).map_err(|_| Error::RouteNotFound)?;
    let segments: Vec<&str> = url.path().trim_start_matches('/').split('/').collect();
    let tenant = || tenant_id(&url);
    let allowed = |allow: &'static str| -> Result<(), Error> {
        if allow.split(", ").any(|m| m == method) {
            Ok(())
        } else {
            Err(Error::MethodNotAllowed { allow })
        }
    };
    let preflight =
        |allow: &'static str| (method == "OPTIONS").then_some(Route::Preflight { allow });
    match segments.as_slice() {
        ["health"] => allowed("GET, HEAD").map(|_| Route::Health {
            deep: is_deep(&url),
        }),
        ["domains"] => {
            const ALLOW: &str = "GET, POST";
            if let Some(p) = preflight(ALLOW) {
                return Ok(p);
            }
            allowed(ALLOW)?;
            if method == "GET" {
                Ok(Route::List { tenant: tenant()? })
            } else {
                Ok(Route::Add)
            }
        }
        ["domains", host] => {
            const ALLOW: &str = "DELETE";
            if let Some(p) = preflight(ALLOW) {
                return Ok(p);
            }
            allowed(ALLOW)?;
            Ok(Route::Remove {
                hostname: Host::parse_domain(host)?,
                tenant: tenant()?,
            })
        }
        ["domains", host, "primary"] => {
            const ALLOW: &str = "POST";
            if let Some(p) = preflight(ALLOW) {
                return Ok(p);
            }
            allowed(ALLOW)?;
            Ok(Route::Primary {
                hostname: Host::parse_domain(host)?,
                tenant: tenant()?,
            })
        }
        ["analytics"] => {
            const ALLOW: &str = "GET";
            if let Some(p) = preflight(ALLOW) {
                return Ok(p);
            }
            allowed(ALLOW)?;
            let (since, bucket) = (query_values(&url, "since"), query_values(&url, "bucket"));
            let since: Vec<&str> = since.iter().map(String::as_str).collect();
            let bucket: Vec<&str> = bucket.iter().map(String::as_str).collect();
            Ok(Route::Analytics(Query::parse(tenant()?, &since, &bucket)?))
        }
        ["brand", rest @ ..] => {
            let (allow, action) = match (rest, method) {
                ([], "PUT") => ("GET, PUT", Action::Publish),
                ([], _) => ("GET, PUT", Action::Read),
                (["versions"], _) => ("GET", Action::Versions),
                (["rollback"], _) => ("POST", Action::Rollback),
                (["draft"], _) => ("PUT", Action::SaveDraft),
                (["publish"], _) => ("POST", Action::PublishDraft),
                (["preview"], _) => ("POST", Action::Preview),
                _ => return Err(Error::RouteNotFound),
            };
            if let Some(p) = preflight(allow) {
                return Ok(p);
            }
            allowed(allow)?;
            Ok(Route::Brand {
                tenant: tenant()?,
                action,
            })
        }
        ["maintenance"] => {
            const ALLOW: &str = "GET, PUT";
            if let Some(p) = preflight(ALLOW) {
                return Ok(p);
            }
            allowed(ALLOW)?;
            Ok(Route::Maintenance {
                tenant: tenant()?,
                action: if method == "PUT" {
                    maintenance::Action::Set
                } else {
                    maintenance::Action::Read
                },
            })
        }
        ["webhooks", "cloudflare"] => allowed("POST").map(|_| Route::Webhook),
        _ => Err(Error::RouteNotFound),
    }
}

/// Whether a health check asks to be deep: `deep=1`, `deep=true` or a bare `deep`, as the
/// resolver's `/_tenant/health` reads it.
fn is_deep(url: &url::Url) -> bool {
    url.query_pairs()
        .any(|(k, v)| k == "deep" && matches!(v.as_ref(), "1" | "true" | ""))
}

/// Every value of the query parameter `name`, in order.
fn query_values(url: &url::Url, name: &str) -> Vec<String> {
    url.query_pairs()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .collect()
}

/// The `tenant_id` query parameter, exactly once.
fn tenant_id(url: &url::Url) -> Result<TenantId, Error> {
    match query_values(url, "tenant_id").as_slice() {
        [id] => Ok(TenantId::parse(id)?),
        _ => Err(Error::InvalidBody {
            expected: TENANT_EXPECTED,
        }),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddBody {
    tenant_id: String,
    hostname: String,
}

/// The body of `POST /domains`: whose tenant, which hostname (normalised as the database does).
pub fn add_body(body: &[u8]) -> Result<(TenantId, Host), Error> {
    let body: AddBody = serde_json::from_slice(body).map_err(|_| Error::InvalidBody {
        expected: ADD_EXPECTED,
    })?;
    Ok((
        TenantId::parse(&body.tenant_id)?,
        Host::parse_domain(&body.hostname)?,
    ))
}

/// The JSON arguments of the owner RPCs.
pub fn rpc_args(tenant: &TenantId, hostname: &Host) -> String {
    serde_json::json!({ "tenant_id": tenant.as_str(), "hostname": hostname.as_str() }).to_string()
}

#[derive(Deserialize, Default)]
struct PostgrestError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    hint: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    details: Option<String>,
}

/// Whether PostgREST refused the coach's token itself rather than what it asked: any 401, its
/// JWT errors (`PGRST3xx`: a bad signature, expired, a claim it refuses), and the answers to
/// a `role` claim that names no role it may become (`22023` "role … does not exist", 400;
/// `42501` "permission denied to set role …", 403).
fn token_refused(status: u16, e: &PostgrestError) -> bool {
    let code = e.code.as_deref().unwrap_or_default();
    let message = e.message.as_deref().unwrap_or_default();
    status == 401
        || code.starts_with("PGRST3")
        || (status == 400
            && code == "22023"
            && message.starts_with("role ")
            && message.ends_with(" does not exist"))
        || (status == 403
            && code == "42501"
            && message.starts_with("permission denied to set role"))
}

/// What PostgREST's refusal of a coach's read of their domains means: a refused token is 401,
/// anything else an upstream failure.
pub fn read_error(status: u16, body: &str) -> Error {
    let e: PostgrestError = serde_json::from_str(body).unwrap_or_default();
    if token_refused(status, &e) {
        return Error::user_unauthorized();
    }
    Error::UpstreamUnavailable(UpstreamError::Status {
        service: Service::Postgrest,
        status,
        body: body.to_string(),
    })
}

/// What an owner RPC's refusal means for the coach. The database names the reason in `hint`;
/// the SQLSTATE is the fallback. A token PostgREST refuses is 401 ([`token_refused`]);
/// anything else unexpected is an upstream failure (logged with its body, shown as
/// `upstream_unavailable`). `budget` says what the tenant's spent budget counts (`"domain
/// changes"`, `"brand changes"`): the caller knows which owner function it called.
pub fn rpc_error(status: u16, body: &str, budget: &'static str) -> Error {
    let e: PostgrestError = serde_json::from_str(body).unwrap_or_default();
    if token_refused(status, &e) {
        return Error::user_unauthorized();
    }
    match (e.hint.as_deref(), e.code.as_deref()) {
        (Some("not_owner"), _) => Error::NotOwner,
        (Some("invalid_domain"), _) | (None, Some("22023")) => Error::InvalidDomain {
            message: e
                .message
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "invalid domain".into()),
        },
        (Some("pair_taken"), _) => Error::PairTaken,
        (Some("domain_taken"), _) | (None, Some("23505")) => Error::DomainTaken,
        (Some("too_many_domains"), _) => Error::TooManyDomains,
        (Some("domain_not_found"), _) => Error::DomainNotFound,
        (Some("domain_not_active"), _) => Error::DomainNotActive,
        (Some("tenant_inactive"), _) => Error::TenantInactive,
        (Some("rate_limited"), _) => Error::RateLimited {
            what: budget,
            retry_after_s: e
                .details
                .and_then(|d| d.trim().parse().ok())
                .unwrap_or(Error::RETRY_AFTER_SECONDS),
        },
        (Some("not_ready"), _) => Error::NotReady,
        (Some("stale"), _) => Error::PreconditionFailed,
        (Some("invalid_brand"), _) => Error::InvalidBrand {
            fields: vec![(
                e.details.unwrap_or_default(),
                e.message
                    .unwrap_or_else(|| "the database refused it".into()),
            )],
        },
        (Some("invalid_maintenance"), _) => Error::InvalidMaintenance {
            fields: vec![(
                e.details.unwrap_or_default(),
                e.message
                    .unwrap_or_else(|| "the database refused it".into()),
            )],
        },
        (Some("no_draft"), _) => Error::NoDraft,
        (Some("version_not_found"), _) => Error::VersionNotFound,
        (None, Some("42501")) => Error::NotOwner,
        _ => Error::UpstreamUnavailable(UpstreamError::Status {
            service: Service::Postgrest,
            status,
            body: body.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "7e000000-0000-4000-8000-000000000002";

    fn at(method: &str, path: &str) -> Result<Route, Error> {
        route(method, &format!("http://control.test{path}"))
    }

    fn tenant() -> TenantId {
        TenantId::parse(TENANT).unwrap()
    }

    #[test]
    fn the_coachs_routes() {
        assert_eq!(
            at("GET", &format!("/domains?tenant_id={TENANT}")),
            Ok(Route::List { tenant: tenant() })
        );
        assert_eq!(at("POST", "/domains"), Ok(Route::Add));
        assert_eq!(
            at(
                "DELETE",
                &format!("/domains/Coach.Example.test?tenant_id={TENANT}")
            ),
            Ok(Route::Remove {
                tenant: tenant(),
                hostname: Host::parse_domain("coach.example.test").unwrap()
            })
        );
        assert_eq!(
            at(
                "POST",
                &format!("/domains/coach.example.test/primary?tenant_id={TENANT}")
            ),
            Ok(Route::Primary {
                tenant: tenant(),
                hostname: Host::parse_domain("coach.example.test").unwrap()
            })
        );
        assert_eq!(at("POST", "/webhooks/cloudflare"), Ok(Route::Webhook));
        assert_eq!(at("GET", "/health"), Ok(Route::Health { deep: false }));
        for deep in ["deep=1", "deep=true", "deep", "x=y&deep=1"] {
            assert_eq!(
                at("GET", &format!("/health?{deep}")),
                Ok(Route::Health { deep: true }),
                "{deep}"
            );
        }
        assert_eq!(
            at("GET", "/health?deep=0"),
            Ok(Route::Health { deep: false })
        );
        assert_eq!(
            at("OPTIONS", "/domains"),
            Ok(Route::Preflight { allow: "GET, POST" })
        );
        assert_eq!(
            at("OPTIONS", "/domains/a.test/primary"),
            Ok(Route::Preflight { allow: "POST" })
        );
    }

    #[test]
    fn analytics_takes_a_tenant_a_time_and_a_bucket() {
        let since = "2026-12-06T10%3A00%3A00Z";
        let route = at(
            "GET",
            &format!("/analytics?tenant_id={TENANT}&since={since}&bucket=day"),
        );
        let Ok(Route::Analytics(query)) = route else {
            panic!("{route:?}");
        };
        assert_eq!(query.tenant, tenant());
        assert_eq!(query.bucket, crate::analytics::Bucket::Day);
        let code = |r: Result<Route, Error>| r.unwrap_err().code();
        for bad in [
            format!("/analytics?tenant_id={TENANT}"),
            format!("/analytics?tenant_id={TENANT}&since=soon"),
            format!("/analytics?tenant_id={TENANT}&since={since}&bucket=week"),
            format!("/analytics?since={since}"),
        ] {
            assert_eq!(code(at("GET", &bad)), "invalid_body", "{bad}");
        }
        assert_eq!(
            code(at("POST", &format!("/analytics?tenant_id={TENANT}"))),
            "method_not_allowed"
        );
        assert_eq!(
            at("OPTIONS", "/analytics"),
            Ok(Route::Preflight { allow: "GET" })
        );
    }

    #[test]
    fn brand_routes_take_a_tenant_and_name_their_action() {
        let q = format!("?tenant_id={TENANT}");
        for (method, path, action) in [
            ("GET", "/brand", Action::Read),
            ("PUT", "/brand", Action::Publish),
            ("GET", "/brand/versions", Action::Versions),
            ("POST", "/brand/rollback", Action::Rollback),
            ("PUT", "/brand/draft", Action::SaveDraft),
            ("POST", "/brand/publish", Action::PublishDraft),
            ("POST", "/brand/preview", Action::Preview),
        ] {
            assert_eq!(
                at(method, &format!("{path}{q}")),
                Ok(Route::Brand {
                    tenant: tenant(),
                    action
                }),
                "{method} {path}"
            );
        }
        let code = |r: Result<Route, Error>| r.unwrap_err().code();
        assert_eq!(
            code(at("DELETE", &format!("/brand{q}"))),
            "method_not_allowed"
        );
        assert_eq!(
            code(at("GET", &format!("/brand/publish{q}"))),
            "method_not_allowed"
        );
        assert_eq!(code(at("GET", "/brand")), "invalid_body");
        assert_eq!(code(at("GET", "/brand/other")), "not_found");
        assert_eq!(
            at("OPTIONS", "/brand"),
            Ok(Route::Preflight { allow: "GET, PUT" })
        );
        assert_eq!(
            code(at("GET", &format!("/brand/preview{q}"))),
            "method_not_allowed"
        );
        assert_eq!(
            at("OPTIONS", "/brand/preview"),
            Ok(Route::Preflight { allow: "POST" })
        );
    }

    #[test]
    fn maintenance_is_read_and_set_for_a_tenant() {
        let q = format!("?tenant_id={TENANT}");
        for (method, action) in [
            ("GET", maintenance::Action::Read),
            ("PUT", maintenance::Action::Set),
        ] {
            assert_eq!(
                at(method, &format!("/maintenance{q}")),
                Ok(Route::Maintenance {
                    tenant: tenant(),
                    action
                }),
                "{method}"
            );
        }
        let code = |r: Result<Route, Error>| r.unwrap_err().code();
        assert_eq!(
            code(at("POST", &format!("/maintenance{q}"))),
            "method_not_allowed"
        );
        assert_eq!(code(at("PUT", "/maintenance")), "invalid_body");
        assert_eq!(code(at("GET", "/maintenance?tenant_id=nope")), "invalid_id");
        assert_eq!(code(at("GET", "/maintenance/other")), "not_found");
        assert_eq!(
            at("OPTIONS", "/maintenance"),
            Ok(Route::Preflight { allow: "GET, PUT" })
        );
        assert!(Route::Maintenance {
            tenant: tenant(),
            action: maintenance::Action::Set
        }
        .is_coach_api());
    }

    #[test]
    fn the_databases_maintenance_refusal_names_its_field() {
        let refused = r#"{"code":"22023","details":"/message","hint":"invalid_maintenance","message":"the maintenance switch is not … at /message"}"#;
        let Error::InvalidMaintenance { fields } = rpc_error(400, refused, "brand changes") else {
            panic!("expected invalid_maintenance");
        };
        assert_eq!(fields[0].0, "/message");
        let limited = r#"{"code":"PT429","details":"10","hint":"rate_limited","message":"too many brand changes"}"#;
        assert_eq!(
            rpc_error(429, limited, "brand changes"),
            Error::RateLimited {
                what: "brand changes",
                retry_after_s: 10
            }
        );
        let no_draft = r#"{"code":"P0002","details":null,"hint":"no_draft","message":"this tenant has no brand draft to preview"}"#;
        assert_eq!(rpc_error(404, no_draft, "brand changes"), Error::NoDraft);
    }

    #[test]
    fn bad_keys_are_400_before_any_upstream_request() {
        let code = |r: Result<Route, Error>| r.unwrap_err().code();
        assert_eq!(code(at("GET", "/domains")), "invalid_body");
        assert_eq!(code(at("GET", "/domains?tenant_id=nope")), "invalid_id");
        assert_eq!(
            code(at(
                "GET",
                &format!("/domains?tenant_id={TENANT}&tenant_id={TENANT}")
            )),
            "invalid_body"
        );
        assert_eq!(
            code(at("DELETE", &format!("/domains/a..b?tenant_id={TENANT}"))),
            "invalid_domain"
        );
        assert_eq!(
            code(at(
                "DELETE",
                &format!("/domains/localhost?tenant_id={TENANT}")
            )),
            "invalid_domain"
        );
        assert_eq!(code(at("DELETE", "/domains/a.test")), "invalid_body");
        assert_eq!(
            code(at(
                "POST",
                &format!("/domains/127.0.0.1/primary?tenant_id={TENANT}")
            )),
            "invalid_domain"
        );
    }

    #[test]
    fn other_methods_and_paths() {
        let e = at("PUT", "/domains").unwrap_err();
        assert_eq!((e.status(), e.code()), (405, "method_not_allowed"));
        assert!(e.message().contains("GET, POST"));
        assert_eq!(at("GET", "/webhooks/cloudflare").unwrap_err().status(), 405);
        for path in [
            "/",
            "/domain",
            "/domains/a.test/secondary",
            "/_tenant/health",
            "/webhooks/other",
        ] {
            assert_eq!(at("GET", path).unwrap_err().code(), "not_found", "{path}");
        }
        assert!(!Route::Webhook.is_coach_api());
        assert!(Route::Add.is_coach_api());
    }

    #[test]
    fn the_add_body_is_checked_and_normalised() {
        let (t, h) = add_body(
            format!(r#"{{"tenantId":"{TENANT}","hostname":"Coach.Example.test."}}"#).as_bytes(),
        )
        .unwrap();
        assert_eq!((t.as_str(), h.as_str()), (TENANT, "coach.example.test"));
        let code = |b: &str| add_body(b.as_bytes()).unwrap_err().code();
        assert_eq!(code("{}"), "invalid_body");
        assert_eq!(code("nope"), "invalid_body");
        assert_eq!(
            code(&format!(
                r#"{{"tenantId":"{TENANT}","hostname":"https://x.test/"}}"#
            )),
            "invalid_domain"
        );
        assert_eq!(
            code(r#"{"tenantId":"x","hostname":"a.test"}"#),
            "invalid_id"
        );
        assert_eq!(
            rpc_args(&t, &h),
            format!(r#"{{"hostname":"coach.example.test","tenant_id":"{TENANT}"}}"#)
        );
    }

    #[test]
    fn the_rpcs_refusals_map_by_hint() {
        let pg = |code: &str, hint: &str| {
            serde_json::json!({"code": code, "details": null, "hint": hint, "message": "domain is not valid: x"}).to_string()
        };
        assert_eq!(
            rpc_error(403, &pg("42501", "not_owner"), "domain changes"),
            Error::NotOwner
        );
        assert_eq!(
            rpc_error(409, &pg("23505", "domain_taken"), "domain changes"),
            Error::DomainTaken
        );
        assert_eq!(
            rpc_error(400, &pg("P0001", "too_many_domains"), "domain changes"),
            Error::TooManyDomains
        );
        assert_eq!(
            rpc_error(404, &pg("P0002", "domain_not_found"), "domain changes"),
            Error::DomainNotFound
        );
        assert_eq!(
            rpc_error(400, &pg("P0001", "domain_not_found"), "domain changes"),
            Error::DomainNotFound
        );
        assert_eq!(
            rpc_error(409, &pg("P0001", "domain_not_active"), "domain changes"),
            Error::DomainNotActive
        );
        assert_eq!(
            rpc_error(403, &pg("42501", "tenant_inactive"), "domain changes"),
            Error::TenantInactive
        );
        assert_eq!(
            rpc_error(503, &pg("PT503", "not_ready"), "domain changes"),
            Error::NotReady
        );
        let limited = r#"{"code":"PT429","details":"7","hint":"rate_limited","message":"too many domain changes for this tenant: try again in 7 seconds"}"#;
        assert_eq!(
            rpc_error(429, limited, "domain changes"),
            Error::RateLimited {
                what: "domain changes",
                retry_after_s: 7
            }
        );
        assert_eq!(
            rpc_error(400, &pg("22023", "invalid_domain"), "domain changes"),
            Error::InvalidDomain {
                message: "domain is not valid: x".into()
            }
        );
        let e = rpc_error(
            500,
            r#"{"code":"XX000","message":"secret internals"}"#,
            "domain changes",
        );
        assert_eq!(e.code(), "upstream_unavailable");
        assert!(!e.body().contains("secret internals"));
    }

    /// PostgREST's answers to tokens it refuses, as PostgREST 12 writes them.
    const REFUSED_TOKENS: [(u16, &str); 7] = [
        (
            401,
            r#"{"code":"PGRST301","details":null,"hint":null,"message":"JWSError JWSInvalidSignature"}"#,
        ),
        (
            401,
            r#"{"code":"PGRST301","details":null,"hint":null,"message":"JWT expired"}"#,
        ),
        (
            401,
            r#"{"code":"PGRST303","details":null,"hint":null,"message":"JWT claims validation or parsing failed"}"#,
        ),
        (
            400,
            r#"{"code":"PGRST302","details":null,"hint":null,"message":"Anonymous access is disabled"}"#,
        ),
        (
            401,
            r#"{"code":"42501","details":null,"hint":null,"message":"permission denied for table tenant_domains"}"#,
        ),
        (
            400,
            r#"{"code":"22023","details":null,"hint":null,"message":"role \"nosuchrole\" does not exist"}"#,
        ),
        (
            403,
            r#"{"code":"42501","details":null,"hint":null,"message":"permission denied to set role \"postgres\""}"#,
        ),
    ];

    #[test]
    fn a_token_postgrest_refuses_is_401_not_503() {
        for (status, body) in REFUSED_TOKENS {
            assert_eq!(
                rpc_error(status, body, "domain changes"),
                Error::user_unauthorized(),
                "{body}"
            );
            assert_eq!(
                read_error(status, body),
                Error::user_unauthorized(),
                "{body}"
            );
        }
        assert_eq!(read_error(401, "not json"), Error::user_unauthorized());
    }

    #[test]
    fn the_databases_own_refusals_are_not_taken_for_a_refused_token() {
        let invalid = r#"{"code":"22023","details":null,"hint":"invalid_domain","message":"domain is not valid: role x does not exist"}"#;
        assert_eq!(
            rpc_error(400, invalid, "domain changes").code(),
            "invalid_domain"
        );
        let unhinted =
            r#"{"code":"22023","details":null,"hint":null,"message":"domain is not valid: x"}"#;
        assert_eq!(
            rpc_error(400, unhinted, "domain changes").code(),
            "invalid_domain"
        );
        let denied = r#"{"code":"42501","details":null,"hint":null,"message":"permission denied for function add_tenant_domain"}"#;
        assert_eq!(rpc_error(403, denied, "domain changes"), Error::NotOwner);
        assert_eq!(
            read_error(500, r#"{"code":"XX000"}"#).code(),
            "upstream_unavailable"
        );
        assert_eq!(
            read_error(
                403,
                r#"{"code":"42501","message":"permission denied for table tenant_domains"}"#
            )
            .code(),
            "upstream_unavailable"
        );
    }
}
