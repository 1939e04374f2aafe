//! The rules for forwarding a request to the app origin: where it goes and which headers it
//! carries. Only the Worker sets tenant identity: every client-sent `X-Tenant-*` header is
//! dropped before the Worker adds its own.

use crate::host::Host;

/// Prefix of the headers that carry tenant identity to the origin.
const TENANT_HEADER_PREFIX: &str = "x-tenant-";

/// The identity a forwarded request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity<'a> {
    pub tenant_id: &'a str,
    pub tenant_slug: &'a str,
}

/// The origin URL for a request: `origin` (no trailing slash) + path + query.
pub fn target_url(origin: &str, path: &str, query: Option<&str>) -> String {
    match query {
        Some(q) if !q.is_empty() => format!("{origin}{path}?{q}"),
        _ => format!("{origin}{path}"),
    }
}

/// The headers sent to the origin: the client's, less `Host` (the origin's own is used),
/// `X-Forwarded-Host` and every `X-Tenant-*`; then `X-Forwarded-Host` and, for a tenant, its
/// `X-Tenant-Id` and `X-Tenant-Slug`.
pub fn forwarded_headers(
    client: impl IntoIterator<Item = (String, String)>,
    host: &Host,
    identity: Option<Identity<'_>>,
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = client
        .into_iter()
        .filter(|(name, _)| {
            let name = name.to_ascii_lowercase();
            name != "host" && name != "x-forwarded-host" && !name.starts_with(TENANT_HEADER_PREFIX)
        })
        .collect();
    headers.push(("x-forwarded-host".into(), host.to_string()));
    if let Some(identity) = identity {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
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
            ("X-Tenant-Role", "admin"),
            ("X-Forwarded-Host", "evil.com"),
            ("Host", "x"),
            ("accept", "text/html"),
        ]);
        let identity = Identity {
            tenant_id: "id-1",
            tenant_slug: "acme",
        };
        let headers = forwarded_headers(client, &host, Some(identity));
        assert_eq!(
            headers,
            pairs(&[
                ("accept", "text/html"),
                ("x-forwarded-host", "coach.example.com"),
                ("x-tenant-id", "id-1"),
                ("x-tenant-slug", "acme")
            ])
        );
    }

    #[test]
    fn platform_traffic_carries_no_tenant_headers() {
        let host = Host::parse("coachplatform.com").unwrap();
        let headers = forwarded_headers(pairs(&[("x-tenant-id", "evil")]), &host, None);
        assert_eq!(headers, pairs(&[("x-forwarded-host", "coachplatform.com")]));
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
}
