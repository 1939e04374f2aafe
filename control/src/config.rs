//! The control plane's settings, read from `[vars]` and secrets and validated once per isolate.
//!
//! Parsing is pure: [`Config::from_lookup`] takes a function that returns a setting by name.
//! A missing or malformed setting is an [`Error::Misconfigured`] naming it (never its value):
//! every request then answers 500 `misconfigured` and the cron does nothing.
//!
//! The control plane is the resolver's opposite: it must hold the service-role key (it writes
//! what owners may not) and refuses the anon or publishable key there, while the key it sends
//! beside a coach's own token must never be a privileged one.

use tenant_common::{ApiKey, Host, KeyKind};

use crate::domain::{DomainRow, DomainView};
use crate::error::Error;

/// Default for `CLOUDFLARE_API_BASE`.
pub const DEFAULT_CLOUDFLARE_API_BASE: &str = "https://api.cloudflare.com/client/v4";
/// Default for `DNS_RESOLVER_URL`: Cloudflare's DNS over HTTPS, JSON API.
pub const DEFAULT_DNS_RESOLVER_URL: &str = "https://cloudflare-dns.com/dns-query";
/// Default for `DOMAIN_PENDING_DAYS`: Cloudflare itself deletes a hostname pending this long.
pub const DEFAULT_PENDING_DAYS: f64 = 7.0;
/// Default for `DOMAIN_COOLDOWN_DAYS`: as long as a pending domain may wait, so a coach who
/// removed a domain by mistake has as long to take it back.
pub const DEFAULT_COOLDOWN_DAYS: f64 = 7.0;
/// At most this many `RESERVED_HOSTNAMES` (the database keeps 100 names, the target among them).
const MAX_RESERVED_HOSTNAMES: usize = 99;
/// Default for `UPSTREAM_TIMEOUT_MS`.
pub const DEFAULT_UPSTREAM_TIMEOUT_MS: u32 = 5000;
/// Default for `CLOUDFLARE_CALLS_PER_RUN`: 25 a minute is 125 per 5 minutes, a tenth of
/// Cloudflare's 1,200, leaving the rest to webhooks, the dashboard and other tools.
pub const DEFAULT_CALLS_PER_RUN: u32 = 25;
const MAX_CALLS_PER_RUN: u32 = 200;
const MAX_UPSTREAM_TIMEOUT_MS: u32 = 60_000;
const MAX_PENDING_DAYS: f64 = 365.0;
const MS_PER_DAY: f64 = 86_400_000.0;
/// The shortest `PREVIEW_SIGNING_SECRET` (bytes), as the resolver takes it: an HMAC key shorter
/// than its hash's output is weaker.
pub const MIN_PREVIEW_SECRET_LEN: usize = 32;

/// At least this many bytes in `DOMAIN_EVENTS_SECRET`, as in `PREVIEW_SIGNING_SECRET`.
pub const MIN_DOMAIN_EVENTS_SECRET_LEN: usize = 32;

/// Where domain events go (`crate::notify`): the app's webhook and the secret it shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainEvents {
    /// `DOMAIN_EVENTS_URL`: the app's endpoint, an http(s) URL; each event is a `POST` there.
    pub url: String,
    /// `DOMAIN_EVENTS_SECRET` (secret, at least [`MIN_DOMAIN_EVENTS_SECRET_LEN`] bytes): the key
    /// of the HMAC in `X-Domain-Event-Signature`, which the app checks.
    pub secret: String,
}

/// Where and how to reach Cloudflare's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cloudflare {
    /// `https://api.cloudflare.com/client/v4`, without a trailing slash.
    pub api_base: String,
    /// The API token (secret): "SSL and Certificates: Edit" on the SaaS zone.
    pub token: String,
    /// The SaaS zone's id.
    pub zone_id: String,
}

/// Default for `ANALYTICS_DATASET`: the resolver's `[[analytics_engine_datasets]]` in production.
pub const DEFAULT_ANALYTICS_DATASET: &str = "tenant_requests";

/// Where the resolver's per-tenant analytics are read (`GET /analytics`): Analytics Engine's SQL
/// API at `{CLOUDFLARE_API_BASE}/accounts/{account_id}/analytics_engine/sql`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analytics {
    /// `CLOUDFLARE_ACCOUNT_ID`: the account that holds the dataset.
    pub account_id: String,
    /// `CLOUDFLARE_ANALYTICS_TOKEN` (secret): an account token with "Account Analytics: Read"
    /// and nothing else.
    pub token: String,
    /// `ANALYTICS_DATASET`: the resolver's dataset (letters, digits and `_`: it is written into
    /// the SQL).
    pub dataset: String,
}

