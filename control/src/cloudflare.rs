//! Cloudflare's custom hostnames API, as far as the control plane reads and writes it.
//!
//! Every answer is the v4 envelope `{"success","errors":[{"code","message"}],"messages",
//! "result"}` ([docs](https://developers.cloudflare.com/cloudflare-for-platforms/cloudflare-for-saas/reference/status-codes/custom-hostnames/)).
//! [`read`] sorts an answer into what the cron does next: use the result, treat the hostname
//! as gone, give the row up with Cloudflare's message, or stop the run (rate limited,
//! Cloudflare failing, or our own token or zone refused: nothing a row did). It reads
//! Cloudflare's error code, not the status alone: a 404 is a missing hostname only with the
//! code that says so (1436); any other 404 (`7000 No route for that URI`, a proxy's page) means
//! `CLOUDFLARE_API_BASE` does not lead to the API, and stops the run naming that setting.
//!
//! Cloudflare refuses credentials and zones with these codes (what the API answers, as the
//! stand-in `tests/support/cloudflare.mjs` does): a zone id it cannot route `400 7003` (with
//! 7000); no `Authorization` header `9106` (1403 on this API); a malformed one `400 6003`; a
//! token it does not know `9109` ("Invalid access token"); and `403 10000` ("Authentication
//! error") for a valid token on a zone it may not use, which is either setting: another zone's
//! id (the account's, say) or a token without the permission there. [`wants_token_check`] then
//! has `GET /user/tokens/verify` ([`read_token_check`]) tell the two apart.

use serde::Deserialize;

use crate::error::{Service, UpstreamError};

/// Longest Cloudflare message kept for a coach.
const MESSAGE_LIMIT: usize = 300;
/// Cloudflare's custom hostname error codes: a 4xx with one of these refuses the request for
/// this hostname (quota 1404-1405, a duplicate 1406, invalid, non-ASCII, reserved or
/// unparsable names 1407-1411, bad SSL settings…). Any other 4xx is about our request, not the
/// hostname, and stops the run.
const HOSTNAME_CODES: std::ops::RangeInclusive<i64> = 1400..=1499;
/// A duplicate: the zone already has this hostname.
pub const DUPLICATE: i64 = 1406;
/// "The custom hostname was not found": the one answer that means a hostname is gone.
pub const NOT_FOUND: i64 = 1436;
/// "No route for that URI": the URL is not one of the API's.
const NO_ROUTE: i64 = 7000;
/// The zone id is not one: "Could not route to /zones/…, perhaps your object identifier is
/// invalid?" (7003), "Zone ID is required" (1402), an invalid zone identifier (1001).
const NO_ZONE: [i64; 3] = [7003, 1402, 1001];
/// The token is missing, malformed or unknown: "Invalid API Token" (1000), "The request has no
/// Authorization header" (1403), "Invalid request headers" (6003, a malformed
/// `Authorization`), 9103 (unknown credentials), "Missing X-Auth-Key, X-Auth-Email or
/// Authorization headers" (9106), "Invalid access token" (9109).
const BAD_TOKEN: [i64; 6] = [1000, 1403, 6003, 9103, 9106, 9109];
/// "Authentication error": a valid token on a zone it may not use, or an invalid token.
const NOT_AUTHORIZED: i64 = 10000;
/// The path, under `CLOUDFLARE_API_BASE`, that says whether a token is valid.
pub const TOKEN_VERIFY_PATH: &str = "/user/tokens/verify";

/// The setting a Cloudflare answer blames, and what is wrong with it.
const WRONG_API_BASE: (&str, &str) = (
    "CLOUDFLARE_API_BASE",
    "does not lead to Cloudflare's API: it has no route for the custom hostnames calls",
);
const WRONG_ZONE: (&str, &str) = (
    "CLOUDFLARE_ZONE_ID",
    "is not a zone id Cloudflare's API can route to (the SaaS zone's 32-character id, on its Overview page)",
);
const WRONG_TOKEN: (&str, &str) = (
    "CLOUDFLARE_API_TOKEN",
    "is refused by Cloudflare's API: missing, malformed, unknown, expired or revoked",
);
/// 403 code 10000 before the token check: either setting.
const TOKEN_OR_ZONE: (&str, &str) = (
    "CLOUDFLARE_API_TOKEN",
    "is refused by Cloudflare's API for the zone CLOUDFLARE_ZONE_ID names (invalid, without SSL and Certificates: Edit on that zone, or the zone id is another zone's)",
);
/// 403 code 10000 with a token Cloudflare says is valid.
const NOT_THE_TOKENS_ZONE: (&str, &str) = (
    "CLOUDFLARE_ZONE_ID",
    "names a zone the (valid) CLOUDFLARE_API_TOKEN may not use: another zone's id (the account's, say), or a token without SSL and Certificates: Edit on this zone",
);

