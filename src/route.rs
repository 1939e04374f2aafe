//! Matching a request's method and path to what the Worker does with it.
//!
//! `/_tenant/` is reserved for the Worker on every host; every other path is forwarded to the
//! app. The reservation holds for every spelling an origin server could read as `/_tenant/`
//! (other case, percent-encoding, doubled slashes, backslashes, `;` parameters, dot segments,
//! control characters, overlong UTF-8, fullwidth and look-alike forms: `crate::reserved`): such
//! paths are answered `not_found`, never forwarded. Matching validates path parameters, so
//! a [`Route`] carries typed keys and bad input is answered here, before any upstream request.

use crate::error::Error;
use crate::key::Lookup;
use crate::reserved::is_reserved;
use tenant_common::Host;
use tenant_common::CHALLENGE_PREFIX;
use tenant_common::{Slug, TenantId};

/// The path prefix reserved for the Worker.
pub const PREFIX: &str = "/_tenant/";

/// Methods the read-only routes answer.
pub const READ_METHODS: &str = "GET, HEAD, OPTIONS";
/// Methods the purge route answers.
pub const PURGE_METHODS: &str = "POST, OPTIONS";
/// Methods Cloudflare's ownership check answers.
const CHALLENGE_METHODS: &str = "GET, HEAD";

/// Which of a tenant's host-bound answers a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asset {
    /// The public tenant JSON.
    Json,
    /// `brand.css`: a `:root` rule of `--brand-*` custom properties.
    Css,
    /// The web app manifest.
    Manifest,
}

/// A JSON Schema of the brand contract, served as committed in `schema/`.
#[derive(Debug, PartialEq, Eq)]
pub struct Schema {
    pub name: &'static str,
    pub body: &'static str,
}