impl Analytics {
    /// The SQL API's URL under `api_base`.
    pub fn sql_url(&self, api_base: &str) -> String {
        format!(
            "{api_base}/accounts/{}/analytics_engine/sql",
            self.account_id
        )
    }
}

/// Validated settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// PostgREST base URL without a trailing slash (`{SUPABASE_URL}/rest/v1` by default).
    pub rest_url: String,
    /// The setting `rest_url` came from (`SUPABASE_REST_URL` or `SUPABASE_URL`), named when
    /// PostgREST is not found there.
    pub rest_url_setting: &'static str,
    /// The service-role key (`SUPABASE_SECRET_KEY`): for the cron and the webhook only.
    pub secret_key: ApiKey,
    /// The anon or publishable key sent as `apikey` beside a coach's token, which hosted
    /// Supabase's gateway requires; `None` sends the coach's token as `apikey` too (enough where
    /// PostgREST is reached directly).
    pub anon_key: Option<ApiKey>,
    pub cloudflare: Cloudflare,
    /// `cf-webhook-auth` must equal this; `None` switches the webhook off.
    pub webhook_secret: Option<String>,
    /// What coaches point their CNAME at.
    pub target: Host,
    /// `PLATFORM_DOMAIN`: it and every name beneath it are the platform's (tenants'
    /// subdomains), never a coach's custom domain. The resolver's setting of the same name.
    pub platform_domain: Host,
    /// `RESERVED_HOSTNAMES`: the platform's other hosts (the control plane's, the fallback
    /// origin's, the app's); each, and every name beneath it, is never a coach's domain.
    pub reserved_hostnames: Vec<Host>,
    /// How long a removed domain stays reserved to its previous tenant, in whole seconds.
    pub cooldown_s: u32,
    /// How long a domain may stay pending before it is given up, in ms.
    pub pending_ms: u64,
    /// `DOMAIN_PENDING_DAYS` as set, for messages.
    pub pending_days: f64,
    /// Origins whose pages may call the coach's API (CORS); empty: none.
    pub dashboard_origins: Vec<String>,
    /// Timeout of every PostgREST and Cloudflare request.
    pub upstream_timeout_ms: u32,
    /// Cloudflare API calls one cron run makes at most.
    pub calls_per_run: u32,
    /// Where TXT records are looked up (DNS over HTTPS, JSON API), without a trailing slash.
    pub dns_resolver_url: String,
    /// Per-tenant analytics; `None` (no `CLOUDFLARE_ACCOUNT_ID`) switches `GET /analytics` off.
    pub analytics: Option<Analytics>,
    /// `PREVIEW_SIGNING_SECRET` (secret, at least [`MIN_PREVIEW_SECRET_LEN`] bytes): the key of
    /// the HMAC that signs preview links (`crate::preview`), the resolver's setting of the same
    /// name; `None` switches `POST /brand/preview` off.
    pub preview_secret: Option<String>,
    /// Domain events; `None` (no `DOMAIN_EVENTS_URL`) sends none: the database queues them all
    /// the same, and prunes them after 30 days.
    pub domain_events: Option<DomainEvents>,
}