/// A custom hostname, with the fields the control plane uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CustomHostname {
    pub id: String,
    pub hostname: String,
    /// `pending`, `active`, `moved`, `blocked`, `pending_blocked`, `deleted`, …
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub ssl: Option<Ssl>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub verification_errors: Vec<String>,
    #[serde(default)]
    pub ownership_verification: Option<Ownership>,
    #[serde(default)]
    pub ownership_verification_http: Option<OwnershipHttp>,
}

/// The certificate of a custom hostname.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Ssl {
    /// `initializing`, `pending_validation`, `pending_issuance`, `pending_deployment`, `active`…
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub validation_errors: Vec<ValidationError>,
}

/// One of the certificate's validation errors.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ValidationError {
    #[serde(default)]
    pub message: String,
}

/// The TXT record that pre-validates ownership.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Ownership {
    pub name: String,
    pub value: String,
}

/// The HTTP token that validates ownership, fetched by Cloudflare over plain HTTP.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OwnershipHttp {
    pub http_url: String,
    pub http_body: String,
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl CustomHostname {
    /// The certificate's status, if Cloudflare gave one.
    pub fn ssl_status(&self) -> Option<&str> {
        self.ssl.as_ref()?.status.as_deref()
    }

    /// What Cloudflare says stands between the hostname and `active`: the hostname's
    /// verification errors, then the certificate's, as plain text, each once.
    pub fn errors(&self) -> Vec<String> {
        let certificate = self
            .ssl
            .iter()
            .flat_map(|s| s.validation_errors.iter().map(|e| e.message.as_str()));
        let mut all: Vec<String> = Vec::new();
        for message in self
            .verification_errors
            .iter()
            .map(String::as_str)
            .chain(certificate)
        {
            let text = plain_text(message);
            if !text.is_empty() && !all.contains(&text) && all.len() < 10 {
                all.push(text);
            }
        }
        all
    }

    /// The ownership token's path on the hostname, when Cloudflare's `http_url` is exactly
    /// `http://<hostname>/.well-known/cf-custom-hostname-challenge/<token>` and the path is one
    /// the resolver serves (its own rule, `is_challenge_path`): the resolver answers the body
    /// there, so nothing else may become that path.
    pub fn challenge_path(&self) -> Option<&str> {
        let http = self.ownership_verification_http.as_ref()?;
        let rest = http.http_url.strip_prefix("http://")?;
        let path = rest.strip_prefix(self.hostname.as_str())?;
        tenant_common::is_challenge_path(path).then_some(path)
    }
}

/// Whether `id` is a custom hostname id as `tenant_domains.cloudflare_id` holds it (letters,
/// digits and `-`, at most 64): safe in a URL path, and storable.
pub fn is_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The body of a create: HTTP validation, a DV certificate.
pub fn create_body(hostname: &str) -> String {
    serde_json::json!({ "hostname": hostname, "ssl": { "method": "http", "type": "dv" } })
        .to_string()
}

/// What an API answer means for the cron.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Success, with the envelope's `result`.
    Ok(serde_json::Value),
    /// No such custom hostname: a 404 with Cloudflare's code [`NOT_FOUND`], nothing else.
    NotFound,
    /// Cloudflare refuses this request for this hostname, for good: the row fails with
    /// `message` (Cloudflare's, as plain text).
    Refused { code: i64, message: String },
    /// Too many requests: stop the run; `retry_after_s` as Cloudflare said.
    RateLimited { retry_after_s: Option<u32> },
    /// Cloudflare failing (5xx, timeout, garbage) or refusing our credentials or zone: stop the
    /// run, nothing is wrong with the row. An answer only a wrong setting explains is
    /// [`UpstreamError::Misconfigured`], naming that setting.
    Stop(UpstreamError),
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    success: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    errors: Vec<ApiMessage>,
    #[serde(default)]
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct ApiMessage {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
}

