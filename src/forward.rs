//! The rules for forwarding a request to the app origin: where it goes, which headers it
//! carries, and how the origin's answer may be cached.
//!
//! Only the Worker says who the tenant is and where the request came from. Servers read header
//! names case-insensitively and many (CGI, WSGI, Rack, PHP) read `_` as `-`, so a client header
//! is dropped when its name, compared that way, names tenant identity or the request's origin;
//! the Worker then sets exactly one `X-Forwarded-Host`, `X-Forwarded-Proto`, `X-Forwarded-For`
//! (when the client's address is known) and, for a tenant, `X-Tenant-Id` and `X-Tenant-Slug`.
//!
//! The origin's answer is host-bound: [`answer_edits`] are its headers' edits, from the rule
//! every host-bound answer follows ([`host_bound_headers`]). Headers cross to and from the JS
//! in the [`lines`] format: the request's (`forward.js`'s `headerLines`, read by
//! [`request_lines`]), the origin's answer as the rules read it ([`OriginAnswer::read`]) and
//! the edits.

use tenant_common::Host;

use crate::lines;
use crate::preview;
use crate::reply::{host_bound_headers, Text};

/// The identity a forwarded request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity<'a> {
    pub tenant_id: &'a str,
    pub tenant_slug: &'a str,
}

/// What the Worker itself knows about a request it forwards, sent in the headers it sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forwarding<'a> {
    /// The request's validated Host: `X-Forwarded-Host`.
    pub host: &'a Host,
    /// The scheme the client used (`https` in production): `X-Forwarded-Proto`.
    pub proto: &'a str,
    /// The client's address as the runtime saw it (`CF-Connecting-IP`): `X-Forwarded-For`.
    pub client_ip: Option<&'a str>,
    /// The tenant, or `None` on the platform's own host.
    pub identity: Option<Identity<'a>>,
    /// Whether an HTML answer will get the tenant's branding injected.
    pub branded: bool,
}