impl Config {
    /// Reads and validates every setting. Empty values count as unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, Error> {
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let rest_url = tenant_common::rest_url(get)?;
        let rest_url_setting = match get("SUPABASE_REST_URL") {
            Some(_) => "SUPABASE_REST_URL",
            None => "SUPABASE_URL",
        };
        let secret_key = secret_key(get("SUPABASE_SECRET_KEY"))?;
        let anon_key = get("SUPABASE_ANON_KEY").map(anon_key).transpose()?;
        let cloudflare = Cloudflare {
            api_base: match get("CLOUDFLARE_API_BASE") {
                Some(base) => tenant_common::http_url("CLOUDFLARE_API_BASE", &base)?,
                None => DEFAULT_CLOUDFLARE_API_BASE.to_string(),
            },
            token: header_safe("CLOUDFLARE_API_TOKEN", get("CLOUDFLARE_API_TOKEN"))?,
            zone_id: zone_id(get("CLOUDFLARE_ZONE_ID"))?,
        };
        let webhook_secret = get("CLOUDFLARE_WEBHOOK_SECRET")
            .map(|s| header_safe("CLOUDFLARE_WEBHOOK_SECRET", Some(s)))
            .transpose()?;
        let target = get("CUSTOM_HOSTNAME_TARGET")
            .ok_or(misconfigured("CUSTOM_HOSTNAME_TARGET", "is not set"))
            .and_then(|t| {
                Host::parse_domain(&t)
                    .map_err(|_| misconfigured("CUSTOM_HOSTNAME_TARGET", "is not a hostname"))
            })?;
        let platform_domain = get("PLATFORM_DOMAIN")
            .ok_or(misconfigured("PLATFORM_DOMAIN", "is not set"))
            .and_then(|d| {
                tenant_common::platform_domain(&d)
                    .map_err(|_| misconfigured("PLATFORM_DOMAIN", "is not a domain (or localhost)"))
            })?;
        let reserved_hostnames = get("RESERVED_HOSTNAMES")
            .map(|v| reserved_hostnames(&v))
            .transpose()?
            .unwrap_or_default();
        let days = |name: &'static str, default: f64| match get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|d| d.is_finite() && (0.0..=MAX_PENDING_DAYS).contains(d))
                .ok_or(misconfigured(
                    name,
                    "must be a number of days from 0 to 365",
                )),
        };
        let pending_days = days("DOMAIN_PENDING_DAYS", DEFAULT_PENDING_DAYS)?;
        let cooldown_days = days("DOMAIN_COOLDOWN_DAYS", DEFAULT_COOLDOWN_DAYS)?;
        let dashboard_origins = get("DASHBOARD_ORIGIN")
            .map(|v| dashboard_origins(&v))
            .transpose()?
            .unwrap_or_default();
        let number = |name: &'static str, default: u32, max: u32| match get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or(misconfigured(name, "must be a whole number in range")),
        };
        Ok(Config {
            rest_url,
            rest_url_setting,
            secret_key,
            anon_key,
            cloudflare,
            webhook_secret,
            target,
            platform_domain,
            reserved_hostnames,
            cooldown_s: (cooldown_days * 86_400.0) as u32,
            pending_ms: (pending_days * MS_PER_DAY) as u64,
            pending_days,
            dashboard_origins,
            upstream_timeout_ms: number(
                "UPSTREAM_TIMEOUT_MS",
                DEFAULT_UPSTREAM_TIMEOUT_MS,
                MAX_UPSTREAM_TIMEOUT_MS,
            )?,
            calls_per_run: number(
                "CLOUDFLARE_CALLS_PER_RUN",
                DEFAULT_CALLS_PER_RUN,
                MAX_CALLS_PER_RUN,
            )?,
            dns_resolver_url: match get("DNS_RESOLVER_URL") {
                Some(url) => tenant_common::http_url("DNS_RESOLVER_URL", &url)?,
                None => DEFAULT_DNS_RESOLVER_URL.to_string(),
            },
            analytics: analytics(
                get("CLOUDFLARE_ACCOUNT_ID"),
                get("CLOUDFLARE_ANALYTICS_TOKEN"),
                get("ANALYTICS_DATASET"),
            )?,
            preview_secret: get("PREVIEW_SIGNING_SECRET")
                .map(preview_secret)
                .transpose()?,
            domain_events: domain_events(get("DOMAIN_EVENTS_URL"), get("DOMAIN_EVENTS_SECRET"))?,
        })
    }

    /// Whether `host` is the platform's: the platform domain, the CNAME target, a reserved
    /// hostname, or a name beneath one of them. The database refuses the same names (it learns
    /// them from [`Config::domain_rules`]); refusing them here costs no upstream request.
    pub fn is_reserved(&self, host: &Host) -> bool {
        self.reserved().any(|r| {
            host == r
                || host
                    .as_str()
                    .strip_suffix(r.as_str())
                    .is_some_and(|p| p.ends_with('.'))
        })
    }

    fn reserved(&self) -> impl Iterator<Item = &Host> {
        std::iter::once(&self.platform_domain)
            .chain(std::iter::once(&self.target))
            .chain(&self.reserved_hostnames)
    }

    /// The arguments of `public.set_domain_rules`, which every cron run calls: the platform
    /// domain, the hostnames reserved with everything beneath them, the cool-down.
    pub fn domain_rules(&self) -> String {
        let reserved: Vec<&str> = std::iter::once(&self.target)
            .chain(&self.reserved_hostnames)
            .map(Host::as_str)
            .collect();
        serde_json::json!({
            "platform_domain": self.platform_domain.as_str(),
            "reserved_hostnames": reserved,
            "cooldown_seconds": self.cooldown_s,
        })
        .to_string()
    }

    /// The name of the TXT record by which a coach proves control of `host`:
    /// `_<platform>-challenge.<host>`, `<platform>` the platform domain's first label.
    pub fn challenge_record(&self, host: &str) -> String {
        let platform = self.platform_domain.as_str();
        let label = platform.split('.').next().unwrap_or(platform);
        format!("_{label}-challenge.{host}")
    }

    /// The coach's view of a domain, with the records to add for it.
    pub fn view(&self, row: &DomainRow) -> DomainView {
        row.to_domain(&self.target, self.challenge_record(&row.hostname))
    }

    /// The origin to allow in CORS for a request from `origin`, if it is a dashboard's.
    pub fn allowed_origin(&self, origin: Option<&str>) -> Option<&str> {
        let origin = origin?;
        self.dashboard_origins
            .iter()
            .find(|o| o.eq_ignore_ascii_case(origin))
            .map(String::as_str)
    }
}

