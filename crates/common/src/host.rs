//! Hostnames: the `Host` header of a request and the custom domains tenants claim.
//!
//! A [`Host`] can only be built by [`Host::parse`] (or [`Host::parse_domain`]), so code that
//! holds one never re-checks it. The rules follow DNS (RFC 1035 / 1123) as browsers send it:
//! internationalised names arrive as punycode (`xn--…`), which is plain ASCII and valid.

use std::fmt;

use crate::error::{Input, Invalid};

const MAX_LEN: usize = 253;
const MAX_LABEL: usize = 63;
const HOST_EXPECTED: &str =
    "a DNS hostname (letters, digits, hyphens and dots; labels of 1-63 characters; not an IP address)";
const DOMAIN_EXPECTED: &str =
    "a domain like coach.example.com (lowercase DNS labels, no scheme, port or path)";

/// A validated, normalised hostname: lowercase ASCII, no port, no trailing dot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Host(String);

impl Host {
    /// Parses a `Host` header: lowercases it, strips a `:port` and one trailing dot, then checks
    /// the DNS rules. IP literals are rejected: no tenant lives at an address.
    #[inline]
    pub fn parse(input: &str) -> Result<Host, Invalid> {
        let err = || Invalid {
            what: Input::Host,
            input: input.to_string(),
            expected: HOST_EXPECTED,
        };
        let mut name = input.to_ascii_lowercase();
        if let Some(colon) = name.rfind(':') {
            if !is_port(&name[colon + 1..]) {
                return Err(err());
            }
            name.truncate(colon);
        }
        normalise(name).ok_or_else(err)
    }

    /// Parses a custom domain as tenants store it: the host rules, no port, and at least two
    /// labels (a single label can never be a tenant's custom domain).
    #[inline]
    pub fn parse_domain(input: &str) -> Result<Host, Invalid> {
        let err = || Invalid {
            what: Input::Domain,
            input: input.to_string(),
            expected: DOMAIN_EXPECTED,
        };
        let host = normalise(input.to_ascii_lowercase()).ok_or_else(err)?;
        if host.0.contains('.') {
            Ok(host)
        } else {
            Err(err())
        }
    }

    /// The normalised name.
    #[inline]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host with its first label removed when that label is `www`: the apex a `www.`
    /// host may redirect to. `None` when there is no `www.` or nothing would remain but a TLD.
    #[inline]
    pub fn without_www(&self) -> Option<Host> {
        let rest = self.0.strip_prefix("www.")?;
        rest.contains('.').then(|| Host(rest.to_string()))
    }

    /// The label in front of `parent` when this host is exactly one level below it
    /// (`coach.platform.com` under `platform.com` is `coach`).
    #[inline]
    pub fn subdomain_of(&self, parent: &Host) -> Option<&str> {
        let label = self.0.strip_suffix(parent.as_str())?.strip_suffix('.')?;
        (!label.is_empty() && !label.contains('.')).then_some(label)
    }
}