/// Client headers that say where a request came from or how to read it, by their normalised
/// name (lowercase, `-` for `_`). Proxies and frameworks trust them; only the Worker may set them.
const ORIGIN_HEADERS: &[&str] = &[
    "host",
    "forwarded",
    "via",
    "x-real-ip",
    "x-client-ip",
    "client-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "cf-connecting-ipv6",
    "x-cluster-client-ip",
    "x-originating-ip",
    "x-remote-ip",
    "x-remote-addr",
    "x-host",
    "x-rewrite-url",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

/// Name prefixes of the same kind: `X-Forwarded-*` (and `X-Forwarded` itself), `X-Original-*`.
const ORIGIN_HEADER_PREFIXES: &[&str] = &["x-forwarded", "x-original-"];

/// Whether a client header must not reach the origin: its name, read as servers read it, names
/// tenant identity (anything mentioning `tenant`) or the request's origin.
pub fn is_reserved_header(name: &str) -> bool {
    let name: String = name
        .chars()
        .map(|c| match c {
            '_' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    name.contains("tenant")
        || ORIGIN_HEADERS.contains(&name.as_str())
        || ORIGIN_HEADER_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The origin URL for a request: `origin` (no trailing slash) + path + query.
pub fn target_url(origin: &str, path: &str, query: Option<&str>) -> String {
    match query {
        Some(q) if !q.is_empty() => format!("{origin}{path}?{q}"),
        _ => format!("{origin}{path}"),
    }
}

/// The request target of an absolute URL, as the server it names receives it: the path and
/// query (`https://app.example/a?x=1` → `/a?x=1`; `/` when the URL has no path).
pub fn request_target(url: &str) -> &str {
    let authority = url.find("://").map_or(0, |i| i + 3);
    url[authority..]
        .find(['/', '?'])
        .map_or("/", |i| &url[authority + i..])
}

/// Request headers that let the origin answer 304 to a page the browser already has. A branded
/// page is rewritten on its way out, so the browser's copy may carry an older branding: a
/// request for HTML is sent without them, and the origin answers it in full.
const CONDITIONAL_HEADERS: &[&str] = &["if-none-match", "if-modified-since"];

/// The headers sent to the origin, in the [`lines`] format: [`forwarded_headers`] of the
/// client's, which `client` holds in that format.
pub fn request_lines(client: &str, forwarding: Forwarding<'_>) -> String {
    let pairs = lines::read(client).map(|(name, value)| (name.to_string(), value.to_string()));
    let mut out = String::with_capacity(client.len() + 128);
    for (name, value) in forwarded_headers(pairs, forwarding) {
        lines::write(&mut out, &name, &value);
    }
    out
}

/// The headers sent to the origin: the client's, less every [`is_reserved_header`] and the
/// preview cookie (`preview::without_cookie`) (and, for
/// a branded request for HTML, the conditional ones); then the Worker's own `X-Forwarded-*`
/// and, for a tenant, `X-Tenant-Id` and `X-Tenant-Slug`.
pub fn forwarded_headers(
    client: impl IntoIterator<Item = (String, String)>,
    forwarding: Forwarding<'_>,
) -> Vec<(String, String)> {
    let client: Vec<(String, String)> = client.into_iter().collect();
    let wants_html = client.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("accept") && value.to_ascii_lowercase().contains("text/html")
    });
    let unconditional = forwarding.branded && wants_html;
    let mut headers: Vec<(String, String)> = client
        .into_iter()
        .filter(|(name, _)| !is_reserved_header(name))
        .filter_map(|(name, value)| match name.eq_ignore_ascii_case("cookie") {
            true => Some((name, preview::without_cookie(&value)?)),
            false => Some((name, value)),
        })
        .filter(|(name, _)| {
            !(unconditional
                && CONDITIONAL_HEADERS
                    .iter()
                    .any(|c| name.eq_ignore_ascii_case(c)))
        })
        .collect();
    headers.push(("x-forwarded-host".into(), forwarding.host.to_string()));
    headers.push(("x-forwarded-proto".into(), forwarding.proto.into()));
    if let Some(ip) = forwarding.client_ip {
        headers.push(("x-forwarded-for".into(), ip.into()));
    }
    if let Some(identity) = forwarding.identity {
        headers.push(("x-tenant-id".into(), identity.tenant_id.into()));
        headers.push(("x-tenant-slug".into(), identity.tenant_slug.into()));
    }
    headers
}

/// The `Vary` header of a forwarded answer: the origin's, plus `Host`.
pub fn vary_with_host(origin_vary: Option<&str>) -> String {
    match origin_vary.map(str::trim) {
        Some(v) if v == "*" => v.to_string(),
        Some(v) if v.split(',').any(|f| f.trim().eq_ignore_ascii_case("host")) => v.to_string(),
        Some(v) if !v.is_empty() => format!("{v}, Host"),
        _ => "Host".into(),
    }
}

/// Whether the origin's answer gets the tenant's branding: a `200` HTML answer to a request
/// whose body is sent (not HEAD). Everything else passes through byte for byte.
pub fn injects(method: &str, status: u16, content_type: Option<&str>) -> bool {
    let html = content_type.is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/html"))
    });
    status == 200 && !method.eq_ignore_ascii_case("HEAD") && html
}

/// Response headers that no longer describe a branded page: its length and validators are
/// those of the origin's bytes.
const REWRITTEN_PAGE_DROPS: &[&str] = &["content-length", "etag", "last-modified"];

/// What the rules read of the origin's answer: its status and three headers (`None` when
/// absent or empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OriginAnswer<'a> {
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub vary: Option<&'a str>,
    pub cache_control: Option<&'a str>,
}

