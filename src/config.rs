//! The Worker's settings, read from `[vars]` and secrets and validated once per isolate (the
//! glue keeps them: an isolate's environment never changes).
//!
//! Parsing is pure: [`Config::from_lookup`] takes a function that returns a setting by name, so
//! tests pass a map and the Worker passes its `Env`. A missing or malformed setting is an
//! [`Error::Misconfigured`] naming the setting (never its value): every request then answers
//! 500 `misconfigured` instead of panicking or half-working.

use crate::cache::{
    CacheControl, Policy, DEFAULT_CHANGES_POLL_SECONDS, DEFAULT_FAILING_TTL_SECONDS,
    DEFAULT_MEMORY_ENTRIES, DEFAULT_NEGATIVE_TTL_SECONDS, DEFAULT_STALE_SECONDS,
    DEFAULT_TTL_SECONDS, DEFAULT_TTL_SECONDS_WITHOUT_FEED,
};

use crate::error::{Error, Setting};
use crate::signature;
use tenant_common::{http_url, platform_domain, rest_url, ApiKey, Host, KeyKind};

/// Default for `UPSTREAM_TIMEOUT_MS`.
pub const DEFAULT_UPSTREAM_TIMEOUT_MS: u32 = 3000;
/// Largest `UPSTREAM_TIMEOUT_MS` accepted: past this a client has long given up.
const MAX_UPSTREAM_TIMEOUT_MS: u32 = 60_000;
/// Default for `ORIGIN_TIMEOUT_MS`: an app that has not begun its answer by then is failing,
/// and the time includes the upload of a request's body, which a slow client takes long over.
pub const DEFAULT_ORIGIN_TIMEOUT_MS: u32 = 30_000;
/// Largest `ORIGIN_TIMEOUT_MS` accepted: Cloudflare's own proxy gives an origin 100 s before
/// answering 524.
const MAX_ORIGIN_TIMEOUT_MS: u32 = 100_000;
/// Largest cache lifetime accepted (a year), so sums of lifetimes cannot overflow.
const MAX_CACHE_SECONDS: u32 = 31_536_000;
/// Largest `CHANGES_POLL_SECONDS` accepted: past an hour the TTL backstop would decide anyway.
const MAX_CHANGES_POLL_SECONDS: u32 = 3600;
/// Shortest `PURGE_TOKEN` accepted: a guessable token would let anyone empty the cache.
const MIN_PURGE_TOKEN_LEN: usize = 16;

/// Validated settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// PostgREST base URL without a trailing slash (`{SUPABASE_URL}/rest/v1` by default).
    pub rest_url: String,
    /// The setting `rest_url` came from (`SUPABASE_REST_URL` or `SUPABASE_URL`), named when
    /// PostgREST's answers show the URL is wrong.
    pub rest_url_setting: Setting,
    /// The anon (or publishable) key. Never a service-role or secret key.
    pub anon_key: ApiKey,
    /// `<slug>.PLATFORM_DOMAIN` resolves by slug; `None` turns subdomain routing off.
    pub platform_domain: Option<Host>,
    /// Where tenant traffic is forwarded, without a trailing slash; `None` turns forwarding off.
    pub origin_url: Option<String>,
    /// Timeout for every PostgREST request.
    pub upstream_timeout_ms: u32,
    /// How long the origin has to begin its answer to a forwarded request (its headers).
    pub origin_timeout_ms: u32,
    /// Cache lifetimes and the memory tier's size.
    pub cache: Policy,
    /// The bearer token `POST /_tenant/purge` requires; `None` turns purging off.
    pub purge_token: Option<String>,
    /// Whether forwarded HTML of a tenant host gets the tenant's branding in its `<head>`.
    pub inject_branding: bool,
    /// Whether page requests on a tenant's platform subdomain are redirected to its primary
    /// custom domain, when it has one (`REDIRECT_TO_PRIMARY_DOMAIN`).
    pub redirect_to_primary: bool,
    /// The secret forwarded requests are signed with (`ORIGIN_SIGNING_SECRET`); `None`: unsigned.
    pub signing_secret: Option<String>,
    /// The secret preview tokens are signed with (`PREVIEW_SIGNING_SECRET`, shared with the
    /// control plane, `crate::preview`); `None`: previews off, every visitor sees the published
    /// brand.
    pub preview_secret: Option<String>,
    /// The `Cache-Control` values of tenant answers under `cache`.
    pub cache_control: CacheControl,
}

