//! The one error type of the control plane and its mapping to the HTTP error contract.
//!
//! The body is the resolver's: `{"error":{"code":"…","message":"…"}}`
//! ([`tenant_common::envelope`]). [`Error::describe`] is the only place a failure becomes HTTP,
//! each variant's status, code and message declared together. What PostgREST or Cloudflare said
//! is kept in [`UpstreamError`] for the log and never shown to a coach; the one exception is the
//! database's validation message of a refused hostname.

use std::fmt;

use tenant_common::Description;

/// Longest piece of client input (or validation message) echoed back; the rest is cut.
const ECHO_LIMIT: usize = 200;

/// A failure to answer a request, as the caller sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A hostname the platform cannot hold; `message` says what was wrong.
    InvalidDomain { message: String },
    /// A tenant id that is not a UUID.
    InvalidId { message: String },
    /// A request body (or query) the route cannot use.
    InvalidBody { expected: &'static str },
    /// A request body longer than the route reads; it was not read past `limit` bytes.
    PayloadTooLarge { limit: usize },
    /// The caller's credential is missing or refused; `expected` names the one the route takes.
    Unauthorized { expected: &'static str },
    /// The signed-in user does not own this tenant.
    NotOwner,
    /// The tenant has no such domain.
    DomainNotFound,
    /// This tenant already has the hostname (any tenant may claim a name another holds: it
    /// takes it by proving control of its DNS).
    DomainTaken,
    /// Another tenant holds the other name of this domain's pair: `<d>` for `www.<d>`, or the
    /// reverse.
    PairTaken,
    /// The tenant already has as many domains as it may.
    TooManyDomains,
    /// Only an active domain can be the primary.
    DomainNotActive,
    /// An inactive tenant adds no domain.
    TenantInactive,
    /// The tenant did `what` as often as it may for now: `retry_after_s` until it may again.
    /// Domain and brand changes are the database's per-tenant budgets; analytics queries
    /// `crate::analytics::QUERIES_PER_MINUTE` per isolate.
    RateLimited {
        what: &'static str,
        retry_after_s: u32,
    },
    /// A brand write without `If-Match`: it could overwrite an edit the caller never saw.
    PreconditionRequired,
    /// A brand write whose `If-Match` is not the brand's current version: someone published since.
    PreconditionFailed,
    /// A brand that breaks the contract: each field's JSON Pointer (into `brandConfig`, or
    /// `/displayName`) and what was expected there.
    InvalidBrand { fields: Vec<(String, String)> },
    /// A maintenance switch of another shape: each field's JSON Pointer (into the body) and
    /// what was expected there.
    InvalidMaintenance { fields: Vec<(String, String)> },
    /// Publishing (or previewing) a draft when there is none.
    NoDraft,
    /// A rollback to a version the tenant never published.
    VersionNotFound,
    /// The database takes no claim yet: the cron has not told it the platform's reserved names.
    NotReady,
    /// No route has this path.
    RouteNotFound,
    /// The route exists but not for this method; `allow` lists the methods it takes.
    MethodNotAllowed { allow: &'static str },
    /// The route is switched off because `setting` is not set.
    NotEnabled { setting: &'static str },
    /// A setting is missing or malformed. Names the setting, never its value.
    Misconfigured {
        setting: &'static str,
        problem: &'static str,
    },
    /// PostgREST (or Cloudflare) failed, timed out or answered something we cannot read.
    UpstreamUnavailable(UpstreamError),
}

/// Which upstream a failure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Postgrest,
    Cloudflare,
    /// The DNS over HTTPS resolver (`DNS_RESOLVER_URL`).
    Dns,
    /// Workers Analytics Engine's SQL API (`GET /analytics`).
    Analytics,
}

/// Why an upstream could not answer. Logged (bodies cut short), never shown to a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamError {
    /// No answer within `UPSTREAM_TIMEOUT_MS`.
    Timeout { service: Service, after_ms: u32 },
    /// The request did not complete (connection refused, reset, DNS).
    Network { service: Service, detail: String },
    /// An HTTP status we do not expect for this request.
    Status {
        service: Service,
        status: u16,
        body: String,
    },
    /// A 2xx whose body is not the JSON we asked for.
    Decode { service: Service, detail: String },
    /// An answer that only a wrong setting explains (no route for the call, a zone or key
    /// refused): retrying cannot help until `setting` is fixed. `problem` says what is wrong
    /// with it, for the caller; `status` and `body` are the upstream's, for the log.
    Misconfigured {
        service: Service,
        setting: &'static str,
        problem: &'static str,
        status: u16,
        body: String,
    },
}

/// The API key a PostgREST request carried as `apikey` (the key Supabase's gateway checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// `SUPABASE_SECRET_KEY`: the cron's, the webhook's and the deep health check's requests.
    Secret,
    /// `SUPABASE_ANON_KEY`, beside a coach's token; `set: false` when it is not set and the
    /// coach's token goes as `apikey` too.
    Anon { set: bool },
}

