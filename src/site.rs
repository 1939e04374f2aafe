//! What a request's host is: the platform itself, a tenant (by platform subdomain or custom
//! domain), or nothing we serve.

use crate::key::Lookup;
use tenant_common::Host;
use tenant_common::Slug;

/// The meaning of a request's host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Site {
    /// The platform's apex or `www`: not a tenant; traffic is forwarded without tenant headers.
    Platform,
    /// A host that may belong to a tenant, found by this lookup.
    Tenant(Lookup),
    /// A host no tenant can have (a single label such as `localhost`, or a platform subdomain
    /// that is not a valid slug): answered without asking the database.
    Unknown,
}

/// What a request's host comes to once its tenant is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution<T> {
    /// The platform's own host: no tenant.
    Platform,
    /// A tenant's host, found by this lookup.
    Tenant(T, Lookup),
    /// `www.<d>` where `<d>` is one of a tenant's active domains: redirect to its primary.
    Redirect(Host),
}

/// What to look up when a host's own lookup found no tenant and no row claims it: `www.<d>` may
/// be the `www` of one of a tenant's domains `<d>`, which answers with a redirect to the
/// tenant's primary domain ([`www_target`]).
pub fn www_fallback(host: &Host) -> Option<(Lookup, Host)> {
    let apex = host.without_www()?;
    Some((Lookup::Domain(apex.clone()), apex))
}

/// Where `www.<apex>` redirects, `<apex>` being a domain of a tenant whose primary domain is
/// `primary`: straight to the primary, in one hop (not `www` → apex → primary).
pub fn www_target(apex: Host, primary: Option<&Host>) -> Host {
    primary.cloned().unwrap_or(apex)
}

/// Where a page request (anything forwarded) on `host`, which found its tenant by `lookup`, is
/// redirected, if anywhere: from an active domain that is not the tenant's `primary`, to the
/// primary; from the tenant's platform subdomain, to the primary when `to_primary`
/// (`REDIRECT_TO_PRIMARY_DOMAIN`). The target always comes from the database, never from the
/// request. `/_tenant/` routes are never redirected this way.
pub fn page_redirect(
    lookup: &Lookup,
    host: &Host,
    primary: Option<&Host>,
    to_primary: bool,
) -> Option<Host> {
    let primary = primary?;
    match lookup {
        Lookup::Domain(_) if primary != host => Some(primary.clone()),
        Lookup::Slug(_) if to_primary => Some(primary.clone()),
        _ => None,
    }
}

