//! The DNS doctor: one verdict per domain, from Cloudflare's hostname and certificate states
//! (as the row holds them) and the coach's DNS as the control plane looked it up itself.
//!
//! [`diagnose`] is the verdict: a [`Code`], one sentence of fix, and where the name points
//! when that is the problem. Its precedence, first match wins:
//!
//! 1. `unknown`: a lookup failed (SERVFAIL, an HTTP error, a timeout). Nothing is decided on
//!    it: no row changes, and `ready` keeps Cloudflare's word.
//! 2. `proof_missing`: the claim is not proven and its TXT record does not hold its token;
//!    until it does, nothing is created at Cloudflare.
//! 3. When the DNS does not point here ([`points_here`]):
//!    `proxied_by_another_cloudflare_account` (the name answers with Cloudflare's anycast
//!    addresses, or Cloudflare's verification errors say so), then `cname_elsewhere` (a CNAME
//!    to another name), `apex_needs_flattening` (an apex, where a CNAME is impossible at most
//!    DNS hosts), `cname_missing`.
//! 4. `caa_blocks_certificate`: the CAA records that apply (RFC 8659) let none of the
//!    certificate authorities Cloudflare uses issue.
//! 5. `stale_acme_challenge`: a leftover `_acme-challenge.<hostname>` record that is not
//!    Cloudflare's own delegation.
//! 6. `ready`: Cloudflare says the hostname and its certificate are active.
//! 7. `certificate_pending`: the DNS is right; Cloudflare is still verifying or issuing.
//!
//! DNS problems come before certificate ones because Cloudflare can do nothing while the name
//! points elsewhere; a blocking CAA before a leftover challenge because the first stops every
//! certificate, the second only a TXT validation; both before `ready`, even when Cloudflare
//! says active, because they stop the certificate's renewal. What is looked up is bounded:
//! [`MAX_LOOKUPS`] per diagnosis, at most [`DIAGNOSES_PER_READ`] diagnoses per `GET /domains`,
//! and a diagnosis younger than [`MAX_AGE_MS`] is not made again.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::dns::{bare_name, Answer};
use crate::domain::{is_apex, DomainRow, Status};

/// A stored diagnosis younger than this (and than its row's last change) is shown as it is.
pub const MAX_AGE_MS: u64 = 60_000;
/// Diagnoses made by one `GET /domains`; the other domains show their last one.
pub const DIAGNOSES_PER_READ: usize = 3;
/// Names whose CAA records are asked for, from the hostname up (never above its apex).
pub const MAX_CAA_LEVELS: usize = 4;
/// The most lookups one diagnosis makes: A and AAAA of the name, its CAA climb, the leftover
/// `_acme-challenge`, the proof, and the target's A and AAAA for an apex.
pub const MAX_LOOKUPS: usize = 2 + MAX_CAA_LEVELS + 1 + 1 + 2;

/// The certificate authorities Cloudflare issues custom hostnames' certificates from, as CAA
/// `issue` properties name them (Cloudflare's "Certificate authorities" reference).
pub const CLOUDFLARE_CAS: [&str; 5] = [
    "letsencrypt.org",
    "pki.goog",
    "ssl.com",
    "sectigo.com",
    "digicert.com",
];

/// Cloudflare's published anycast ranges (cloudflare.com/ips), address and prefix length.
const CLOUDFLARE_RANGES: [(&str, u8); 22] = [
    ("173.245.48.0", 20),
    ("103.21.244.0", 22),
    ("103.22.200.0", 22),
    ("103.31.4.0", 22),
    ("141.101.64.0", 18),
    ("108.162.192.0", 18),
    ("190.93.240.0", 20),
    ("188.114.96.0", 20),
    ("197.234.240.0", 22),
    ("198.41.128.0", 17),
    ("162.158.0.0", 15),
    ("104.16.0.0", 13),
    ("104.24.0.0", 14),
    ("172.64.0.0", 13),
    ("131.0.72.0", 22),
    ("2400:cb00::", 32),
    ("2606:4700::", 32),
    ("2803:f800::", 32),
    ("2405:b500::", 32),
    ("2405:8100::", 32),
    ("2a06:98c0::", 29),
    ("2c0f:f248::", 32),
];

/// Cloudflare's own delegation of `_acme-challenge` (DCV delegation): a CNAME beneath this.
const DCV_DELEGATION: &str = ".dcv.cloudflare.com";

/// What Cloudflare's verification errors say when another Cloudflare account holds the name
/// (error 1014, "CNAME Cross-User Banned", and the words of its messages), lowercase.
const ANOTHER_ACCOUNT: [&str; 3] = [
    "cross-user",
    "another cloudflare account",
    "another account",
];

/// A verdict's machine code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    Ready,
    ProofMissing,
    CnameMissing,
    CnameElsewhere,
    ApexNeedsFlattening,
    CaaBlocksCertificate,
    StaleAcmeChallenge,
    ProxiedByAnotherCloudflareAccount,
    CertificatePending,
    Unknown,
    /// Not looked at: being removed, failed or blocked (its `errors` say why), or not checked
    /// yet.
    NotChecked,
}