impl Key {
    /// The setting that holds this key.
    pub fn setting(self) -> &'static str {
        match self {
            Key::Secret => "SUPABASE_SECRET_KEY",
            Key::Anon { .. } => "SUPABASE_ANON_KEY",
        }
    }

    /// What is wrong with it when Supabase's gateway refuses it.
    fn refused_by_gateway(self) -> &'static str {
        match self {
            Key::Anon { set: false } => {
                "is not set, and Supabase's API gateway wants one of the project's API keys as apikey beside a coach's token"
            }
            _ => "is refused by Supabase's API gateway: it is not one of this project's API keys",
        }
    }
}

/// What Supabase's API gateway answers itself (401, 401, 404), in its `message`.
const GATEWAY_NO_KEY: &str = "No API key found in request";
const GATEWAY_BAD_KEY: &str = "Invalid API key";
const GATEWAY_NO_ROUTE: &str = "no Route matched with those values";
/// PostgREST's codes (404) for a path, table or function it does not serve: an invalid path
/// (PGRST125), a function or table not in its schema cache (PGRST202, PGRST205), and the
/// database's own "does not exist" (42P01, 42883) of older versions.
const POSTGREST_NOT_THERE: [&str; 5] = ["PGRST125", "PGRST202", "PGRST205", "42P01", "42883"];
const URL_IS_A_PAGE: &str =
    "answers with a web page, not PostgREST's JSON: it does not lead to the project's REST API";
const URL_NO_ROUTE: &str =
    "does not lead to PostgREST: Supabase's API gateway has no route there (PostgREST is under /rest/v1)";
const URL_NOT_THERE: &str =
    "does not lead to PostgREST's tenant_domains table and functions (a wrong URL, or the migrations not pushed)";
const SECRET_REFUSED: &str =
    "is refused by PostgREST: it is not this project's service-role or secret key (or the service role lacks its grants)";

/// The fields of an error body of PostgREST or of Supabase's gateway.
#[derive(serde::Deserialize, Default)]
struct PostgrestBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl UpstreamError {
    /// What PostgREST's answer `status`, `body` to a request that carried `key`, at the URL
    /// `url_setting` (`SUPABASE_URL` or `SUPABASE_REST_URL`) set, means when only a wrong
    /// setting explains it (`None` otherwise: a success, an answer about the request, or
    /// PostgREST failing):
    ///
    /// - a web page (not a 5xx, not a 429), or a 404 that is not PostgREST's own answer, or
    ///   PostgREST's 404 for a path, table or function it does not have, or Supabase's gateway
    ///   having no route: `url_setting`;
    /// - Supabase's gateway refusing the `apikey` (401 "Invalid API key", "No API key found in
    ///   request"): the key's setting;
    /// - with the secret key, any 401 or 403, and any JWT error of PostgREST's (`PGRST3xx`):
    ///   `SUPABASE_SECRET_KEY`. A coach's token refused is the coach's problem, not a setting's.
    pub fn postgrest_misconfigured(
        status: u16,
        body: &str,
        key: Key,
        url_setting: &'static str,
    ) -> Option<UpstreamError> {
        if status >= 500 || status == 429 || status == 408 {
            return None;
        }
        let blame = |setting, problem| {
            Some(UpstreamError::Misconfigured {
                service: Service::Postgrest,
                setting,
                problem,
                status,
                body: body.chars().take(300).collect(),
            })
        };
        if body.trim_start().starts_with('<') {
            return blame(url_setting, URL_IS_A_PAGE);
        }
        if (200..300).contains(&status) {
            return None;
        }
        let answer: PostgrestBody = serde_json::from_str(body).unwrap_or_default();
        match (status, answer.code.as_deref(), answer.message.as_deref()) {
            (401, None, Some(GATEWAY_NO_KEY | GATEWAY_BAD_KEY)) => {
                blame(key.setting(), key.refused_by_gateway())
            }
            (404, None, Some(GATEWAY_NO_ROUTE)) => blame(url_setting, URL_NO_ROUTE),
            (404, None, _) => blame(url_setting, URL_NOT_THERE),
            (404, Some(code), _) if POSTGREST_NOT_THERE.contains(&code) => {
                blame(url_setting, URL_NOT_THERE)
            }
            (401 | 403, _, _) if key == Key::Secret => blame(key.setting(), SECRET_REFUSED),
            (_, Some(code), _) if key == Key::Secret && code.starts_with("PGRST3") => {
                blame(key.setting(), SECRET_REFUSED)
            }
            _ => None,
        }
    }
}

