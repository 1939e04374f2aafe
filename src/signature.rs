//! The signature on every request the Worker forwards: how the app's origin tells the Worker's
//! requests, and the tenant identity they carry, from anyone else's.
//!
//! The origin is an ordinary HTTPS endpoint: anyone who finds it can send it `X-Tenant-Id: <any
//! tenant>` directly. With `ORIGIN_SIGNING_SECRET` set, the Worker adds
//!
//! ```text
//! X-Tenant-Signature: t=<unix seconds>,v1=<lowercase hex HMAC-SHA256(secret, canonical string)>
//! ```
//!
//! over exactly the values the origin reads, one per line (`\n`), in this order:
//!
//! ```text
//! v1
//! <t, the same decimal seconds as in the header>
//! <the method, as sent: GET>
//! <X-Forwarded-Host: coach.leadingwithmeaning.com>
//! <the path and query the origin receives: /welcome?x=1>
//! <X-Tenant-Id, empty on the platform's own host>
//! <X-Tenant-Slug, empty on the platform's own host>
//! ```
//!
//! so a signature copied from one request fails for another method, host, path, query or
//! tenant, and after the tolerance (300 s by default) for the same one. [`verify`] is the check
//! an origin written in Rust makes; `origin/verify.mjs` is the same for JavaScript, and the
//! README gives a test vector for any other language.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header the signature travels in.
pub const HEADER: &str = "x-tenant-signature";
/// The shortest secret accepted (bytes): an HMAC key shorter than its hash's output is weaker.
pub const MIN_SECRET_LEN: usize = 32;
/// How far a signature's time may be from the verifier's clock, by default (seconds).
pub const DEFAULT_TOLERANCE_S: u64 = 300;

/// The values a signature covers, as the origin receives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed<'a> {
    pub method: &'a str,
    /// `X-Forwarded-Host`.
    pub host: &'a str,
    /// The request target: the path and, when there is one, `?` and the query.
    pub path_and_query: &'a str,
    /// `X-Tenant-Id` (empty on the platform's own host).
    pub tenant_id: &'a str,
    /// `X-Tenant-Slug` (empty on the platform's own host).
    pub slug: &'a str,
}

/// Why a verifier refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No `X-Tenant-Signature` (or no `X-Forwarded-Host`).
    Missing,
    /// The header is not `t=<seconds>,v1=<64 hex digits>`.
    Malformed,
    /// Signed longer ago than the tolerance.
    Expired,
    /// Signed further in the future than the tolerance.
    Future,
    /// No secret gives this signature for these values: another method, host, path, query or
    /// tenant, or another secret.
    Signature,
}

impl Refusal {
    /// The reason as the JavaScript verifier names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Missing => "missing",
            Refusal::Malformed => "malformed",
            Refusal::Expired => "expired",
            Refusal::Future => "future",
            Refusal::Signature => "signature",
        }
    }
}

/// The canonical string a signature at `t` covers.
pub fn canonical(t: u64, signed: &Signed<'_>) -> String {
    format!(
        "v1\n{t}\n{}\n{}\n{}\n{}\n{}",
        signed.method, signed.host, signed.path_and_query, signed.tenant_id, signed.slug
    )
}

fn mac(secret: &[u8], t: u64, signed: &Signed<'_>) -> Hmac<Sha256> {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(canonical(t, signed).as_bytes());
    mac
}

