//! One request as an event: what the Worker logs of every request, once, when it has answered
//! (`edge/event.rs` writes it with `console.log`, one line of JSON). It is the start of a wide
//! event, so its field names are snake_case and stable, and a field with nothing to say is
//! `null` rather than absent: a log search can rely on every key.
//!
//! It holds what the request asked (method, host, path) and what the Worker made of it (route,
//! tenant, cache, status, error code, time), never a key, token, cookie, query string or body:
//! the path comes without its query, and the host and path are clipped, so a client cannot
//! make one line as long as it likes.

use crate::cache::CacheStatus;
use crate::route::Route;

/// The longest host an event holds, in bytes: a hostname's 253 and a port.
const HOST_LIMIT: usize = 260;
/// The longest path an event holds, in bytes.
const PATH_LIMIT: usize = 1024;

/// How a request went, by its status: `error` for a 5xx, `warn` for a 4xx, `info` otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    /// The level of an answer with `status`.
    pub fn of(status: u16) -> Level {
        match status {
            500.. => Level::Error,
            400..=499 => Level::Warn,
            _ => Level::Info,
        }
    }

    /// As the event writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// The name of a route in the event; `None` for a CORS preflight, which answers for whichever
/// `/_tenant/` route it names without looking it up.
pub fn route_name(route: &Route) -> Option<&'static str> {
    Some(match route {
        Route::Health { .. } => "health",
        Route::Brand(_) => "brand",
        Route::Schema(_) => "schema",
        Route::Tenant(_) => "tenant",
        Route::Me => "me",
        Route::Purge => "purge",
        Route::Challenge => "challenge",
        Route::Forward => "forward",
        Route::Preflight { .. } => return None,
    })
}

/// One request, as logged: `{"event":"request","level":…,"request_id":…,"method":…,"host":…,
/// "path":…,"route":…,"tenant_id":…,"tenant_slug":…,"cache":…,"status":…,"error_code":…,
/// "duration_ms":…}`. The level is the status's ([`Level::of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestEvent<'a> {
    /// The `cf-ray` header when Cloudflare sent one, else an id of the Worker's own.
    pub request_id: &'a str,
    pub method: &'a str,
    /// The Host header (else the URL's host), clipped; `None` when there is neither.
    pub host: Option<&'a str>,
    /// The URL's path without its query, clipped; `None` when the URL could not be read.
    pub path: Option<&'a str>,
    /// [`route_name`]; `None` when no route matched (a malformed or reserved path).
    pub route: Option<&'static str>,
    pub tenant_id: Option<&'a str>,
    pub tenant_slug: Option<&'a str>,
    /// How the answer used the cache, as `X-Tenant-Cache` says.
    pub cache: CacheStatus,
    pub status: u16,
    /// The error contract's `code`, when the Worker answered with an error of its own.
    pub error_code: Option<&'a str>,
    pub duration_ms: u64,
}

impl RequestEvent<'_> {
    /// The event as one line of JSON, its fields in the order above: written field by field
    /// (less Wasm than a derived or `json!` serialization), each value by serde_json.
    pub fn to_json(&self) -> String {
        let string = |value: Option<&str>| serde_json::to_string(&value).unwrap_or_default();
        let mut json = String::with_capacity(384);
        let mut field = |name: &str, value: &str| {
            json.push(if json.is_empty() { '{' } else { ',' });
            json.push('"');
            json.push_str(name);
            json.push_str("\":");
            json.push_str(value);
        };
        field("event", r#""request""#);
        field("level", &string(Some(Level::of(self.status).as_str())));
        field("request_id", &string(Some(self.request_id)));
        field("method", &string(Some(self.method)));
        field("host", &string(self.host.map(|h| clip(h, HOST_LIMIT))));
        field("path", &string(self.path.map(|p| clip(p, PATH_LIMIT))));
        field("route", &string(self.route));
        field("tenant_id", &string(self.tenant_id));
        field("tenant_slug", &string(self.tenant_slug));
        field("cache", &string(Some(self.cache.as_str())));
        field("status", &self.status.to_string());
        field("error_code", &string(self.error_code));
        field("duration_ms", &self.duration_ms.to_string());
        json.push('}');
        json
    }
}