impl Error {
    /// Seconds a caller should wait before retrying after `upstream_unavailable`.
    pub const RETRY_AFTER_SECONDS: u32 = 5;
    /// What the coach's API takes.
    pub const USER_TOKEN: &'static str = "a valid Supabase user token (Authorization: Bearer)";
    /// What the webhook takes.
    pub const WEBHOOK_SECRET: &'static str =
        "the webhook secret (CLOUDFLARE_WEBHOOK_SECRET) in cf-webhook-auth";

    /// An [`Error::Unauthorized`] for the coach's API.
    pub const fn user_unauthorized() -> Error {
        Error::Unauthorized {
            expected: Error::USER_TOKEN,
        }
    }

    /// What the caller sees of this error: its status, code and message, declared together for
    /// each variant. The message is never an upstream's body.
    pub fn describe(&self) -> Description {
        match self {
            Error::InvalidDomain { message } => {
                Description::new(400, "invalid_domain", cut(message))
            }
            Error::InvalidId { message } => Description::new(400, "invalid_id", cut(message)),
            Error::InvalidBody { expected } => Description::new(
                400,
                "invalid_body",
                format!("invalid request: expected {expected}"),
            ),
            Error::PayloadTooLarge { limit } => Description::too_large(*limit),
            Error::Unauthorized { expected } => Description::unauthorized(expected),
            Error::NotOwner => Description::new(403, "not_owner", "you do not own this tenant"),
            Error::DomainNotFound => {
                Description::new(404, "domain_not_found", "this tenant has no such domain")
            }
            Error::DomainTaken => {
                Description::new(409, "domain_taken", "this tenant already has this domain")
            }
            Error::PairTaken => Description::new(
                409,
                "pair_taken",
                "another account holds this domain with or without its www: a domain and its www serve one site",
            ),
            Error::TooManyDomains => Description::new(
                400,
                "too_many_domains",
                "this tenant has as many domains as it may have",
            ),
            Error::DomainNotActive => Description::new(
                409,
                "domain_not_active",
                "only an active domain can be the primary",
            ),
            Error::TenantInactive => Description::new(
                403,
                "tenant_inactive",
                "this tenant is not active: it cannot add domains",
            ),
            Error::RateLimited {
                what,
                retry_after_s,
            } => Description::new(
                429,
                "rate_limited",
                format!("too many {what} for this tenant: try again in {retry_after_s} seconds"),
            ),
            Error::PreconditionRequired => Description::new(
                428,
                "precondition_required",
                "If-Match is required: the ETag of GET /brand, so that no one's edit is overwritten unseen",
            ),
            Error::PreconditionFailed => Description::new(
                412,
                "precondition_failed",
                "the brand changed since it was read: GET /brand again, then apply the edit to it",
            ),
            Error::InvalidBrand { fields } => Description::new(
                422,
                "invalid_brand",
                format!(
                    "the brand breaks the contract in {} field(s): {}",
                    fields.len(),
                    cut(&fields.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>().join(", "))
                ),
            ),
            Error::InvalidMaintenance { fields } => Description::new(
                422,
                "invalid_maintenance",
                format!(
                    "the maintenance switch is invalid in {} field(s): {}",
                    fields.len(),
                    cut(&fields.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>().join(", "))
                ),
            ),
            Error::NoDraft => Description::new(404, "no_draft", "this tenant has no draft to publish"),
            Error::VersionNotFound => {
                Description::new(404, "version_not_found", "this tenant never published that version")
            }
            Error::NotReady => Description::new(
                503,
                "not_ready",
                "custom domains are not available yet: the control plane's cron has not told \
                the database which hostnames are the platform's (it does on every run: check \
                that its Cron Trigger runs)",
            ),
            Error::RouteNotFound => Description::new(404, "not_found", "no such route"),
            Error::MethodNotAllowed { allow } => Description::method_not_allowed(allow),
            Error::NotEnabled { setting } => Description::not_enabled(setting),
            Error::Misconfigured { setting, problem } => {
                Description::misconfigured("control plane", setting, problem)
            }
            Error::UpstreamUnavailable(_) => Description::new(
                503,
                "upstream_unavailable",
                "the domain service is unavailable, retry later",
            ),
        }
    }
}

