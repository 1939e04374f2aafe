//! The one error type of the resolver and its mapping to the HTTP error contract.
//!
//! Every failure a client can see is a variant here. [`Error::describe`] is the only place where
//! failures become HTTP, each variant's status, code and message declared together: the body is
//! always `{"error":{"code":"…","message":"…"}}` ([`tenant_common::envelope`]). Upstream details
//! (PostgREST messages, SQL errors, network failures) are kept in [`UpstreamError`] for the log
//! and never sent to the client.
//!
//! A PostgREST answer that only a wrong setting explains (the key refused, the URL leading to a
//! web page, a gateway without that route or a project without the table) is
//! [`UpstreamError::Misconfigured`] ([`UpstreamError::answered`]): `500 misconfigured` naming
//! the setting, since retrying cannot help. An upstream failing (a timeout, a refused
//! connection, any 5xx, an answer cut short) stays `503 upstream_unavailable`.

use std::fmt;

use tenant_common::{invalid_message, Description, Input, Invalid};

/// A failure to answer a request, as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The `Host` header is not a valid DNS hostname.
    InvalidHost {
        input: String,
        expected: &'static str,
    },
    /// A slug in the path is not a valid tenant slug.
    InvalidSlug {
        input: String,
        expected: &'static str,
    },
    /// A domain in the path is not a valid hostname.
    InvalidDomain {
        input: String,
        expected: &'static str,
    },
    /// An id in the path is not a UUID.
    InvalidId {
        input: String,
        expected: &'static str,
    },
    /// A request body the route cannot use.
    InvalidBody { expected: &'static str },
    /// A request body longer than the route reads; it was not read past `limit` bytes.
    PayloadTooLarge { limit: usize },
    /// The caller's credential is missing, expired or forged; `expected` says which one the
    /// route takes ([`Error::USER_TOKEN`] or [`Error::PURGE_TOKEN`]).
    Unauthorized { expected: &'static str },
    /// No active tenant answers to this key. Unknown and inactive look the same on purpose.
    TenantNotFound,
    /// The request must be forwarded, but `ORIGIN_URL` is not configured.
    NoOrigin,
    /// No route under `/_tenant/` has this path.
    RouteNotFound,
    /// The route exists but not for this method; `allow` lists the methods it takes.
    MethodNotAllowed { allow: &'static str },
    /// The route exists but is switched off by configuration.
    NotEnabled { setting: &'static str },
    /// A setting is missing or malformed. Names the setting, never its value.
    Misconfigured {
        setting: &'static str,
        problem: &'static str,
    },
    /// PostgREST failed, timed out or answered something we cannot read.
    UpstreamUnavailable(UpstreamError),
    /// The app origin could not be reached while forwarding. The detail is logged.
    OriginUnavailable(String),
    /// The app origin did not begin its answer within `ORIGIN_TIMEOUT_MS`. Its own code and a
    /// 504, as a gateway answers one, rather than `origin_unavailable`'s 502: an operator
    /// then reads "the app is slow" (raise the setting or speed the app up), not "the app is
    /// down or unreachable".
    OriginTimeout { after_ms: u32 },
    /// The tenant's owner turned its maintenance switch on (`tenant::Maintenance`): its pages
    /// are answered without the origin.
    Maintenance { retry_after_s: u32 },
}

/// Why PostgREST could not answer. Logged in full, shown to clients only as
/// `upstream_unavailable`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamError {
    /// No answer within `UPSTREAM_TIMEOUT_MS`.
    Timeout { after_ms: u32 },
    /// The request did not complete (connection refused, reset, DNS).
    Network(String),
    /// An HTTP status we do not expect for this request.
    Status { status: u16, body: String },
    /// A 2xx whose body is not the JSON we asked for.
    Decode(String),
    /// An answer only a wrong setting explains: retrying cannot help until `setting` is fixed.
    /// `problem` says what is wrong with it (and what the answer was); no body is kept, which
    /// a page echoing request headers would fill with the key.
    Misconfigured {
        setting: Setting,
        problem: &'static str,
    },
}

/// A setting PostgREST's answers can show to be wrong. (A one-byte name, so that an
/// [`UpstreamError`] is no larger for it.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    AnonKey,
    /// `SUPABASE_URL`: PostgREST is under its `/rest/v1`.
    Url,
    /// `SUPABASE_REST_URL`: PostgREST itself, when set.
    RestUrl,
}

impl Setting {
    /// The setting's name, as the Worker's environment spells it.
    pub fn name(self) -> &'static str {
        match self {
            Setting::AnonKey => "SUPABASE_ANON_KEY",
            Setting::Url => "SUPABASE_URL",
            Setting::RestUrl => "SUPABASE_REST_URL",
        }
    }
}