/// The error contract's `code` in the body of one of the Worker's own answers
/// (`{"error":{"code":…`, as [`Error::body`](crate::error::Error::body) writes it), whichever
/// path produced it; `None` for any other body.
pub fn error_code(body: &str) -> Option<&str> {
    let rest = body.strip_prefix(r#"{"error":{"code":""#)?;
    let code = &rest[..rest.find('"')?];
    code.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        .then_some(code)
}

/// The longest prefix of `s` of at most `limit` bytes that ends on a character boundary.
fn clip(s: &str, limit: usize) -> &str {
    let mut end = s.len().min(limit);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::route::route;

    fn served() -> RequestEvent<'static> {
        RequestEvent {
            request_id: "8f1d2c3b4a596877",
            method: "GET",
            host: Some("coach.northstar.localhost:8787"),
            path: Some("/"),
            route: Some("forward"),
            tenant_id: Some("7e000000-0000-4000-8000-000000000002"),
            tenant_slug: Some("northstar"),
            cache: CacheStatus::Hit,
            status: 200,
            error_code: None,
            duration_ms: 3,
        }
    }

    fn json(event: &RequestEvent) -> serde_json::Value {
        serde_json::from_str(&event.to_json()).unwrap()
    }

    #[test]
    fn an_event_is_one_line_with_every_field_in_order() {
        assert_eq!(
            served().to_json(),
            r#"{"event":"request","level":"info","request_id":"8f1d2c3b4a596877","method":"GET","host":"coach.northstar.localhost:8787","path":"/","route":"forward","tenant_id":"7e000000-0000-4000-8000-000000000002","tenant_slug":"northstar","cache":"hit","status":200,"error_code":null,"duration_ms":3}"#
        );
    }

    #[test]
    fn what_is_unknown_is_null_not_absent() {
        let event = RequestEvent {
            host: None,
            path: None,
            route: None,
            tenant_id: None,
            tenant_slug: None,
            cache: CacheStatus::Bypass,
            status: 404,
            error_code: Some("route_not_found"),
            ..served()
        };
        let v = json(&event);
        for key in ["host", "path", "route", "tenant_id", "tenant_slug"] {
            assert_eq!(v[key], serde_json::Value::Null, "{key}");
        }
        assert_eq!(v.as_object().unwrap().len(), 13);
        assert_eq!(v["error_code"], "route_not_found");
        assert_eq!(v["cache"], "bypass");
    }

    #[test]
    fn the_level_is_error_for_5xx_warn_for_4xx_info_otherwise() {
        for (status, level) in [
            (200, "info"),
            (304, "info"),
            (308, "info"),
            (400, "warn"),
            (404, "warn"),
            (429, "warn"),
            (500, "error"),
            (503, "error"),
        ] {
            assert_eq!(json(&RequestEvent { status, ..served() })["level"], level);
        }
    }

    #[test]
    fn every_route_has_its_name_and_a_preflight_none() {
        for (method, path, name) in [
            ("GET", "/_tenant/health", Some("health")),
            ("GET", "/_tenant/brand.json", Some("brand")),
            ("GET", "/_tenant/brand.css", Some("brand")),
            (
                "GET",
                "/_tenant/schema/brand-config.schema.json",
                Some("schema"),
            ),
            ("GET", "/_tenant/slug/northstar", Some("tenant")),
            ("GET", "/_tenant/me", Some("me")),
            ("POST", "/_tenant/purge", Some("purge")),
            (
                "GET",
                "/.well-known/cf-custom-hostname-challenge/x",
                Some("challenge"),
            ),
            ("GET", "/pricing", Some("forward")),
            ("OPTIONS", "/_tenant/slug/northstar", None),
        ] {
            let route = route(method, path, "").unwrap();
            assert_eq!(route_name(&route), name, "{method} {path}");
        }
    }

    #[test]
    fn the_error_code_is_read_from_the_error_contract_and_nothing_else() {
        for error in [
            Error::TenantNotFound,
            Error::RouteNotFound,
            Error::NoOrigin,
            Error::MethodNotAllowed { allow: "GET" },
            Error::OriginTimeout { after_ms: 500 },
        ] {
            assert_eq!(error_code(&error.body()), Some(error.code()), "{error:?}");
        }
        for body in [
            "",
            r#"{"status":"ok"}"#,
            r#"{"slug":"northstar","error":{"code":"x"}}"#,
            r#"{"error":{"code":"a\"b"}}"#,
        ] {
            assert_eq!(error_code(body), None, "{body}");
        }
    }

    #[test]
    fn a_long_host_or_path_is_clipped_on_a_character_boundary() {
        let host = "é".repeat(200);
        let path = format!("/{}", "ü".repeat(1000));
        let v = json(&RequestEvent {
            host: Some(&host),
            path: Some(&path),
            ..served()
        });
        let (host, path) = (v["host"].as_str().unwrap(), v["path"].as_str().unwrap());
        assert!(host.len() <= HOST_LIMIT && host.len() >= HOST_LIMIT - 1);
        assert!(path.len() <= PATH_LIMIT && path.len() >= PATH_LIMIT - 1);
        assert!(path.starts_with("/ü"));
    }

    #[test]
    fn a_host_with_quotes_or_line_breaks_stays_one_line() {
        let host = "evil\"\n{\"event\":\"request\"}";
        let line = RequestEvent {
            host: Some(host),
            ..served()
        }
        .to_json();
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["host"], host);
    }
}