/// `text` cut to [`ECHO_LIMIT`] characters.
fn cut(text: &str) -> String {
    let shown: String = text.chars().take(ECHO_LIMIT).collect();
    if shown.len() < text.len() {
        format!("{shown}…")
    } else {
        shown
    }
}

/// The shared parsers' refusals (crates/common): an id keeps its code, every name (a host, a
/// domain) is `invalid_domain`, each with the parser's message.
impl From<tenant_common::Invalid> for Error {
    fn from(e: tenant_common::Invalid) -> Self {
        match e.what {
            tenant_common::Input::Id => Error::InvalidId {
                message: e.message(),
            },
            _ => Error::InvalidDomain {
                message: e.message(),
            },
        }
    }
}

// What every Worker's error has: `status()`, `code()`, `message()` and `body()` read from
// `describe()`, `From` the shared refusals, the preflight's reading, `Display` and `source()`.
tenant_common::worker_error!(Error);

/// An upstream failing is `upstream_unavailable`; an answer that names a wrong setting is
/// `misconfigured`, naming it.
impl From<UpstreamError> for Error {
    fn from(e: UpstreamError) -> Self {
        match e {
            UpstreamError::Misconfigured {
                setting, problem, ..
            } => Error::Misconfigured { setting, problem },
            e => Error::UpstreamUnavailable(e),
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Postgrest => "postgrest",
            Service::Cloudflare => "cloudflare",
            Service::Dns => "dns resolver",
            Service::Analytics => "analytics engine",
        })
    }
}

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpstreamError::Timeout { service, after_ms } => {
                write!(f, "{service} timed out after {after_ms} ms")
            }
            UpstreamError::Network { service, detail } => {
                write!(f, "{service} request failed: {detail}")
            }
            UpstreamError::Status {
                service,
                status,
                body,
            } => {
                let body: String = body.chars().take(200).collect();
                write!(f, "{service} answered {status}: {body}")
            }
            UpstreamError::Decode { service, detail } => {
                let detail: String = detail.chars().take(200).collect();
                write!(f, "{service} answered unreadable json: {detail}")
            }
            UpstreamError::Misconfigured {
                service,
                setting,
                problem,
                status,
                body,
            } => {
                let body: String = body.chars().take(200).collect();
                write!(
                    f,
                    "misconfigured: {setting} {problem} ({service} answered {status}: {body})"
                )
            }
        }
    }
}