fn misconfigured(setting: &'static str, problem: &'static str) -> Error {
    Error::Misconfigured { setting, problem }
}

/// The secret key: a service-role JWT or an `sb_secret_` key, nothing less.
fn secret_key(value: Option<String>) -> Result<ApiKey, Error> {
    const NAME: &str = "SUPABASE_SECRET_KEY";
    let key = value.ok_or(misconfigured(NAME, "is not set"))?;
    match KeyKind::of(&key) {
        KeyKind::ServiceJwt => Ok(ApiKey::Jwt(key)),
        KeyKind::Secret => Ok(ApiKey::Opaque(key)),
        KeyKind::AnonJwt | KeyKind::Publishable => Err(misconfigured(
            NAME,
            "is the anon or publishable key: the control plane needs the secret (service-role) key",
        )),
        KeyKind::OtherJwt | KeyKind::Other => Err(misconfigured(
            NAME,
            "is neither a service-role JWT nor an sb_secret_ key",
        )),
    }
}

/// The key sent beside a coach's token: never one that bypasses row-level security.
fn anon_key(key: String) -> Result<ApiKey, Error> {
    const NAME: &str = "SUPABASE_ANON_KEY";
    match KeyKind::of(&key) {
        KeyKind::AnonJwt => Ok(ApiKey::Jwt(key)),
        KeyKind::Publishable => Ok(ApiKey::Opaque(key)),
        KeyKind::ServiceJwt | KeyKind::Secret => Err(misconfigured(
            NAME,
            "is a privileged key: a coach's requests must never carry one",
        )),
        KeyKind::OtherJwt | KeyKind::Other => Err(misconfigured(
            NAME,
            "is neither an anon JWT nor an sb_publishable_ key",
        )),
    }
}

/// `RESERVED_HOSTNAMES`: hostnames, comma-separated.
fn reserved_hostnames(value: &str) -> Result<Vec<Host>, Error> {
    const NAME: &str = "RESERVED_HOSTNAMES";
    let hosts = value
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| {
            Host::parse_domain(h)
                .map_err(|_| misconfigured(NAME, "must be hostnames, comma-separated"))
        })
        .collect::<Result<Vec<Host>, Error>>()?;
    if hosts.len() > MAX_RESERVED_HOSTNAMES {
        return Err(misconfigured(NAME, "holds more than 99 hostnames"));
    }
    Ok(hosts)
}

/// A value sent in a header: visible ASCII, no spaces.
fn header_safe(setting: &'static str, value: Option<String>) -> Result<String, Error> {
    let value = value.ok_or(misconfigured(setting, "is not set"))?;
    if value.bytes().all(|b| b.is_ascii_graphic()) && value.len() <= 4096 {
        Ok(value)
    } else {
        Err(misconfigured(
            setting,
            "must be visible ASCII without spaces",
        ))
    }
}

/// The analytics settings: on when `CLOUDFLARE_ACCOUNT_ID` is set, and then its token is
/// required (a token alone switches nothing on); the dataset's name is written into SQL, so it
/// is letters, digits and `_` only.
fn analytics(
    account_id: Option<String>,
    token: Option<String>,
    dataset: Option<String>,
) -> Result<Option<Analytics>, Error> {
    const ACCOUNT: &str = "CLOUDFLARE_ACCOUNT_ID";
    const TOKEN: &str = "CLOUDFLARE_ANALYTICS_TOKEN";
    let Some(account_id) = account_id else {
        return Ok(None);
    };
    let token = token.ok_or(misconfigured(
        TOKEN,
        "is not set: CLOUDFLARE_ACCOUNT_ID is, which switches analytics on (unset it to switch them off)",
    ))?;
    if account_id.len() != 32 || !account_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(misconfigured(
            ACCOUNT,
            "must be a Cloudflare account id (32 hexadecimal digits)",
        ));
    }
    let dataset = dataset.unwrap_or_else(|| DEFAULT_ANALYTICS_DATASET.to_string());
    if !(1..=64).contains(&dataset.len())
        || !dataset
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(misconfigured(
            "ANALYTICS_DATASET",
            "must be a dataset name: letters, digits and _",
        ));
    }
    Ok(Some(Analytics {
        account_id,
        token: header_safe(TOKEN, Some(token))?,
        dataset,
    }))
}