impl Config {
    /// Reads and validates every setting. `get` returns a setting's value by name; empty
    /// values count as unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, Error> {
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let rest_url = rest_url(get)?;
        let rest_url_setting = match get("SUPABASE_REST_URL") {
            Some(_) => Setting::RestUrl,
            None => Setting::Url,
        };
        let anon_key = anon_key(get("SUPABASE_ANON_KEY"))?;
        let platform_domain = get("PLATFORM_DOMAIN")
            .map(|d| platform_domain(&d))
            .transpose()?;
        let origin_url = get("ORIGIN_URL")
            .map(|u| http_url("ORIGIN_URL", &u))
            .transpose()?;
        let number = |name: &'static str, default: u32, max: u32| match get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or(misconfigured(name, "must be a whole number in range")),
        };
        let timeout = |name: &'static str, default: u32, max: u32| match number(name, default, max)
        {
            Ok(0) => Err(misconfigured(name, "must be a whole number in range")),
            other => other,
        };
        let upstream_timeout_ms = timeout(
            "UPSTREAM_TIMEOUT_MS",
            DEFAULT_UPSTREAM_TIMEOUT_MS,
            MAX_UPSTREAM_TIMEOUT_MS,
        )?;
        let origin_timeout_ms = timeout(
            "ORIGIN_TIMEOUT_MS",
            DEFAULT_ORIGIN_TIMEOUT_MS,
            MAX_ORIGIN_TIMEOUT_MS,
        )?;
        let memory_entries =
            number("CACHE_MEMORY_ENTRIES", DEFAULT_MEMORY_ENTRIES, 1_000_000)?.max(1);
        let changes_poll_s = number(
            "CHANGES_POLL_SECONDS",
            DEFAULT_CHANGES_POLL_SECONDS,
            MAX_CHANGES_POLL_SECONDS,
        )?;
        let default_ttl = if changes_poll_s > 0 {
            DEFAULT_TTL_SECONDS
        } else {
            DEFAULT_TTL_SECONDS_WITHOUT_FEED
        };
        let cache = Policy {
            ttl_s: number("CACHE_TTL_SECONDS", default_ttl, MAX_CACHE_SECONDS)?,
            stale_s: number(
                "CACHE_STALE_SECONDS",
                DEFAULT_STALE_SECONDS,
                MAX_CACHE_SECONDS,
            )?,
            negative_ttl_s: number(
                "NEGATIVE_TTL_SECONDS",
                DEFAULT_NEGATIVE_TTL_SECONDS,
                MAX_CACHE_SECONDS,
            )?,
            memory_entries: memory_entries as usize,
            changes_poll_s,
            failing_ttl_s: 0,
        };
        let failing_ttl_s = number(
            "CHANGES_FAILING_TTL_SECONDS",
            DEFAULT_FAILING_TTL_SECONDS,
            MAX_CACHE_SECONDS,
        )?;
        if failing_ttl_s == 0 {
            return Err(misconfigured(
                "CHANGES_FAILING_TTL_SECONDS",
                "must be a whole number in range",
            ));
        }
        let cache = Policy {
            failing_ttl_s: failing_ttl_s.min(cache.ttl_s),
            ..cache
        };
        let purge_token = get("PURGE_TOKEN");
        if purge_token
            .as_ref()
            .is_some_and(|t| t.len() < MIN_PURGE_TOKEN_LEN)
        {
            return Err(misconfigured(
                "PURGE_TOKEN",
                "must be at least 16 characters",
            ));
        }
        let flag =
            |name: &'static str, default: bool| match get(name).map(|v| v.to_ascii_lowercase()) {
                None => Ok(default),
                Some(v) if v == "true" || v == "1" => Ok(true),
                Some(v) if v == "false" || v == "0" => Ok(false),
                Some(_) => Err(misconfigured(name, "must be true or false")),
            };
        let inject_branding = flag("INJECT_BRANDING", true)?;
        let redirect_to_primary = flag("REDIRECT_TO_PRIMARY_DOMAIN", false)?;
        let secret = |name| match get(name) {
            Some(s) if s.len() < signature::MIN_SECRET_LEN => {
                Err(misconfigured(name, "must be at least 32 bytes"))
            }
            s => Ok(s),
        };
        let signing_secret = secret("ORIGIN_SIGNING_SECRET")?;
        let preview_secret = secret("PREVIEW_SIGNING_SECRET")?;
        Ok(Config {
            rest_url,
            rest_url_setting,
            anon_key,
            platform_domain,
            origin_url,
            upstream_timeout_ms,
            origin_timeout_ms,
            cache,
            purge_token,
            inject_branding,
            redirect_to_primary,
            signing_secret,
            preview_secret,
            cache_control: CacheControl::new(cache),
        })
    }
}

