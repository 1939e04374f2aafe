//! Answers as plain data: status, headers and body, shaped without the Workers runtime.
//!
//! The `edge` glue turns a [`Reply`] into a response in one place, so every header rule (JSON
//! content type, ETag and 304, CORS, `Retry-After`, `Allow`, caching) is decided and tested
//! here. Header values and bodies are [`Text`]: a tenant's body and ETag are shared with the
//! cache ([`Text::Shared`]), so answering a cache hit copies neither.

use std::fmt;
use std::ops::Deref;
use std::rc::Rc;

use crate::error::Error;
use crate::route::Asset;
use tenant_common::format_ms;

/// A header value or a body: fixed in the code, shared with the cache, or made for this answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    Static(&'static str),
    Shared(Rc<str>),
    Owned(String),
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Text::Static(s) => s,
            Text::Shared(s) => s,
            Text::Owned(s) => s,
        }
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl From<&'static str> for Text {
    fn from(s: &'static str) -> Text {
        Text::Static(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::Owned(s)
    }
}

impl From<Rc<str>> for Text {
    fn from(s: Rc<str>) -> Text {
        Text::Shared(s)
    }
}

impl Asset {
    /// The `Content-Type` of this answer.
    pub fn content_type(self) -> &'static str {
        match self {
            Asset::Json => "application/json; charset=utf-8",
            Asset::Css => "text/css; charset=utf-8",
            Asset::Manifest => "application/manifest+json",
        }
    }
}

/// An HTTP answer the Worker will send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, Text)>,
    pub body: Text,
}

/// A page a visitor's browser gets in place of the Worker's own JSON error: small, neutral and
/// the same for every tenant (no name, nothing stored), written by `src/edge/answer.js`. An
/// unknown host and an inactive tenant's get the same bytes, so one cannot be told from the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// "There is no site here": a 404 (no tenant answers to the host, or no origin).
    NoSite,
    /// "Temporarily unavailable": a 5xx (PostgREST or the origin failing, a wrong setting).
    Unavailable,
    /// The tenant's own maintenance page: its branding and its owner's message
    /// ([`Reply::maintenance_page`]).
    Maintenance,
}

impl Page {
    /// The page for an error answered with `status` to a `GET` or `HEAD` request (the caller's
    /// to check) for `path` with `accept`, when a browser asked for a page: not under
    /// `/_tenant/` (whose routes keep the JSON contract), and an `Accept` that names `text/html`.
    pub fn for_error(status: u16, path: &str, accept: Option<&str>) -> Option<Page> {
        let page = match status {
            404 => Page::NoSite,
            500.. => Page::Unavailable,
            _ => return None,
        };
        let wants_html = accept.is_some_and(|a| a.contains("text/html"));
        (wants_html && !path.starts_with("/_tenant/")).then_some(page)
    }

    /// Its name in the `:page` line (`src/edge/answer.js`).
    fn name(self) -> &'static str {
        match self {
            Page::NoSite => "no-site",
            Page::Unavailable => "unavailable",
            Page::Maintenance => "maintenance",
        }
    }
}

/// What `/_tenant/health` reports about the isolate: the memory tier's size and cap, the Wasm
/// linear memory (which only grows; flat under load means nothing leaks), and for a deep check
/// how old the PostgREST round trip it reports is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Vitals {
    pub memory_entries: usize,
    pub memory_capacity: usize,
    pub wasm_memory_bytes: usize,
    /// `Some(age in ms)` of the shared deep check that answered; `None` for a shallow check.
    pub upstream_age_ms: Option<u64>,
    /// The change feed as this isolate knows it.
    pub changes: FeedVitals,
}

/// What `/_tenant/health` reports of the change feed: its interval (0: off), how long ago this
/// isolate's newest read was made (by it or another isolate of the data center), and, while the
/// feed cannot be read, since when and what the last read failed with (a code, never a body).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedVitals {
    pub poll_seconds: u32,
    pub last_read_ms_ago: Option<u64>,
    pub failing_since_ms: Option<u64>,
    pub last_error: Option<String>,
}

/// Whether an answer depends on the request's Host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The same for every host (`/_tenant/slug/…`, `/_tenant/id/…`): any cache may keep it.
    Public,
    /// Depends on the Host (`brand.json`, redirects, forwarded pages). A shared cache that keys
    /// by path alone would hand one tenant's answer to another, so shared caches must not
    /// store it: it carries [`host_bound_headers`].
    HostBound,
}