/// `PREVIEW_SIGNING_SECRET`: at least [`MIN_PREVIEW_SECRET_LEN`] bytes.
fn preview_secret(secret: String) -> Result<String, Error> {
    if secret.len() < MIN_PREVIEW_SECRET_LEN {
        return Err(misconfigured(
            "PREVIEW_SIGNING_SECRET",
            "must be at least 32 bytes",
        ));
    }
    Ok(secret)
}

/// The domain events' settings: on when `DOMAIN_EVENTS_URL` is set, and then its secret is
/// required, at least [`MIN_DOMAIN_EVENTS_SECRET_LEN`] bytes (a secret alone switches nothing
/// on).
fn domain_events(
    url: Option<String>,
    secret: Option<String>,
) -> Result<Option<DomainEvents>, Error> {
    const SECRET: &str = "DOMAIN_EVENTS_SECRET";
    let Some(url) = url else {
        return Ok(None);
    };
    let url = tenant_common::http_url("DOMAIN_EVENTS_URL", &url)?;
    let secret = secret.ok_or(misconfigured(
        SECRET,
        "is not set: DOMAIN_EVENTS_URL is, which switches domain events on (unset it to switch them off)",
    ))?;
    if secret.len() < MIN_DOMAIN_EVENTS_SECRET_LEN {
        return Err(misconfigured(SECRET, "must be at least 32 bytes"));
    }
    Ok(Some(DomainEvents { url, secret }))
}

/// A zone id goes into URL paths: letters, digits, `-` and `_` only.
fn zone_id(value: Option<String>) -> Result<String, Error> {
    const NAME: &str = "CLOUDFLARE_ZONE_ID";
    let id = value.ok_or(misconfigured(NAME, "is not set"))?;
    if (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(id)
    } else {
        Err(misconfigured(NAME, "must be a Cloudflare zone id"))
    }
}

