//! The Worker's log, as events: one per request, written once when it has answered
//! ([`RequestEvent`]), and one for each other thing worth an operator's attention (a failed
//! refresh, a change feed that cannot be read, …), each one line of JSON written by [`Line`]
//! (`edge/event.rs` hands it to `console.log`). The fields are snake_case and stable, and a
//! field with nothing to say is `null` rather than absent: a log search can rely on every key.
//! `schema/event.schema.json` is the contract; `docs/operations.md` says what each field means.
//!
//! A request's event holds what the request asked (method, host, path) and what the Worker made
//! of it (route, tenant, how it was found, cache, branding, status, error code, PostgREST calls,
//! time), never a key, token, cookie, query string or body: the path comes without its query,
//! and the host and path are clipped, so a client cannot make one line as long as it likes.
//! Other events name a tenant by its key (`slug:acme`) and a failure by its code, never by a
//! message an upstream wrote.

use crate::cache::CacheStatus;
use crate::key::Lookup;
use crate::route::Route;
pub use tenant_common::Level;

/// The Worker's version in every event: the crate's (`Cargo.toml`), set at build time.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The longest host an event holds, in bytes: a hostname's 253 and a port.
const HOST_LIMIT: usize = 260;
/// The longest path an event holds, in bytes.
const PATH_LIMIT: usize = 1024;

/// One event as one line of JSON, written field by field (less Wasm than a derived or `json!`
/// serialization; each string value escaped by serde_json, so a value cannot break the line).
/// Every event starts with `event` and `level`.
pub struct Line(String);

impl Line {
    /// An event of kind `event` at `level`.
    pub fn new(event: &str, level: Level) -> Line {
        let mut line = Line(String::with_capacity(320));
        line.0.push('{');
        line.str("event", Some(event))
            .str("level", Some(level.as_str()))
    }

    /// Adds the field `name` with a string, or `null`.
    pub fn str(self, name: &str, value: Option<&str>) -> Line {
        let value = serde_json::to_string(&value).unwrap_or_default();
        self.raw(name, &value)
    }

    /// Adds the field `name` with a number.
    pub fn num(self, name: &str, value: u64) -> Line {
        self.raw(name, &value.to_string())
    }

    fn raw(mut self, name: &str, value: &str) -> Line {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        self.0.push('"');
        self.0.push_str(name);
        self.0.push_str("\":");
        self.0.push_str(value);
        self
    }

    /// The line.
    pub fn end(mut self) -> String {
        self.0.push('}');
        self.0
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

/// How a request's tenant was found (`resolved_by`): by the `lookup` of a `/_tenant/` path
/// (`slug`, `domain`, `id`), or of the request's host (`subdomain` for `<slug>.<platform
/// domain>`, `domain` for a custom domain). [`RESOLVED_BY_REDIRECT`] is the third way.
pub fn resolved_by(lookup: &Lookup, by_host: bool) -> &'static str {
    match lookup {
        Lookup::Slug(_) if by_host => "subdomain",
        Lookup::Slug(_) => "slug",
        Lookup::Domain(_) => "domain",
        Lookup::Id(_) => "id",
    }
}

/// `resolved_by` of a host no tenant has whose `www.`-less apex one has: the answer redirects
/// there (`site::www_fallback`).
pub const RESOLVED_BY_REDIRECT: &str = "redirect";

/// The branding outcome of a forwarded page, from its `X-Tenant-Branding` header (`injected`,
/// `skipped; reason=…`): `injected`, or `skipped:<reason>`; `None` without the header (no page
/// was branded: not HTML, not a tenant, branding off).
pub fn branding(header: Option<&str>) -> Option<String> {
    let header = header?;
    match header.strip_prefix("skipped; reason=") {
        Some(reason) => Some(format!("skipped:{}", clip(reason, 32))),
        None => (header == "injected").then(|| header.to_owned()),
    }
}

/// What a request's PostgREST calls came to: the calls it sent and awaited itself (a request
/// that waits for another's identical read, single flight, sends none), the ms it waited for
/// them, and whether one failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Upstream {
    pub calls: u32,
    pub ms: u64,
    pub failed: bool,
}

/// One request, as logged: `event` (`"request"`), `level`, `version` ([`VERSION`]), then the
/// fields in the order below. The level is the status's ([`Level::of`]), `error` when a PostgREST call failed.
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
    /// [`resolved_by`] or [`RESOLVED_BY_REDIRECT`]; `None` when no tenant was found.
    pub resolved_by: Option<&'static str>,
    /// How the answer used the cache, as `X-Tenant-Cache` says.
    pub cache: CacheStatus,
    /// [`branding`].
    pub branding: Option<&'a str>,
    pub status: u16,
    /// The error contract's `code`, when the Worker answered with an error of its own.
    pub error_code: Option<&'a str>,
    pub upstream: Upstream,
    pub duration_ms: u64,
    /// The Cloudflare data center (`request.cf.colo`), when the runtime says.
    pub colo: Option<&'a str>,
}