impl<'a> OriginAnswer<'a> {
    /// The answer as `forward.js`'s `describe` writes it, in the [`lines`] format: the status
    /// as `:status`, then the headers it has of `content-type`, `vary` and `cache-control`.
    /// A status that is missing or not a number reads as 0, which no rule treats as 200.
    pub fn read(described: &'a str) -> OriginAnswer<'a> {
        let mut answer = OriginAnswer::default();
        for (name, value) in lines::read(described) {
            let value = Some(value).filter(|v| !v.is_empty());
            match name {
                ":status" => answer.status = value.and_then(|s| s.parse().ok()).unwrap_or(0),
                "content-type" => answer.content_type = value,
                "vary" => answer.vary = value,
                "cache-control" => answer.cache_control = value,
                _ => {}
            }
        }
        answer
    }
}

/// The header edits of every forwarded answer, in the [`lines`] format: the
/// [`host_bound_headers`] with the origin's `Vary` plus `Host` ([`vary_with_host`]) and its
/// `Cache-Control` made private ([`private_cache_control`]). The JS sets each.
pub fn answer_edits(origin: &OriginAnswer<'_>) -> String {
    let headers = host_bound_headers(
        Text::Owned(vary_with_host(origin.vary)),
        Text::Owned(private_cache_control(origin.cache_control)),
    );
    let mut edits = String::with_capacity(128);
    for (name, value) in &headers {
        lines::write(&mut edits, name, value);
    }
    edits
}

/// The further edits of a page once branded, in the [`lines`] format: each of
/// [`REWRITTEN_PAGE_DROPS`] with an empty value, which removes it.
pub fn branded_page_edits() -> String {
    let mut edits = String::with_capacity(48);
    for name in REWRITTEN_PAGE_DROPS {
        lines::write(&mut edits, name, "");
    }
    edits
}

/// Directives that let a shared cache store an answer; a host-bound answer drops them.
const SHARED_CACHE_DIRECTIVES: &[&str] = &["public", "private", "s-maxage", "proxy-revalidate"];

/// The `Cache-Control` of a forwarded answer: the origin's directives for the browser, made
/// `private`. The same path is a different page on every tenant's host, and a shared cache
/// keyed without the host would hand one tenant's page to another, so a forwarded answer may
/// be kept by the browser (whose cache keys by the full URL, host included) and by no one else.
pub fn private_cache_control(origin: Option<&str>) -> String {
    let kept: Vec<&str> = origin
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|d| {
            let name = d.split('=').next().unwrap_or_default().trim();
            !d.is_empty()
                && !SHARED_CACHE_DIRECTIVES
                    .iter()
                    .any(|s| name.eq_ignore_ascii_case(s))
        })
        .collect();
    std::iter::once("private")
        .chain(kept)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn forwarding<'a>(host: &'a Host, identity: Option<Identity<'a>>) -> Forwarding<'a> {
        Forwarding {
            host,
            proto: "https",
            client_ip: Some("203.0.113.7"),
            identity,
            branded: false,
        }
    }

    #[test]
    fn the_preview_cookie_never_reaches_the_origin() {
        let host = Host::parse("coach.example.com").unwrap();
        let sent = |cookie: &str| {
            let client = [("cookie".to_string(), cookie.to_string())];
            forwarded_headers(client, forwarding(&host, None))
                .into_iter()
                .find(|(name, _)| name == "cookie")
                .map(|(_, value)| value)
        };
        assert_eq!(sent("sb=1; tenant_preview=k.s").as_deref(), Some("sb=1"));
        assert_eq!(sent("tenant_preview=k.s"), None);
        assert_eq!(sent("sb=1").as_deref(), Some("sb=1"));
    }

    #[test]
    fn the_request_target_is_what_the_origin_receives() {
        assert_eq!(request_target("https://app.example/a/b?x=1"), "/a/b?x=1");
        assert_eq!(request_target("http://127.0.0.1:3000/"), "/");
        assert_eq!(
            request_target("https://app.example/base/welcome"),
            "/base/welcome"
        );
        assert_eq!(request_target("https://app.example"), "/");
    }