impl Code {
    /// The code as stored and answered.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Ready => "ready",
            Code::ProofMissing => "proof_missing",
            Code::CnameMissing => "cname_missing",
            Code::CnameElsewhere => "cname_elsewhere",
            Code::ApexNeedsFlattening => "apex_needs_flattening",
            Code::CaaBlocksCertificate => "caa_blocks_certificate",
            Code::StaleAcmeChallenge => "stale_acme_challenge",
            Code::ProxiedByAnotherCloudflareAccount => "proxied_by_another_cloudflare_account",
            Code::CertificatePending => "certificate_pending",
            Code::Unknown => "unknown",
            Code::NotChecked => "not_checked",
        }
    }
}

/// One verdict, as the coach's API answers it and the database keeps it
/// (`tenant_domain_diagnoses`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnosis {
    pub code: Code,
    /// One sentence: what to do (or that nothing is to be done).
    pub fix: String,
    /// Where the name points instead of here (a CNAME's target, or addresses), when that is
    /// the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points_to: Option<String>,
    /// When the DNS was looked up (RFC 3339); null when it has not been.
    pub checked_at: Option<String>,
}

/// A diagnosis as the database keeps it (PostgREST's embedding of `tenant_domain_diagnoses`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Stored {
    pub code: Code,
    pub fix: String,
    pub points_to: Option<String>,
    pub checked_at: String,
}

impl Diagnosis {
    /// The row the database keeps of this diagnosis of domain `domain_id`, as JSON.
    pub fn to_row(&self, domain_id: &str) -> serde_json::Value {
        serde_json::json!({
            "domain_id": domain_id,
            "code": self.code.as_str(),
            "fix": self.fix,
            "points_to": self.points_to,
            "checked_at": self.checked_at,
        })
    }
}

impl Diagnosis {
    /// This diagnosis as the database keeps it, once checked.
    pub fn stored(&self) -> Option<Stored> {
        Some(Stored {
            code: self.code,
            fix: self.fix.clone(),
            points_to: self.points_to.clone(),
            checked_at: self.checked_at.clone()?,
        })
    }
}

/// The rows (their indices in `rows`) one `GET /domains` diagnoses again at `now_ms`: those
/// the doctor looks at whose diagnosis is due, never checked or oldest first, at most
/// [`DIAGNOSES_PER_READ`].
pub fn due_on_read(rows: &[DomainRow], now_ms: u64) -> Vec<usize> {
    let mut due: Vec<(u64, usize)> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| is_diagnosed(r) && is_due(r, r.diagnosis.as_ref(), now_ms))
        .map(|(i, r)| {
            let at = r
                .diagnosis
                .as_ref()
                .and_then(|d| tenant_common::parse_ms(&d.checked_at));
            (at.unwrap_or(0), i)
        })
        .collect();
    due.sort();
    due.into_iter()
        .take(DIAGNOSES_PER_READ)
        .map(|(_, i)| i)
        .collect()
}

/// What the lookups found, each a definitive answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// A and AAAA of the hostname (their CNAME chain is the same).
    pub a: Answer,
    pub aaaa: Answer,
    /// The CAA records that apply: those of the closest name, from the hostname up, that has
    /// any (RFC 8659 §3); empty when none has.
    pub caa: Vec<String>,
    /// TXT of `_acme-challenge.<hostname>` (its CNAME chain included).
    pub acme: Answer,
    /// TXT values at the proof's record; `None` when the claim is proven (not looked up).
    pub proof: Option<Vec<String>>,
    /// The addresses the target resolves to (A and AAAA), for an apex; `None` otherwise.
    pub target_addresses: Option<Vec<IpAddr>>,
}

/// What a diagnosis of `row` is about, beside the lookups.
pub struct Subject<'a> {
    pub row: &'a DomainRow,
    /// `CUSTOM_HOSTNAME_TARGET`.
    pub target: &'a str,
    /// The proof's TXT record name.
    pub challenge_record: &'a str,
}

/// Whether the doctor looks at a row: a domain that is pending, active or moved. A removed,
/// failed or blocked one says why in `errors`.
pub fn is_diagnosed(row: &DomainRow) -> bool {
    matches!(row.status, Status::Pending | Status::Active | Status::Moved)
}

/// Whether a stored diagnosis of `row` is too old to show at `now_ms`: older than
/// [`MAX_AGE_MS`], or than the row's last change.
pub fn is_due(row: &DomainRow, stored: Option<&Stored>, now_ms: u64) -> bool {
    let Some(at) = stored.and_then(|s| tenant_common::parse_ms(&s.checked_at)) else {
        return true;
    };
    let changed = tenant_common::parse_ms(&row.updated_at).unwrap_or(0);
    at + MAX_AGE_MS <= now_ms || at < changed
}

/// The names whose CAA records apply to `hostname`, closest first: the hostname, then each
/// parent up to its apex (a public suffix holds none), at most [`MAX_CAA_LEVELS`].
pub fn caa_names(hostname: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut name = hostname;
    while names.len() < MAX_CAA_LEVELS {
        names.push(name.to_string());
        if is_apex(name) {
            break;
        }
        match name.split_once('.') {
            Some((_, parent)) if parent.contains('.') => name = parent,
            _ => break,
        }
    }
    names
}

/// The `_acme-challenge` record of `hostname`, where a certificate authority looks for a TXT
/// validation.
pub fn acme_record(hostname: &str) -> String {
    format!("_acme-challenge.{hostname}")
}

