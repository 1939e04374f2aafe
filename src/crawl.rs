//! What search engines are told about a tenant's hosts, so that a tenant's site is indexed once,
//! under one host, and not again as a duplicate on each of its other names.
//!
//! A tenant's canonical host is its primary domain, else its platform subdomain. Its other
//! domains already redirect there (`site::page_redirect`); the platform subdomain still serves
//! pages when `REDIRECT_TO_PRIMARY_DOMAIN` is off. On a host that is not canonical the Worker
//! answers `/robots.txt` itself with `Disallow: /`, and its pages carry `X-Robots-Tag: noindex`;
//! on the canonical host `/robots.txt` is the origin's when it has one, else an allow-all that
//! names the sitemap there. Every branded page gets a `<link rel="canonical">` to the same path
//! on the canonical host, with the branding.

use crate::render::attribute;
use tenant_common::{Host, Slug};

/// The path of the robots file.
pub const ROBOTS_PATH: &str = "/robots.txt";

/// The path browsers and crawlers ask a site's icon at, whatever its pages say: redirected to
/// the brand's favicon (or logo) when the tenant has a valid brand, else the origin's.
pub const FAVICON_PATH: &str = "/favicon.ico";

/// The header that keeps a page out of search results.
pub const NOINDEX: (&str, &str) = ("x-robots-tag", "noindex");

/// Where a tenant's pages are indexed, seen from one of its hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonical {
    /// `scheme://host` of the canonical host.
    pub origin: String,
    /// Whether the request's host is the canonical one.
    pub indexable: bool,
}

impl Canonical {
    /// The canonical host of the tenant `slug` with the primary domain `primary`, as seen from
    /// `host` over `scheme`: the primary domain, else `<slug>.<platform>`, else (no platform
    /// domain configured) `host` itself.
    pub fn of(
        host: &Host,
        scheme: &str,
        primary: Option<&Host>,
        slug: &Slug,
        platform: Option<&Host>,
    ) -> Canonical {
        let canonical = match (primary, platform) {
            (Some(primary), _) => primary.to_string(),
            (None, Some(platform)) => format!("{}.{platform}", slug.as_str()),
            (None, None) => host.to_string(),
        };
        Canonical {
            indexable: canonical == host.as_str(),
            origin: format!("{scheme}://{canonical}"),
        }
    }

    /// The robots file the Worker answers: on the canonical host (when the origin has none),
    /// everything allowed and the sitemap named; on any other, nothing allowed.
    pub fn robots(&self) -> String {
        if self.indexable {
            format!(
                "User-agent: *\nAllow: /\n\nSitemap: {}/sitemap.xml\n",
                self.origin
            )
        } else {
            "User-agent: *\nDisallow: /\n".into()
        }
    }

    /// The `<link rel="canonical">` of the page at `path` (as the runtime gives it:
    /// percent-encoded, without its query), escaped for an attribute.
    pub fn link(&self, path: &str) -> String {
        let href = attribute(&format!("{}{path}", self.origin));
        format!(r#"<link rel="canonical" href="{href}">"#)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(s: &str) -> Host {
        Host::parse(s).unwrap()
    }

    #[test]
    fn the_primary_domain_is_canonical_else_the_platform_subdomain() {
        let slug = Slug::parse("nora").unwrap();
        let platform = host("coachplatform.com");
        let primary = host("coach.nora.com");
        let at = |h: &str, primary: Option<&Host>| {
            Canonical::of(&host(h), "https", primary, &slug, Some(&platform))
        };
        let on_primary = at("coach.nora.com", Some(&primary));
        assert_eq!(on_primary.origin, "https://coach.nora.com");
        assert!(on_primary.indexable);
        let on_subdomain = at("nora.coachplatform.com", Some(&primary));
        assert_eq!(on_subdomain.origin, "https://coach.nora.com");
        assert!(!on_subdomain.indexable);
        let no_domain = at("nora.coachplatform.com", None);
        assert_eq!(no_domain.origin, "https://nora.coachplatform.com");
        assert!(no_domain.indexable);
        let no_platform = Canonical::of(&host("coach.nora.com"), "http", None, &slug, None);
        assert!(no_platform.indexable);
    }

    #[test]
    fn robots_allow_the_canonical_host_only() {
        let canonical = |indexable| Canonical {
            origin: "https://coach.nora.com".into(),
            indexable,
        };
        assert_eq!(
            canonical(true).robots(),
            "User-agent: *\nAllow: /\n\nSitemap: https://coach.nora.com/sitemap.xml\n"
        );
        assert_eq!(canonical(false).robots(), "User-agent: *\nDisallow: /\n");
    }

    #[test]
    fn the_link_cannot_leave_its_attribute() {
        let canonical = Canonical {
            origin: "https://coach.nora.com".into(),
            indexable: true,
        };
        assert_eq!(
            canonical.link("/a&b/\"><script>"),
            r#"<link rel="canonical" href="https://coach.nora.com/a&amp;b/&quot;&gt;&lt;script&gt;">"#
        );
    }
}
