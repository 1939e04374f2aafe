//! Answers as plain data: status, headers and body, shaped without the Workers runtime.
//!
//! Everything the control plane answers is JSON, never cached (`no-store`: a coach's domains
//! are theirs alone), and readable cross-origin only by the dashboard's origins.

use crate::analytics::BucketView;
use crate::domain::DomainView;
use crate::error::Error;
use crate::health::LastUpstream;

/// An HTTP answer the control plane will send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Reply {
    fn json(status: u16, body: String) -> Reply {
        Reply {
            status,
            headers: vec![
                ("content-type", "application/json; charset=utf-8".into()),
                ("cache-control", "no-store".into()),
                ("x-content-type-options", "nosniff".into()),
            ],
            body,
        }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    /// One domain: 201 when it was just added, 200 otherwise.
    pub fn domain(status: u16, domain: &DomainView) -> Reply {
        Reply::json(status, serde_json::to_string(domain).unwrap_or_default())
    }

    /// A tenant's domains: `{"domains":[…]}`.
    pub fn domains(domains: &[DomainView]) -> Reply {
        #[derive(serde::Serialize)]
        struct List<'a> {
            domains: &'a [DomainView],
        }
        Reply::json(
            200,
            serde_json::to_string(&List { domains }).unwrap_or_default(),
        )
    }

    /// A brand state or list as the owner functions answered it (`crate::brand`), with the
    /// published version's ETag when it names one.
    pub fn brand(body: String) -> Reply {
        let version = crate::brand::version_of(&body);
        let reply = Reply::json(200, body);
        match version {
            Some(v) => reply.header("etag", crate::brand::etag(v)),
            None => reply,
        }
    }

    /// A maintenance switch as the owner functions answered it (`crate::maintenance`):
    /// `{"on","message","retryAfterSeconds"}`.
    pub fn maintenance(body: String) -> Reply {
        Reply::json(200, body)
    }

    /// A preview link of the brand draft and when it stops working (`crate::preview`):
    /// `{"url","expiresAt"}`.
    pub fn preview(url: &str, expires_at: &str) -> Reply {
        Reply::json(
            200,
            serde_json::json!({ "url": url, "expiresAt": expires_at }).to_string(),
        )
    }

    /// A tenant's traffic: `{"buckets":[…]}` (`crate::analytics`).
    pub fn analytics(buckets: &[BucketView]) -> Reply {
        #[derive(serde::Serialize)]
        struct Buckets<'a> {
            buckets: &'a [BucketView],
        }
        Reply::json(
            200,
            serde_json::to_string(&Buckets { buckets }).unwrap_or_default(),
        )
    }

    /// `GET /health`: the settings are valid (or this is not reached), and what this isolate's
    /// last calls found of PostgREST and Cloudflare: `{"status":"ok","lastUpstream":{…}}`.
    pub fn health(last: &LastUpstream) -> Reply {
        Reply::json(
            200,
            format!(r#"{{"status":"ok","lastUpstream":{}}}"#, last.json()),
        )
    }

    /// `GET /health?deep=1` when PostgREST and Cloudflare both answered, `age_ms` ago (the
    /// shared check's age, as `Age` in seconds).
    pub fn deep_health(age_ms: u64) -> Reply {
        Reply::json(
            200,
            r#"{"status":"ok","postgrest":"ok","cloudflare":"ok","dns":"ok"}"#.into(),
        )
        .header("age", (age_ms / 1000).to_string())
    }

    /// A failed deep check: its error, and how old the check is (`Age`, seconds).
    pub fn deep_health_failed(error: &Error, age_ms: u64) -> Reply {
        Reply::error(error).header("age", (age_ms / 1000).to_string())
    }

    /// A webhook taken in; `known` says whether it named one of our hostnames.
    pub fn received(known: bool) -> Reply {
        Reply::json(
            200,
            serde_json::json!({ "received": true, "known": known }).to_string(),
        )
    }

    /// An error of the contract, with `Allow`, `Retry-After` or `WWW-Authenticate` where they
    /// apply.
    pub fn error(error: &Error) -> Reply {
        let described = error.describe();
        let body = match error {
            // The errors whose body says more than code and message: each wrong field.
            Error::InvalidBrand { fields } | Error::InvalidMaintenance { fields } => serde_json::json!({
                "error": {
                    "code": described.code,
                    "message": described.message,
                    "fields": fields
                        .iter()
                        .map(|(pointer, reason)| serde_json::json!({ "pointer": pointer, "reason": reason }))
                        .collect::<Vec<_>>(),
                }
            })
            .to_string(),
            _ => described.body(),
        };
        let reply = Reply::json(described.status, body);
        match error {
            Error::MethodNotAllowed { allow } => reply.header("allow", *allow),
            Error::UpstreamUnavailable(_) | Error::NotReady => {
                reply.header("retry-after", Error::RETRY_AFTER_SECONDS.to_string())
            }
            Error::RateLimited { retry_after_s, .. } => {
                reply.header("retry-after", retry_after_s.to_string())
            }
            Error::Unauthorized { expected } if *expected == Error::USER_TOKEN => {
                reply.header("www-authenticate", "Bearer")
            }
            _ => reply,
        }
    }

    /// A CORS preflight of a route taking `allow`.
    pub fn preflight(allow: &'static str) -> Reply {
        Reply {
            status: 204,
            headers: vec![("allow", format!("{allow}, OPTIONS"))],
            body: String::new(),
        }
    }

    /// Lets the page at `origin` (a dashboard origin the request came from) read this answer
    /// and, for a preflight, send its methods with `Authorization` and `Content-Type`. Without
    /// an allowed origin the answer carries no CORS header: the browser keeps it from the page.
    pub fn with_cors(self, origin: Option<&str>) -> Reply {
        let reply = self.header("vary", "Origin");
        let Some(origin) = origin else {
            return reply;
        };
        let methods = reply
            .headers
            .iter()
            .find(|(n, _)| *n == "allow")
            .map(|(_, v)| v.clone());
        let reply = reply
            .header("access-control-allow-origin", origin)
            .header("access-control-expose-headers", "retry-after, etag");
        match methods {
            Some(methods) if reply.status == 204 => reply
                .header("access-control-allow-methods", methods)
                .header(
                    "access-control-allow-headers",
                    "authorization, content-type, if-match",
                )
                .header("access-control-max-age", "600"),
            _ => reply,
        }
    }

    /// The value of header `name`, if set.
    #[cfg(test)]
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tests::row;
    use tenant_common::Host;

    #[test]
    fn answers_are_json_and_never_cached() {
        let target = Host::parse_domain("customers.example.com").unwrap();
        let r = Reply::domains(&[
            row("a.example.test").to_domain(&target, "_p-challenge.a.example.test".into())
        ]);
        assert_eq!(r.status, 200);
        assert_eq!(r.header_value("cache-control"), Some("no-store"));
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["domains"][0]["hostname"], "a.example.test");
    }

    #[test]
    fn errors_carry_their_headers() {
        let r = Reply::error(&Error::MethodNotAllowed { allow: "GET, POST" });
        assert_eq!(
            (r.status, r.header_value("allow")),
            (405, Some("GET, POST"))
        );
        let r = Reply::error(&Error::user_unauthorized());
        assert_eq!(r.header_value("www-authenticate"), Some("Bearer"));
        let r = Reply::error(&Error::Unauthorized {
            expected: Error::WEBHOOK_SECRET,
        });
        assert_eq!(r.header_value("www-authenticate"), None);
    }

    #[test]
    fn a_deep_check_says_what_it_checked_and_how_old_it_is() {
        let r = Reply::deep_health(1500);
        assert_eq!(r.status, 200);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&r.body).unwrap(),
            serde_json::json!({"status": "ok", "postgrest": "ok", "cloudflare": "ok", "dns": "ok"})
        );
        assert_eq!(r.header_value("age"), Some("1"));
        let r = Reply::deep_health_failed(
            &Error::Misconfigured {
                setting: "CLOUDFLARE_API_BASE",
                problem: "does not lead to Cloudflare's API",
            },
            0,
        );
        assert_eq!(r.status, 500);
        assert!(r.body.contains(r#""code":"misconfigured""#));
        assert!(r.body.contains("CLOUDFLARE_API_BASE"));
        assert_eq!(r.header_value("age"), Some("0"));
    }

    #[test]
    fn plain_health_says_what_the_last_calls_found() {
        let mut last = LastUpstream::default();
        let r = Reply::health(&last);
        assert_eq!(
            (r.status, r.header_value("cache-control")),
            (200, Some("no-store"))
        );
        assert_eq!(
            r.body,
            r#"{"status":"ok","lastUpstream":{"postgrest":null,"cloudflare":null}}"#
        );
        last.cloudflare_found(
            tenant_common::Condition::Misconfigured("CLOUDFLARE_API_TOKEN"),
            0,
        );
        let v: serde_json::Value = serde_json::from_str(&Reply::health(&last).body).unwrap();
        assert_eq!(
            v["lastUpstream"]["cloudflare"],
            serde_json::json!({"state": "misconfigured", "setting": "CLOUDFLARE_API_TOKEN", "since": "1970-01-01T00:00:00.000Z"})
        );
    }

    #[test]
    fn only_a_dashboard_origin_gets_cors_headers() {
        let r = Reply::health(&LastUpstream::default()).with_cors(None);
        assert_eq!(r.header_value("access-control-allow-origin"), None);
        assert_eq!(r.header_value("vary"), Some("Origin"));
        let r = Reply::preflight("GET, POST").with_cors(Some("https://app.example.com"));
        assert_eq!(r.status, 204);
        assert_eq!(
            r.header_value("access-control-allow-origin"),
            Some("https://app.example.com")
        );
        assert_eq!(
            r.header_value("access-control-allow-methods"),
            Some("GET, POST, OPTIONS")
        );
        assert_eq!(
            r.header_value("access-control-allow-headers"),
            Some("authorization, content-type, if-match")
        );
        assert_eq!(
            r.header_value("access-control-expose-headers"),
            Some("retry-after, etag")
        );
    }

    #[test]
    fn an_invalid_brand_names_each_field() {
        let e = Error::InvalidBrand {
            fields: vec![
                ("/colors/primary".into(), "expected #rgb or #rrggbb".into()),
                ("/displayName".into(), "expected 1 to 120 characters".into()),
            ],
        };
        let r = Reply::error(&e);
        assert_eq!(r.status, 422);
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["error"]["code"], "invalid_brand");
        assert_eq!(body["error"]["fields"][0]["pointer"], "/colors/primary");
        assert_eq!(
            body["error"]["fields"][1]["reason"],
            "expected 1 to 120 characters"
        );
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/colors/primary"));
    }

    #[test]
    fn an_invalid_maintenance_switch_names_each_field() {
        let e = Error::InvalidMaintenance {
            fields: vec![
                ("/on".into(), "expected true or false".into()),
                ("/retryAfterSeconds".into(), "expected 1 to 604800".into()),
            ],
        };
        let r = Reply::error(&e);
        assert_eq!(r.status, 422);
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["error"]["code"], "invalid_maintenance");
        let pointers: Vec<&str> = body["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["pointer"].as_str().unwrap())
            .collect();
        assert_eq!(pointers, ["/on", "/retryAfterSeconds"]);
    }

    #[test]
    fn a_preview_is_its_link_and_when_it_ends() {
        let r = Reply::preview(
            "https://a.test/?tenant_preview=t",
            "2026-12-08T04:40:00.000Z",
        );
        assert_eq!(r.status, 200);
        assert_eq!(
            r.body,
            r#"{"expiresAt":"2026-12-08T04:40:00.000Z","url":"https://a.test/?tenant_preview=t"}"#
        );
        assert_eq!(r.header_value("cache-control"), Some("no-store"));
    }
}
