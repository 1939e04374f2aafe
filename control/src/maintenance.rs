//! A coach's maintenance switch (docs/control-plane.md, "Maintenance"): `GET /maintenance` and
//! `PUT /maintenance`, each `?tenant_id=<uuid>` with the coach's token.
//!
//! While the switch is on, the resolver answers the tenant's pages with its message and
//! `Retry-After` instead of the app's. A switch is checked here, every wrong field named, before
//! the database is touched; the owner functions (`public.tenant_maintenance`,
//! `set_tenant_maintenance`) decide ownership and spend the tenant's brand budget, and check the
//! shape again (`private.maintenance_problem`).

use serde_json::{Map, Value};
use tenant_common::TenantId;

use crate::error::Error;

/// Largest body of `PUT /maintenance`: a message of 500 characters, each escaped, is under 4 KiB.
pub const MAX_BODY_BYTES: usize = 8 * 1024;
/// The message of a switch turned on without one.
pub const DEFAULT_MESSAGE: &str = "This site is being updated. Please come back soon.";
/// The `Retry-After` of a switch turned on without one: an hour.
pub const DEFAULT_RETRY_AFTER_S: u32 = 3600;
/// The longest message, in characters (the database's CHECK).
const MAX_MESSAGE_CHARS: usize = 500;
/// The longest `Retry-After`: a week (the database's CHECK).
const MAX_RETRY_AFTER_S: u64 = 604_800;
const EXPECTED: &str =
    r#"a JSON object {"on": true, "message": "…", "retryAfterSeconds": n} or {"on": false}"#;

/// What a maintenance route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `GET /maintenance`: the switch as it is.
    Read,
    /// `PUT /maintenance`: turns it on or off.
    Set,
}

impl Action {
    /// The owner function that does it.
    pub fn function(self) -> &'static str {
        match self {
            Action::Read => "tenant_maintenance",
            Action::Set => "set_tenant_maintenance",
        }
    }

    /// Its name in the `api` event.
    pub fn event_name(self) -> &'static str {
        match self {
            Action::Read => "read_maintenance",
            Action::Set => "set_maintenance",
        }
    }
}

/// The arguments of `public.tenant_maintenance`.
pub fn read_args(tenant: &TenantId) -> String {
    serde_json::json!({ "tenant_id": tenant.as_str() }).to_string()
}

/// The arguments of `public.set_tenant_maintenance` for the body of `PUT /maintenance`: with
/// `"on": true` the switch, `message` and `retryAfterSeconds` defaulted when absent (or null);
/// with `"on": false` null (they may still be sent, checked, and are kept by nobody). A body
/// that is not a JSON object is [`Error::InvalidBody`]; an object with any wrong field is
/// [`Error::InvalidMaintenance`], naming each: `on` not a boolean, a message that is not 1 to
/// 500 characters without control characters, a delay that is not a whole number of seconds
/// from 1 to 604800, a key of another name.
pub fn set_args(tenant: &TenantId, body: &[u8]) -> Result<String, Error> {
    let object: Map<String, Value> =
        serde_json::from_slice(body).map_err(|_| Error::InvalidBody { expected: EXPECTED })?;
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut wrong = |pointer: String, reason: &str| fields.push((pointer, reason.to_string()));
    let on = match object.get("on") {
        Some(Value::Bool(on)) => Some(*on),
        _ => {
            wrong("/on".into(), "expected true or false");
            None
        }
    };
    let message = match object.get("message") {
        None | Some(Value::Null) => Some(DEFAULT_MESSAGE.to_string()),
        Some(Value::String(m))
            if (1..=MAX_MESSAGE_CHARS).contains(&m.chars().count())
                && !m.chars().any(char::is_control) =>
        {
            Some(m.clone())
        }
        Some(_) => {
            wrong(
                "/message".into(),
                "expected a text of 1 to 500 characters without control characters (no line breaks)",
            );
            None
        }
    };
    let retry_after_s = match object.get("retryAfterSeconds") {
        None | Some(Value::Null) => Some(u64::from(DEFAULT_RETRY_AFTER_S)),
        Some(Value::Number(n))
            if n.as_u64()
                .is_some_and(|s| (1..=MAX_RETRY_AFTER_S).contains(&s)) =>
        {
            n.as_u64()
        }
        Some(_) => {
            wrong(
                "/retryAfterSeconds".into(),
                "expected a whole number of seconds from 1 to 604800 (a week)",
            );
            None
        }
    };
    for key in object.keys() {
        if !matches!(key.as_str(), "on" | "message" | "retryAfterSeconds") {
            wrong(
                format!("/{}", pointer_token(key)),
                "unknown key: expected on, message and retryAfterSeconds only",
            );
        }
    }
    if !fields.is_empty() {
        return Err(Error::InvalidMaintenance { fields });
    }
    let maintenance = match (on, message, retry_after_s) {
        (Some(true), Some(message), Some(retry_after_s)) => {
            serde_json::json!({ "message": message, "retryAfterSeconds": retry_after_s })
        }
        _ => Value::Null,
    };
    Ok(serde_json::json!({ "tenant_id": tenant.as_str(), "maintenance": maintenance }).to_string())
}