/// Reads one answer of the API from its status, `retry-after` header and body.
///
/// A 429 is a rate limit and a 5xx Cloudflare failing, whatever they say. Then by Cloudflare's
/// error codes (any of the answer's), then the status: 7003, 1402, 1001 (`CLOUDFLARE_ZONE_ID`),
/// 1000, 1403, 6003, 9103, 9106, 9109 (`CLOUDFLARE_API_TOKEN`), 10000 (the token, or the zone:
/// [`wants_token_check`]), 7000 (no route: `CLOUDFLARE_API_BASE`) stop the run naming the
/// setting; a 404 is [`Verdict::NotFound`] only with 1436, and blames `CLOUDFLARE_API_BASE`
/// otherwise; any other 401 blames the token, any other 403 the token or the zone; a 4xx
/// refuses the hostname only with a custom hostname code (1400-1499). Everything else stops the
/// run.
pub fn read(status: u16, retry_after: Option<&str>, body: &str) -> Verdict {
    let cut = || body.chars().take(300).collect::<String>();
    let stop = || {
        Verdict::Stop(UpstreamError::Status {
            service: Service::Cloudflare,
            status,
            body: cut(),
        })
    };
    let blame = |(setting, problem): (&'static str, &'static str)| {
        Verdict::Stop(UpstreamError::Misconfigured {
            service: Service::Cloudflare,
            setting,
            problem,
            status,
            body: cut(),
        })
    };
    if status == 429 {
        return Verdict::RateLimited {
            retry_after_s: retry_after.and_then(|v| v.trim().parse().ok()),
        };
    }
    let envelope = serde_json::from_str::<Envelope>(body).ok();
    let first = envelope.as_ref().and_then(|e| e.errors.first());
    let code = first.map(|e| e.code);
    let codes: Vec<i64> = envelope
        .iter()
        .flat_map(|e| e.errors.iter().map(|m| m.code))
        .collect();
    let any = |wanted: &[i64]| codes.iter().any(|c| wanted.contains(c));
    match (status, code) {
        (200..=299, _) if envelope.as_ref().is_some_and(|e| e.success) => {
            Verdict::Ok(envelope.map(|e| e.result).unwrap_or_default())
        }
        (500.., _) => stop(),
        _ if any(&NO_ZONE) => blame(WRONG_ZONE),
        _ if any(&BAD_TOKEN) => blame(WRONG_TOKEN),
        _ if any(&[NOT_AUTHORIZED]) => blame(TOKEN_OR_ZONE),
        _ if any(&[NO_ROUTE]) => blame(WRONG_API_BASE),
        (404, Some(NOT_FOUND)) => Verdict::NotFound,
        (404, _) => blame(WRONG_API_BASE),
        (400..=499, Some(c)) if HOSTNAME_CODES.contains(&c) => first.map_or_else(stop, refused),
        (401, _) => blame(WRONG_TOKEN),
        (403, _) => blame(TOKEN_OR_ZONE),
        _ if envelope.is_none() => Verdict::Stop(UpstreamError::Decode {
            service: Service::Cloudflare,
            detail: format!("{status}: {}", body.chars().take(120).collect::<String>()),
        }),
        _ => stop(),
    }
}

/// Reads the answer to a listing of the zone's custom hostnames: `Ok` when the zone answered
/// (a success whose `result` is an array), else what stops the run ([`Verdict::RateLimited`]
/// or [`Verdict::Stop`]). The proof that the API and the zone are what the settings say, asked
/// before a hostname is declared gone.
pub fn read_listing(status: u16, retry_after: Option<&str>, body: &str) -> Result<(), Verdict> {
    match read(status, retry_after, body) {
        Verdict::Ok(serde_json::Value::Array(_)) => Ok(()),
        stop @ (Verdict::RateLimited { .. } | Verdict::Stop(_)) => Err(stop),
        _ => Err(Verdict::Stop(UpstreamError::Status {
            service: Service::Cloudflare,
            status,
            body: body.chars().take(300).collect(),
        })),
    }
}

/// What `GET /user/tokens/verify` says of the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    /// Valid and active: a refusal on the zone is the zone's (or the token's permission there).
    Valid,
    /// Refused, or not active (disabled, expired).
    Invalid,
    /// No telling: Cloudflare failing, rate limited, or an answer we cannot read.
    Unknown,
}