/// What a read asked PostgREST for, so that an answer other than the one asked for can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// `tenant_profiles`, with the anon key (a lookup, a deep check).
    Tenants,
    /// `domain_challenges`, with the anon key (Cloudflare's ownership check).
    Challenges,
    /// `my_tenant_profile()`, with the caller's token: a refusal is the caller's token's, and
    /// the read says nothing of the anon key's grants.
    Profile,
}

/// A table the anon key must be able to read: what it means when PostgREST has no such table,
/// or refuses the key on it.
struct AnonTable {
    no_table: &'static str,
    no_grant: &'static str,
}

const TENANT_PROFILES: AnonTable = AnonTable {
    no_table: "has no tenant_profiles table: the wrong project, or `supabase db push` has not run",
    no_grant: "may not read tenant_profiles: another project's key, or a grant missing",
};
const DOMAIN_CHALLENGES: AnonTable = AnonTable {
    no_table:
        "has no domain_challenges table: the wrong project, or `supabase db push` has not run",
    no_grant: "may not read domain_challenges: another project's key, or a grant missing",
};

impl Read {
    fn anon_table(self) -> Option<&'static AnonTable> {
        match self {
            Read::Tenants => Some(&TENANT_PROFILES),
            Read::Challenges => Some(&DOMAIN_CHALLENGES),
            Read::Profile => None,
        }
    }
}

/// What Supabase's API gateway answers, with 401, to a request without a key it knows.
const GATEWAY_REFUSALS: [&str; 2] = ["Invalid API key", "No API key found in request"];
/// What Supabase's API gateway answers, with 404, to a path it has no route for.
const GATEWAY_NO_ROUTE: &str = "no Route matched with those values";
/// PostgREST's codes for "no such table" (PostgreSQL's, and PostgREST 13's schema cache miss).
const NO_TABLE: [&str; 2] = ["42P01", "PGRST205"];
/// PostgreSQL's code for "no such column": the Worker deployed before the migration it reads.
const NO_COLUMN: &str = "42703";
const KEY_GATEWAY: &str = "is refused by the API gateway: not this project's anon key";
const KEY_JWT: &str =
    "is refused by PostgREST: another project's key, signed with another JWT secret, or expired";
/// A URL setting that leads to a web page or a redirect: a dashboard, a sign-in page.
const URL_PAGE: &str = "leads to a web page, not to PostgREST";
const URL_NO_ROUTE: &str = "leads to the API gateway, not to PostgREST (at /rest/v1 of it)";
const URL_NO_PATH: &str = "does not lead to PostgREST's tables";
const URL_NO_COLUMN: &str =
    "lacks a column this Worker reads: `supabase db push` has not run since it was deployed";
const URL_API_DESCRIPTION: &str = "leads to PostgREST's API description, not its tables";

impl Error {
    /// Seconds a client should wait before retrying after `upstream_unavailable`.
    pub const RETRY_AFTER_SECONDS: u32 = 5;
    /// What `/_tenant/me` takes.
    pub const USER_TOKEN: &'static str = "a valid Supabase user token";
    /// What `POST /_tenant/purge` takes.
    pub const PURGE_TOKEN: &'static str = "the purge token (PURGE_TOKEN) as a bearer token";

    /// An [`Error::Unauthorized`] for a route that takes a user's Supabase token.
    pub const fn user_unauthorized() -> Error {
        Error::Unauthorized {
            expected: Error::USER_TOKEN,
        }
    }