/// The headers of every host-bound answer, the Worker's own and the origin's it forwards: the
/// one place the rule "a host-bound answer is never kept by a shared cache" is written.
/// `Vary` naming `Host` (for any cache that keys by URL without it), a `private`
/// `Cache-Control` for the browser (the caller makes it: `CacheControl::value`,
/// `forward::private_cache_control`), and `no-store` for the CDNs that read their own header
/// first: `CDN-Cache-Control` (RFC 9213, every CDN) and `Cloudflare-CDN-Cache-Control`
/// (Cloudflare's alone, which it reads before the other two:
/// <https://developers.cloudflare.com/cache/concepts/cdn-cache-control/>).
pub fn host_bound_headers(vary: Text, cache_control: Text) -> [(&'static str, Text); 4] {
    [
        ("vary", vary),
        ("cache-control", cache_control),
        ("cdn-cache-control", Text::Static("no-store")),
        ("cloudflare-cdn-cache-control", Text::Static("no-store")),
    ]
}

impl Reply {
    /// An answer of `content_type`, readable cross-origin by frontends.
    fn readable(status: u16, content_type: &'static str, body: Text) -> Reply {
        Reply {
            status,
            headers: vec![
                ("content-type", Text::Static(content_type)),
                ("access-control-allow-origin", Text::Static("*")),
            ],
            body,
        }
    }

    /// A JSON answer with the given status, readable cross-origin by frontends.
    pub fn json(status: u16, body: impl Into<Text>) -> Reply {
        Reply::readable(status, Asset::Json.content_type(), body.into())
    }

    /// The error contract: `{"error":{"code","message"}}`, never cached, with `Retry-After` on
    /// 503 and `Allow` on 405.
    pub fn error(error: &Error) -> Reply {
        let described = error.describe();
        let mut reply =
            Reply::json(described.status, described.body()).header("cache-control", "no-store");
        match error {
            Error::UpstreamUnavailable(_) => {
                reply = reply.header("retry-after", Error::RETRY_AFTER_SECONDS.to_string());
            }
            Error::Maintenance { retry_after_s } => {
                reply = reply.header("retry-after", retry_after_s.to_string());
            }
            Error::MethodNotAllowed { allow } => reply = reply.header("allow", *allow),
            _ => {}
        }
        reply
    }

    /// `GET /_tenant/health`, with what the isolate holds; a deep check adds
    /// `"upstream":{"status":"ok","ageMs":…}` and an `Age` header.
    pub fn health(vitals: Vitals) -> Reply {
        let Vitals {
            memory_entries,
            memory_capacity,
            wasm_memory_bytes,
            upstream_age_ms,
            changes,
        } = vitals;
        let upstream = upstream_age_ms
            .map(|age| format!(r#","upstream":{{"status":"ok","ageMs":{age}}}"#))
            .unwrap_or_default();
        let changes = serde_json::json!({
            "pollSeconds": changes.poll_seconds,
            "lastReadMsAgo": changes.last_read_ms_ago,
            "failing": changes.failing_since_ms.is_some(),
            "failingSince": changes.failing_since_ms.map(format_ms),
            "lastError": changes.last_error,
        });
        let body = format!(
            r#"{{"status":"ok","cache":{{"memoryEntries":{memory_entries},"memoryCapacity":{memory_capacity}}},"changes":{changes},"wasmMemoryBytes":{wasm_memory_bytes}{upstream}}}"#
        );
        let reply = Reply::json(200, body).header("cache-control", "no-store");
        match upstream_age_ms {
            Some(age) => reply.header("age", (age / 1000).to_string()),
            None => reply,
        }
    }

    /// `POST /_tenant/purge`: the keys dropped.
    pub fn purged(keys: &[String]) -> Reply {
        Reply::json(200, serde_json::json!({ "purged": keys }).to_string())
            .header("cache-control", "no-store")
    }

    /// A tenant's answer (its JSON, `brand.css` or manifest) with its strong ETag and the given
    /// `Cache-Control`; 304 without a body when `if_none_match` already names that ETag. The
    /// body and ETag are the cache's own, shared, not copied.
    pub fn tenant(
        asset: Asset,
        (body, tag): (Rc<str>, Rc<str>),
        scope: Scope,
        cache_control: Text,
        if_none_match: Option<&str>,
    ) -> Reply {
        let fresh = if_none_match.is_some_and(|header| matches_etag(header, &tag));
        let (status, body) = if fresh {
            (304, Text::Static(""))
        } else {
            (200, Text::Shared(body))
        };
        let mut reply = Reply::readable(status, asset.content_type(), body);
        reply.headers.push(("etag", Text::Shared(tag)));
        match scope {
            Scope::Public => {
                reply.headers.push(("cache-control", cache_control));
                reply
            }
            Scope::HostBound => reply.host_bound(cache_control),
        }
    }

    /// One of the brand contract's JSON Schemas: the same for every host, cacheable for a day.
    pub fn schema(body: &'static str) -> Reply {
        Reply::readable(200, "application/schema+json", Text::Static(body))
            .header("cache-control", "public, max-age=86400")
    }

    /// The caller's own profile: never stored by any cache.
    pub fn profile(body: String) -> Reply {
        Reply::json(200, body)
            .header("cache-control", "private, no-store")
            .header("vary", "Authorization")
    }

    /// A CORS preflight or `OPTIONS` answer for a route taking `allow`.
    pub fn preflight(allow: &'static str) -> Reply {
        Reply {
            status: 204,
            headers: Vec::new(),
            body: Text::Static(""),
        }
        .header("allow", allow)
        .header("access-control-allow-origin", "*")
        .header("access-control-allow-methods", allow)
        .header(
            "access-control-allow-headers",
            "authorization, content-type, if-none-match",
        )
        .header("access-control-max-age", "86400")
    }

    /// A permanent redirect to `location`, which was chosen from the Host.
    pub fn redirect(location: String, method: &str) -> Reply {
        // 308 keeps the method and body of a form post; 301 is what every client follows for
        // GET and HEAD.
        let status = if matches!(method, "GET" | "HEAD") {
            301
        } else {
            308
        };
        Reply {
            status,
            headers: Vec::new(),
            body: Text::Static(""),
        }
        .header("location", location)
        .host_bound(Text::Static("private, max-age=60"))
    }

    /// The answer to a preview link (`crate::preview`): its token set as a cookie, and the same
    /// page without it, kept by no cache. The browser's cache of the site is cleared too, so
    /// the page it goes to is asked for again (with the cookie), not served as it was published.
    pub fn preview_cookie(location: String, cookie: String) -> Reply {
        Reply {
            status: 302,
            headers: Vec::new(),
            body: Text::Static(""),
        }
        .header("location", location)
        .header("set-cookie", cookie)
        .header("clear-site-data", "\"cache\"")
        .host_bound(Text::Static(crate::preview::CACHE_CONTROL))
    }

    /// `/favicon.ico` of a tenant's host: a redirect to its brand's icon, for this host only.
    pub fn icon(location: Rc<str>) -> Reply {
        Reply {
            status: 302,
            headers: Vec::new(),
            body: Text::Static(""),
        }
        .header("location", Text::Shared(location))
        .host_bound(Text::Static("private, max-age=3600"))
    }

    /// A robots file of the Worker's own (`crate::crawl`), for this host only.
    pub fn robots(body: String) -> Reply {
        Reply::readable(200, "text/plain; charset=utf-8", Text::Owned(body))
            .host_bound(Text::Static("private, max-age=3600"))
    }

    /// Cloudflare's HTTP ownership check of a custom hostname: its token as plain text, kept by
    /// no cache (Cloudflare checks again on every certificate renewal).
    pub fn challenge(body: &str) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type", Text::Static("text/plain; charset=utf-8"))],
            body: Text::Owned(body.to_string()),
        }
        .header("cache-control", "no-store")
    }

    /// Marks an answer that depends on the Host so shared caches do not store it: the
    /// [`host_bound_headers`] with `Vary: Host` and `cache_control` (`private`). The answer
    /// has none of them yet.
    fn host_bound(mut self, cache_control: Text) -> Reply {
        let headers = host_bound_headers(Text::Static("Host"), cache_control);
        self.headers.extend(headers);
        self
    }

    /// Adds (or replaces) a header.
    pub fn header(mut self, name: &'static str, value: impl Into<Text>) -> Reply {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.into()));
        self
    }

    /// This error answer as `page` for a visitor's browser: the same status and headers (a
    /// 503's `Retry-After` included) as HTML, whose body `src/edge/answer.js` writes, named by a
    /// `:page` line (none for a HEAD request, which gets no body).
    pub fn visitor_page(self, page: Page, head: bool) -> Reply {
        let reply = Reply {
            body: Text::Static(""),
            ..self.header("content-type", "text/html; charset=utf-8")
        };
        if head {
            reply
        } else {
            reply.header(":page", page.name())
        }
    }

    /// This `maintenance` error answer as the tenant's maintenance page: the tenant's `<head>`
    /// block (its branding) as the body, its owner's message in a `:message` line, which
    /// `src/edge/answer.js` writes into the page, escaped, and its brand's language in `:lang`.
    pub fn maintenance_page(
        self,
        message: &str,
        rendered: &crate::render::Rendered,
        head: bool,
    ) -> Reply {
        let reply = self.visitor_page(Page::Maintenance, head);
        if head {
            return reply;
        }
        let lang = rendered.lang.as_deref().unwrap_or("en");
        Reply {
            body: Text::Shared(rendered.head.clone()),
            ..reply
                .header(":message", message.to_string())
                .header(":lang", lang.to_string())
        }
    }

    /// The answer to a HEAD request: the same status and headers, no body.
    pub fn without_body(mut self) -> Reply {
        self.body = Text::Static("");
        self
    }

    /// The headers in the [`lines`](crate::lines) format, the form the glue hands to the
    /// runtime in one call (one string instead of one call per header).
    pub fn header_lines(&self) -> String {
        let len = self
            .headers
            .iter()
            .map(|(n, v)| n.len() + v.len() + 3)
            .sum();
        let mut lines = String::with_capacity(len);
        for (name, value) in &self.headers {
            crate::lines::write(&mut lines, name, value);
        }
        lines
    }

    /// The value of a header, if set.
    #[cfg(test)]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| &**v)
    }
}