/// The verdict on `subject` from `findings` (`Err`: a lookup failed, why), checked at `now`.
pub fn diagnose(subject: &Subject<'_>, findings: Result<&Findings, &str>, now: &str) -> Diagnosis {
    let row = subject.row;
    let host = row.hostname.as_str();
    let verdict = |code: Code, fix: String, points_to: Option<String>| Diagnosis {
        code,
        fix,
        points_to,
        checked_at: Some(now.to_string()),
    };
    let found = match findings {
        Ok(found) => found,
        Err(_) => {
            return verdict(
                Code::Unknown,
                format!("The DNS of {host} could not be looked up just now; nothing was changed, and it is checked again within a minute."),
                None,
            )
        }
    };
    let here = points_here(host, subject.target, found);
    if !row.is_proven()
        && !found
            .proof
            .as_deref()
            .is_some_and(|v| crate::dns::has_token(v, &row.proof_token))
    {
        return verdict(
            Code::ProofMissing,
            format!(
                "Add the TXT record {} with the value {}, which proves the domain is yours.",
                subject.challenge_record, row.proof_token
            ),
            None,
        );
    }
    if !here {
        let first_alias = found.a.aliases.first().or(found.aaaa.aliases.first());
        let addresses = addresses(found);
        let shown = (!addresses.is_empty()).then(|| join(&addresses));
        if addresses.iter().any(is_cloudflare) || cloudflare_says_another_account(row) {
            return verdict(
                Code::ProxiedByAnotherCloudflareAccount,
                format!("{host} is served by another Cloudflare account: in that account, delete its DNS record (or the zone), then add a CNAME record to {}.", subject.target),
                first_alias.cloned().or(shown),
            );
        }
        if let Some(alias) = first_alias {
            return verdict(
                Code::CnameElsewhere,
                format!(
                    "{host} is a CNAME to {alias}: change that record to point to {} instead.",
                    subject.target
                ),
                Some(alias.clone()),
            );
        }
        if is_apex(host) {
            return verdict(
                Code::ApexNeedsFlattening,
                format!("{host} is an apex domain, where most DNS hosts allow no CNAME: add an ALIAS, ANAME or flattened CNAME record to {} in place of its A and AAAA records, or make www.{host} the primary and forward {host} to it at your registrar.", subject.target),
                shown,
            );
        }
        return verdict(
            Code::CnameMissing,
            match &shown {
                Some(a) => format!(
                    "Replace the A/AAAA records of {host} ({a}) with a CNAME record to {}.",
                    subject.target
                ),
                None => format!("Add a CNAME record from {host} to {}.", subject.target),
            },
            shown,
        );
    }
    if blocks_cloudflare(&found.caa) {
        return verdict(
            Code::CaaBlocksCertificate,
            format!("The CAA records that apply to {host} let none of the certificate authorities Cloudflare uses issue its certificate: add CAA records with issue \"letsencrypt.org\", issue \"pki.goog\" and issue \"ssl.com\" beside yours."),
            None,
        );
    }
    if let Some(stale) = stale_acme(found) {
        return verdict(
            Code::StaleAcmeChallenge,
            format!(
                "Delete the leftover record {} ({stale}): it is from an earlier certificate and can stop this one being issued.",
                acme_record(host)
            ),
            None,
        );
    }
    if cloudflare_active(row) {
        return verdict(
            Code::Ready,
            format!("Nothing to do: {host} points here and its certificate is active."),
            None,
        );
    }
    verdict(
        Code::CertificatePending,
        format!("Nothing to do: the DNS of {host} is right, and Cloudflare is verifying it and issuing its certificate, which takes a few minutes."),
        None,
    )
}

/// The diagnosis to show of `row`: its stored one, brought up to date with Cloudflare's state
/// since (a `certificate_pending` whose certificate became active is `ready`; a `ready` whose
/// hostname or certificate no longer is, `certificate_pending`); `not_checked` when there is
/// none or the doctor does not look at the row.
pub fn shown(row: &DomainRow, stored: Option<&Stored>) -> Diagnosis {
    let not_checked = |fix: String| Diagnosis {
        code: Code::NotChecked,
        fix,
        points_to: None,
        checked_at: None,
    };
    if !is_diagnosed(row) {
        return not_checked(match row.status {
            Status::Removing => "Nothing to do: the domain is being removed.".into(),
            Status::Blocked => "Cloudflare blocked this domain: contact support.".into(),
            _ => "Fix what errors says, then add the domain again.".into(),
        });
    }
    let Some(stored) = stored else {
        return not_checked(format!(
            "The DNS of {} is checked within a minute.",
            row.hostname
        ));
    };
    let code = match stored.code {
        Code::CertificatePending if cloudflare_active(row) => Code::Ready,
        Code::Ready if !cloudflare_active(row) => Code::CertificatePending,
        code => code,
    };
    let fix = if code == stored.code {
        stored.fix.clone()
    } else if code == Code::Ready {
        format!(
            "Nothing to do: {} points here and its certificate is active.",
            row.hostname
        )
    } else {
        format!("Nothing to do: the DNS of {} is right, and Cloudflare is verifying it and issuing its certificate, which takes a few minutes.", row.hostname)
    };
    Diagnosis {
        code,
        fix,
        points_to: stored.points_to.clone(),
        checked_at: Some(stored.checked_at.clone()),
    }
}