    /// What the client sees of this error: its status, code and message, declared together for
    /// each variant. The message says what was wrong and what was expected, never upstream
    /// details.
    pub fn describe(&self) -> Description {
        let invalid = |code, what, input: &str, expected| {
            Description::new(400, code, invalid_message(what, input, expected))
        };
        match self {
            Error::InvalidHost { input, expected } => {
                invalid("invalid_host", "host", input, expected)
            }
            Error::InvalidSlug { input, expected } => {
                invalid("invalid_slug", "slug", input, expected)
            }
            Error::InvalidDomain { input, expected } => {
                invalid("invalid_domain", "domain", input, expected)
            }
            Error::InvalidId { input, expected } => invalid("invalid_id", "id", input, expected),
            Error::InvalidBody { expected } => Description::new(
                400,
                "invalid_body",
                format!("invalid request body: expected {expected}"),
            ),
            Error::PayloadTooLarge { limit } => Description::too_large(*limit),
            Error::Unauthorized { expected } => Description::unauthorized(expected),
            Error::TenantNotFound => {
                Description::new(404, "tenant_not_found", "no tenant answers to this key")
            }
            Error::NoOrigin => Description::new(
                404,
                "no_origin",
                "this request would be forwarded, but no origin is configured",
            ),
            Error::RouteNotFound => {
                Description::new(404, "not_found", "no such route under /_tenant/")
            }
            Error::MethodNotAllowed { allow } => Description::method_not_allowed(allow),
            Error::NotEnabled { setting } => Description::not_enabled(setting),
            Error::Misconfigured { setting, problem } => {
                Description::misconfigured("worker", setting, problem)
            }
            Error::UpstreamUnavailable(_) => Description::new(
                503,
                "upstream_unavailable",
                "the tenant directory is unavailable, retry later",
            ),
            Error::OriginUnavailable(_) => {
                Description::new(502, "origin_unavailable", "the app origin did not answer")
            }
            Error::OriginTimeout { after_ms } => Description::new(
                504,
                "origin_timeout",
                format!("the app origin did not answer within {after_ms} ms"),
            ),
            Error::Maintenance { .. } => Description::new(
                503,
                "maintenance",
                "this site is down for maintenance, retry later",
            ),
        }
    }
}

/// The shared parsers' refusals keep their code and message.
impl From<Invalid> for Error {
    fn from(e: Invalid) -> Self {
        let Invalid {
            what,
            input,
            expected,
        } = e;
        match what {
            Input::Host => Error::InvalidHost { input, expected },
            Input::Slug => Error::InvalidSlug { input, expected },
            Input::Domain => Error::InvalidDomain { input, expected },
            Input::Id => Error::InvalidId { input, expected },
        }
    }
}

// What every Worker's error has: `status()`, `code()`, `message()` and `body()` read from
// `describe()`, `From` the shared refusals, the preflight's reading, `Display` and `source()`.
tenant_common::worker_error!(Error);

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpstreamError::Timeout { after_ms } => {
                write!(f, "postgrest timed out after {after_ms} ms")
            }
            UpstreamError::Network(e) => write!(f, "postgrest request failed: {e}"),
            UpstreamError::Status { status, body } => {
                let body: String = body.chars().take(200).collect();
                write!(f, "postgrest answered {status}: {body}")
            }
            UpstreamError::Decode(e) => write!(f, "postgrest answered unreadable json: {e}"),
            UpstreamError::Misconfigured { setting, problem } => {
                write!(f, "misconfigured: {} {problem}", setting.name())
            }
        }
    }
}

impl std::error::Error for UpstreamError {}

