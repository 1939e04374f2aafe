//! Custom domains as the Worker sees them: the `tenant_domains` rows of one hostname.
//!
//! A hostname resolves to a tenant only through an `active` row (the database's policy shows
//! the tenant only then); a row in any other state (pending, moved, blocked, failed) still
//! claims the hostname, so it answers 404 and is never forwarded. Whatever its state, a row may
//! carry Cloudflare's HTTP ownership check (`/.well-known/cf-custom-hostname-challenge/<id>` and
//! the body to answer there), which the Worker serves so that a coach needs nothing but a CNAME.
//! A lookup by domain asks PostgREST for the rows of that one hostname with their tenant
//! embedded ([`SELECT`]): one request answers both what the host resolves to and what it
//! answers Cloudflare.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::UpstreamError;
use crate::host::Host;
use crate::tenant::{public_select, TenantRow};

/// Where Cloudflare fetches its HTTP ownership token, on the hostname being verified.
pub const CHALLENGE_PREFIX: &str = "/.well-known/cf-custom-hostname-challenge/";

/// The `select` of a lookup by domain: what the anon key may read of `tenant_domains`, and the
/// tenant (the public columns), which the database shows only for an active row.
pub const SELECT: &str = concat!(
    "hostname,status,ownership_http_path,ownership_http_body,tenant:tenant_profiles(",
    public_select!(),
    ")"
);

/// The most rows one hostname can have: one that holds it, and the ones being removed.
pub const ROWS_LIMIT: usize = 10;

/// Cloudflare's HTTP ownership check for a hostname: answer `body` at `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub path: String,
    pub body: String,
}

/// What the rows of one hostname say, besides its tenant: cached with the answer to its lookup,
/// as one line of text (`String::from`, `Domain::try_from`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// The hostname these facts are about (an answer is shared by its tenant's keys).
    pub hostname: String,
    /// A row that is not being removed holds it: the host is a tenant's domain, verified or not.
    pub claimed: bool,
    /// Cloudflare's HTTP ownership checks of its rows, whatever their status.
    pub challenges: Vec<Challenge>,
}

impl Domain {
    /// Whether these facts are about `host`.
    pub fn is_about(&self, host: &Host) -> bool {
        self.hostname == host.as_str()
    }

    /// The body to answer Cloudflare's ownership check at `path`, if a row has one there.
    pub fn challenge_body(&self, path: &str) -> Option<&str> {
        self.challenges
            .iter()
            .find(|c| c.path == path)
            .map(|c| c.body.as_str())
    }
}

impl From<Domain> for String {
    /// `<hostname> <claimed 0|1>` and ` <path> <body>` per challenge: none of them holds a
    /// space or a control character (`from_rows` keeps only such challenges).
    fn from(domain: Domain) -> String {
        let mut text = format!("{} {}", domain.hostname, u8::from(domain.claimed));
        for c in &domain.challenges {
            text.push_str(&format!(" {} {}", c.path, c.body));
        }
        text
    }
}

impl TryFrom<String> for Domain {
    type Error = &'static str;

    fn try_from(text: String) -> Result<Domain, Self::Error> {
        const BAD: &str = "not a stored domain";
        let mut fields = text.split(' ');
        let hostname = fields.next().ok_or(BAD)?.to_string();
        let claimed = match fields.next() {
            Some("0") => false,
            Some("1") => true,
            _ => return Err(BAD),
        };
        let mut challenges = Vec::new();
        while let Some(path) = fields.next() {
            let body = fields.next().ok_or(BAD)?;
            challenges.push(Challenge {
                path: path.to_string(),
                body: body.to_string(),
            });
        }
        Ok(Domain {
            hostname,
            claimed,
            challenges,
        })
    }
}

/// A row of `tenant_domains` as the lookup by domain selects it; its tenant is decoded apart,
/// by the same code as every other tenant row.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    hostname: String,
    status: String,
    ownership_http_path: Option<String>,
    ownership_http_body: Option<String>,
    tenant: Option<Box<RawValue>>,
}

/// The statuses a row may have (the table's CHECK).
const STATUSES: [&str; 6] = [
    "pending", "active", "moved", "blocked", "failed", "removing",
];

/// Decodes PostgREST's answer to a lookup of `host`: the tenant of its active row, if the
/// database showed one, and what its rows say. Rows about another hostname, an unknown status or
/// a tenant on a row that is not active mean something other than PostgREST answered.
pub fn from_rows(body: &str, host: &Host) -> Result<(Option<TenantRow>, Domain), UpstreamError> {
    let rows: Vec<Row> =
        serde_json::from_str(body).map_err(|e| UpstreamError::Decode(e.to_string()))?;
    let mut tenant = None;
    let mut domain = Domain {
        hostname: host.as_str().to_string(),
        claimed: false,
        challenges: Vec::new(),
    };
    for row in rows {
        if row.hostname != host.as_str() || !STATUSES.contains(&row.status.as_str()) {
            return Err(UpstreamError::Decode(format!(
                "a {:?} row of {:?} in a lookup of {host}",
                row.status, row.hostname
            )));
        }
        domain.claimed |= row.status != "removing";
        if let (Some(path), Some(body)) = (row.ownership_http_path, row.ownership_http_body) {
            let plain = |c: char| !c.is_control() && !c.is_whitespace();
            if is_challenge_path(&path) && !body.is_empty() && body.chars().all(plain) {
                domain.challenges.push(Challenge { path, body });
            }
        }
        match row.tenant {
            Some(_) if row.status != "active" || tenant.is_some() => {
                return Err(UpstreamError::Decode(format!(
                    "a tenant on a {:?} row of {host}",
                    row.status
                )))
            }
            Some(found) => tenant = Some(TenantRow::from_json(found.get())?),
            None => {}
        }
    }
    Ok((tenant, domain))
}