/// Whether the domain is ready: Cloudflare's hostname and certificate are active and the DNS
/// points here. A DNS lookup that failed (`unknown`) keeps Cloudflare's word: Cloudflare
/// keeps a hostname active only while its DNS points here.
pub fn is_ready(row: &DomainRow, shown: &Diagnosis) -> bool {
    cloudflare_active(row) && matches!(shown.code, Code::Ready | Code::Unknown)
}

/// Whether Cloudflare's hostname (the row's status) and certificate are active.
fn cloudflare_active(row: &DomainRow) -> bool {
    row.status == Status::Active && row.ssl_status.as_deref() == Some("active")
}

/// Whether `host`'s DNS points here: its CNAME chain reaches `target`, or (an apex, flattened)
/// its addresses are the target's, all of them and no others.
pub fn points_here(host: &str, target: &str, found: &Findings) -> bool {
    let target = bare_name(target);
    let via_cname = found
        .a
        .aliases
        .iter()
        .chain(&found.aaaa.aliases)
        .any(|a| *a == target);
    if via_cname {
        return true;
    }
    let Some(theirs) = &found.target_addresses else {
        return false;
    };
    let mut ours = addresses(found);
    let mut theirs = theirs.clone();
    ours.sort();
    ours.dedup();
    theirs.sort();
    theirs.dedup();
    is_apex(host) && !ours.is_empty() && ours == theirs
}

/// The A and AAAA addresses found at the name (its chain's end).
fn addresses(found: &Findings) -> Vec<IpAddr> {
    found
        .a
        .values
        .iter()
        .chain(&found.aaaa.values)
        .filter_map(|v| v.trim().parse().ok())
        .collect()
}