fn misconfigured(setting: &'static str, problem: &'static str) -> Error {
    Error::Misconfigured { setting, problem }
}

/// Accepts a publishable key or a legacy JWT whose `role` claim is `anon`. Anything that could
/// bypass row-level security (a service-role JWT, an `sb_secret_` key) is refused outright.
fn anon_key(value: Option<String>) -> Result<ApiKey, Error> {
    const NAME: &str = "SUPABASE_ANON_KEY";
    let key = value.ok_or(misconfigured(NAME, "is not set"))?;
    match KeyKind::of(&key) {
        KeyKind::AnonJwt => Ok(ApiKey::Jwt(key)),
        KeyKind::Publishable => Ok(ApiKey::Opaque(key)),
        KeyKind::Secret => Err(misconfigured(
            NAME,
            "is a secret key: use the anon or publishable key",
        )),
        KeyKind::ServiceJwt | KeyKind::OtherJwt => Err(misconfigured(
            NAME,
            "is not an anon key: the worker must never hold a privileged key",
        )),
        KeyKind::Other => Err(misconfigured(
            NAME,
            "is neither an anon JWT nor an sb_publishable_ key",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use std::collections::HashMap;

    fn jwt(role: &str) -> String {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.sig",
            enc(r#"{"alg":"HS256"}"#),
            enc(&format!(r#"{{"role":"{role}"}}"#))
        )
    }

    fn config(pairs: &[(&str, &str)]) -> Result<Config, Error> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    fn setting_of(e: Error) -> &'static str {
        match e {
            Error::Misconfigured { setting, .. } => setting,
            other => panic!("expected misconfigured, got {other:?}"),
        }
    }

    #[test]
    fn rest_url_defaults_under_the_project_url() {
        let anon = jwt("anon");
        let c = config(&[
            ("SUPABASE_URL", "https://abc.supabase.co/"),
            ("SUPABASE_ANON_KEY", &anon),
        ])
        .unwrap();
        assert_eq!(c.rest_url, "https://abc.supabase.co/rest/v1");
        assert_eq!(c.upstream_timeout_ms, 3000);
        assert_eq!(c.origin_timeout_ms, DEFAULT_ORIGIN_TIMEOUT_MS);
        assert_eq!(c.platform_domain, None);
        assert_eq!(c.origin_url, None);
        assert_eq!(c.anon_key.bearer(), Some(anon.as_str()));
    }

    #[test]
    fn supabase_url_is_the_project_url_without_a_path() {
        let anon = jwt("anon");
        for url in [
            "https://abc.supabase.co/rest/v1",
            "https://abc.supabase.co/rest/v1/",
            "https://supabase.com/dashboard/project/abc",
            "http://127.0.0.1:54321/x",
        ] {
            let e = config(&[("SUPABASE_URL", url), ("SUPABASE_ANON_KEY", &anon)]).unwrap_err();
            assert!(
                e.message()
                    .contains("must be the project URL, without /rest/v1"),
                "{url}: {e}"
            );
            assert!(
                !e.message().contains(url),
                "the message must not echo the value"
            );
            assert_eq!(setting_of(e), "SUPABASE_URL", "{url}");
        }
        for (url, rest) in [
            (
                "https://abc.supabase.co/",
                "https://abc.supabase.co/rest/v1",
            ),
            ("http://127.0.0.1:54321", "http://127.0.0.1:54321/rest/v1"),
        ] {
            let c = config(&[("SUPABASE_URL", url), ("SUPABASE_ANON_KEY", &anon)]).unwrap();
            assert_eq!(
                (c.rest_url.as_str(), c.rest_url_setting),
                (rest, Setting::Url)
            );
        }
        let c = config(&[
            ("SUPABASE_URL", "https://abc.supabase.co/rest/v1"),
            ("SUPABASE_REST_URL", "https://abc.supabase.co/rest/v1"),
            ("SUPABASE_ANON_KEY", &anon),
        ])
        .unwrap();
        assert_eq!(
            c.rest_url_setting,
            Setting::RestUrl,
            "the override is used, and named"
        );
    }

    #[test]
    fn rest_url_override_wins() {
        let anon = jwt("anon");
        let c = config(&[
            ("SUPABASE_URL", "https://abc.supabase.co"),
            ("SUPABASE_REST_URL", "http://127.0.0.1:3000"),
            ("SUPABASE_ANON_KEY", &anon),
        ])
        .unwrap();
        assert_eq!(c.rest_url, "http://127.0.0.1:3000");
    }

    #[test]
    fn missing_url_and_key_are_named() {
        assert_eq!(setting_of(config(&[]).unwrap_err()), "SUPABASE_URL");
        assert_eq!(
            setting_of(config(&[("SUPABASE_URL", "https://x.co")]).unwrap_err()),
            "SUPABASE_ANON_KEY"
        );
        assert_eq!(
            setting_of(
                config(&[("SUPABASE_URL", "ftp://x.co"), ("SUPABASE_ANON_KEY", "k")]).unwrap_err()
            ),
            "SUPABASE_URL"
        );
    }

    #[test]
    fn publishable_keys_send_no_bearer() {
        let c = config(&[
            ("SUPABASE_URL", "https://x.co"),
            ("SUPABASE_ANON_KEY", "sb_publishable_abc"),
        ])
        .unwrap();
        assert_eq!(c.anon_key, ApiKey::Opaque("sb_publishable_abc".into()));
        assert_eq!(c.anon_key.bearer(), None);
    }

    #[test]
    fn privileged_keys_are_refused() {
        for key in [
            jwt("service_role"),
            "sb_secret_abc".to_string(),
            "not-a-jwt".to_string(),
        ] {
            let e = config(&[
                ("SUPABASE_URL", "https://x.co"),
                ("SUPABASE_ANON_KEY", &key),
            ])
            .unwrap_err();
            assert!(
                !e.message().contains(&key),
                "the message must not echo the key"
            );
            assert_eq!(setting_of(e), "SUPABASE_ANON_KEY");
        }
    }

    #[test]
    fn malformed_optional_settings_are_named() {
        let anon = jwt("anon");
        let base = [
            ("SUPABASE_URL", "https://x.co"),
            ("SUPABASE_ANON_KEY", anon.as_str()),
        ];
        for (name, value) in [
            ("UPSTREAM_TIMEOUT_MS", "soon"),
            ("UPSTREAM_TIMEOUT_MS", "0"),
            ("ORIGIN_TIMEOUT_MS", "0"),
            ("ORIGIN_TIMEOUT_MS", "100001"),
            ("ORIGIN_TIMEOUT_MS", "10s"),
            ("INJECT_BRANDING", "sometimes"),
            ("REDIRECT_TO_PRIMARY_DOMAIN", "yes"),
            ("ORIGIN_SIGNING_SECRET", "too-short-a-secret-31-bytes-xxx"),
            ("PREVIEW_SIGNING_SECRET", "too-short-a-secret-31-bytes-xxx"),
            ("PLATFORM_DOMAIN", "not a domain"),
            ("ORIGIN_URL", "app.example.com"),
        ] {
            let mut pairs = base.to_vec();
            pairs.push((name, value));
            assert_eq!(
                setting_of(config(&pairs).unwrap_err()),
                name,
                "{name}={value}"
            );
        }
    }

    #[test]
    fn optional_settings_parse() {
        let anon = jwt("anon");
        let c = config(&[
            ("SUPABASE_URL", "https://x.co"),
            ("SUPABASE_ANON_KEY", &anon),
            ("PLATFORM_DOMAIN", "CoachPlatform.com"),
            ("ORIGIN_URL", "https://app.example.com/"),
            ("UPSTREAM_TIMEOUT_MS", "250"),
            ("ORIGIN_TIMEOUT_MS", "100000"),
            ("INJECT_BRANDING", "FALSE"),
            ("REDIRECT_TO_PRIMARY_DOMAIN", "true"),
        ])
        .unwrap();
        assert!(!c.inject_branding);
        assert!(c.redirect_to_primary);
        assert_eq!(c.signing_secret, None, "unsigned unless a secret is set");
        let secret = "a-signing-secret-of-thirty-two-b";
        let signed = config(&[
            ("SUPABASE_URL", "https://x.co"),
            ("SUPABASE_ANON_KEY", &anon),
            ("ORIGIN_SIGNING_SECRET", secret),
        ])
        .unwrap();
        assert_eq!(signed.signing_secret.as_deref(), Some(secret));
        assert_eq!(c.preview_secret, None, "no previews unless a secret is set");
        assert_eq!(c.platform_domain.unwrap().as_str(), "coachplatform.com");
        assert_eq!(c.origin_url.as_deref(), Some("https://app.example.com"));
        assert_eq!(c.upstream_timeout_ms, 250);
        assert_eq!(c.origin_timeout_ms, 100_000);
    }

    #[test]
    fn localhost_is_the_one_single_label_platform_domain() {
        let anon = jwt("anon");
        let platform = |value: &str| {
            config(&[
                ("SUPABASE_URL", "https://x.co"),
                ("SUPABASE_ANON_KEY", &anon),
                ("PLATFORM_DOMAIN", value),
            ])
            .map(|c| c.platform_domain.unwrap().to_string())
        };
        assert_eq!(platform("localhost").unwrap(), "localhost");
        assert_eq!(platform("LocalHost.").unwrap(), "localhost");
        for bad in ["intranet", "localhost:8787", "127.0.0.1", "local host"] {
            assert_eq!(
                setting_of(platform(bad).unwrap_err()),
                "PLATFORM_DOMAIN",
                "{bad}"
            );
        }
    }

    #[test]
    fn cache_settings_default_and_parse() {
        let anon = jwt("anon");
        let c = config(&[
            ("SUPABASE_URL", "https://x.co"),
            ("SUPABASE_ANON_KEY", &anon),
        ])
        .unwrap();
        assert_eq!(c.cache, Policy::default());
        assert_eq!(c.purge_token, None);
        assert!(c.inject_branding, "branding is injected unless turned off");
        assert!(
            !c.redirect_to_primary,
            "platform subdomains serve unless asked to redirect"
        );
        let c = config(&[
            ("SUPABASE_URL", "https://x.co"),
            ("SUPABASE_ANON_KEY", &anon),
            ("CACHE_TTL_SECONDS", "2"),
            ("CACHE_STALE_SECONDS", "0"),
            ("NEGATIVE_TTL_SECONDS", "5"),
            ("CACHE_MEMORY_ENTRIES", "50"),
            ("PURGE_TOKEN", "0123456789abcdef"),
        ])
        .unwrap();
        assert_eq!(
            c.cache,
            Policy {
                ttl_s: 2,
                stale_s: 0,
                negative_ttl_s: 5,
                memory_entries: 50,
                changes_poll_s: 5,
                failing_ttl_s: 2,
            }
        );
        assert_eq!(c.purge_token.as_deref(), Some("0123456789abcdef"));
    }

    #[test]
    fn the_ttl_is_a_backstop_with_the_feed_on_and_the_bound_without_it() {
        let anon = jwt("anon");
        let policy = |poll: &str| {
            config(&[
                ("SUPABASE_URL", "https://x.co"),
                ("SUPABASE_ANON_KEY", &anon),
                ("CHANGES_POLL_SECONDS", poll),
            ])
            .map(|c| (c.cache.changes_poll_s, c.cache.ttl_s))
        };
        assert_eq!(policy("").unwrap(), (5, 3600));
        assert_eq!(policy("1").unwrap(), (1, 3600));
        assert_eq!(
            policy("0").unwrap(),
            (0, 60),
            "the feed off: TTLs alone, as before"
        );
        for bad in ["-1", "soon", "3601"] {
            assert_eq!(setting_of(policy(bad).unwrap_err()), "CHANGES_POLL_SECONDS");
        }
    }

    #[test]
    fn the_failing_ttl_defaults_to_the_feed_off_ttl_and_never_exceeds_the_ttl() {
        let anon = jwt("anon");
        let failing_ttl = |pairs: &[(&str, &str)]| {
            let mut all = vec![
                ("SUPABASE_URL", "https://x.co"),
                ("SUPABASE_ANON_KEY", &anon),
            ];
            all.extend_from_slice(pairs);
            config(&all).map(|c| c.cache.failing_ttl_s)
        };
        assert_eq!(failing_ttl(&[]).unwrap(), 60);
        assert_eq!(
            failing_ttl(&[("CHANGES_FAILING_TTL_SECONDS", "15")]).unwrap(),
            15
        );
        assert_eq!(
            failing_ttl(&[("CACHE_TTL_SECONDS", "10")]).unwrap(),
            10,
            "capped by CACHE_TTL_SECONDS"
        );
        for bad in ["0", "-5", "a minute"] {
            assert_eq!(
                setting_of(failing_ttl(&[("CHANGES_FAILING_TTL_SECONDS", bad)]).unwrap_err()),
                "CHANGES_FAILING_TTL_SECONDS"
            );
        }
    }
}
