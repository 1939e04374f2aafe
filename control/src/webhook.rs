//! `POST /webhooks/cloudflare`: Cloudflare's "SSL for SaaS Custom Hostnames" notifications.
//!
//! Cloudflare authenticates a webhook by sending the destination's secret in `cf-webhook-auth`
//! ([docs](https://developers.cloudflare.com/notifications/get-started/configure-webhooks/)),
//! compared here in constant time. The body is read to at most [`MAX_BODY_BYTES`]. Only
//! `data.id` (the custom hostname), `data.ssl.status` and `metadata.event.created_at` (when
//! Cloudflare made the event) are used: the certificate status is written as given, unless the
//! row changed since the event (`lifecycle::certificate`: a replayed or reordered notice
//! changes nothing), and the hostname's own status only ever changes after the cron or the
//! webhook has read it back from Cloudflare's API, so a notice cannot activate a domain.
//! Bodies are read through `tenant_common::BodyLimit`.

use serde::Deserialize;

use crate::cloudflare::is_id;
use crate::error::Error;

/// Largest webhook body read; Cloudflare's notices are around 1 KB.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// The `kind` of Cloudflare calls webhooks spend (`public.spend_cloudflare_calls`): one
/// budget of `CLOUDFLARE_CALLS_PER_RUN` a minute, shared by every isolate.
pub const BUDGET_KIND: &str = "webhook";
const BODY_EXPECTED: &str =
    "a Cloudflare notification: a JSON object, its data.id a custom hostname id";

/// Checks `cf-webhook-auth` against the secret, in constant time.
pub fn authorize(header: Option<&str>, secret: &str) -> Result<(), Error> {
    let given = header.unwrap_or_default().as_bytes();
    let secret = secret.as_bytes();
    let differing = given
        .iter()
        .zip(secret)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if given.len() == secret.len() && differing == 0 {
        Ok(())
    } else {
        Err(Error::Unauthorized {
            expected: Error::WEBHOOK_SECRET,
        })
    }
}

/// What a notification says, as far as the control plane acts on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A custom hostname's certificate has this status now. `event_ms`: when Cloudflare made
    /// the event (`metadata.event.created_at`, ms since the epoch), `None` when the notice has
    /// no readable time.
    Certificate {
        id: String,
        ssl_status: String,
        event_ms: Option<u64>,
    },
    /// Nothing to act on: Cloudflare's test message when a destination is saved, an event
    /// without a certificate status, or an id no row can hold. Answered 200 all the same.
    Other,
}

#[derive(Deserialize)]
struct Payload {
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Data {
    id: String,
    #[serde(default)]
    ssl: Option<SslData>,
}

#[derive(Deserialize)]
struct SslData {
    #[serde(default)]
    status: Option<String>,
}

/// Parses a notification body.
pub fn parse(body: &[u8]) -> Result<Notice, Error> {
    let invalid = || Error::InvalidBody {
        expected: BODY_EXPECTED,
    };
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| invalid())?;
    if !value.is_object() {
        return Err(invalid());
    }
    let payload: Payload = serde_json::from_value(value).map_err(|_| invalid())?;
    let Some(data) = payload.data else {
        return Ok(Notice::Other);
    };
    match data.ssl.and_then(|s| s.status) {
        Some(s) if !is_status(&s) => Err(invalid()),
        Some(s) if is_id(&data.id) => Ok(Notice::Certificate {
            id: data.id,
            ssl_status: s,
            event_ms: payload
                .metadata
                .as_ref()
                .and_then(|m| m.pointer("/event/created_at")?.as_str())
                .and_then(tenant_common::parse_ms),
        }),
        _ => Ok(Notice::Other),
    }
}

/// A certificate status as Cloudflare spells them: lowercase words joined by `_`.
fn is_status(s: &str) -> bool {
    (1..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(ssl: &str) -> String {
        serde_json::json!({
            "metadata": {"event": {"id": "e1", "type": "ssl.custom_hostname_certificate.deployment.succeeded", "created_at": "2026-12-02T00:03:28Z"},
                         "account": {"id": "acc"}, "zone": {"id": "zone"}},
            "data": {"id": "0d89c70d-ad9f-4843-b99f-6cc0252067e9", "hostname": "coach.example.test",
                     "ssl": {"id": "s1", "type": "dv", "method": "http", "status": ssl}}
        })
        .to_string()
    }

    #[test]
    fn the_secret_must_match_exactly() {
        assert!(authorize(Some("s3cret-value"), "s3cret-value").is_ok());
        for wrong in [
            None,
            Some(""),
            Some("s3cret-valu"),
            Some("s3cret-value!"),
            Some("S3cret-value"),
        ] {
            let e = authorize(wrong, "s3cret-value").unwrap_err();
            assert_eq!((e.status(), e.code()), (401, "unauthorized"), "{wrong:?}");
        }
    }

    #[test]
    fn a_certificate_event_names_the_hostname_and_status() {
        assert_eq!(
            parse(notice("active").as_bytes()).unwrap(),
            Notice::Certificate {
                id: "0d89c70d-ad9f-4843-b99f-6cc0252067e9".into(),
                ssl_status: "active".into(),
                event_ms: tenant_common::parse_ms("2026-12-02T00:03:28Z"),
            }
        );
    }

    #[test]
    fn a_notice_without_a_readable_event_time_says_so() {
        let event_ms = |metadata: serde_json::Value| {
            let body = serde_json::json!({
                "metadata": metadata,
                "data": {"id": "abc", "ssl": {"status": "active"}}
            });
            match parse(body.to_string().as_bytes()).unwrap() {
                Notice::Certificate { event_ms, .. } => event_ms,
                Notice::Other => panic!("a certificate notice"),
            }
        };
        assert_eq!(
            event_ms(serde_json::json!({"event": {"created_at": "2026-12-02T00:03:28.5+00:00"}})),
            Some(1_796_169_808_500)
        );
        for metadata in [
            serde_json::json!(null),
            serde_json::json!({}),
            serde_json::json!({"event": {}}),
            serde_json::json!({"event": {"created_at": 1_796_169_808}}),
            serde_json::json!({"event": {"created_at": "yesterday"}}),
            serde_json::json!("2026-12-02T00:03:28Z"),
        ] {
            assert_eq!(event_ms(metadata.clone()), None, "{metadata}");
        }
    }

    #[test]
    fn cloudflares_test_message_is_accepted_and_ignored() {
        let test =
            r#"{"text":"Hello World! This is a test message sent from https://cloudflare.com."}"#;
        assert_eq!(parse(test.as_bytes()).unwrap(), Notice::Other);
        let no_ssl = r#"{"data":{"id":"abc","hostname":"x.test"}}"#;
        assert_eq!(parse(no_ssl.as_bytes()).unwrap(), Notice::Other);
        let not_an_id = r#"{"data":{"id":"../../zones","ssl":{"status":"active"}}}"#;
        assert_eq!(
            parse(not_an_id.as_bytes()).unwrap(),
            Notice::Other,
            "no row holds it"
        );
    }

    #[test]
    fn bad_bodies_are_400() {
        for bad in [
            "",
            "not json",
            "[]",
            r#"{"data":{"hostname":"x.test"}}"#,
            r#"{"data":{"id":"abc","ssl":{"status":"<script>"}}}"#,
            r#"{"data":{"id":"abc","ssl":{"status":42}}}"#,
            r#"{"data":{"id":42}}"#,
        ] {
            let e = parse(bad.as_bytes()).unwrap_err();
            assert_eq!((e.status(), e.code()), (400, "invalid_body"), "{bad}");
        }
    }
}