/// Reads `GET /user/tokens/verify`'s answer.
pub fn read_token_check(status: u16, body: &str) -> TokenCheck {
    #[derive(Deserialize)]
    struct Token {
        #[serde(default)]
        status: String,
    }
    match read(status, None, body) {
        Verdict::Ok(result) => match serde_json::from_value::<Token>(result) {
            Ok(token) if token.status == "active" => TokenCheck::Valid,
            Ok(_) => TokenCheck::Invalid,
            Err(_) => TokenCheck::Unknown,
        },
        Verdict::Stop(UpstreamError::Misconfigured {
            setting: "CLOUDFLARE_API_TOKEN",
            ..
        }) => TokenCheck::Invalid,
        _ => TokenCheck::Unknown,
    }
}

/// Whether `verdict` is Cloudflare's "Authentication error" on the zone (403, code 10000),
/// which a valid token gets on a zone it may not use and an invalid one anywhere, and `token`
/// is one `GET /user/tokens/verify` can check: a user's token. An account-owned token (`cfat_`)
/// verifies only at its account's path, which the control plane does not know: its refusal
/// keeps naming the token (and the zone, in the message).
pub fn wants_token_check(verdict: &Verdict, token: &str) -> bool {
    matches!(
        verdict,
        Verdict::Stop(UpstreamError::Misconfigured { problem, .. }) if *problem == TOKEN_OR_ZONE.1
    ) && !token.starts_with("cfat_")
}

/// `verdict` (see [`wants_token_check`]) once the token was checked: a valid token leaves the
/// zone to blame, an invalid one the token; no telling keeps both named.
pub fn after_token_check(verdict: Verdict, check: TokenCheck) -> Verdict {
    let (setting, problem) = match check {
        TokenCheck::Valid => NOT_THE_TOKENS_ZONE,
        TokenCheck::Invalid => WRONG_TOKEN,
        TokenCheck::Unknown => return verdict,
    };
    match verdict {
        Verdict::Stop(UpstreamError::Misconfigured {
            service,
            problem: was,
            status,
            body,
            ..
        }) if was == TOKEN_OR_ZONE.1 => Verdict::Stop(UpstreamError::Misconfigured {
            service,
            setting,
            problem,
            status,
            body,
        }),
        other => other,
    }
}

fn refused(e: &ApiMessage) -> Verdict {
    Verdict::Refused {
        code: e.code,
        message: plain_text(&e.message),
    }
}

/// Decodes a `result` as `T`, or stops the run: Cloudflare answered something else.
pub fn decode<T: serde::de::DeserializeOwned>(result: serde_json::Value) -> Result<T, Verdict> {
    serde_json::from_value(result).map_err(|e| {
        Verdict::Stop(UpstreamError::Decode {
            service: Service::Cloudflare,
            detail: e.to_string(),
        })
    })
}