/// The schemas `/_tenant/schema/{name}` serves, so frontends can validate against the contract
/// the Worker enforces.
pub const SCHEMAS: &[Schema] = &[
    Schema {
        name: "brand-config.schema.json",
        body: include_str!("../schema/brand-config.schema.json"),
    },
    Schema {
        name: "tenant.schema.json",
        body: include_str!("../schema/tenant.schema.json"),
    },
];

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /_tenant/health`; `deep` also round-trips PostgREST.
    Health { deep: bool },
    /// `GET /_tenant/brand.json`, `brand.css` or `manifest.webmanifest`: the tenant of the
    /// request's own host, as JSON, as CSS custom properties, or as a web app manifest.
    Brand(Asset),
    /// `GET /_tenant/schema/{name}`: one of the brand contract's JSON Schemas.
    Schema(&'static Schema),
    /// `GET /_tenant/{slug|domain|id}/{key}`.
    Tenant(Lookup),
    /// `GET /_tenant/me`: the caller's own full profile.
    Me,
    /// `POST /_tenant/purge`.
    Purge,
    /// `OPTIONS` on a `/_tenant/` route: a CORS preflight, answered with the route's methods.
    Preflight { allow: &'static str },
    /// `GET /.well-known/cf-custom-hostname-challenge/{id}`: Cloudflare's HTTP ownership check
    /// of a custom hostname, answered from its `tenant_domains` row, never forwarded.
    Challenge,
    /// Anything outside `/_tenant/`: forwarded to the origin.
    Forward,
}

/// Matches `method` and `path` (without the query) to a route. `query` is the raw query string.
pub fn route(method: &str, path: &str, query: &str) -> Result<Route, Error> {
    if path.starts_with(CHALLENGE_PREFIX) {
        return match method {
            "GET" | "HEAD" => Ok(Route::Challenge),
            _ => Err(Error::MethodNotAllowed {
                allow: CHALLENGE_METHODS,
            }),
        };
    }
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return if is_reserved(path) {
            Err(Error::RouteNotFound)
        } else {
            Ok(Route::Forward)
        };
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let (route, allow) = match segments.as_slice() {
        ["health"] => (
            Route::Health {
                deep: is_deep(query),
            },
            READ_METHODS,
        ),
        ["brand.json"] => (Route::Brand(Asset::Json), READ_METHODS),
        ["brand.css"] => (Route::Brand(Asset::Css), READ_METHODS),
        ["manifest.webmanifest"] => (Route::Brand(Asset::Manifest), READ_METHODS),
        ["schema", name] => (
            Route::Schema(
                SCHEMAS
                    .iter()
                    .find(|s| s.name == *name)
                    .ok_or(Error::RouteNotFound)?,
            ),
            READ_METHODS,
        ),
        ["me"] => (Route::Me, READ_METHODS),
        ["purge"] => (Route::Purge, PURGE_METHODS),
        ["slug", key] => (Route::Tenant(Lookup::Slug(Slug::parse(key)?)), READ_METHODS),
        ["domain", key] => (
            Route::Tenant(Lookup::Domain(Host::parse_domain(key)?)),
            READ_METHODS,
        ),
        ["id", key] => (
            Route::Tenant(Lookup::Id(TenantId::parse(key)?)),
            READ_METHODS,
        ),
        _ => return Err(Error::RouteNotFound),
    };
    match method {
        "OPTIONS" => Ok(Route::Preflight { allow }),
        "GET" | "HEAD" if allow == READ_METHODS => Ok(route),
        "POST" if allow == PURGE_METHODS => Ok(route),
        _ => Err(Error::MethodNotAllowed { allow }),
    }
}

fn is_deep(query: &str) -> bool {
    query
        .split('&')
        .any(|pair| matches!(pair, "deep=1" | "deep=true" | "deep"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Result<Route, Error> {
        route("GET", path, "")
    }

    #[test]
    fn cloudflares_ownership_check_is_answered_here_and_never_forwarded() {
        for path in [
            "/.well-known/cf-custom-hostname-challenge/24a2b0d8-0c4b-4b3c-a5c4-1f3b8a1e2d3c",
            "/.well-known/cf-custom-hostname-challenge/",
            "/.well-known/cf-custom-hostname-challenge/x/y",
        ] {
            assert_eq!(get(path), Ok(Route::Challenge), "{path}");
            assert_eq!(route("HEAD", path, ""), Ok(Route::Challenge));
            assert!(matches!(
                route("POST", path, ""),
                Err(Error::MethodNotAllowed { .. })
            ));
        }
        assert_eq!(
            get("/.well-known/acme-challenge/x"),
            Ok(Route::Forward),
            "other well-known paths are the app's"
        );
    }

    #[test]
    fn health_is_shallow_unless_asked() {
        assert_eq!(get("/_tenant/health"), Ok(Route::Health { deep: false }));
        assert_eq!(
            route("GET", "/_tenant/health", "deep=1"),
            Ok(Route::Health { deep: true })
        );
    }

    #[test]
    fn tenant_routes_carry_validated_keys() {
        assert!(
            matches!(get("/_tenant/slug/Acme"), Ok(Route::Tenant(Lookup::Slug(s))) if s.as_str() == "acme")
        );
        assert!(matches!(
            get("/_tenant/domain/coach.example.com"),
            Ok(Route::Tenant(Lookup::Domain(_)))
        ));
        assert_eq!(get("/_tenant/slug/a_b").unwrap_err().code(), "invalid_slug");
        assert_eq!(get("/_tenant/slug/").unwrap_err().code(), "invalid_slug");
        assert_eq!(
            get("/_tenant/domain/127.0.0.1").unwrap_err().code(),
            "invalid_domain"
        );
        assert_eq!(get("/_tenant/id/42").unwrap_err().code(), "invalid_id");
    }

    #[test]
    fn a_host_has_three_brand_answers_and_the_contract_two_schemas() {
        assert_eq!(get("/_tenant/brand.css"), Ok(Route::Brand(Asset::Css)));
        assert_eq!(
            get("/_tenant/manifest.webmanifest"),
            Ok(Route::Brand(Asset::Manifest))
        );
        for name in ["brand-config.schema.json", "tenant.schema.json"] {
            match get(&format!("/_tenant/schema/{name}")) {
                Ok(Route::Schema(schema)) => {
                    let v: serde_json::Value = serde_json::from_str(schema.body).unwrap();
                    assert!(v["$schema"].as_str().unwrap().contains("2020-12"));
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        assert_eq!(
            get("/_tenant/schema/nope.json").unwrap_err().code(),
            "not_found"
        );
    }

    #[test]
    fn unknown_tenant_paths_are_not_forwarded() {
        for path in [
            "/_tenant",
            "/_tenant/",
            "/_tenant/nope",
            "/_tenant/slug/a/b",
            "/_tenant/slug",
            "/_tenant/health/x",
        ] {
            assert_eq!(get(path).unwrap_err().code(), "not_found", "{path}");
        }
    }

    #[test]
    fn everything_else_is_forwarded() {
        for path in [
            "/",
            "/dashboard",
            "/_tenantx",
            "/_tenant.json",
            "/a/_tenant/health",
            "/%5Ftenantx/",
            "/tenant/health",
        ] {
            assert_eq!(route("DELETE", path, ""), Ok(Route::Forward), "{path}");
        }
    }

    #[test]
    fn every_spelling_of_the_reserved_prefix_is_reserved() {
        for path in [
            "/_TENANT/health",
            "/_Tenant/slug/acme",
            "/%5Ftenant/health",
            "/%5ftenant/",
            "/%5F%74%65%6E%61%6E%74/purge",
            "/%255Ftenant/health",
            "/%25255Ftenant/health",
            "//_tenant/health",
            "/./_tenant/health",
            "/x/../_tenant/health",
            "/x/%2e%2e/_tenant/health",
            "/\\_tenant/health",
            "/_tenant;jsessionid=1/health",
            "/_tenant./health",
            "/_tenant%20/health",
            "/%2F_tenant/health",
            "/_TENANT",
            "/_tenant/%FF",
        ] {
            assert_eq!(
                route("GET", path, "").unwrap_err().code(),
                "not_found",
                "{path}"
            );
        }
    }

    #[test]
    fn methods_are_checked_per_route() {
        assert_eq!(
            route("HEAD", "/_tenant/brand.json", ""),
            Ok(Route::Brand(Asset::Json))
        );
        assert_eq!(
            route("OPTIONS", "/_tenant/me", ""),
            Ok(Route::Preflight {
                allow: READ_METHODS
            })
        );
        assert_eq!(route("POST", "/_tenant/purge", ""), Ok(Route::Purge));
        assert_eq!(
            route("POST", "/_tenant/brand.json", ""),
            Err(Error::MethodNotAllowed {
                allow: READ_METHODS
            })
        );
        assert_eq!(
            route("GET", "/_tenant/purge", ""),
            Err(Error::MethodNotAllowed {
                allow: PURGE_METHODS
            })
        );
    }

    #[test]
    fn bad_keys_are_reported_before_bad_methods() {
        assert_eq!(
            route("DELETE", "/_tenant/slug/-x-", "").unwrap_err().code(),
            "invalid_slug"
        );
    }
}