impl UpstreamError {
    /// A short code for what went wrong, safe to show an operator (`/_tenant/health`): the
    /// kind, the HTTP status and PostgREST's own error code (`http_401_42501`: a revoked grant,
    /// `http_404_42P01`: a missing table), never a body.
    pub fn code(&self) -> String {
        match self {
            UpstreamError::Timeout { .. } => "timeout".into(),
            UpstreamError::Network(_) => "network".into(),
            UpstreamError::Decode(_) => "decode".into(),
            UpstreamError::Misconfigured { .. } => "misconfigured".into(),
            UpstreamError::Status { status, body } => {
                let postgrest_code = serde_json::from_str::<serde_json::Value>(body)
                    .ok()
                    .and_then(|v| v.get("code")?.as_str().map(str::to_string))
                    .filter(|c| {
                        (1..=10).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_alphanumeric())
                    });
                match postgrest_code {
                    Some(code) => format!("http_{status}_{code}"),
                    None => format!("http_{status}"),
                }
            }
        }
    }

    /// PostgREST's answer `status` with `body` to `read`, which is not the answer asked for:
    /// [`UpstreamError::Misconfigured`] when only a wrong setting explains it, naming the key
    /// or `url_setting` (the setting the URL in use came from), else [`UpstreamError::Status`].
    ///
    /// - any 5xx (a proxy's HTML error page included): PostgREST or the way to it failing;
    /// - a redirect or a web page: the URL;
    /// - the gateway's 401 "Invalid API key" or "No API key found in request": the key;
    /// - the gateway's 404 "no Route matched": the URL;
    /// - on a table the anon key must read: PostgREST refusing the JWT (`PGRST3xx`: the key of
    ///   another project, signed with another secret, expired) or any other 401 or 403 (no
    ///   grant): the key; a 404 (no such table, `PGRST125`'s invalid path, PostgREST 12's bare
    ///   `{}`): the URL;
    /// - anything else: [`UpstreamError::Status`].
    pub fn answered(status: u16, body: String, read: Read, url_setting: Setting) -> Self {
        if status >= 500 {
            return UpstreamError::Status { status, body };
        }
        if (300..400).contains(&status) || is_page(&body) {
            return UpstreamError::Misconfigured {
                setting: url_setting,
                problem: URL_PAGE,
            };
        }
        let json = serde_json::from_str::<serde_json::Value>(&body).ok();
        let field = |name| json.as_ref()?.get(name)?.as_str();
        let (code, message) = (field("code"), field("message"));
        let blamed = match (status, code, message, read.anon_table()) {
            (401, _, Some(m), _) if GATEWAY_REFUSALS.contains(&m) => {
                Some((Setting::AnonKey, KEY_GATEWAY))
            }
            (404, _, Some(GATEWAY_NO_ROUTE), _) => Some((url_setting, URL_NO_ROUTE)),
            (400, Some(NO_COLUMN), ..) => Some((url_setting, URL_NO_COLUMN)),
            (_, _, _, None) => None,
            (_, Some(c), _, _) if c.starts_with("PGRST3") => Some((Setting::AnonKey, KEY_JWT)),
            (401 | 403, _, _, Some(table)) => Some((Setting::AnonKey, table.no_grant)),
            (404, Some(c), _, Some(table)) if NO_TABLE.contains(&c) => {
                Some((url_setting, table.no_table))
            }
            (404, ..) => Some((url_setting, URL_NO_PATH)),
            _ => None,
        };
        match blamed {
            Some((setting, problem)) => UpstreamError::Misconfigured { setting, problem },
            None => UpstreamError::Status { status, body },
        }
    }

    /// This error, of a 2xx `body` that could not be read as the answer asked for, unless the
    /// body shows that `url_setting` leads elsewhere: a web page, or PostgREST's API
    /// description (its root, not a table).
    pub fn or_wrong_url(self, body: &str, url_setting: Setting) -> Self {
        let problem = if is_page(body) {
            URL_PAGE
        } else if is_api_description(body) {
            URL_API_DESCRIPTION
        } else {
            return self;
        };
        UpstreamError::Misconfigured {
            setting: url_setting,
            problem,
        }
    }
}

/// Whether a body is markup (HTML, or XML) rather than JSON: PostgREST never answers with it.
fn is_page(body: &str) -> bool {
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    body.trim_ascii_start().starts_with('<')
}