/// `DASHBOARD_ORIGIN`: one origin or several, comma-separated, each `scheme://host[:port]`.
fn dashboard_origins(value: &str) -> Result<Vec<String>, Error> {
    const NAME: &str = "DASHBOARD_ORIGIN";
    let bad = || {
        misconfigured(
            NAME,
            "must be origins like https://app.example.com, comma-separated",
        )
    };
    value
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| {
            let url = url::Url::parse(o).map_err(|_| bad())?;
            let origin = url.origin().ascii_serialization();
            let bare = o.trim_end_matches('/');
            if matches!(url.scheme(), "http" | "https") && origin.eq_ignore_ascii_case(bare) {
                Ok(origin)
            } else {
                Err(bad())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use std::collections::HashMap;

    pub(crate) fn jwt(role: &str) -> String {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.sig",
            enc(r#"{"alg":"HS256"}"#),
            enc(&format!(r#"{{"role":"{role}"}}"#))
        )
    }

    fn base() -> Vec<(&'static str, String)> {
        vec![
            ("SUPABASE_URL", "https://abc.supabase.co".into()),
            ("SUPABASE_SECRET_KEY", jwt("service_role")),
            ("CLOUDFLARE_API_TOKEN", "cf-token".into()),
            (
                "CLOUDFLARE_ZONE_ID",
                "023e105f4ecef8ad9ca31a8372d0c353".into(),
            ),
            (
                "CUSTOM_HOSTNAME_TARGET",
                "customers.coachplatform.com".into(),
            ),
            ("PLATFORM_DOMAIN", "coachplatform.com".into()),
        ]
    }

    fn config(pairs: &[(&str, String)]) -> Result<Config, Error> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    fn with(name: &'static str, value: &str) -> Result<Config, Error> {
        let mut pairs = base();
        pairs.retain(|(k, _)| *k != name);
        pairs.push((name, value.to_string()));
        config(&pairs)
    }

    fn setting_of(e: Error) -> &'static str {
        match e {
            Error::Misconfigured { setting, .. } => setting,
            other => panic!("expected misconfigured, got {other:?}"),
        }
    }

    #[test]
    fn the_required_settings_are_enough() {
        let c = config(&base()).unwrap();
        assert_eq!(c.rest_url, "https://abc.supabase.co/rest/v1");
        assert_eq!(c.cloudflare.api_base, DEFAULT_CLOUDFLARE_API_BASE);
        assert_eq!(c.pending_ms, 7 * 86_400_000);
        assert_eq!(c.upstream_timeout_ms, DEFAULT_UPSTREAM_TIMEOUT_MS);
        assert_eq!(c.calls_per_run, DEFAULT_CALLS_PER_RUN);
        assert_eq!(c.webhook_secret, None);
        assert_eq!(c.anon_key, None);
        assert!(c.dashboard_origins.is_empty());
        assert_eq!(c.target.as_str(), "customers.coachplatform.com");
        assert_eq!(c.platform_domain.as_str(), "coachplatform.com");
        assert!(c.reserved_hostnames.is_empty());
        assert_eq!(c.cooldown_s, 7 * 86_400);
    }

    #[test]
    fn the_platforms_names_are_reserved_at_any_depth() {
        let c = with(
            "RESERVED_HOSTNAMES",
            " control.ops.test, Fallback.CoachPlatform.net. ",
        )
        .unwrap();
        let host = |h: &str| Host::parse_domain(h).unwrap();
        for reserved in [
            "coachplatform.com",
            "www.coachplatform.com",
            "login.acme.coachplatform.com",
            "customers.coachplatform.com",
            "control.ops.test",
            "a.b.control.ops.test",
            "fallback.coachplatform.net",
        ] {
            assert!(c.is_reserved(&host(reserved)), "{reserved}");
        }
        for free in [
            "notcoachplatform.com",
            "coachplatform.co",
            "ops.test",
            "xcontrol.ops.test",
        ] {
            assert!(!c.is_reserved(&host(free)), "{free}");
        }
        let rules: serde_json::Value = serde_json::from_str(&c.domain_rules()).unwrap();
        assert_eq!(
            rules,
            serde_json::json!({
                "platform_domain": "coachplatform.com",
                "reserved_hostnames": ["customers.coachplatform.com", "control.ops.test", "fallback.coachplatform.net"],
                "cooldown_seconds": 604_800,
            })
        );
        assert_eq!(
            c.challenge_record("shop.example.com"),
            "_coachplatform-challenge.shop.example.com"
        );
        let local = with("PLATFORM_DOMAIN", "localhost").unwrap();
        assert_eq!(
            local.challenge_record("a.test"),
            "_localhost-challenge.a.test"
        );
    }

    #[test]
    fn reserved_hostnames_and_the_cooldown_are_checked() {
        assert_eq!(
            setting_of(with("RESERVED_HOSTNAMES", "ok.test, not a host").unwrap_err()),
            "RESERVED_HOSTNAMES"
        );
        assert_eq!(
            setting_of(with("PLATFORM_DOMAIN", "https://coachplatform.com").unwrap_err()),
            "PLATFORM_DOMAIN"
        );
        for bad in ["-1", "366", "soon", "NaN"] {
            assert_eq!(
                setting_of(with("DOMAIN_COOLDOWN_DAYS", bad).unwrap_err()),
                "DOMAIN_COOLDOWN_DAYS"
            );
        }
        assert_eq!(
            with("DOMAIN_COOLDOWN_DAYS", "0.5").unwrap().cooldown_s,
            43_200
        );
    }

    #[test]
    fn each_missing_required_setting_is_named() {
        for name in [
            "SUPABASE_SECRET_KEY",
            "CLOUDFLARE_API_TOKEN",
            "CLOUDFLARE_ZONE_ID",
            "CUSTOM_HOSTNAME_TARGET",
            "PLATFORM_DOMAIN",
        ] {
            let mut pairs = base();
            pairs.retain(|(k, _)| *k != name);
            assert_eq!(setting_of(config(&pairs).unwrap_err()), name);
        }
        let mut pairs = base();
        pairs.retain(|(k, _)| *k != "SUPABASE_URL");
        assert_eq!(setting_of(config(&pairs).unwrap_err()), "SUPABASE_URL");
    }

    #[test]
    fn the_secret_key_must_be_privileged_and_is_never_echoed() {
        assert_eq!(
            with("SUPABASE_SECRET_KEY", "sb_secret_abc")
                .unwrap()
                .secret_key,
            ApiKey::Opaque("sb_secret_abc".into())
        );
        let service = jwt("service_role");
        let c = with("SUPABASE_SECRET_KEY", &service).unwrap();
        assert_eq!(c.secret_key.bearer(), Some(service.as_str()));
        for key in [
            jwt("anon"),
            "sb_publishable_abc".into(),
            "nope".into(),
            jwt("authenticated"),
        ] {
            let e = with("SUPABASE_SECRET_KEY", &key).unwrap_err();
            assert!(
                !e.message().contains(&key),
                "the message must not echo the key"
            );
            assert_eq!(setting_of(e), "SUPABASE_SECRET_KEY");
        }
        assert!(with("SUPABASE_SECRET_KEY", &jwt("anon"))
            .unwrap_err()
            .message()
            .contains("anon or publishable"));
    }

    #[test]
    fn the_key_sent_beside_a_coachs_token_is_never_privileged() {
        let anon = jwt("anon");
        assert_eq!(
            with("SUPABASE_ANON_KEY", &anon).unwrap().anon_key,
            Some(ApiKey::Jwt(anon))
        );
        assert_eq!(
            with("SUPABASE_ANON_KEY", "sb_publishable_x")
                .unwrap()
                .anon_key,
            Some(ApiKey::Opaque("sb_publishable_x".into()))
        );
        for key in [jwt("service_role"), "sb_secret_x".into()] {
            assert_eq!(
                setting_of(with("SUPABASE_ANON_KEY", &key).unwrap_err()),
                "SUPABASE_ANON_KEY"
            );
        }
    }

    #[test]
    fn optional_settings_parse() {
        let mut pairs = base();
        pairs.extend([
            ("SUPABASE_REST_URL", "http://127.0.0.1:3000/".to_string()),
            (
                "CLOUDFLARE_API_BASE",
                "http://127.0.0.1:9/client/v4/".into(),
            ),
            ("CLOUDFLARE_WEBHOOK_SECRET", "whsec-0123456789".into()),
            ("DOMAIN_PENDING_DAYS", "0.5".into()),
            (
                "DASHBOARD_ORIGIN",
                "https://app.coachplatform.com, http://localhost:8787".into(),
            ),
            ("UPSTREAM_TIMEOUT_MS", "250".into()),
            ("CLOUDFLARE_CALLS_PER_RUN", "3".into()),
        ]);
        let c = config(&pairs).unwrap();
        assert_eq!(c.rest_url, "http://127.0.0.1:3000");
        assert_eq!(c.rest_url_setting, "SUPABASE_REST_URL");
        assert_eq!(config(&base()).unwrap().rest_url_setting, "SUPABASE_URL");
        assert_eq!(c.cloudflare.api_base, "http://127.0.0.1:9/client/v4");
        assert_eq!(c.webhook_secret.as_deref(), Some("whsec-0123456789"));
        assert_eq!(c.pending_ms, 43_200_000);
        assert_eq!(
            c.dashboard_origins,
            ["https://app.coachplatform.com", "http://localhost:8787"]
        );
        assert_eq!((c.upstream_timeout_ms, c.calls_per_run), (250, 3));
        assert_eq!(
            c.allowed_origin(Some("http://localhost:8787")),
            Some("http://localhost:8787")
        );
        assert_eq!(c.allowed_origin(Some("http://evil.test")), None);
        assert_eq!(c.allowed_origin(None), None);
    }

    #[test]
    fn the_dns_resolver_is_cloudflares_unless_set() {
        let c = config(&base()).unwrap();
        assert_eq!(c.dns_resolver_url, DEFAULT_DNS_RESOLVER_URL);
        let c = with("DNS_RESOLVER_URL", "http://127.0.0.1:8053/dns-query/").unwrap();
        assert_eq!(c.dns_resolver_url, "http://127.0.0.1:8053/dns-query");
        for bad in [
            "cloudflare-dns.com/dns-query",
            "https://dns.google/resolve?x=1",
        ] {
            let e = with("DNS_RESOLVER_URL", bad).unwrap_err();
            assert_eq!(setting_of(e), "DNS_RESOLVER_URL", "{bad}");
        }
    }

    #[test]
    fn analytics_is_on_with_an_account_and_then_needs_its_token() {
        const ACCOUNT: &str = "01a7362d577a6c3019a474fd6f485823";
        assert_eq!(config(&base()).unwrap().analytics, None);
        let both = |extra: &[(&'static str, &str)]| {
            let mut pairs = base();
            pairs.push(("CLOUDFLARE_ACCOUNT_ID", ACCOUNT.into()));
            pairs.push(("CLOUDFLARE_ANALYTICS_TOKEN", "cf-analytics-token".into()));
            for (k, v) in extra {
                pairs.retain(|(name, _)| name != k);
                pairs.push((*k, v.to_string()));
            }
            config(&pairs)
        };
        let a = both(&[]).unwrap().analytics.unwrap();
        assert_eq!(a.dataset, DEFAULT_ANALYTICS_DATASET);
        assert_eq!(
            a.sql_url("https://api.cloudflare.com/client/v4"),
            format!("https://api.cloudflare.com/client/v4/accounts/{ACCOUNT}/analytics_engine/sql")
        );
        let e = with("CLOUDFLARE_ACCOUNT_ID", ACCOUNT).unwrap_err();
        assert_eq!(setting_of(e), "CLOUDFLARE_ANALYTICS_TOKEN");
        assert_eq!(
            with("CLOUDFLARE_ANALYTICS_TOKEN", "t").unwrap().analytics,
            None
        );
        let e = both(&[("CLOUDFLARE_ACCOUNT_ID", "acct")]).unwrap_err();
        assert_eq!(setting_of(e), "CLOUDFLARE_ACCOUNT_ID");
        for bad in ["tenant requests", "t;DROP", "x'y"] {
            let e = both(&[("ANALYTICS_DATASET", bad)]).unwrap_err();
            assert_eq!(setting_of(e), "ANALYTICS_DATASET", "{bad}");
        }
        let e = both(&[("CLOUDFLARE_ANALYTICS_TOKEN", "two words")]).unwrap_err();
        assert_eq!(setting_of(e), "CLOUDFLARE_ANALYTICS_TOKEN");
    }

    #[test]
    fn previews_are_on_with_a_signing_secret_of_32_bytes() {
        assert_eq!(config(&base()).unwrap().preview_secret, None);
        let secret = "preview-signing-secret-0123456789abcdef";
        assert_eq!(
            with("PREVIEW_SIGNING_SECRET", secret)
                .unwrap()
                .preview_secret
                .as_deref(),
            Some(secret)
        );
        let short = "too-short-a-secret-31-bytes-xxx";
        let e = with("PREVIEW_SIGNING_SECRET", short).unwrap_err();
        assert!(!e.message().contains(short), "the message must not echo it");
        assert_eq!(setting_of(e), "PREVIEW_SIGNING_SECRET");
    }

    #[test]
    fn domain_events_are_on_with_a_url_and_then_need_a_secret_of_32_bytes() {
        let secret = "s".repeat(MIN_DOMAIN_EVENTS_SECRET_LEN);
        assert_eq!(config(&base()).unwrap().domain_events, None);
        assert_eq!(
            with("DOMAIN_EVENTS_SECRET", &secret).unwrap().domain_events,
            None,
            "a secret alone switches nothing on"
        );
        let mut pairs = base();
        pairs.push((
            "DOMAIN_EVENTS_URL",
            "https://app.coachplatform.com/hooks/domains/".into(),
        ));
        assert_eq!(
            setting_of(config(&pairs).unwrap_err()),
            "DOMAIN_EVENTS_SECRET"
        );
        pairs.push(("DOMAIN_EVENTS_SECRET", "s".repeat(31)));
        let short = config(&pairs).unwrap_err();
        assert!(
            !short.to_string().contains("sssss"),
            "never the value: {short}"
        );
        assert_eq!(setting_of(short), "DOMAIN_EVENTS_SECRET");
        pairs.pop();
        pairs.push(("DOMAIN_EVENTS_SECRET", secret.clone()));
        assert_eq!(
            config(&pairs).unwrap().domain_events,
            Some(DomainEvents {
                url: "https://app.coachplatform.com/hooks/domains".into(),
                secret
            })
        );
        assert_eq!(
            setting_of(with("DOMAIN_EVENTS_URL", "app.coachplatform.com/hooks").unwrap_err()),
            "DOMAIN_EVENTS_URL"
        );
    }

    #[test]
    fn a_pending_limit_of_zero_gives_up_at_once() {
        assert_eq!(with("DOMAIN_PENDING_DAYS", "0").unwrap().pending_ms, 0);
    }

    #[test]
    fn malformed_optional_settings_are_named() {
        for (name, value) in [
            ("DOMAIN_PENDING_DAYS", "a week"),
            ("DOMAIN_PENDING_DAYS", "-1"),
            ("DOMAIN_PENDING_DAYS", "400"),
            ("DOMAIN_PENDING_DAYS", "NaN"),
            ("CLOUDFLARE_API_BASE", "api.cloudflare.com"),
            ("CLOUDFLARE_ZONE_ID", "../zones"),
            ("CLOUDFLARE_API_TOKEN", "has space"),
            ("CUSTOM_HOSTNAME_TARGET", "https://customers.example.com"),
            ("DASHBOARD_ORIGIN", "https://app.example.com/dashboard"),
            ("DASHBOARD_ORIGIN", "app.example.com"),
            ("UPSTREAM_TIMEOUT_MS", "0"),
            ("CLOUDFLARE_CALLS_PER_RUN", "1000"),
            ("SUPABASE_URL", "ftp://x.co"),
        ] {
            assert_eq!(
                setting_of(with(name, value).unwrap_err()),
                name,
                "{name}={value}"
            );
        }
    }
}
