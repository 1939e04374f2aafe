//! The settings both Workers read the same way: URLs and the platform's domain. A setting that
//! is missing or malformed is a [`Misconfigured`] naming it, never echoing its value.

use crate::error::Misconfigured;
use crate::host::Host;

#[inline]
fn misconfigured(setting: &'static str, problem: &'static str) -> Misconfigured {
    Misconfigured { setting, problem }
}

/// PostgREST's base URL: `SUPABASE_REST_URL`, else `{SUPABASE_URL}/rest/v1`, without a
/// trailing slash. Both Workers read their PostgREST this way. `get` returns a setting, `None`
/// when unset or empty. `SUPABASE_URL` is the project URL, an origin: one with a path
/// (`/rest/v1` pasted on, the dashboard's page of the project) is refused here, before any
/// request could be sent to a URL that cannot work.
#[inline]
pub fn rest_url(get: impl Fn(&str) -> Option<String>) -> Result<String, Misconfigured> {
    match (get("SUPABASE_REST_URL"), get("SUPABASE_URL")) {
        (Some(rest), _) => http_url("SUPABASE_REST_URL", &rest),
        (None, Some(project)) => {
            let project = http_url("SUPABASE_URL", &project)?;
            // `scheme:`, ``, the authority, then a path if there is one.
            if project.split('/').nth(3).is_some() {
                return Err(misconfigured(
                    "SUPABASE_URL",
                    "must be the project URL, without /rest/v1 or any other path",
                ));
            }
            Ok(format!("{project}/rest/v1"))
        }
        (None, None) => Err(misconfigured(
            "SUPABASE_URL",
            "is not set (nor SUPABASE_REST_URL)",
        )),
    }
}

/// An absolute http(s) URL, returned without its trailing slash.
#[inline]
pub fn http_url(setting: &'static str, value: &str) -> Result<String, Misconfigured> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or(misconfigured(setting, "must be an http(s) URL"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let clean = |c: char| c.is_ascii_alphanumeric() || "-._~:/%[]".contains(c);
    if authority.is_empty() || !value.chars().all(clean) || value.contains("/../") {
        return Err(misconfigured(setting, "must be an http(s) URL"));
    }
    Ok(value.trim_end_matches('/').to_string())
}

/// `PLATFORM_DOMAIN`: a domain, or `localhost`: the one single-label name (RFC 6761) browsers
/// resolve for every subdomain, so `<slug>.localhost` works in a browser with no DNS setup. Both
/// Workers read their setting of that name through this, so they agree.
#[inline]
pub fn platform_domain(value: &str) -> Result<Host, Misconfigured> {
    Host::parse_domain(value)
        .or_else(|_| {
            Host::parse(value).map_err(|_| ()).and_then(|h| {
                if h.as_str() == "localhost" && !value.contains(':') {
                    Ok(h)
                } else {
                    Err(())
                }
            })
        })
        .map_err(|_| misconfigured("PLATFORM_DOMAIN", "is not a domain (or localhost)"))
}
