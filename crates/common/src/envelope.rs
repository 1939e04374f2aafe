//! The HTTP error contract both Workers answer with: each error's [`Description`] (status, code
//! and message, declared together in the Worker's `Error::describe`) and the one JSON
//! [`envelope`] it goes out in, `{"error":{"code":"…","message":"…"}}`. The wording of the
//! failures both Workers share (a body too large, a credential missing, a method or route
//! refused) is written here once, so that the two cannot drift.

/// What a client sees of an error: its HTTP status, the stable code it switches on, and a
/// message for people (never an upstream's details).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl Description {
    /// An error answered with `status`, `code` and `message`.
    #[inline]
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Description {
        Description {
            status,
            code,
            message: message.into(),
        }
    }

    /// `413 payload_too_large`: a body longer than the route reads ([`crate::TooLarge`]).
    #[inline]
    pub fn too_large(limit: usize) -> Description {
        let message = format!("request body too large: at most {limit} bytes");
        Description::new(413, "payload_too_large", message)
    }

    /// `401 unauthorized`: the route takes `expected` (a credential, in words).
    #[inline]
    pub fn unauthorized(expected: &str) -> Description {
        Description::new(401, "unauthorized", format!("{expected} is required"))
    }

    /// `405 method_not_allowed`: the route takes only the methods in `allow`.
    #[inline]
    pub fn method_not_allowed(allow: &str) -> Description {
        let message = format!("method not allowed: use {allow}");
        Description::new(405, "method_not_allowed", message)
    }

    /// `404 not_enabled`: the route is off because `setting` is not set.
    #[inline]
    pub fn not_enabled(setting: &str) -> Description {
        let message = format!("this route is off: {setting} is not set");
        Description::new(404, "not_enabled", message)
    }

    /// `500 misconfigured`: `worker` (the Worker, in words) cannot answer until `setting` is
    /// fixed; `problem` says what is wrong with it, never its value ([`crate::Misconfigured`]).
    #[inline]
    pub fn misconfigured(worker: &str, setting: &str, problem: &str) -> Description {
        let message = format!("the {worker} is misconfigured: {setting} {problem}");
        Description::new(500, "misconfigured", message)
    }

    /// The JSON body of this error ([`envelope`]).
    #[inline]
    pub fn body(&self) -> String {
        envelope(self.code, &self.message)
    }
}

/// The JSON error body of both Workers: `{"error":{"code":"…","message":"…"}}`, compact, both
/// strings escaped as JSON. Written by hand rather than through `serde_json::Value`: the same
/// bytes, without building a map for two fields.
#[inline]
pub fn envelope(code: &str, message: &str) -> String {
    // Serializing a `str` cannot fail: the writer is a `Vec` and a string has no map keys.
    let quoted = |text: &str| serde_json::to_string(text).unwrap_or_default();
    format!(
        r#"{{"error":{{"code":{},"message":{}}}}}"#,
        quoted(code),
        quoted(message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_is_these_bytes() {
        assert_eq!(
            envelope("not_found", "no such route"),
            r#"{"error":{"code":"not_found","message":"no such route"}}"#
        );
    }

    #[test]
    fn the_envelope_escapes_as_serde_json_does() {
        for message in [
            "invalid host \"a\\\"b<\": expected a hostname",
            "line\nbreak\ttab\u{1}\u{7f}",
            "café … ☃ </script>",
            "",
        ] {
            let by_value = serde_json::json!({ "error": { "code": "x_y", "message": message } });
            assert_eq!(
                envelope("x_y", message),
                by_value.to_string(),
                "{message:?}"
            );
        }
    }

    #[test]
    fn shared_failures_have_one_status_code_and_wording() {
        let described = |d: Description| (d.status, d.code, d.message);
        assert_eq!(
            described(Description::too_large(4096)),
            (
                413,
                "payload_too_large",
                "request body too large: at most 4096 bytes".into()
            )
        );
        assert_eq!(
            described(Description::unauthorized("a token")),
            (401, "unauthorized", "a token is required".into())
        );
        assert_eq!(
            described(Description::method_not_allowed("GET, POST")),
            (
                405,
                "method_not_allowed",
                "method not allowed: use GET, POST".into()
            )
        );
        assert_eq!(
            described(Description::not_enabled("PURGE_TOKEN")),
            (
                404,
                "not_enabled",
                "this route is off: PURGE_TOKEN is not set".into()
            )
        );
        assert_eq!(
            described(Description::misconfigured(
                "worker",
                "ORIGIN_URL",
                "is not set"
            )),
            (
                500,
                "misconfigured",
                "the worker is misconfigured: ORIGIN_URL is not set".into()
            )
        );
    }
}