fn join(addresses: &[IpAddr]) -> String {
    addresses
        .iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `ip` is in one of Cloudflare's anycast ranges.
pub fn is_cloudflare(ip: &IpAddr) -> bool {
    CLOUDFLARE_RANGES
        .iter()
        .any(|(net, len)| match (ip, net.parse::<IpAddr>()) {
            (IpAddr::V4(ip), Ok(IpAddr::V4(net))) => {
                let mask = u32::MAX << (32 - u32::from(*len));
                u32::from(*ip) & mask == u32::from(net) & mask
            }
            (IpAddr::V6(ip), Ok(IpAddr::V6(net))) => {
                let mask = u128::MAX << (128 - u32::from(*len));
                u128::from(*ip) & mask == u128::from(net) & mask
            }
            _ => false,
        })
}

fn cloudflare_says_another_account(row: &DomainRow) -> bool {
    row.verification_errors.iter().any(|e| {
        let e = e.to_ascii_lowercase();
        ANOTHER_ACCOUNT.iter().any(|words| e.contains(words))
    })
}

/// One CAA record: flags, tag, value (RFC 8659 §4.1).
#[derive(Debug, PartialEq, Eq)]
struct Caa {
    critical: bool,
    tag: String,
    value: String,
}

/// A CAA record's `data` as the JSON API gives it: presentation form (`0 issue
/// "letsencrypt.org"`, Google) or RFC 3597's generic form (`\# 22 00 05 69 73 …`, Cloudflare).
fn caa(data: &str) -> Option<Caa> {
    let data = data.trim();
    if let Some(hex) = data.strip_prefix("\\#") {
        let mut words = hex.split_ascii_whitespace();
        let _length = words.next()?;
        let bytes: Vec<u8> = words
            .flat_map(|w| w.as_bytes().chunks(2).map(|c| std::str::from_utf8(c).ok()))
            .map(|c| c.and_then(|c| u8::from_str_radix(c, 16).ok()))
            .collect::<Option<_>>()?;
        let (&flags, rest) = bytes.split_first()?;
        let (&len, rest) = rest.split_first()?;
        let tag = rest.get(..usize::from(len))?;
        let value = rest.get(usize::from(len)..)?;
        return Some(Caa {
            critical: flags & 128 != 0,
            tag: String::from_utf8_lossy(tag).to_ascii_lowercase(),
            value: String::from_utf8_lossy(value).into_owned(),
        });
    }
    let mut parts = data.splitn(3, char::is_whitespace);
    let flags: u8 = parts.next()?.parse().ok()?;
    let tag = parts.next()?.to_ascii_lowercase();
    let value = parts.next().unwrap_or("").trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    Some(Caa {
        critical: flags & 128 != 0,
        tag,
        value: value.to_string(),
    })
}

/// Whether the CAA records that apply (`records`) stop every CA Cloudflare uses from issuing a
/// (non-wildcard) certificate: a critical property no CA knows, or `issue` properties none of
/// which names one of [`CLOUDFLARE_CAS`] (RFC 8659 §4.2, §4.4). Without `issue` properties
/// any CA may issue.
pub fn blocks_cloudflare(records: &[String]) -> bool {
    let records: Vec<Caa> = records.iter().filter_map(|r| caa(r)).collect();
    const KNOWN: [&str; 5] = ["issue", "issuewild", "iodef", "issuemail", "issuevmc"];
    if records
        .iter()
        .any(|r| r.critical && !KNOWN.contains(&r.tag.as_str()))
    {
        return true;
    }
    let issuers: Vec<String> = records
        .iter()
        .filter(|r| r.tag == "issue")
        .map(|r| {
            let name = r.value.split(';').next().unwrap_or("");
            name.trim().trim_end_matches('.').to_ascii_lowercase()
        })
        .collect();
    !issuers.is_empty() && !issuers.iter().any(|i| CLOUDFLARE_CAS.contains(&i.as_str()))
}

/// A leftover `_acme-challenge` record, described, unless it is Cloudflare's delegation.
fn stale_acme(found: &Findings) -> Option<String> {
    if let Some(alias) = found.acme.aliases.first() {
        return (!alias.ends_with(DCV_DELEGATION)).then(|| format!("a CNAME to {alias}"));
    }
    found
        .acme
        .values
        .first()
        .map(|v| format!("a TXT record {}", v.trim()))
}

/// The rows the cron diagnoses this run: those not active yet (pending or moved), starting at
/// another one each `turn`, as many as `lookups` left can diagnose.
pub fn to_diagnose(rows: &[DomainRow], turn: u64, lookups: usize) -> Vec<DomainRow> {
    let mut due: Vec<DomainRow> = rows
        .iter()
        .filter(|r| matches!(r.status, Status::Pending | Status::Moved))
        .cloned()
        .collect();
    if !due.is_empty() {
        let len = due.len();
        due.rotate_left((turn % len as u64) as usize);
    }
    due.truncate(lookups / MAX_LOOKUPS);
    due
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tests::row;

    const TARGET: &str = "customers.coachplatform.com";
    const CHALLENGE: &str = "_coachplatform-challenge.coach.example.com";
    const NOW: &str = "2026-12-08T03:00:00.000Z";

    fn answer(aliases: &[&str], values: &[&str]) -> Answer {
        Answer {
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    /// What a correct subdomain finds: a CNAME to the target.
    fn correct() -> Findings {
        Findings {
            a: answer(&[TARGET], &["192.0.2.10"]),
            aaaa: answer(&[TARGET], &[]),
            ..Findings::default()
        }
    }

    fn proven(hostname: &str, status: Status, ssl: Option<&str>) -> DomainRow {
        let mut r = row(hostname);
        r.status = status;
        r.ssl_status = ssl.map(str::to_string);
        r.proven_at = Some("2026-12-08T02:00:00+00:00".into());
        r
    }

    fn code_of(r: &DomainRow, found: &Findings) -> Code {
        verdict(r, found).code
    }

    fn verdict(r: &DomainRow, found: &Findings) -> Diagnosis {
        let subject = Subject {
            row: r,
            target: TARGET,
            challenge_record: CHALLENGE,
        };
        diagnose(&subject, Ok(found), NOW)
    }

    #[test]
    fn a_cname_to_the_target_with_cloudflare_active_is_ready() {
        let r = proven("coach.example.com", Status::Active, Some("active"));
        let d = verdict(&r, &correct());
        assert_eq!(d.code, Code::Ready);
        assert!(is_ready(&r, &d));
        assert_eq!(d.checked_at.as_deref(), Some(NOW));
    }

    #[test]
    fn the_dns_right_but_the_certificate_not_active_is_certificate_pending() {
        for ssl in [None, Some("pending_validation"), Some("initializing")] {
            let r = proven("coach.example.com", Status::Pending, ssl);
            let d = verdict(&r, &correct());
            assert_eq!(d.code, Code::CertificatePending, "{ssl:?}");
            assert!(!is_ready(&r, &d));
        }
        let r = proven(
            "coach.example.com",
            Status::Active,
            Some("pending_issuance"),
        );
        assert_eq!(code_of(&r, &correct()), Code::CertificatePending);
    }

    #[test]
    fn no_record_is_cname_missing() {
        let r = proven("coach.example.com", Status::Pending, None);
        let d = verdict(&r, &Findings::default());
        assert_eq!(d.code, Code::CnameMissing);
        assert!(d.fix.contains(TARGET), "{}", d.fix);
        assert_eq!(d.points_to, None);
    }

    #[test]
    fn a_records_at_a_subdomain_are_cname_missing_and_named() {
        let r = proven("coach.example.com", Status::Pending, None);
        let found = Findings {
            a: answer(&[], &["203.0.113.7"]),
            ..Findings::default()
        };
        let d = verdict(&r, &found);
        assert_eq!(d.code, Code::CnameMissing);
        assert_eq!(d.points_to.as_deref(), Some("203.0.113.7"));
    }

    #[test]
    fn a_cname_elsewhere_says_where_it_points() {
        let r = proven("coach.example.com", Status::Pending, None);
        let found = Findings {
            a: answer(&["shops.myshopify.com"], &["203.0.113.7"]),
            ..Findings::default()
        };
        let d = verdict(&r, &found);
        assert_eq!(d.code, Code::CnameElsewhere);
        assert_eq!(d.points_to.as_deref(), Some("shops.myshopify.com"));
        assert!(d.fix.contains("shops.myshopify.com") && d.fix.contains(TARGET));
    }

    #[test]
    fn an_apex_with_addresses_elsewhere_needs_flattening_by_the_public_suffix_list() {
        for host in ["example.com", "example.co.uk"] {
            let r = proven(host, Status::Pending, None);
            let found = Findings {
                a: answer(&[], &["203.0.113.7"]),
                target_addresses: Some(vec!["192.0.2.10".parse().unwrap()]),
                ..Findings::default()
            };
            let d = verdict(&r, &found);
            assert_eq!(d.code, Code::ApexNeedsFlattening, "{host}");
            assert!(d.fix.contains("ALIAS"), "{}", d.fix);
        }
        let sub = proven("shop.example.co.uk", Status::Pending, None);
        assert_eq!(
            code_of(&sub, &Findings::default()),
            Code::CnameMissing,
            "a subdomain of an apex under a two-label suffix"
        );
    }

    #[test]
    fn a_flattened_apex_answering_the_targets_addresses_points_here() {
        let target = vec![
            "192.0.2.10".parse().unwrap(),
            "2001:db8::10".parse().unwrap(),
        ];
        let found = Findings {
            a: answer(&[], &["192.0.2.10"]),
            aaaa: answer(&[], &["2001:db8::10"]),
            target_addresses: Some(target),
            ..Findings::default()
        };
        let r = proven("example.co.uk", Status::Active, Some("active"));
        assert_eq!(code_of(&r, &found), Code::Ready);
        let partial = Findings {
            aaaa: answer(&[], &[]),
            ..found.clone()
        };
        assert_eq!(
            code_of(&r, &partial),
            Code::ApexNeedsFlattening,
            "only some of them"
        );
        let sub = proven("coach.example.co.uk", Status::Active, Some("active"));
        assert_eq!(
            code_of(&sub, &found),
            Code::CnameMissing,
            "only an apex is flattened"
        );
    }

    #[test]
    fn cloudflare_anycast_addresses_without_the_cname_are_another_account() {
        for ip in [
            "104.16.132.229",
            "172.67.1.1",
            "188.114.97.3",
            "2606:4700::6810:84e5",
        ] {
            let r = proven("coach.example.com", Status::Pending, None);
            let kind = if ip.contains(':') { "aaaa" } else { "a" };
            let mut found = Findings::default();
            if kind == "a" {
                found.a = answer(&[], &[ip]);
            } else {
                found.aaaa = answer(&[], &[ip]);
            }
            let d = verdict(&r, &found);
            assert_eq!(d.code, Code::ProxiedByAnotherCloudflareAccount, "{ip}");
            assert_eq!(d.points_to.as_deref(), Some(ip));
        }
        let apex = proven("example.com", Status::Pending, None);
        let found = Findings {
            a: answer(&[], &["104.21.5.5"]),
            ..Findings::default()
        };
        assert_eq!(
            code_of(&apex, &found),
            Code::ProxiedByAnotherCloudflareAccount,
            "before apex_needs_flattening"
        );
        let elsewhere = Findings {
            a: answer(&["shop.other-saas.com"], &["172.66.0.1", "104.18.0.1"]),
            ..Findings::default()
        };
        assert_eq!(
            code_of(&apex, &elsewhere),
            Code::ProxiedByAnotherCloudflareAccount,
            "before cname_elsewhere"
        );
    }

    #[test]
    fn cloudflares_own_words_also_say_another_account() {
        let mut r = proven(
            "coach.example.com",
            Status::Pending,
            Some("pending_validation"),
        );
        r.verification_errors = vec!["Error 1014: CNAME Cross-User Banned".into()];
        assert_eq!(
            code_of(&r, &Findings::default()),
            Code::ProxiedByAnotherCloudflareAccount
        );
    }

    #[test]
    fn addresses_outside_cloudflares_ranges_are_not_cloudflares() {
        for ip in [
            "104.15.255.255",
            "104.28.0.0",
            "192.0.2.1",
            "2606:4701::1",
            "172.72.0.1",
        ] {
            assert!(!is_cloudflare(&ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "104.16.0.0",
            "104.23.255.255",
            "162.159.1.1",
            "2a06:98c7::1",
        ] {
            assert!(is_cloudflare(&ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn caa_excluding_cloudflares_cas_blocks_the_certificate() {
        let r = proven(
            "coach.example.com",
            Status::Pending,
            Some("pending_validation"),
        );
        let found = Findings {
            caa: vec![r#"0 issue "digicert-only.example""#.into()],
            ..correct()
        };
        let d = verdict(&r, &found);
        assert_eq!(d.code, Code::CaaBlocksCertificate);
        assert!(d.fix.contains("letsencrypt.org"), "{}", d.fix);
    }

    #[test]
    fn caa_is_read_as_rfc_8659_says() {
        let blocks = |records: &[&str]| {
            blocks_cloudflare(&records.iter().map(|r| r.to_string()).collect::<Vec<_>>())
        };
        assert!(!blocks(&[]), "no CAA: anyone may issue");
        assert!(
            !blocks(&[r#"0 iodef "mailto:sec@example.com""#]),
            "no issue property"
        );
        assert!(!blocks(&[r#"0 issue "letsencrypt.org""#]));
        assert!(!blocks(&[
            r#"0 issue "pki.goog; cansignhttpexchanges=yes""#,
            r#"0 issue "other.ca""#
        ]));
        assert!(
            !blocks(&[r#"0 ISSUE "LetsEncrypt.org.""#]),
            "case and a final dot"
        );
        assert!(blocks(&[r#"0 issue ";""#]), "nobody may issue");
        assert!(blocks(&[r#"0 issue "amazon.com""#]));
        assert!(
            blocks(&[
                r#"0 issuewild "letsencrypt.org""#,
                r#"0 issue "amazon.com""#
            ]),
            "issuewild is for wildcards"
        );
        assert!(
            blocks(&[r#"128 tbs "unknown""#]),
            "a critical unknown property"
        );
        assert!(!blocks(&[r#"0 tbs "unknown""#]));
        // Cloudflare's generic form of `0 issue "letsencrypt.org"` and `0 issue "amazon.com"`.
        assert!(!blocks(&[
            r"\# 22 00 05 69 73 73 75 65 6c 65 74 73 65 6e 63 72 79 70 74 2e 6f 72 67"
        ]));
        assert!(blocks(&[r"\# 17 00 05 69737375 65 616d617a6f6e2e636f6d"]));
    }

    #[test]
    fn caa_is_looked_up_from_the_name_up_to_its_apex() {
        assert_eq!(
            caa_names("a.b.coach.example.co.uk"),
            [
                "a.b.coach.example.co.uk",
                "b.coach.example.co.uk",
                "coach.example.co.uk",
                "example.co.uk"
            ]
        );
        assert_eq!(
            caa_names("coach.example.com"),
            ["coach.example.com", "example.com"]
        );
        assert_eq!(caa_names("example.com"), ["example.com"]);
        assert_eq!(caa_names("a.b.c.d.e.example.com").len(), MAX_CAA_LEVELS);
    }

    #[test]
    fn a_leftover_acme_challenge_is_stale_but_cloudflares_delegation_is_not() {
        let r = proven(
            "coach.example.com",
            Status::Pending,
            Some("pending_validation"),
        );
        let txt = Findings {
            acme: answer(&[], &["\"old-validation-token\""]),
            ..correct()
        };
        let d = verdict(&r, &txt);
        assert_eq!(d.code, Code::StaleAcmeChallenge);
        assert!(
            d.fix.contains("_acme-challenge.coach.example.com"),
            "{}",
            d.fix
        );
        let elsewhere = Findings {
            acme: answer(&["coach.example.com.acme.old-host.net"], &[]),
            ..correct()
        };
        assert_eq!(code_of(&r, &elsewhere), Code::StaleAcmeChallenge);
        let delegated = Findings {
            acme: answer(
                &["coach.example.com.0f73f020e7894d42.dcv.cloudflare.com"],
                &[],
            ),
            ..correct()
        };
        assert_eq!(code_of(&r, &delegated), Code::CertificatePending);
    }

    #[test]
    fn a_missing_proof_comes_first_once_the_lookups_answered() {
        let r = row("coach.example.com");
        let found = Findings {
            proof: Some(vec!["something else".into()]),
            ..Findings::default()
        };
        let d = verdict(&r, &found);
        assert_eq!(d.code, Code::ProofMissing);
        assert!(d.fix.contains(CHALLENGE) && d.fix.contains(&r.proof_token));
        let published = Findings {
            proof: Some(vec![r.proof_token.clone()]),
            ..Findings::default()
        };
        assert_eq!(
            code_of(&r, &published),
            Code::CnameMissing,
            "the TXT record is there"
        );
    }

    #[test]
    fn a_failed_lookup_is_unknown_decides_nothing_and_keeps_cloudflares_word() {
        let subject_row = proven("coach.example.com", Status::Active, Some("active"));
        let subject = Subject {
            row: &subject_row,
            target: TARGET,
            challenge_record: CHALLENGE,
        };
        let d = diagnose(&subject, Err("SERVFAIL"), NOW);
        assert_eq!(d.code, Code::Unknown);
        assert!(
            is_ready(&subject_row, &d),
            "a working domain is never marked broken"
        );
        let pending = proven("coach.example.com", Status::Pending, None);
        let subject = Subject {
            row: &pending,
            ..subject
        };
        let d = diagnose(&subject, Err("timeout"), NOW);
        assert_eq!(d.code, Code::Unknown);
        assert!(!is_ready(&pending, &d));
    }

    #[test]
    fn precedence_dns_before_caa_before_the_leftover_challenge() {
        let r = proven(
            "coach.example.com",
            Status::Pending,
            Some("pending_validation"),
        );
        let everything = Findings {
            a: answer(&["elsewhere.example.net"], &[]),
            caa: vec![r#"0 issue "amazon.com""#.into()],
            acme: answer(&[], &["\"old\""]),
            ..Findings::default()
        };
        assert_eq!(code_of(&r, &everything), Code::CnameElsewhere);
        let pointed = Findings {
            a: answer(&[TARGET], &[]),
            ..everything.clone()
        };
        assert_eq!(code_of(&r, &pointed), Code::CaaBlocksCertificate);
        let caa_fixed = Findings {
            caa: vec![],
            ..pointed
        };
        assert_eq!(code_of(&r, &caa_fixed), Code::StaleAcmeChallenge);
        let unproven = row("coach.example.com");
        assert_eq!(
            code_of(&unproven, &everything),
            Code::ProofMissing,
            "the proof first"
        );
        let active = proven("coach.example.com", Status::Active, Some("active"));
        let pointed = Findings {
            a: answer(&[TARGET], &[]),
            ..everything
        };
        let d = verdict(&active, &pointed);
        assert_eq!(
            d.code,
            Code::CaaBlocksCertificate,
            "active at Cloudflare, but its renewal is blocked"
        );
        assert!(!is_ready(&active, &d));
        let acme_only = Findings {
            caa: vec![],
            ..pointed
        };
        assert_eq!(code_of(&active, &acme_only), Code::StaleAcmeChallenge);
    }

    #[test]
    fn a_stored_diagnosis_follows_cloudflares_state_since() {
        let stored = Stored {
            code: Code::CertificatePending,
            fix: "x".into(),
            points_to: None,
            checked_at: NOW.into(),
        };
        let active = proven("coach.example.com", Status::Active, Some("active"));
        let d = shown(&active, Some(&stored));
        assert_eq!(d.code, Code::Ready);
        assert!(is_ready(&active, &d));
        let ready = Stored {
            code: Code::Ready,
            ..stored.clone()
        };
        let moved = proven("coach.example.com", Status::Moved, Some("active"));
        assert_eq!(shown(&moved, Some(&ready)).code, Code::CertificatePending);
        let elsewhere = Stored {
            code: Code::CnameElsewhere,
            points_to: Some("x.example.net".into()),
            ..stored
        };
        let d = shown(&active, Some(&elsewhere));
        assert_eq!(
            (d.code, d.points_to.as_deref()),
            (Code::CnameElsewhere, Some("x.example.net"))
        );
        assert!(!is_ready(&active, &d), "the DNS points elsewhere");
        assert_eq!(shown(&active, None).code, Code::NotChecked);
        let mut removing = active.clone();
        removing.status = Status::Removing;
        assert_eq!(shown(&removing, Some(&ready)).code, Code::NotChecked);
    }

    #[test]
    fn a_diagnosis_is_due_when_old_or_older_than_its_rows_change() {
        let mut r = row("coach.example.com");
        r.updated_at = "2026-12-08T02:59:00+00:00".into();
        let at = |checked_at: &str| Stored {
            code: Code::CnameMissing,
            fix: String::new(),
            points_to: None,
            checked_at: checked_at.into(),
        };
        let now = tenant_common::parse_ms(NOW).unwrap();
        assert!(is_due(&r, None, now));
        assert!(!is_due(&r, Some(&at("2026-12-08T02:59:30+00:00")), now));
        assert!(
            is_due(&r, Some(&at("2026-12-08T02:59:00+00:00")), now),
            "60 s old"
        );
        assert!(
            is_due(&r, Some(&at("2026-12-08T02:58:59+00:00")), now),
            "the row changed since"
        );
    }

    #[test]
    fn the_cron_diagnoses_what_is_not_active_within_its_lookups() {
        let rows: Vec<DomainRow> = [
            Status::Pending,
            Status::Active,
            Status::Moved,
            Status::Failed,
            Status::Pending,
        ]
        .iter()
        .enumerate()
        .map(|(i, s)| proven(&format!("d{i}.example.com"), *s, None))
        .collect();
        let names = |turn, lookups| {
            to_diagnose(&rows, turn, lookups)
                .into_iter()
                .map(|r| r.hostname)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(0, 100),
            ["d0.example.com", "d2.example.com", "d4.example.com"]
        );
        assert_eq!(
            names(1, 2 * MAX_LOOKUPS),
            ["d2.example.com", "d4.example.com"]
        );
        assert!(names(0, MAX_LOOKUPS - 1).is_empty());
    }

    #[test]
    fn a_read_diagnoses_a_few_due_rows_never_checked_first() {
        let now = tenant_common::parse_ms(NOW).unwrap();
        let stored = |at: &str| Stored {
            code: Code::CnameMissing,
            fix: String::new(),
            points_to: None,
            checked_at: at.into(),
        };
        let mut rows: Vec<DomainRow> = (0..6).map(|i| row(&format!("d{i}.example.com"))).collect();
        rows[0].diagnosis = Some(stored("2026-12-08T02:50:00Z"));
        rows[1].diagnosis = Some(stored("2026-12-08T02:59:59Z"));
        rows[2].status = Status::Removing;
        rows[3].diagnosis = Some(stored("2026-12-08T02:40:00Z"));
        assert_eq!(due_on_read(&rows, now), [4, 5, 3]);
        assert_eq!(
            due_on_read(&rows[..2], now),
            [0],
            "a fresh one is shown as it is"
        );
    }

    #[test]
    fn the_json_shape() {
        let r = proven("coach.example.com", Status::Pending, None);
        let found = Findings {
            a: answer(&["elsewhere.example.net"], &[]),
            ..Findings::default()
        };
        let json = serde_json::to_value(verdict(&r, &found)).unwrap();
        assert_eq!(json["code"], "cname_elsewhere");
        assert_eq!(json["pointsTo"], "elsewhere.example.net");
        assert_eq!(json["checkedAt"], NOW);
        let no_points = serde_json::to_value(verdict(&r, &correct())).unwrap();
        assert!(no_points.get("pointsTo").is_none());
    }
}