    #[test]
    fn target_keeps_path_and_query() {
        assert_eq!(
            target_url("https://app.example", "/a/b", Some("x=1")),
            "https://app.example/a/b?x=1"
        );
        assert_eq!(
            target_url("https://app.example", "/", None),
            "https://app.example/"
        );
        assert_eq!(
            target_url("https://app.example", "/", Some("")),
            "https://app.example/"
        );
    }

    #[test]
    fn spoofed_tenant_headers_never_reach_the_origin() {
        let host = Host::parse("coach.example.com").unwrap();
        let client = pairs(&[
            ("X-Tenant-Id", "evil"),
            ("x-tenant-slug", "evil"),
            ("X-Tenant_Id", "evil"),
            ("X_TENANT_SLUG", "evil"),
            ("X-Tenant-Role", "admin"),
            ("Tenant", "evil"),
            ("X-Forwarded-Host", "evil.com"),
            ("X-Forwarded_Host", "evil.com"),
            ("Host", "x"),
            ("accept", "text/html"),
        ]);
        let identity = Identity {
            tenant_id: "id-1",
            tenant_slug: "acme",
        };
        let headers = forwarded_headers(client, forwarding(&host, Some(identity)));
        assert_eq!(
            headers,
            pairs(&[
                ("accept", "text/html"),
                ("x-forwarded-host", "coach.example.com"),
                ("x-forwarded-proto", "https"),
                ("x-forwarded-for", "203.0.113.7"),
                ("x-tenant-id", "id-1"),
                ("x-tenant-slug", "acme")
            ])
        );
    }

    #[test]
    fn proxy_headers_are_dropped_in_every_spelling() {
        for name in [
            "Forwarded",
            "X-Forwarded-For",
            "x_forwarded_for",
            "X-Forwarded-Proto",
            "X-Forwarded-Port",
            "X-Forwarded-Prefix",
            "X-Forwarded",
            "X-Real-IP",
            "X_Real_Ip",
            "X-Original-URL",
            "X-Original-Host",
            "X-Rewrite-URL",
            "X-Host",
            "X-HTTP-Method-Override",
            "X_HTTP_METHOD_OVERRIDE",
            "CF-Connecting-IP",
            "True-Client-IP",
            "Via",
        ] {
            assert!(is_reserved_header(name), "{name}");
        }
        for name in [
            "accept",
            "cookie",
            "authorization",
            "content-type",
            "x-request-id",
            "user-agent",
        ] {
            assert!(!is_reserved_header(name), "{name}");
        }
    }

    #[test]
    fn platform_traffic_carries_no_tenant_headers() {
        let host = Host::parse("coachplatform.com").unwrap();
        let headers = forwarded_headers(
            pairs(&[("x-tenant-id", "evil")]),
            Forwarding {
                host: &host,
                proto: "http",
                client_ip: None,
                identity: None,
                branded: false,
            },
        );
        assert_eq!(
            headers,
            pairs(&[
                ("x-forwarded-host", "coachplatform.com"),
                ("x-forwarded-proto", "http")
            ])
        );
    }

    #[test]
    fn branded_html_requests_go_without_validators() {
        let host = Host::parse("coach.example.com").unwrap();
        let client = || {
            pairs(&[
                ("Accept", "text/html,application/xhtml+xml"),
                ("If-None-Match", "\"abc\""),
                ("If-Modified-Since", "Tue, 24 Nov 2026 00:00:00 GMT"),
            ])
        };
        let names = |headers: Vec<(String, String)>| -> Vec<String> {
            headers
                .into_iter()
                .map(|(n, _)| n.to_ascii_lowercase())
                .collect()
        };
        let branded = Forwarding {
            branded: true,
            ..forwarding(&host, None)
        };
        let sent = names(forwarded_headers(client(), branded));
        assert!(!sent.contains(&"if-none-match".to_string()), "{sent:?}");
        let plain = names(forwarded_headers(client(), forwarding(&host, None)));
        assert!(plain.contains(&"if-none-match".to_string()));
        let image = pairs(&[("Accept", "image/avif"), ("If-None-Match", "\"abc\"")]);
        assert!(names(forwarded_headers(image, branded)).contains(&"if-none-match".to_string()));
    }