#[inline]
fn is_port(s: &str) -> bool {
    !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Checks the DNS rules on an already lowercased name without a port; strips one trailing dot.
/// An IPv4 address in any notation ends in a numeric label, which no DNS name has: digits, or
/// `0x` and hex digits (`0x7f.0x1` is 127.0.0.1 to a WHATWG URL parser, browsers and workerd).
#[inline]
fn normalise(mut name: String) -> Option<Host> {
    if name.ends_with('.') {
        name.pop();
    }
    if name.is_empty() || name.len() > MAX_LEN {
        return None;
    }
    let mut labels = name.split('.').peekable();
    while let Some(label) = labels.next() {
        let valid = !label.is_empty()
            && label.len() <= MAX_LABEL
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        // A numeric last label is never a DNS name: it is an IP address in some notation.
        let numeric_tld = labels.peek().is_none() && is_number(label);
        if !valid || numeric_tld {
            return None;
        }
    }
    Some(Host(name))
}

/// Whether a label is a number to the WHATWG URL parser's IPv4 reader: decimal digits, or `0x`
/// followed by hex digits (none at all included).
#[inline]
fn is_number(label: &str) -> bool {
    match label.strip_prefix("0x") {
        Some(hex) => hex.bytes().all(|b| b.is_ascii_hexdigit()),
        None => label.bytes().all(|b| b.is_ascii_digit()),
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(s: &str) -> Option<String> {
        Host::parse(s).ok().map(|h| h.0)
    }

    #[test]
    fn lowercases_and_strips_port_and_trailing_dot() {
        assert_eq!(host("Coach.LeadingWithMeaning.COM:8443.").as_deref(), None);
        assert_eq!(
            host("Coach.LeadingWithMeaning.COM.:8443").as_deref(),
            Some("coach.leadingwithmeaning.com")
        );
        assert_eq!(host("example.com:80").as_deref(), Some("example.com"));
        assert_eq!(host("example.com.").as_deref(), Some("example.com"));
    }

    #[test]
    fn strips_only_one_trailing_dot() {
        assert_eq!(host("example.com.."), None);
    }

    #[test]
    fn accepts_punycode_and_single_labels() {
        assert_eq!(
            host("xn--bcher-kva.example").as_deref(),
            Some("xn--bcher-kva.example")
        );
        assert_eq!(host("localhost").as_deref(), Some("localhost"));
    }

    #[test]
    fn rejects_empty_and_oversized() {
        assert_eq!(host(""), None);
        assert_eq!(host(":80"), None);
        assert_eq!(host(&format!("{}.com", "a".repeat(64))), None);
        let long = vec!["a".repeat(60); 5].join(".");
        assert!(long.len() > 253);
        assert_eq!(host(&long), None);
        let ok = vec!["a".repeat(62); 4].join(".");
        assert!(ok.len() <= 253);
        assert!(host(&ok).is_some());
    }

    #[test]
    fn rejects_bad_characters_and_labels() {
        for bad in [
            "ex ample.com",
            "ex_ample.com",
            "-a.com",
            "a-.com",
            "a..com",
            ".a.com",
            "a.com/x",
            "a@b.com",
            "bücher.de",
            "a.com:x",
            "a.com:",
            "a.com:123456",
        ] {
            assert_eq!(host(bad), None, "{bad}");
        }
    }

    #[test]
    fn rejects_ip_literals() {
        for bad in [
            "127.0.0.1",
            "127.0.0.1:8787",
            "[::1]",
            "[::1]:8787",
            "::1",
            "10.1",
            "1.2.3.4.",
            "0x7f.0x1",
            "0X7F.0X1",
            "a.0x",
            "example.0xbad",
        ] {
            assert_eq!(host(bad), None, "{bad}");
        }
        for ok in ["a.0xz", "0x7f.com", "example.x0"] {
            assert_eq!(
                host(ok).as_deref(),
                Some(ok.to_ascii_lowercase().as_str()),
                "{ok}"
            );
        }
    }

    #[test]
    fn invalid_host_keeps_the_input() {
        let e = Host::parse("a..b").unwrap_err();
        assert_eq!(e.code(), "invalid_host");
        assert!(e.message().contains("a..b"));
    }

    #[test]
    fn domains_need_two_labels_and_no_port() {
        assert!(Host::parse_domain("Coach.Example.com.").is_ok());
        assert_eq!(
            Host::parse_domain("localhost").unwrap_err().code(),
            "invalid_domain"
        );
        assert_eq!(
            Host::parse_domain("example.com:443").unwrap_err().code(),
            "invalid_domain"
        );
        assert_eq!(
            Host::parse_domain("https://example.com")
                .unwrap_err()
                .code(),
            "invalid_domain"
        );
    }

    #[test]
    fn www_strips_to_the_apex() {
        let h = Host::parse("www.coach.example.com").unwrap();
        assert_eq!(h.without_www().unwrap().as_str(), "coach.example.com");
        assert_eq!(Host::parse("www.com").unwrap().without_www(), None);
        assert_eq!(
            Host::parse("coach.example.com").unwrap().without_www(),
            None
        );
    }

    #[test]
    fn subdomain_is_exactly_one_label_below() {
        let platform = Host::parse("coachplatform.com").unwrap();
        let sub = |s: &str| {
            Host::parse(s)
                .unwrap()
                .subdomain_of(&platform)
                .map(str::to_string)
        };
        assert_eq!(sub("acme.coachplatform.com").as_deref(), Some("acme"));
        assert_eq!(sub("coachplatform.com"), None);
        assert_eq!(sub("a.b.coachplatform.com"), None);
        assert_eq!(sub("evilcoachplatform.com"), None);
    }
}