impl std::error::Error for UpstreamError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(e: &Error) -> serde_json::Value {
        serde_json::from_str(&e.body()).unwrap()
    }

    #[test]
    fn the_body_is_these_bytes() {
        assert_eq!(
            Error::NotOwner.body(),
            r#"{"error":{"code":"not_owner","message":"you do not own this tenant"}}"#
        );
        let e = Error::RateLimited {
            what: "domain changes",
            retry_after_s: 60,
        };
        assert_eq!(
            e.body(),
            r#"{"error":{"code":"rate_limited","message":"too many domain changes for this tenant: try again in 60 seconds"}}"#
        );
    }

    #[test]
    fn body_is_the_resolvers_error_shape() {
        let v = parsed(&Error::NotOwner);
        assert_eq!(v["error"]["code"], "not_owner");
        assert!(v["error"]["message"].is_string());
        assert_eq!(v.as_object().unwrap().len(), 1);
    }

    #[test]
    fn the_owner_rpcs_reasons_have_their_status() {
        let cases = [
            (Error::NotOwner, 403, "not_owner"),
            (Error::DomainNotFound, 404, "domain_not_found"),
            (Error::DomainTaken, 409, "domain_taken"),
            (Error::PairTaken, 409, "pair_taken"),
            (Error::TooManyDomains, 400, "too_many_domains"),
            (Error::DomainNotActive, 409, "domain_not_active"),
        ];
        for (e, status, code) in cases {
            assert_eq!((e.status(), e.code()), (status, code));
        }
    }

    #[test]
    fn upstream_details_stay_out_of_the_body() {
        let e = Error::from(UpstreamError::Status {
            service: Service::Cloudflare,
            status: 500,
            body: "internal cloudflare detail".into(),
        });
        assert_eq!(e.status(), 503);
        assert!(!e.body().contains("internal cloudflare detail"));
        let logged = std::error::Error::source(&e).unwrap().to_string();
        assert!(logged.contains("cloudflare answered 500: internal cloudflare detail"));
    }

    #[test]
    fn the_shared_parse_errors_keep_their_code_and_message() {
        let e = Error::from(tenant_common::Host::parse_domain("a..b").unwrap_err());
        assert_eq!((e.status(), e.code()), (400, "invalid_domain"));
        assert!(e.message().contains("a..b"));
        let e = Error::from(tenant_common::TenantId::parse("nope").unwrap_err());
        assert_eq!(e.code(), "invalid_id");
        let e = Error::from(tenant_common::bearer_token(None).unwrap_err());
        assert_eq!((e.status(), e.code()), (401, "unauthorized"));
    }

    #[test]
    fn long_messages_are_cut() {
        let e = Error::InvalidDomain {
            message: "x".repeat(10_000),
        };
        assert!(e.message().chars().count() <= ECHO_LIMIT + 1);
    }

    #[test]
    fn an_answer_naming_a_wrong_setting_is_misconfigured_not_unavailable() {
        let upstream = UpstreamError::Misconfigured {
            service: Service::Cloudflare,
            setting: "CLOUDFLARE_API_BASE",
            problem: "does not lead to Cloudflare's API",
            status: 404,
            body: "no route detail".into(),
        };
        assert!(upstream
            .to_string()
            .starts_with("misconfigured: CLOUDFLARE_API_BASE does not lead"));
        let e = Error::from(upstream);
        assert_eq!((e.status(), e.code()), (500, "misconfigured"));
        assert!(e.message().contains("CLOUDFLARE_API_BASE"));
        assert!(!e.body().contains("no route detail"));
    }

    /// The setting PostgREST's answer blames, if only a wrong setting explains it.
    fn blamed(status: u16, body: &str, key: Key) -> Option<&'static str> {
        match UpstreamError::postgrest_misconfigured(status, body, key, "SUPABASE_URL")? {
            UpstreamError::Misconfigured { setting, .. } => Some(setting),
            other => panic!("{other:?}"),
        }
    }

    const COACH: Key = Key::Anon { set: true };

    #[test]
    fn postgrest_refusing_the_secret_key_names_it_on_every_call() {
        for (status, body) in [
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
                r#"{"code":"PGRST302","details":null,"hint":null,"message":"Anonymous access is disabled"}"#,
            ),
            (
                400,
                r#"{"code":"PGRST303","details":null,"hint":null,"message":"JWT claims validation or parsing failed"}"#,
            ),
            (
                403,
                r#"{"code":"42501","details":null,"hint":null,"message":"permission denied for table tenant_domains"}"#,
            ),
            (401, ""),
        ] {
            assert_eq!(
                blamed(status, body, Key::Secret),
                Some("SUPABASE_SECRET_KEY"),
                "{status} {body}"
            );
        }
    }

    #[test]
    fn a_coachs_token_refused_is_not_a_setting() {
        for (status, body) in [
            (
                401,
                r#"{"code":"PGRST301","details":null,"hint":null,"message":"JWT expired"}"#,
            ),
            (
                403,
                r#"{"code":"42501","details":null,"hint":"not_owner","message":"not the owner"}"#,
            ),
            (401, "not json"),
        ] {
            assert_eq!(blamed(status, body, COACH), None, "{status} {body}");
        }
    }

    #[test]
    fn supabases_gateway_refusing_the_apikey_names_the_key_sent() {
        let bad = r#"{"message":"Invalid API key","hint":"Double check your Supabase `anon` or `service_role` API key."}"#;
        let none = r#"{"message":"No API key found in request","hint":"No `apikey` request header or url param was found."}"#;
        for body in [bad, none] {
            assert_eq!(blamed(401, body, Key::Secret), Some("SUPABASE_SECRET_KEY"));
            assert_eq!(blamed(401, body, COACH), Some("SUPABASE_ANON_KEY"));
            assert_eq!(
                blamed(401, body, Key::Anon { set: false }),
                Some("SUPABASE_ANON_KEY")
            );
        }
        let e = Error::from(
            UpstreamError::postgrest_misconfigured(
                401,
                bad,
                Key::Anon { set: false },
                "SUPABASE_URL",
            )
            .unwrap(),
        );
        assert!(
            e.message().contains("SUPABASE_ANON_KEY is not set"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn a_url_that_leads_to_no_postgrest_names_the_url_setting() {
        for (status, body) in [
            (404, r#"{"message":"no Route matched with those values"}"#),
            (404, ""),
            (404, "Not Found"),
            (
                404,
                r#"{"code":"PGRST125","details":null,"hint":null,"message":"Invalid path specified in request URL"}"#,
            ),
            (
                404,
                r#"{"code":"PGRST205","details":null,"hint":null,"message":"Could not find the table 'public.tenant_domains' in the schema cache"}"#,
            ),
            (
                404,
                r#"{"code":"PGRST202","details":null,"hint":null,"message":"Could not find the function public.add_tenant_domain"}"#,
            ),
            (
                404,
                r#"{"code":"42P01","details":null,"hint":null,"message":"relation \"public.tenant_domains\" does not exist"}"#,
            ),
            (200, "<!DOCTYPE html><html><body>Welcome</body></html>"),
            (403, "\n <html><body>Forbidden</body></html>"),
            (401, "<html>Sign in</html>"),
        ] {
            for key in [Key::Secret, COACH] {
                assert_eq!(
                    blamed(status, body, key),
                    Some("SUPABASE_URL"),
                    "{status} {body}"
                );
            }
        }
        let e = UpstreamError::postgrest_misconfigured(404, "", Key::Secret, "SUPABASE_REST_URL");
        assert!(matches!(
            e,
            Some(UpstreamError::Misconfigured {
                setting: "SUPABASE_REST_URL",
                ..
            })
        ));
    }

    #[test]
    fn failing_rate_limited_or_answering_about_the_request_is_no_setting() {
        for (status, body) in [
            (200, "[]"),
            (200, "{}"),
            (201, r#"{"id":"x"}"#),
            (500, "<html>Internal Server Error</html>"),
            (
                502,
                r#"{"message":"An invalid response was received from the upstream server"}"#,
            ),
            (503, ""),
            (429, "<html>Too Many Requests</html>"),
            (
                404,
                r#"{"code":"P0002","details":null,"hint":"domain_not_found","message":"no such domain"}"#,
            ),
            (
                400,
                r#"{"code":"22023","details":null,"hint":"invalid_domain","message":"domain is not valid"}"#,
            ),
            (
                409,
                r#"{"code":"23505","details":null,"hint":null,"message":"duplicate key"}"#,
            ),
            (
                406,
                r#"{"code":"PGRST116","details":null,"hint":null,"message":"JSON object requested, multiple (or no) rows returned"}"#,
            ),
        ] {
            for key in [Key::Secret, COACH] {
                assert_eq!(blamed(status, body, key), None, "{status} {body}");
            }
        }
    }

    #[test]
    fn misconfigured_names_the_setting() {
        let e = Error::Misconfigured {
            setting: "CLOUDFLARE_API_TOKEN",
            problem: "is not set",
        };
        assert_eq!(e.status(), 500);
        assert!(e.message().contains("CLOUDFLARE_API_TOKEN"));
    }
}
