//! The one error type of the resolver and its mapping to the HTTP error contract.
//!
//! Every failure a client can see is a variant here. [`Error::status`], [`Error::code`] and
//! [`Error::message`] are the only place where failures become HTTP: the body is always
//! `{"error":{"code":"…","message":"…"}}`. Upstream details (PostgREST messages, SQL errors,
//! network failures) are kept in [`UpstreamError`] for the log and never sent to the client.

use std::fmt;

/// Longest piece of client input echoed back in an error message; the rest is cut.
const ECHO_LIMIT: usize = 80;

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
}

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

    /// The HTTP status of this error.
    pub fn status(&self) -> u16 {
        match self {
            Error::InvalidHost { .. }
            | Error::InvalidSlug { .. }
            | Error::InvalidDomain { .. }
            | Error::InvalidId { .. }
            | Error::InvalidBody { .. } => 400,
            Error::Unauthorized { .. } => 401,
            Error::TenantNotFound
            | Error::NoOrigin
            | Error::RouteNotFound
            | Error::NotEnabled { .. } => 404,
            Error::MethodNotAllowed { .. } => 405,
            Error::PayloadTooLarge { .. } => 413,
            Error::Misconfigured { .. } => 500,
            Error::OriginUnavailable(_) => 502,
            Error::UpstreamUnavailable(_) => 503,
        }
    }

    /// The stable, machine-readable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidHost { .. } => "invalid_host",
            Error::InvalidSlug { .. } => "invalid_slug",
            Error::InvalidDomain { .. } => "invalid_domain",
            Error::InvalidId { .. } => "invalid_id",
            Error::InvalidBody { .. } => "invalid_body",
            Error::PayloadTooLarge { .. } => "payload_too_large",
            Error::Unauthorized { .. } => "unauthorized",
            Error::TenantNotFound => "tenant_not_found",
            Error::NoOrigin => "no_origin",
            Error::RouteNotFound => "not_found",
            Error::MethodNotAllowed { .. } => "method_not_allowed",
            Error::NotEnabled { .. } => "not_enabled",
            Error::Misconfigured { .. } => "misconfigured",
            Error::UpstreamUnavailable(_) => "upstream_unavailable",
            Error::OriginUnavailable(_) => "origin_unavailable",
        }
    }

    /// A human-readable message: what was wrong and what was expected. Never upstream details.
    pub fn message(&self) -> String {
        match self {
            Error::InvalidHost { input, expected } => invalid("host", input, expected),
            Error::InvalidSlug { input, expected } => invalid("slug", input, expected),
            Error::InvalidDomain { input, expected } => invalid("domain", input, expected),
            Error::InvalidId { input, expected } => invalid("id", input, expected),
            Error::InvalidBody { expected } => format!("invalid request body: expected {expected}"),
            Error::PayloadTooLarge { limit } => {
                format!("request body too large: at most {limit} bytes")
            }
            Error::Unauthorized { expected } => format!("{expected} is required"),
            Error::TenantNotFound => "no tenant answers to this key".into(),
            Error::NoOrigin => {
                "this request would be forwarded, but no origin is configured".into()
            }
            Error::RouteNotFound => "no such route under /_tenant/".into(),
            Error::MethodNotAllowed { allow } => format!("method not allowed: use {allow}"),
            Error::NotEnabled { setting } => format!("this route is off: {setting} is not set"),
            Error::Misconfigured { setting, problem } => {
                format!("the worker is misconfigured: {setting} {problem}")
            }
            Error::UpstreamUnavailable(_) => {
                "the tenant directory is unavailable, retry later".into()
            }
            Error::OriginUnavailable(_) => "the app origin did not answer".into(),
        }
    }

    /// The JSON error body of the HTTP contract.
    pub fn body(&self) -> String {
        serde_json::json!({ "error": { "code": self.code(), "message": self.message() } })
            .to_string()
    }
}

fn invalid(what: &str, input: &str, expected: &str) -> String {
    let shown: String = input.chars().take(ECHO_LIMIT).collect();
    let cut = if shown.len() < input.len() { "…" } else { "" };
    format!("invalid {what} {shown:?}{cut}: expected {expected}")
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::UpstreamUnavailable(e) => Some(e),
            _ => None,
        }
    }
}

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
}

impl From<UpstreamError> for Error {
    fn from(e: UpstreamError) -> Self {
        Error::UpstreamUnavailable(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(e: &Error) -> serde_json::Value {
        serde_json::from_str(&e.body()).unwrap()
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