/// A strong ETag over the body: 64-bit FNV-1a, quoted. It changes exactly when the body does;
/// it is not a security boundary, so a fast non-cryptographic hash is enough.
pub fn etag(body: &str) -> String {
    let hash = body.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("\"{hash:016x}\"")
}

/// Whether an `If-None-Match` header names `tag` (weak comparison, as RFC 9110 asks for GET).
fn matches_etag(header: &str, tag: &str) -> bool {
    header
        .split(',')
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::UpstreamError;

    const CC: &str = "public, max-age=60";

    #[test]
    fn upstream_errors_say_when_to_retry() {
        let r = Reply::error(&UpstreamError::Timeout { after_ms: 3000 }.into());
        assert_eq!(r.status, 503);
        assert_eq!(r.get("retry-after"), Some("5"));
        assert_eq!(r.get("cache-control"), Some("no-store"));
    }

    #[test]
    fn a_browser_gets_a_page_for_a_404_or_a_5xx_off_the_tenant_routes() {
        const BROWSER: Option<&str> = Some("text/html,application/xhtml+xml,*/*;q=0.8");
        assert_eq!(Page::for_error(404, "/", BROWSER), Some(Page::NoSite));
        assert_eq!(
            Page::for_error(503, "/courses/1", BROWSER),
            Some(Page::Unavailable)
        );
        assert_eq!(Page::for_error(500, "/", BROWSER), Some(Page::Unavailable));
        assert_eq!(Page::for_error(404, "/_tenant/brand.json", BROWSER), None);
        assert_eq!(Page::for_error(404, "/", Some("application/json")), None);
        assert_eq!(Page::for_error(404, "/", None), None);
        assert_eq!(Page::for_error(400, "/", BROWSER), None);
        assert_eq!(Page::for_error(405, "/", BROWSER), None);
    }

    #[test]
    fn maintenance_says_when_to_come_back_and_its_page_wears_the_brand() {
        let error = Reply::error(&Error::Maintenance { retry_after_s: 900 });
        assert_eq!((error.status, error.get("retry-after")), (503, Some("900")));
        let rendered = crate::render::Rendered::for_tenant(
            r##"{"displayName":"N","brand":{"colors":{"primary":"#123"}}}"##,
        );
        let page = error
            .clone()
            .maintenance_page("Back <soon>", &rendered, false);
        assert_eq!(page.get(":page"), Some("maintenance"));
        assert_eq!(
            page.get(":message"),
            Some("Back <soon>"),
            "escaped by the page"
        );
        assert_eq!(page.get(":lang"), Some("en"), "no valid brand: English");
        assert_eq!(&*page.body, &*rendered.head);
        assert_eq!(page.get("retry-after"), Some("900"));
        let head = error.maintenance_page("Back", &rendered, true);
        assert_eq!((head.get(":page"), head.body.len()), (None, 0));
    }

    #[test]
    fn a_preview_link_becomes_a_cookie_no_cache_keeps() {
        let r = Reply::preview_cookie("https://x.test/a?b=1".into(), "tenant_preview=t".into());
        assert_eq!(r.status, 302);
        assert_eq!(r.get("location"), Some("https://x.test/a?b=1"));
        assert_eq!(r.get("set-cookie"), Some("tenant_preview=t"));
        assert_eq!(r.get("clear-site-data"), Some("\"cache\""));
        assert_eq!(r.get("cache-control"), Some("private, no-store"));
        assert_eq!(r.get("vary"), Some("Host"));
    }

    #[test]
    fn a_visitor_page_keeps_the_status_and_headers_as_html() {
        let error = Reply::error(&UpstreamError::Timeout { after_ms: 3000 }.into());
        let page = error.clone().visitor_page(Page::Unavailable, false);
        assert_eq!(page.status, 503);
        assert_eq!(page.get("retry-after"), Some("5"));
        assert_eq!(page.get("cache-control"), Some("no-store"));
        assert_eq!(page.get("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(page.get(":page"), Some("unavailable"));
        assert_eq!(&*page.body, "");
        let head = error.visitor_page(Page::Unavailable, true);
        assert_eq!(head.get(":page"), None);
        assert_eq!(head.get("content-type"), Some("text/html; charset=utf-8"));
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
    fn deep_health_says_how_old_its_check_is() {
        let r = Reply::health(Vitals {
            upstream_age_ms: Some(1500),
            ..Vitals::default()
        });
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["upstream"]["status"], "ok");
        assert_eq!(v["upstream"]["ageMs"], 1500);
        assert_eq!(r.get("age"), Some("1"));
        assert_eq!(Reply::health(Vitals::default()).get("age"), None);
    }

    #[test]
    fn health_is_json_ok() {
        let r = Reply::health(Vitals {
            memory_entries: 3,
            memory_capacity: 10,
            wasm_memory_bytes: 65536,
            upstream_age_ms: None,
            changes: FeedVitals {
                poll_seconds: 5,
                last_read_ms_ago: None,
                failing_since_ms: None,
                last_error: None,
            },
        });
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!((r.status, v["status"].as_str()), (200, Some("ok")));
        assert_eq!(v["cache"]["memoryEntries"], 3);
        assert_eq!(v["wasmMemoryBytes"], 65536);
        assert_eq!(v["changes"]["pollSeconds"], 5);
        assert_eq!(v["changes"]["lastReadMsAgo"], serde_json::Value::Null);
        assert_eq!(v["changes"]["failing"], false);
        assert_eq!(v["changes"]["failingSince"], serde_json::Value::Null);
        let failing = Reply::health(Vitals {
            memory_entries: 0,
            memory_capacity: 10,
            wasm_memory_bytes: 65536,
            upstream_age_ms: None,
            changes: FeedVitals {
                poll_seconds: 5,
                last_read_ms_ago: Some(12_000),
                failing_since_ms: Some(1_800_000_000_000),
                last_error: Some("http_401_42501".into()),
            },
        });
        let v: serde_json::Value = serde_json::from_str(&failing.body).unwrap();
        assert_eq!(v["changes"]["failing"], true);
        assert_eq!(v["changes"]["failingSince"], "2027-01-15T08:00:00.000Z");
        assert_eq!(v["changes"]["lastError"], "http_401_42501");
        assert_eq!(v["changes"]["lastReadMsAgo"], 12_000);
        assert!(r
            .get("content-type")
            .unwrap()
            .starts_with("application/json"));
    }

    #[test]
    fn etag_changes_only_with_the_body() {
        assert_eq!(etag("a"), etag("a"));
        assert_ne!(etag("a"), etag("b"));
        assert!(etag("").starts_with('"') && etag("").ends_with('"'));
    }

    /// A tenant's body and its ETag as the cache shares them.
    fn shared(body: &str) -> (Rc<str>, Rc<str>) {
        (body.into(), etag(body).into())
    }

    #[test]
    fn matching_if_none_match_is_304_without_body() {
        let tag = etag("{}");
        for header in [
            tag.clone(),
            format!("W/{tag}"),
            format!("\"x\", {tag}"),
            "*".into(),
        ] {
            let r = Reply::tenant(
                Asset::Json,
                shared("{}"),
                Scope::Public,
                CC.into(),
                Some(&header),
            );
            assert_eq!((r.status, &*r.body), (304, ""), "{header}");
            assert_eq!(r.get("etag"), Some(tag.as_str()));
        }
        let other = Reply::tenant(
            Asset::Json,
            shared("{}"),
            Scope::Public,
            CC.into(),
            Some("\"other\""),
        );
        assert_eq!((other.status, &*other.body), (200, "{}"));
    }

    #[test]
    fn a_hit_shares_the_cached_body_and_etag() {
        let (body, tag) = shared(r#"{"slug":"acme"}"#);
        let r = Reply::tenant(
            Asset::Json,
            (body.clone(), tag.clone()),
            Scope::Public,
            CC.into(),
            None,
        );
        assert!(matches!(&r.body, Text::Shared(b) if Rc::ptr_eq(b, &body)));
        assert!(r
            .headers
            .iter()
            .any(|(n, v)| *n == "etag" && matches!(v, Text::Shared(t) if Rc::ptr_eq(t, &tag))));
    }

    #[test]
    fn each_asset_has_its_content_type() {
        for (asset, kind) in [
            (Asset::Json, "application/json; charset=utf-8"),
            (Asset::Css, "text/css; charset=utf-8"),
            (Asset::Manifest, "application/manifest+json"),
        ] {
            let r = Reply::tenant(asset, shared("x"), Scope::HostBound, CC.into(), None);
            assert_eq!(r.get("content-type"), Some(kind));
        }
    }

    #[test]
    fn public_answers_are_cacheable_and_cors_readable() {
        let r = Reply::tenant(Asset::Json, shared("{}"), Scope::Public, CC.into(), None);
        assert!(r.get("cache-control").unwrap().starts_with("public"));
        assert_eq!(r.get("access-control-allow-origin"), Some("*"));
        assert_eq!(r.get("vary"), None);
    }

    #[test]
    fn host_bound_answers_stay_out_of_shared_caches() {
        for r in [
            Reply::tenant(
                Asset::Css,
                shared(":root {}"),
                Scope::HostBound,
                "private, max-age=1".into(),
                None,
            ),
            Reply::redirect("https://a.example/".into(), "GET"),
        ] {
            assert!(r.get("cache-control").unwrap().starts_with("private"));
            assert_eq!(r.get("cdn-cache-control"), Some("no-store"));
            assert_eq!(r.get("cloudflare-cdn-cache-control"), Some("no-store"));
            assert_eq!(r.get("vary"), Some("Host"));
        }
    }

    #[test]
    fn a_host_bound_answer_has_each_header_once() {
        let r = Reply::redirect("https://a.example/".into(), "GET");
        let mut names: Vec<&str> = r.headers.iter().map(|(n, _)| *n).collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all, "{names:?}");
    }

    #[test]
    fn a_redirect_keeps_the_method_of_anything_but_get_and_head() {
        for (method, status) in [("GET", 301), ("HEAD", 301), ("POST", 308), ("PUT", 308)] {
            let r = Reply::redirect("https://a.example/x?y".into(), method);
            assert_eq!(r.status, status, "{method}");
            assert_eq!(r.get("location"), Some("https://a.example/x?y"));
        }
    }

    #[test]
    fn an_ownership_check_is_plain_text_no_cache_keeps() {
        let r = Reply::challenge("8a2b-token");
        assert_eq!(r.status, 200);
        assert_eq!(r.get("content-type"), Some("text/plain; charset=utf-8"));
        assert_eq!(r.get("cache-control"), Some("no-store"));
        assert_eq!(r.body, Text::Owned("8a2b-token".into()));
    }

    #[test]
    fn headers_go_to_the_runtime_as_lines() {
        let r = Reply::preflight("GET, HEAD, OPTIONS");
        let lines = r.header_lines();
        assert!(lines.starts_with("allow: GET, HEAD, OPTIONS\naccess-control-allow-origin: *\n"));
        assert_eq!(lines.lines().count(), r.headers.len());
        assert_eq!(
            Reply::health(Vitals::default()).without_body().body,
            Text::Static("")
        );
    }

    #[test]
    fn profiles_are_never_stored() {
        assert_eq!(
            Reply::profile("{}".into()).get("cache-control"),
            Some("private, no-store")
        );
    }

    #[test]
    fn preflight_lists_methods() {
        let r = Reply::preflight("GET, HEAD, OPTIONS");
        assert_eq!(
            (r.status, r.get("allow")),
            (204, Some("GET, HEAD, OPTIONS"))
        );
    }

    #[test]
    fn header_replaces_an_existing_value() {
        let r = Reply::health(Vitals::default()).header("cache-control", "public");
        assert_eq!(
            r.headers
                .iter()
                .filter(|(n, _)| *n == "cache-control")
                .count(),
            1
        );
    }
}