/// Whether `path` is one Cloudflare's HTTP ownership check can be at.
pub fn is_challenge_path(path: &str) -> bool {
    path.strip_prefix(CHALLENGE_PREFIX).is_some_and(|id| {
        (1..=128).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._~-".contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = r##"{"id":"3bb43f29-695c-493b-8b5c-3819ffc0675c","slug":"leadingwithmeaning","displayName":"Leading with Meaning","tenantType":"coach","customDomain":"coach.leadingwithmeaning.com","enabledAssessments":[],"brand":{}}"##;

    fn host(h: &str) -> Host {
        Host::parse_domain(h).unwrap()
    }

    fn row(hostname: &str, status: &str, challenge: Option<(&str, &str)>, tenant: bool) -> String {
        let (path, body) = challenge.map_or(("null".into(), "null".into()), |(p, b)| {
            (format!("{p:?}"), format!("{b:?}"))
        });
        let tenant = if tenant { TENANT } else { "null" };
        format!(
            r#"{{"hostname":"{hostname}","status":"{status}","ownership_http_path":{path},"ownership_http_body":{body},"tenant":{tenant}}}"#
        )
    }

    const PATH: &str =
        "/.well-known/cf-custom-hostname-challenge/24a2b0d8-0c4b-4b3c-a5c4-1f3b8a1e2d3c";

    #[test]
    fn an_active_row_names_its_tenant() {
        let body = format!("[{}]", row("a.example.com", "active", None, true));
        let (tenant, domain) = from_rows(&body, &host("a.example.com")).unwrap();
        assert_eq!(tenant.unwrap().slug, "leadingwithmeaning");
        assert!(domain.claimed);
        assert!(domain.is_about(&host("a.example.com")));
        assert!(!domain.is_about(&host("b.example.com")));
    }

    #[test]
    fn a_pending_row_claims_the_host_and_carries_the_challenge() {
        let body = format!(
            "[{}]",
            row("a.example.com", "pending", Some((PATH, "token-1")), false)
        );
        let (tenant, domain) = from_rows(&body, &host("a.example.com")).unwrap();
        assert!(tenant.is_none());
        assert!(domain.claimed);
        assert_eq!(domain.challenge_body(PATH), Some("token-1"));
        assert_eq!(domain.challenge_body(&format!("{PATH}x")), None);
    }

    #[test]
    fn no_rows_and_rows_being_removed_claim_nothing() {
        let (tenant, domain) = from_rows("[]", &host("a.example.com")).unwrap();
        assert!(tenant.is_none() && !domain.claimed && domain.challenges.is_empty());
        let body = format!(
            "[{}]",
            row("a.example.com", "removing", Some((PATH, "old")), false)
        );
        let (_, domain) = from_rows(&body, &host("a.example.com")).unwrap();
        assert!(!domain.claimed);
        assert_eq!(
            domain.challenge_body(PATH),
            Some("old"),
            "answered whatever the status"
        );
    }

    #[test]
    fn what_postgrest_cannot_have_answered_is_a_decode_error() {
        for body in [
            "{}".to_string(),
            format!("[{}]", row("b.example.com", "active", None, true)),
            format!("[{}]", row("a.example.com", "sleeping", None, false)),
            format!("[{}]", row("a.example.com", "pending", None, true)),
            format!(
                "[{},{}]",
                row("a.example.com", "active", None, true),
                row("a.example.com", "active", None, true)
            ),
            format!("[{}]", row("a.example.com", "active", None, true))
                .replace("\"status\"", "\"cloudflare_id\":\"x\",\"status\""),
        ] {
            assert!(from_rows(&body, &host("a.example.com")).is_err(), "{body}");
        }
    }

    #[test]
    fn what_a_domain_says_round_trips_through_its_text() {
        let body = format!(
            "[{},{}]",
            row("a.example.com", "pending", Some((PATH, "token-1")), false),
            row(
                "a.example.com",
                "removing",
                Some((&format!("{PATH}0"), "old")),
                false
            )
        );
        let (_, domain) = from_rows(&body, &host("a.example.com")).unwrap();
        let text = String::from(domain.clone());
        assert_eq!(Domain::try_from(text), Ok(domain));
        for bad in [
            "",
            "a.example.com",
            "a.example.com 2",
            "a.example.com 1 /path",
        ] {
            assert!(Domain::try_from(bad.to_string()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn challenges_are_served_only_at_paths_cloudflare_uses() {
        assert!(is_challenge_path(PATH));
        for bad in [
            "/.well-known/cf-custom-hostname-challenge/",
            "/.well-known/cf-custom-hostname-challenge/a/b",
            "/.well-known/cf-custom-hostname-challenge/a%2fb",
            "/.well-known/acme-challenge/x",
        ] {
            assert!(!is_challenge_path(bad), "{bad}");
        }
        let odd = format!(
            "[{}]",
            row("a.example.com", "pending", Some(("/elsewhere", "x")), false)
        );
        let (_, domain) = from_rows(&odd, &host("a.example.com")).unwrap();
        assert!(domain.challenges.is_empty(), "a path elsewhere is ignored");
    }
}