impl RequestEvent<'_> {
    /// The event's level: its status's, or `error` when a PostgREST call failed.
    pub fn level(&self) -> Level {
        match self.upstream.failed {
            true => Level::Error,
            false => Level::of(self.status),
        }
    }

    /// The event as one line of JSON, its fields in the order above.
    pub fn to_json(&self) -> String {
        Line::new("request", self.level())
            .str("version", Some(VERSION))
            .str("request_id", Some(self.request_id))
            .str("method", Some(self.method))
            .str("host", self.host.map(|h| clip(h, HOST_LIMIT)))
            .str("path", self.path.map(|p| clip(p, PATH_LIMIT)))
            .str("route", self.route)
            .str("tenant_id", self.tenant_id)
            .str("tenant_slug", self.tenant_slug)
            .str("resolved_by", self.resolved_by)
            .str("cache", Some(self.cache.as_str()))
            .str("branding", self.branding)
            .num("status", self.status.into())
            .str("error_code", self.error_code)
            .num("upstream_calls", self.upstream.calls.into())
            .num("upstream_ms", self.upstream.ms)
            .num("duration_ms", self.duration_ms)
            .str("colo", self.colo.map(|c| clip(c, 8)))
            .end()
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
            resolved_by: Some("subdomain"),
            cache: CacheStatus::Hit,
            branding: Some("injected"),
            status: 200,
            error_code: None,
            upstream: Upstream::default(),
            duration_ms: 3,
            colo: Some("FRA"),
        }
    }

    fn json(event: &RequestEvent) -> serde_json::Value {
        serde_json::from_str(&event.to_json()).unwrap()
    }

    #[test]
    fn an_event_is_one_line_with_every_field_in_order() {
        assert_eq!(
            served().to_json(),
            format!(
                r#"{{"event":"request","level":"info","version":"{VERSION}","request_id":"8f1d2c3b4a596877","method":"GET","host":"coach.northstar.localhost:8787","path":"/","route":"forward","tenant_id":"7e000000-0000-4000-8000-000000000002","tenant_slug":"northstar","resolved_by":"subdomain","cache":"hit","branding":"injected","status":200,"error_code":null,"upstream_calls":0,"upstream_ms":0,"duration_ms":3,"colo":"FRA"}}"#
            )
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
            resolved_by: None,
            cache: CacheStatus::Bypass,
            branding: None,
            status: 404,
            error_code: Some("route_not_found"),
            colo: None,
            ..served()
        };
        let v = json(&event);
        for key in [
            "host",
            "path",
            "route",
            "tenant_id",
            "tenant_slug",
            "resolved_by",
            "branding",
            "colo",
        ] {
            assert_eq!(v[key], serde_json::Value::Null, "{key}");
        }
        assert_eq!(v.as_object().unwrap().len(), 19);
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
    fn a_failed_upstream_call_is_an_error_whatever_the_status() {
        let upstream = Upstream {
            calls: 1,
            ms: 3000,
            failed: true,
        };
        let v = json(&RequestEvent {
            cache: CacheStatus::Stale,
            upstream,
            ..served()
        });
        assert_eq!(v["level"], "error");
        assert_eq!(v["status"], 200);
        assert_eq!(v["upstream_calls"], 1);
        assert_eq!(v["upstream_ms"], 3000);
    }

    #[test]
    fn another_event_starts_with_its_kind_and_level() {
        let line = Line::new("refresh_failed", Level::Error)
            .str("lookup", Some("slug:northstar"))
            .str("upstream_error", None)
            .num("failed_reads", 2)
            .end();
        assert_eq!(
            line,
            r#"{"event":"refresh_failed","level":"error","lookup":"slug:northstar","upstream_error":null,"failed_reads":2}"#
        );
    }

    #[test]
    fn resolved_by_names_the_key_and_a_host_slug_is_a_subdomain() {
        let slug = Lookup::Slug(tenant_common::Slug::parse("northstar").unwrap());
        assert_eq!(resolved_by(&slug, true), "subdomain");
        assert_eq!(resolved_by(&slug, false), "slug");
        let domain = Lookup::Domain(tenant_common::Host::parse("coach.example.com").unwrap());
        assert_eq!(resolved_by(&domain, true), "domain");
    }

    #[test]
    fn branding_reads_the_header_and_nothing_else() {
        assert_eq!(branding(Some("injected")).as_deref(), Some("injected"));
        assert_eq!(
            branding(Some("skipped; reason=no-head")).as_deref(),
            Some("skipped:no-head")
        );
        assert_eq!(branding(Some("something else")), None);
        assert_eq!(branding(None), None);
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