/// Classifies `host` given the configured `PLATFORM_DOMAIN` (`None`: subdomain routing off).
pub fn classify(host: &Host, platform: Option<&Host>) -> Site {
    if let Some(platform) = platform {
        if host == platform || host.subdomain_of(platform) == Some("www") {
            return Site::Platform;
        }
        if let Some(label) = host.subdomain_of(platform) {
            return Slug::parse(label)
                .map_or(Site::Unknown, |slug| Site::Tenant(Lookup::Slug(slug)));
        }
    }
    // A valid host with two labels or more is a valid custom domain.
    if host.as_str().contains('.') {
        Site::Tenant(Lookup::Domain(host.clone()))
    } else {
        Site::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(host: &str, platform: Option<&str>) -> Site {
        let platform = platform.map(|p| Host::parse(p).unwrap());
        classify(&Host::parse(host).unwrap(), platform.as_ref())
    }

    fn slug(s: &str) -> Site {
        Site::Tenant(Lookup::Slug(Slug::parse(s).unwrap()))
    }

    fn domain(d: &str) -> Site {
        Site::Tenant(Lookup::Domain(Host::parse_domain(d).unwrap()))
    }

    impl Site {
        fn lookup(self) -> Lookup {
            match self {
                Site::Tenant(lookup) => lookup,
                other => panic!("{other:?} is no tenant"),
            }
        }
    }

    #[test]
    fn platform_apex_and_www_are_not_tenants() {
        assert_eq!(
            site("coachplatform.com", Some("coachplatform.com")),
            Site::Platform
        );
        assert_eq!(
            site("www.coachplatform.com", Some("coachplatform.com")),
            Site::Platform
        );
    }

    #[test]
    fn platform_subdomains_resolve_by_slug() {
        assert_eq!(
            site("Acme.CoachPlatform.com", Some("coachplatform.com")),
            slug("acme")
        );
        assert_eq!(
            site("ab.coachplatform.com", Some("coachplatform.com")),
            Site::Unknown
        );
    }

    #[test]
    fn other_hosts_resolve_by_custom_domain() {
        assert_eq!(
            site("coach.leadingwithmeaning.com", Some("coachplatform.com")),
            domain("coach.leadingwithmeaning.com")
        );
        assert_eq!(
            site("coach.leadingwithmeaning.com", None),
            domain("coach.leadingwithmeaning.com")
        );
        assert_eq!(
            site("acme.coachplatform.com", None),
            domain("acme.coachplatform.com")
        );
    }

    #[test]
    fn a_www_host_falls_back_to_its_apex_domain() {
        let (lookup, apex) = www_fallback(&Host::parse("www.coach.example.com").unwrap()).unwrap();
        assert_eq!(lookup, domain("coach.example.com").lookup());
        assert_eq!(apex.as_str(), "coach.example.com");
        assert_eq!(
            www_fallback(&Host::parse("coach.example.com").unwrap()),
            None
        );
        assert_eq!(www_fallback(&Host::parse("www.com").unwrap()), None);
    }

    #[test]
    fn www_of_any_domain_goes_to_the_primary_in_one_hop() {
        let primary = Host::parse_domain("coach.new.com").unwrap();
        let apex = Host::parse_domain("coach.old.com").unwrap();
        assert_eq!(www_target(apex.clone(), Some(&primary)), primary);
        assert_eq!(www_target(apex.clone(), None), apex);
    }

    #[test]
    fn page_requests_on_an_alias_go_to_the_primary() {
        let primary = Host::parse_domain("coach.new.com").unwrap();
        let alias = Host::parse_domain("coach.old.com").unwrap();
        let by = |h: &Host| Lookup::Domain(h.clone());
        assert_eq!(
            page_redirect(&by(&alias), &alias, Some(&primary), false),
            Some(primary.clone())
        );
        assert_eq!(
            page_redirect(&by(&primary), &primary, Some(&primary), true),
            None,
            "the primary itself is served"
        );
    }

    #[test]
    fn platform_subdomains_go_to_the_primary_only_when_asked() {
        let primary = Host::parse_domain("coach.new.com").unwrap();
        let sub = Host::parse("acme.coachplatform.com").unwrap();
        let by_slug = Lookup::Slug(Slug::parse("acme").unwrap());
        assert_eq!(
            page_redirect(&by_slug, &sub, Some(&primary), true),
            Some(primary.clone())
        );
        assert_eq!(page_redirect(&by_slug, &sub, Some(&primary), false), None);
        assert_eq!(
            page_redirect(&by_slug, &sub, None, true),
            None,
            "no custom domain: stays"
        );
    }

    #[test]
    fn single_labels_are_unknown() {
        assert_eq!(site("localhost", None), Site::Unknown);
    }

    #[test]
    fn localhost_can_be_the_platform() {
        assert_eq!(site("localhost:8787", Some("localhost")), Site::Platform);
        assert_eq!(site("www.localhost", Some("localhost")), Site::Platform);
        assert_eq!(site("acme.localhost", Some("localhost")), slug("acme"));
        assert_eq!(
            site("coach.northstar.localhost", Some("localhost")),
            domain("coach.northstar.localhost")
        );
    }

    #[test]
    fn deeper_platform_subdomains_are_looked_up_as_domains() {
        assert_eq!(
            site("a.b.coachplatform.com", Some("coachplatform.com")),
            domain("a.b.coachplatform.com")
        );
    }
}
