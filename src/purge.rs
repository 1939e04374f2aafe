//! `POST /_tenant/purge`: who may call it and what it names.
//!
//! The caller proves it holds `PURGE_TOKEN` as a bearer token, compared in constant time so the
//! answer's timing does not leak how much of a guess was right. The body names one key of the
//! tenant to drop: `{"slug":…}`, `{"domain":…}` or `{"id":…}`.

use serde::Deserialize;

use crate::error::Error;
use crate::host::Host;
use crate::key::{Lookup, Slug, TenantId};

/// Largest purge body read; a key is well under 300 bytes.
pub const MAX_BODY_BYTES: usize = 4096;
const BODY_EXPECTED: &str = r#"a JSON object with exactly one of "slug", "domain" or "id""#;

/// Whether the `Authorization` header carries `Bearer <token>`.
pub fn authorized(header: Option<&str>, token: &str) -> bool {
    let Some(given) = header.and_then(|h| {
        h.strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
    }) else {
        return false;
    };
    let (given, token) = (given.trim().as_bytes(), token.as_bytes());
    let differing = given
        .iter()
        .zip(token)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    given.len() == token.len() && differing == 0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    slug: Option<String>,
    domain: Option<String>,
    id: Option<String>,
}

/// Parses the purge body into the key it names.
pub fn parse_body(body: &str) -> Result<Lookup, Error> {
    let invalid = || Error::InvalidBody {
        expected: BODY_EXPECTED,
    };
    if body.len() > MAX_BODY_BYTES {
        return Err(invalid());
    }
    let body: Body = serde_json::from_str(body).map_err(|_| invalid())?;
    match (body.slug, body.domain, body.id) {
        (Some(slug), None, None) => Ok(Lookup::Slug(Slug::parse(&slug)?)),
        (None, Some(domain), None) => Ok(Lookup::Domain(Host::parse_domain(&domain)?)),
        (None, None, Some(id)) => Ok(Lookup::Id(TenantId::parse(&id)?)),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef";

    #[test]
    fn only_the_exact_bearer_token_is_authorized() {
        assert!(authorized(Some("Bearer 0123456789abcdef"), TOKEN));
        for header in [
            None,
            Some(""),
            Some("0123456789abcdef"),
            Some("Bearer 0123456789abcde"),
            Some("Bearer 0123456789abcdeff"),
            Some("Bearer 0123456789abcdeF"),
            Some("Basic 0123456789abcdef"),
        ] {
            assert!(!authorized(header, TOKEN), "{header:?}");
        }
    }

    #[test]
    fn body_names_one_valid_key() {
        assert_eq!(
            parse_body(r#"{"slug":"Acme"}"#).unwrap().to_string(),
            "slug:acme"
        );
        assert_eq!(
            parse_body(r#"{"domain":"coach.acme.com"}"#)
                .unwrap()
                .to_string(),
            "domain:coach.acme.com"
        );
        assert!(matches!(
            parse_body(r#"{"id":"123e4567-e89b-12d3-a456-426614174000"}"#),
            Ok(Lookup::Id(_))
        ));
    }

    #[test]
    fn bad_bodies_are_named_errors() {
        for body in [
            "",
            "{}",
            "[]",
            "nope",
            r#"{"slug":"a","id":"b"}"#,
            r#"{"name":"acme"}"#,
        ] {
            assert_eq!(
                parse_body(body).unwrap_err().code(),
                "invalid_body",
                "{body}"
            );
        }
        assert_eq!(
            parse_body(r#"{"slug":"-x"}"#).unwrap_err().code(),
            "invalid_slug"
        );
        assert_eq!(
            parse_body(&" ".repeat(MAX_BODY_BYTES + 1))
                .unwrap_err()
                .code(),
            "invalid_body"
        );
    }
}