/// The `X-Tenant-Signature` value for `signed` at `t`, with `secret`.
pub fn sign(secret: &[u8], t: u64, signed: &Signed<'_>) -> String {
    let tag = mac(secret, t, signed).finalize().into_bytes();
    let mut value = format!("t={t},v1=");
    for byte in tag {
        value.push(char::from(HEX[usize::from(byte >> 4)]));
        value.push(char::from(HEX[usize::from(byte & 15)]));
    }
    value
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Checks `header` (the request's `X-Tenant-Signature`) for `signed` at `now_s`, with any of
/// `secrets` (the current one and, while rotating, the previous one), within `tolerance_s`.
/// The comparison takes the same time whatever the signature (`Mac::verify_slice`).
pub fn verify(
    header: Option<&str>,
    signed: &Signed<'_>,
    secrets: &[&[u8]],
    now_s: u64,
    tolerance_s: u64,
) -> Result<(), Refusal> {
    let header = header.filter(|h| !h.is_empty()).ok_or(Refusal::Missing)?;
    if signed.host.is_empty() {
        return Err(Refusal::Missing);
    }
    let (t, tags) = parse(header).ok_or(Refusal::Malformed)?;
    if t.saturating_add(tolerance_s) < now_s {
        return Err(Refusal::Expired);
    }
    if t > now_s.saturating_add(tolerance_s) {
        return Err(Refusal::Future);
    }
    let matches = secrets.iter().any(|secret| {
        tags.iter()
            .any(|tag| mac(secret, t, signed).verify_slice(tag).is_ok())
    });
    if matches {
        Ok(())
    } else {
        Err(Refusal::Signature)
    }
}

/// `t=<seconds>,v1=<hex>[,v1=<hex>…]`: the time and the signatures (32 bytes each).
fn parse(header: &str) -> Option<(u64, Vec<[u8; 32]>)> {
    let mut t = None;
    let mut tags = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=')?;
        match key {
            "t" if t.is_none()
                && !value.is_empty()
                && value.bytes().all(|b| b.is_ascii_digit()) =>
            {
                t = Some(value.parse().ok()?);
            }
            "v1" => tags.push(unhex(value)?),
            _ => return None,
        }
    }
    Some((t?, tags)).filter(|(_, tags)| !tags.is_empty())
}

fn unhex(hex: &str) -> Option<[u8; 32]> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's test vector: any verifier must compute the same.
    const SECRET: &[u8] = b"test-signing-secret-0123456789abcdef";
    const T: u64 = 1_767_225_600;
    const PAGE: Signed<'static> = Signed {
        method: "GET",
        host: "coach.leadingwithmeaning.com",
        path_and_query: "/welcome?x=1",
        tenant_id: "3bb43f29-695c-493b-8b5c-3819ffc0675c",
        slug: "leadingwithmeaning",
    };
    const VECTOR: &str =
        "t=1767225600,v1=3505163b090968dad6504e8fdea869ddbfa35ed25b3916c66f4469278bddea62";

    #[test]
    fn the_canonical_string_is_the_values_one_per_line() {
        assert_eq!(
            canonical(T, &PAGE),
            "v1\n1767225600\nGET\ncoach.leadingwithmeaning.com\n/welcome?x=1\n3bb43f29-695c-493b-8b5c-3819ffc0675c\nleadingwithmeaning"
        );
        let platform = Signed {
            tenant_id: "",
            slug: "",
            ..PAGE
        };
        assert!(
            canonical(T, &platform).ends_with("/welcome?x=1\n\n"),
            "no tenant is signed too"
        );
    }

    #[test]
    fn the_signature_matches_the_published_test_vector() {
        assert_eq!(sign(SECRET, T, &PAGE), VECTOR);
    }

    #[test]
    fn a_signature_verifies_for_exactly_what_it_signed() {
        let ok = |signed: &Signed, now| {
            verify(Some(VECTOR), signed, &[SECRET], now, DEFAULT_TOLERANCE_S)
        };
        assert_eq!(ok(&PAGE, T), Ok(()));
        assert_eq!(ok(&PAGE, T + 300), Ok(()));
        assert_eq!(ok(&PAGE, T + 301), Err(Refusal::Expired));
        assert_eq!(ok(&PAGE, T - 301), Err(Refusal::Future));
        for other in [
            Signed {
                method: "POST",
                ..PAGE
            },
            Signed {
                host: "coach.other.com",
                ..PAGE
            },
            Signed {
                path_and_query: "/welcome?x=2",
                ..PAGE
            },
            Signed {
                path_and_query: "/admin",
                ..PAGE
            },
            Signed {
                tenant_id: "00000000-0000-4000-8000-000000000000",
                ..PAGE
            },
            Signed {
                slug: "other",
                ..PAGE
            },
        ] {
            assert_eq!(ok(&other, T), Err(Refusal::Signature), "{other:?}");
        }
    }

    #[test]
    fn the_previous_secret_verifies_while_rotating() {
        let previous = b"previous-signing-secret-0123456789ab";
        let old = sign(previous, T, &PAGE);
        assert_eq!(
            verify(Some(&old), &PAGE, &[SECRET], T, 300),
            Err(Refusal::Signature)
        );
        assert_eq!(
            verify(Some(&old), &PAGE, &[SECRET, previous], T, 300),
            Ok(())
        );
    }

    #[test]
    fn what_is_not_a_signature_is_missing_or_malformed() {
        let check = |h: Option<&str>| verify(h, &PAGE, &[SECRET], T, 300);
        assert_eq!(check(None), Err(Refusal::Missing));
        assert_eq!(check(Some("")), Err(Refusal::Missing));
        let no_host = Signed { host: "", ..PAGE };
        assert_eq!(
            verify(Some(VECTOR), &no_host, &[SECRET], T, 300),
            Err(Refusal::Missing)
        );
        for bad in [
            "t=1767225600",
            "v1=3505163b090968dad6504e8fdea869ddbfa35ed25b3916c66f4469278bddea62",
            "t=abc,v1=3505163b090968dad6504e8fdea869ddbfa35ed25b3916c66f4469278bddea62",
            "t=1767225600,v1=3505163B090968DAD6504E8FDEA869DDBFA35ED25B3916C66F4469278BDDEA62",
            "t=1767225600,v1=7c0f",
            "t=1767225600,t=1767225600,v1=3505163b090968dad6504e8fdea869ddbfa35ed25b3916c66f4469278bddea62",
            "t=1767225600,v0=3505163b090968dad6504e8fdea869ddbfa35ed25b3916c66f4469278bddea62",
            "t=99999999999999999999999,v1=3505163b090968dad6504e8fdea869ddbfa35ed25b3916c66f4469278bddea62",
        ] {
            assert_eq!(check(Some(bad)), Err(Refusal::Malformed), "{bad}");
        }
    }
}
