//! Answers as plain data: status, headers and body, shaped without the Workers runtime.
//!
//! The `edge` glue turns a [`Reply`] into a `worker::Response` in one place, so every header
//! rule (JSON content type, `Retry-After`, `Allow`, caching) is decided and tested here.

use crate::error::Error;

/// An HTTP answer the Worker will send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Reply {
    /// A JSON answer with the given status.
    pub fn json(status: u16, body: String) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", "application/json; charset=utf-8".into())],
            body,
        }
    }

    /// The error contract: `{"error":{"code","message"}}`, never cached, with `Retry-After` on
    /// 503 and `Allow` on 405.
    pub fn error(error: &Error) -> Reply {
        let mut reply =
            Reply::json(error.status(), error.body()).header("cache-control", "no-store");
        match error {
            Error::UpstreamUnavailable(_) => {
                reply = reply.header("retry-after", Error::RETRY_AFTER_SECONDS.to_string());
            }
            Error::MethodNotAllowed { allow } => reply = reply.header("allow", *allow),
            _ => {}
        }
        reply
    }

    /// `GET /_tenant/health`.
    pub fn health() -> Reply {
        Reply::json(200, r#"{"status":"ok"}"#.into()).header("cache-control", "no-store")
    }

    /// Adds (or replaces) a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.into()));
        self
    }

    /// The value of a header, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::UpstreamError;

    #[test]
    fn upstream_errors_say_when_to_retry() {
        let r = Reply::error(&UpstreamError::Timeout { after_ms: 3000 }.into());
        assert_eq!(r.status, 503);
        assert_eq!(r.get("retry-after"), Some("5"));
        assert_eq!(r.get("cache-control"), Some("no-store"));
    }

    #[test]
    fn method_errors_list_the_allowed_methods() {
        let r = Reply::error(&Error::MethodNotAllowed {
            allow: "GET, HEAD, OPTIONS",
        });
        assert_eq!(
            (r.status, r.get("allow")),
            (405, Some("GET, HEAD, OPTIONS"))
        );
    }

    #[test]
    fn health_is_json_ok() {
        let r = Reply::health();
        assert_eq!((r.status, r.body.as_str()), (200, r#"{"status":"ok"}"#));
        assert!(r
            .get("content-type")
            .unwrap()
            .starts_with("application/json"));
    }

    #[test]
    fn header_replaces_an_existing_value() {
        let r = Reply::health().header("cache-control", "public");
        assert_eq!(
            r.headers
                .iter()
                .filter(|(n, _)| *n == "cache-control")
                .count(),
            1
        );
    }
}