/// A Cloudflare message as plain text for a coach: markup dropped (Cloudflare's quota message
/// carries a link), whitespace collapsed, control characters gone, cut to [`MESSAGE_LIMIT`].
pub fn plain_text(message: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in message.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            c if c.is_whitespace() || c.is_control() => {
                if !out.ends_with(' ') && !out.is_empty() {
                    out.push(' ');
                }
            }
            c => out.push(c),
        }
    }
    let out = out.trim_end();
    match out.char_indices().nth(MESSAGE_LIMIT) {
        Some((at, _)) => format!("{}…", &out[..at]),
        None => out.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn hostname(status: &str, ssl: &str) -> CustomHostname {
        serde_json::from_value(serde_json::json!({
            "id": "0d89c70d-ad9f-4843-b99f-6cc0252067e9",
            "hostname": "coach.example.test",
            "status": status,
            "ssl": {"id": "s1", "type": "dv", "method": "http", "status": ssl, "validation_errors": null},
            "verification_errors": ["custom hostname does not CNAME to this zone."],
            "ownership_verification": {"type": "txt", "name": "_cf-custom-hostname.coach.example.test", "value": "5cc07c04"},
            "ownership_verification_http": {
                "http_url": "http://coach.example.test/.well-known/cf-custom-hostname-challenge/0d89c70d-ad9f-4843-b99f-6cc0252067e9",
                "http_body": "5cc07c04"
            },
            "created_at": "2026-12-02T10:00:00Z"
        }))
        .unwrap()
    }

    fn envelope(success: bool, errors: serde_json::Value, result: serde_json::Value) -> String {
        serde_json::json!({"success": success, "errors": errors, "messages": [], "result": result})
            .to_string()
    }

    #[test]
    fn a_success_yields_its_result() {
        let body = envelope(true, serde_json::json!([]), serde_json::json!({"id": "x"}));
        assert_eq!(
            read(201, None, &body),
            Verdict::Ok(serde_json::json!({"id": "x"}))
        );
    }

    #[test]
    fn refusals_of_a_hostname_carry_cloudflares_message() {
        for (status, code) in [
            (400, 1409),
            (400, 1411),
            (409, 1406),
            (403, 1405),
            (400, 1400),
        ] {
            let body = envelope(
                false,
                serde_json::json!([{"code": code, "message": "Reserved top domain custom hostnames, such as 'test', is not supported."}]),
                serde_json::Value::Null,
            );
            match read(status, None, &body) {
                Verdict::Refused { code: c, message } => {
                    assert_eq!(c, code);
                    assert!(message.starts_with("Reserved top domain"));
                }
                other => panic!("{status}/{code}: {other:?}"),
            }
        }
    }

    #[test]
    fn rate_limits_failures_and_our_own_credentials_stop_the_run() {
        assert_eq!(
            read(
                429,
                Some("17"),
                &envelope(
                    false,
                    serde_json::json!([{"code": 971, "message": "Please wait"}]),
                    serde_json::Value::Null
                )
            ),
            Verdict::RateLimited {
                retry_after_s: Some(17)
            }
        );
        let auth = envelope(
            false,
            serde_json::json!([{"code": 10000, "message": "Authentication error"}]),
            serde_json::Value::Null,
        );
        assert!(matches!(read(403, None, &auth), Verdict::Stop(_)));
        let route = envelope(
            false,
            serde_json::json!([{"code": 7003, "message": "Could not route"}]),
            serde_json::Value::Null,
        );
        assert!(matches!(read(400, None, &route), Verdict::Stop(_)));
        assert!(matches!(
            read(502, None, "<html>bad gateway</html>"),
            Verdict::Stop(_)
        ));
        assert!(matches!(read(200, None, "not json"), Verdict::Stop(_)));
        assert!(matches!(
            read(
                200,
                None,
                &envelope(false, serde_json::json!([]), serde_json::Value::Null)
            ),
            Verdict::Stop(_)
        ));
    }

    /// The setting a stopping answer blames, if it blames one.
    fn blamed(verdict: Verdict) -> Option<&'static str> {
        match verdict {
            Verdict::Stop(UpstreamError::Misconfigured { setting, .. }) => Some(setting),
            Verdict::Stop(_) => None,
            other => panic!("not a stop: {other:?}"),
        }
    }

    fn error(code: i64, message: &str) -> String {
        envelope(
            false,
            serde_json::json!([{"code": code, "message": message}]),
            serde_json::Value::Null,
        )
    }

    #[test]
    fn a_404_without_cloudflares_not_found_code_blames_the_api_base() {
        let no_route = error(7000, "No route for that URI");
        assert_eq!(
            blamed(read(404, None, &no_route)),
            Some("CLOUDFLARE_API_BASE")
        );
        for body in [
            "<html><body>404 Not Found</body></html>",
            "",
            r#"{"message":"not found"}"#,
            &error(1435, "something else"),
        ] {
            assert_eq!(
                blamed(read(404, None, body)),
                Some("CLOUDFLARE_API_BASE"),
                "{body}"
            );
        }
    }

    #[test]
    fn no_route_and_no_zone_stop_the_run_on_any_status() {
        for status in [200, 400, 403, 404, 405] {
            assert_eq!(
                blamed(read(status, None, &error(7000, "No route for that URI"))),
                Some("CLOUDFLARE_API_BASE"),
                "{status}"
            );
            assert_eq!(
                blamed(read(status, None, &error(7003, "Could not route"))),
                Some("CLOUDFLARE_ZONE_ID"),
                "{status}"
            );
        }
    }

    #[test]
    fn auth_errors_blame_the_token() {
        let malformed = envelope(
            false,
            serde_json::json!([{"code": 6003, "message": "Invalid request headers",
                "error_chain": [{"code": 6111, "message": "Invalid format for Authorization header"}]}]),
            serde_json::Value::Null,
        );
        for (status, body) in [
            (403, error(10000, "Authentication error")),
            (400, error(9109, "Invalid access token")),
            (401, error(9109, "Invalid access token")),
            (
                403,
                error(9109, "Cannot use the access token from location: 192.0.2.1"),
            ),
            (
                400,
                error(
                    9106,
                    "Missing X-Auth-Key, X-Auth-Email or Authorization headers",
                ),
            ),
            (403, error(9103, "Unknown X-Auth-Key or X-Auth-Email")),
            (400, malformed),
            (400, error(1000, "Invalid API Token")),
            (
                400,
                error(
                    1403,
                    "The request has no Authorization header. Check your input and try again.",
                ),
            ),
            (401, String::new()),
            (403, "<html>Forbidden</html>".into()),
            (403, error(9999, "forbidden")),
        ] {
            assert_eq!(
                blamed(read(status, None, &body)),
                Some("CLOUDFLARE_API_TOKEN"),
                "{status} {body}"
            );
        }
    }

    #[test]
    fn a_zone_id_cloudflare_cannot_route_blames_the_zone() {
        let routed = envelope(
            false,
            serde_json::json!([
                {"code": 7003, "message": "Could not route to /client/v4/zones/coachplatform/custom_hostnames, perhaps your object identifier is invalid?"},
                {"code": 7000, "message": "No route for that URI"}
            ]),
            serde_json::Value::Null,
        );
        for body in [
            routed,
            error(1402, "Zone ID is required. Check your input and try again."),
            error(1001, "Invalid zone identifier"),
        ] {
            assert_eq!(
                blamed(read(400, None, &body)),
                Some("CLOUDFLARE_ZONE_ID"),
                "{body}"
            );
        }
    }

    #[test]
    fn an_authentication_error_on_the_zone_is_the_zones_when_the_token_is_valid() {
        let refused = read(403, None, &error(10000, "Authentication error"));
        assert!(wants_token_check(&refused, "cf-test-token"));
        assert!(
            !wants_token_check(&refused, "cfat_0123456789"),
            "an account's token"
        );
        let definite = read(401, None, &error(9109, "Invalid access token"));
        assert!(!wants_token_check(&definite, "cf-test-token"));

        let valid = envelope(
            true,
            serde_json::json!([]),
            serde_json::json!({"id": "ed17574386854bf78a67040be0a770b0", "status": "active"}),
        );
        assert_eq!(read_token_check(200, &valid), TokenCheck::Valid);
        let expired = envelope(
            true,
            serde_json::json!([]),
            serde_json::json!({"id": "x", "status": "expired"}),
        );
        assert_eq!(read_token_check(200, &expired), TokenCheck::Invalid);
        assert_eq!(
            read_token_check(401, &error(1000, "Invalid API Token")),
            TokenCheck::Invalid
        );
        assert_eq!(read_token_check(503, "down"), TokenCheck::Unknown);
        assert_eq!(read_token_check(429, ""), TokenCheck::Unknown);

        let zone = after_token_check(refused.clone(), TokenCheck::Valid);
        assert_eq!(blamed(zone.clone()), Some("CLOUDFLARE_ZONE_ID"));
        let message = crate::error::Error::from(match zone {
            Verdict::Stop(e) => e,
            other => panic!("{other:?}"),
        })
        .message();
        assert!(
            message.contains("CLOUDFLARE_API_TOKEN"),
            "names the other suspect too: {message}"
        );
        assert_eq!(
            blamed(after_token_check(refused.clone(), TokenCheck::Invalid)),
            Some("CLOUDFLARE_API_TOKEN")
        );
        assert_eq!(
            after_token_check(refused.clone(), TokenCheck::Unknown),
            refused
        );
        assert_eq!(
            after_token_check(definite.clone(), TokenCheck::Valid),
            definite,
            "only the ambiguous refusal is re-read"
        );
    }

    #[test]
    fn failing_or_rate_limited_is_never_a_setting() {
        for (status, body) in [
            (500, error(10000, "Authentication error")),
            (502, "<html>bad gateway</html>".into()),
            (503, error(7003, "Could not route")),
        ] {
            assert_eq!(blamed(read(status, None, &body)), None, "{status} {body}");
        }
        assert!(matches!(
            read(429, None, &error(9109, "Invalid access token")),
            Verdict::RateLimited { .. }
        ));
    }

    #[test]
    fn a_4xx_refuses_a_hostname_only_with_a_custom_hostname_code() {
        for (status, body) in [
            (400, error(1002, "Invalid request")),
            (400, error(6007, "Malformed JSON in request body")),
            (409, error(10001, "conflict")),
            (
                400,
                envelope(false, serde_json::json!([]), serde_json::Value::Null),
            ),
            (422, "not json".into()),
        ] {
            let verdict = read(status, None, &body);
            assert!(
                matches!(verdict, Verdict::Stop(_)),
                "{status} {body}: {verdict:?}"
            );
        }
    }

    #[test]
    fn a_listing_proves_the_zone_answers_only_with_an_array() {
        let listed = envelope(true, serde_json::json!([]), serde_json::json!([]));
        assert_eq!(read_listing(200, None, &listed), Ok(()));
        let object = envelope(true, serde_json::json!([]), serde_json::json!({"id": "x"}));
        assert!(matches!(
            read_listing(200, None, &object),
            Err(Verdict::Stop(_))
        ));
        let not_found = error(1436, "The custom hostname was not found.");
        assert!(matches!(
            read_listing(404, None, &not_found),
            Err(Verdict::Stop(_))
        ));
        let no_route = error(7000, "No route for that URI");
        assert!(matches!(
            read_listing(404, None, &no_route),
            Err(Verdict::Stop(UpstreamError::Misconfigured {
                setting: "CLOUDFLARE_API_BASE",
                ..
            }))
        ));
        assert!(matches!(
            read_listing(429, Some("3"), &no_route),
            Err(Verdict::RateLimited { .. })
        ));
        assert!(matches!(
            read_listing(503, None, "down"),
            Err(Verdict::Stop(UpstreamError::Status { status: 503, .. }))
        ));
    }

    #[test]
    fn a_missing_hostname_is_not_found() {
        let body = envelope(
            false,
            serde_json::json!([{"code": 1436, "message": "The custom hostname was not found."}]),
            serde_json::Value::Null,
        );
        assert_eq!(read(404, None, &body), Verdict::NotFound);
    }

    #[test]
    fn a_hostname_reads_its_certificate_errors_and_ownership() {
        let h = hostname("pending", "pending_validation");
        assert_eq!(h.ssl_status(), Some("pending_validation"));
        assert_eq!(h.errors(), ["custom hostname does not CNAME to this zone."]);
        assert_eq!(
            h.challenge_path(),
            Some("/.well-known/cf-custom-hostname-challenge/0d89c70d-ad9f-4843-b99f-6cc0252067e9")
        );
        assert_eq!(h.ownership_verification.unwrap().value, "5cc07c04");
    }

    #[test]
    fn a_challenge_url_for_another_host_or_path_is_not_served() {
        for url in [
            "http://evil.test/.well-known/cf-custom-hostname-challenge/abc",
            "http://coach.example.test/.well-known/other/abc",
            "http://coach.example.test/.well-known/cf-custom-hostname-challenge/a/b",
            "http://coach.example.test/.well-known/cf-custom-hostname-challenge/",
            "https://coach.example.test/.well-known/cf-custom-hostname-challenge/abc",
            "http://coach.example.test.evil/.well-known/cf-custom-hostname-challenge/abc",
        ] {
            let mut h = hostname("pending", "pending_validation");
            h.ownership_verification_http.as_mut().unwrap().http_url = url.into();
            assert_eq!(h.challenge_path(), None, "{url}");
        }
    }

    #[test]
    fn messages_become_plain_short_text() {
        assert_eq!(
            plain_text("Quota exceeded. <a href=\"https://x\">fill out this form</a> and\n\tretry"),
            "Quota exceeded. fill out this form and retry"
        );
        assert!(plain_text(&"x".repeat(1000)).chars().count() <= MESSAGE_LIMIT + 1);
    }

    #[test]
    fn errors_are_deduplicated_and_include_the_certificates() {
        let mut h = hostname("pending", "pending_validation");
        h.ssl.as_mut().unwrap().validation_errors = vec![
            ValidationError {
                message: "custom hostname does not CNAME to this zone.".into(),
            },
            ValidationError {
                message: "caa record prevents issuance".into(),
            },
        ];
        assert_eq!(
            h.errors(),
            [
                "custom hostname does not CNAME to this zone.",
                "caa record prevents issuance"
            ]
        );
    }

    #[test]
    fn ids_are_safe_in_paths() {
        assert!(is_id("0d89c70d-ad9f-4843-b99f-6cc0252067e9"));
        for bad in ["", "../x", "a/b", "a?b", "a_b", &"a".repeat(65)] {
            assert!(!is_id(bad), "{bad}");
        }
    }
}