    #[test]
    fn only_full_html_answers_are_branded() {
        assert!(injects("GET", 200, Some("text/html; charset=utf-8")));
        assert!(injects("POST", 200, Some("TEXT/HTML")));
        for (method, status, kind) in [
            ("HEAD", 200, Some("text/html")),
            ("GET", 404, Some("text/html")),
            ("GET", 304, Some("text/html")),
            ("GET", 206, Some("text/html")),
            ("GET", 200, Some("application/json")),
            ("GET", 200, Some("image/png")),
            ("GET", 200, Some("text/html-sandboxed")),
            ("GET", 200, None),
        ] {
            assert!(!injects(method, status, kind), "{method} {status} {kind:?}");
        }
    }

    #[test]
    fn the_origins_answer_is_read_by_name() {
        let answer = OriginAnswer::read(
            ":status: 200\ncontent-type: text/html\ncache-control: public, max-age=60\n",
        );
        assert_eq!(
            answer,
            OriginAnswer {
                status: 200,
                content_type: Some("text/html"),
                vary: None,
                cache_control: Some("public, max-age=60"),
            }
        );
        assert_eq!(
            OriginAnswer::read(":status: x\nvary: \n"),
            OriginAnswer::default()
        );
    }

    #[test]
    fn a_forwarded_answer_gets_the_host_bound_headers() {
        let edits = answer_edits(&OriginAnswer {
            status: 200,
            vary: Some("Accept-Encoding"),
            cache_control: Some("public, max-age=60"),
            ..OriginAnswer::default()
        });
        assert_eq!(
            lines::read(&edits).collect::<Vec<_>>(),
            [
                ("vary", "Accept-Encoding, Host"),
                ("cache-control", "private, max-age=60"),
                ("cdn-cache-control", "no-store"),
                ("cloudflare-cdn-cache-control", "no-store"),
            ]
        );
    }

    #[test]
    fn a_branded_page_loses_its_length_and_validators() {
        assert_eq!(
            lines::read(&branded_page_edits()).collect::<Vec<_>>(),
            [("content-length", ""), ("etag", ""), ("last-modified", "")]
        );
    }

    #[test]
    fn the_clients_headers_are_read_and_written_as_lines() {
        let host = Host::parse("coach.example.com").unwrap();
        let sent = request_lines(
            "accept: text/html\nx-tenant-id: evil\ncookie: a=b: c\n",
            forwarding(&host, None),
        );
        assert_eq!(
            sent,
            "accept: text/html\ncookie: a=b: c\nx-forwarded-host: coach.example.com\n\
             x-forwarded-proto: https\nx-forwarded-for: 203.0.113.7\n"
        );
    }

    #[test]
    fn vary_always_includes_host() {
        assert_eq!(vary_with_host(None), "Host");
        assert_eq!(
            vary_with_host(Some("Accept-Encoding")),
            "Accept-Encoding, Host"
        );
        assert_eq!(vary_with_host(Some("host")), "host");
        assert_eq!(vary_with_host(Some("*")), "*");
    }

    #[test]
    fn forwarded_answers_are_private_to_the_browser() {
        assert_eq!(private_cache_control(None), "private");
        assert_eq!(
            private_cache_control(Some("public, max-age=60")),
            "private, max-age=60"
        );
        assert_eq!(
            private_cache_control(Some("max-age=60, S-MaxAge=3600, proxy-revalidate")),
            "private, max-age=60"
        );
        assert_eq!(private_cache_control(Some("no-store")), "private, no-store");
        assert_eq!(
            private_cache_control(Some("private=\"set-cookie\", max-age=5")),
            "private, max-age=5"
        );
    }
}