/// Whether a body is an OpenAPI (Swagger) document, as PostgREST writes at its root (the
/// version first).
fn is_api_description(body: &str) -> bool {
    let body = body.trim_ascii_start();
    body.starts_with(r#"{"swagger""#) || body.starts_with(r#"{"openapi""#)
}

/// An upstream failing is `upstream_unavailable`; an answer only a wrong setting explains is
/// `misconfigured`, naming it.
impl From<UpstreamError> for Error {
    fn from(e: UpstreamError) -> Self {
        match e {
            UpstreamError::Misconfigured { setting, problem } => Error::Misconfigured {
                setting: setting.name(),
                problem,
            },
            e => Error::UpstreamUnavailable(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(e: &Error) -> serde_json::Value {
        serde_json::from_str(&e.body()).unwrap()
    }

    #[test]
    fn the_body_is_these_bytes() {
        assert_eq!(
            Error::TenantNotFound.body(),
            r#"{"error":{"code":"tenant_not_found","message":"no tenant answers to this key"}}"#
        );
        let e = Error::InvalidHost {
            input: "a\"b".into(),
            expected: "a hostname",
        };
        assert_eq!(
            e.body(),
            r#"{"error":{"code":"invalid_host","message":"invalid host \"a\\\"b\": expected a hostname"}}"#
        );
    }

    #[test]
    fn body_has_code_and_message() {
        let v = parsed(&Error::TenantNotFound);
        assert_eq!(v["error"]["code"], "tenant_not_found");
        assert!(v["error"]["message"].is_string());
    }

    #[test]
    fn upstream_details_stay_out_of_the_body() {
        let e = Error::from(UpstreamError::Status {
            status: 500,
            body: "secret sql".into(),
        });
        assert_eq!(e.status(), 503);
        assert!(!e.body().contains("secret sql"));
        assert!(std::error::Error::source(&e)
            .unwrap()
            .to_string()
            .contains("secret sql"));
    }

    #[test]
    fn upstream_codes_name_the_failure_never_the_body() {
        let status = |status, body: &str| UpstreamError::Status {
            status,
            body: body.into(),
        };
        let revoked = status(401, r#"{"code":"42501","message":"permission denied"}"#);
        assert_eq!(revoked.code(), "http_401_42501");
        assert_eq!(
            status(404, r#"{"code":"42P01","message":"relation missing"}"#).code(),
            "http_404_42P01"
        );
        assert_eq!(status(502, "<html>bad gateway</html>").code(), "http_502");
        assert_eq!(
            status(500, r#"{"code":"<script>alert(1)</script>"}"#).code(),
            "http_500",
            "a code that is not one is dropped"
        );
        assert_eq!(UpstreamError::Timeout { after_ms: 5 }.code(), "timeout");
        assert_eq!(UpstreamError::Network("refused".into()).code(), "network");
        assert_eq!(UpstreamError::Decode("x".into()).code(), "decode");
    }

    /// The setting an answer to `read` blames, through a URL set by `SUPABASE_REST_URL`.
    fn blamed(status: u16, body: &str, read: Read) -> Option<&'static str> {
        match UpstreamError::answered(status, body.into(), read, Setting::RestUrl) {
            UpstreamError::Misconfigured { setting, .. } => Some(setting.name()),
            UpstreamError::Status { .. } => None,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn answers_only_a_wrong_key_explains_blame_the_key() {
        let jwt_refused = r#"{"code":"PGRST301","details":null,"hint":null,"message":"JWSError JWSInvalidSignature"}"#;
        let claims = r#"{"code":"PGRST303","message":"JWT claims validation or parsing failed"}"#;
        let expired = r#"{"code":"PGRST301","message":"JWT expired"}"#;
        let no_grant =
            r#"{"code":"42501","message":"permission denied for table tenant_profiles"}"#;
        let invalid = r#"{"message":"Invalid API key","hint":"Double check your Supabase `anon` or `service_role` API key."}"#;
        let missing = r#"{"message":"No API key found in request","hint":"No `apikey` request header or url param was found."}"#;
        for (status, body) in [
            (401, jwt_refused),
            (401, expired),
            (400, claims),
            (401, no_grant),
            (403, no_grant),
            (401, invalid),
            (401, missing),
        ] {
            for read in [Read::Tenants, Read::Challenges] {
                assert_eq!(
                    blamed(status, body, read),
                    Some("SUPABASE_ANON_KEY"),
                    "{status} {body}"
                );
            }
        }
        assert_eq!(
            blamed(401, invalid, Read::Profile),
            Some("SUPABASE_ANON_KEY"),
            "the gateway reads the apikey, not the caller's token"
        );
        assert_eq!(
            blamed(401, jwt_refused, Read::Profile),
            None,
            "the caller's token refused is the caller's"
        );
        assert_eq!(blamed(403, no_grant, Read::Profile), None);
        let e = Error::from(UpstreamError::answered(
            401,
            no_grant.into(),
            Read::Challenges,
            Setting::Url,
        ));
        assert!(
            e.message()
                .contains("SUPABASE_ANON_KEY may not read domain_challenges"),
            "{e}"
        );
    }

    #[test]
    fn answers_only_a_wrong_url_explains_blame_the_url_setting_in_use() {
        let page = "<!DOCTYPE html><html><head><title>Supabase</title></head></html>";
        let no_route = r#"{"message":"no Route matched with those values"}"#;
        let no_table = r#"{"code":"42P01","details":null,"hint":null,"message":"relation \"public.tenant_profiles\" does not exist"}"#;
        let no_table_13 = r#"{"code":"PGRST205","message":"Could not find the table 'public.tenant_profiles' in the schema cache"}"#;
        let invalid_path =
            r#"{"code":"PGRST125","message":"Invalid path specified in request URL"}"#;
        for (status, body) in [
            (200, page),
            (301, ""),
            (302, page),
            (401, page),
            (404, page),
            (404, no_route),
            (404, no_table),
            (404, no_table_13),
            (404, invalid_path),
            (404, "{}"),
            (404, "Not Found"),
        ] {
            assert_eq!(
                blamed(status, body, Read::Tenants),
                Some("SUPABASE_REST_URL"),
                "{status} {body}"
            );
        }
        for body in [page, no_route] {
            assert_eq!(
                blamed(404, body, Read::Profile),
                Some("SUPABASE_REST_URL"),
                "{body}"
            );
        }
        let e = Error::from(UpstreamError::answered(
            404,
            no_table.into(),
            Read::Tenants,
            Setting::Url,
        ));
        assert_eq!(
            e.message(),
            "the worker is misconfigured: SUPABASE_URL has no tenant_profiles table: the wrong project, or `supabase db push` has not run"
        );
        assert_eq!((e.status(), e.code()), (500, "misconfigured"));
        let e = Error::from(UpstreamError::answered(
            404,
            no_table_13.into(),
            Read::Challenges,
            Setting::Url,
        ));
        assert!(
            e.message().contains("has no domain_challenges table"),
            "{e}"
        );
        // The Worker deployed before the migration that adds a column it selects.
        let no_column = r#"{"code":"42703","details":null,"hint":null,"message":"column tenant_profiles.maintenance does not exist"}"#;
        let e = Error::from(UpstreamError::answered(
            400,
            no_column.into(),
            Read::Tenants,
            Setting::Url,
        ));
        assert_eq!((e.status(), e.code()), (500, "misconfigured"));
        assert!(e.message().contains("SUPABASE_URL lacks a column"), "{e}");
        assert_eq!(
            blamed(400, no_column, Read::Profile),
            Some("SUPABASE_REST_URL"),
            "the owner's own read too"
        );
    }

    #[test]
    fn a_2xx_that_is_a_page_or_the_api_description_blames_the_url() {
        let unreadable = || UpstreamError::Decode("not a JSON object".into());
        let openapi = r#"{"swagger":"2.0","info":{"title":"standard public schema","version":"12.0.2"},"paths":{}}"#;
        for body in [
            " \n<html><body>Sign in</body></html>",
            "\u{feff}<!doctype html>",
            openapi,
            r#"{"openapi":"3.0.0"}"#,
        ] {
            let e = unreadable().or_wrong_url(body, Setting::Url);
            assert!(
                matches!(
                    e,
                    UpstreamError::Misconfigured {
                        setting: Setting::Url,
                        ..
                    }
                ),
                "{body}: {e:?}"
            );
        }
        for body in [
            r#"{"id":"18a302ca-c89c"#,
            r#"[{"unexpected":true}]"#,
            r#"{"id":1}"#,
            "",
        ] {
            assert_eq!(
                unreadable().or_wrong_url(body, Setting::Url),
                unreadable(),
                "{body}"
            );
        }
    }

    #[test]
    fn failing_upstreams_stay_unavailable() {
        for (status, body) in [
            (502, "<html><body>502 Bad Gateway</body></html>"),
            (503, "<!doctype html><title>Service Unavailable</title>"),
            (
                500,
                r#"{"code":"PGRST300","message":"Server lacks JWT secret"}"#,
            ),
            (500, r#"{"code":"XX000","message":"internal error"}"#),
            (
                504,
                r#"{"message":"An invalid response was received from the upstream server"}"#,
            ),
            (400, r#"{"code":"22023","message":"role does not exist"}"#),
            (429, "{}"),
        ] {
            for read in [Read::Tenants, Read::Challenges, Read::Profile] {
                let e = UpstreamError::answered(status, body.into(), read, Setting::Url);
                assert_eq!(
                    e,
                    UpstreamError::Status {
                        status,
                        body: body.into()
                    }
                );
                assert_eq!(Error::from(e).status(), 503);
            }
        }
    }

    #[test]
    fn a_misconfiguration_is_logged_by_what_it_means_never_its_body() {
        let echo = "<html>apikey: eyJhbGciOiJIUzI1NiJ9.secret.sig</html>";
        let e = UpstreamError::answered(200, echo.into(), Read::Tenants, Setting::RestUrl);
        assert_eq!(e.code(), "misconfigured");
        assert!(!format!("{e} {e:?}").contains("secret"), "{e:?}");
        let e = UpstreamError::answered(
            401,
            r#"{"code":"PGRST301","message":"JWT expired"}"#.into(),
            Read::Tenants,
            Setting::Url,
        );
        assert_eq!(
            e.to_string(),
            "misconfigured: SUPABASE_ANON_KEY is refused by PostgREST: another project's key, signed with another JWT secret, or expired"
        );
        let reply = Error::from(e);
        assert!(
            !reply.body().contains("PGRST301"),
            "the client sees the setting, not the answer"
        );
        assert!(std::error::Error::source(&reply).is_none());
    }

    #[test]
    fn misconfigured_names_the_setting() {
        let e = Error::Misconfigured {
            setting: "SUPABASE_ANON_KEY",
            problem: "is not set",
        };
        assert_eq!(e.status(), 500);
        assert!(e.message().contains("SUPABASE_ANON_KEY"));
    }

    #[test]
    fn unauthorized_says_which_credential() {
        let purge = Error::Unauthorized {
            expected: Error::PURGE_TOKEN,
        };
        assert_eq!((purge.status(), purge.code()), (401, "unauthorized"));
        assert!(purge.message().contains("PURGE_TOKEN"));
        assert!(Error::user_unauthorized().message().contains("user token"));
    }

    #[test]
    fn oversized_bodies_are_413() {
        let e = Error::PayloadTooLarge { limit: 4096 };
        assert_eq!((e.status(), e.code()), (413, "payload_too_large"));
        assert!(e.message().contains("4096"));
    }

    #[test]
    fn long_input_is_cut_in_messages() {
        let input = "a".repeat(10_000);
        let e = Error::InvalidSlug {
            input,
            expected: "a slug",
        };
        assert!(e.message().len() < 200);
    }

    #[test]
    fn input_is_escaped_in_json() {
        let e = Error::InvalidHost {
            input: "a\"b<".into(),
            expected: "a hostname",
        };
        assert_eq!(parsed(&e)["error"]["code"], "invalid_host");
    }
}