/// `key` as a JSON Pointer reference token (RFC 6901): `~` and `/` escaped.
fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "7e000000-0000-4000-8000-000000000002";

    fn tenant() -> TenantId {
        TenantId::parse(TENANT).unwrap()
    }

    fn args(body: &str) -> Result<Value, Error> {
        set_args(&tenant(), body.as_bytes()).map(|a| serde_json::from_str(&a).unwrap())
    }

    fn pointers(body: &str) -> Vec<String> {
        match args(body) {
            Err(Error::InvalidMaintenance { fields }) => {
                assert!(fields.iter().all(|(_, r)| !r.is_empty()));
                fields.into_iter().map(|(p, _)| p).collect()
            }
            other => panic!("expected invalid_maintenance for {body}, got {other:?}"),
        }
    }

    #[test]
    fn on_takes_a_message_and_a_delay_or_their_defaults() {
        assert_eq!(
            args(r#"{"on":true,"message":"Back at noon","retryAfterSeconds":900}"#).unwrap(),
            serde_json::json!({"tenant_id": TENANT, "maintenance": {"message": "Back at noon", "retryAfterSeconds": 900}})
        );
        assert_eq!(
            args(r#"{"on":true}"#).unwrap()["maintenance"],
            serde_json::json!({"message": DEFAULT_MESSAGE, "retryAfterSeconds": 3600})
        );
        assert_eq!(
            args(r#"{"on":true,"message":null,"retryAfterSeconds":null}"#).unwrap()["maintenance"],
            serde_json::json!({"message": DEFAULT_MESSAGE, "retryAfterSeconds": 3600})
        );
        let longest = "é".repeat(500);
        let body =
            serde_json::json!({"on": true, "message": longest, "retryAfterSeconds": 604_800});
        assert_eq!(
            args(&body.to_string()).unwrap()["maintenance"]["message"],
            longest
        );
    }

    #[test]
    fn off_is_null_whatever_else_is_sent() {
        assert_eq!(
            args(r#"{"on":false}"#).unwrap(),
            serde_json::json!({"tenant_id": TENANT, "maintenance": null})
        );
        assert_eq!(
            args(r#"{"on":false,"message":"kept by nobody","retryAfterSeconds":60}"#).unwrap()
                ["maintenance"],
            Value::Null
        );
    }

    #[test]
    fn every_wrong_field_is_named_before_the_database_is_asked() {
        assert_eq!(
            pointers(r#"{"on":"yes","message":"","retryAfterSeconds":0,"slug":"x"}"#),
            ["/on", "/message", "/retryAfterSeconds", "/slug"]
        );
        assert_eq!(pointers(r#"{}"#), ["/on"]);
        assert_eq!(pointers(r#"{"on":null}"#), ["/on"]);
        for message in [
            serde_json::json!(""),
            serde_json::json!("m".repeat(501)),
            serde_json::json!("Back\nsoon"),
            serde_json::json!("tab\there"),
            serde_json::json!("c1\u{85}control"),
            serde_json::json!(7),
        ] {
            let body = serde_json::json!({"on": true, "message": message});
            assert_eq!(pointers(&body.to_string()), ["/message"], "{message}");
        }
        for delay in [
            "0", "604801", "1.5", "3600.0", "-1", "1e300", "\"60\"", "true",
        ] {
            let body = format!(r#"{{"on":true,"retryAfterSeconds":{delay}}}"#);
            assert_eq!(pointers(&body), ["/retryAfterSeconds"], "{delay}");
        }
        assert_eq!(pointers(r#"{"on":false,"a/b~c":1}"#), ["/a~1b~0c"]);
        let e = Error::InvalidMaintenance {
            fields: vec![("/on".into(), "expected true or false".into())],
        };
        assert_eq!((e.status(), e.code()), (422, "invalid_maintenance"));
    }

    #[test]
    fn a_body_that_is_not_an_object_is_400() {
        for body in ["", "nope", "[]", "true", "null", r#""on""#] {
            assert_eq!(args(body).unwrap_err().code(), "invalid_body", "{body}");
        }
    }

    #[test]
    fn reading_names_the_tenant_only() {
        assert_eq!(
            read_args(&tenant()),
            format!(r#"{{"tenant_id":"{TENANT}"}}"#)
        );
        assert_eq!(Action::Read.function(), "tenant_maintenance");
        assert_eq!(Action::Set.function(), "set_tenant_maintenance");
    }
}
