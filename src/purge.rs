//! `POST /_tenant/purge`: who may call it and what it names.
//!
//! The caller proves it holds `PURGE_TOKEN` as a bearer token, compared in constant time so the
//! answer's timing does not leak how much of a guess was right. The body names one key of the
//! tenant to drop: `{"slug":…}`, `{"domain":…}` or `{"id":…}`. A body is never read past
//! [`MAX_BODY_BYTES`]: a declared `Content-Length` over it is refused before reading, and a
//! chunked body is read through a [`tenant_common::BodyLimit`] that stops at the limit, so an
//! oversized body cannot grow the Worker's memory (Wasm linear memory never shrinks).

use crate::error::Error;
use crate::key::Lookup;
use tenant_common::Host;
use tenant_common::{Slug, TenantId};

/// Largest purge body read; a key is well under 300 bytes.
pub const MAX_BODY_BYTES: usize = 4096;
const BODY_EXPECTED: &str = r#"a JSON object with exactly one of "slug", "domain" or "id""#;

/// Checks that the `Authorization` header carries `Bearer <token>`.
pub fn authorize(header: Option<&str>, token: &str) -> Result<(), Error> {
    if authorized(header, token) {
        Ok(())
    } else {
        Err(Error::Unauthorized {
            expected: Error::PURGE_TOKEN,
        })
    }
}

/// Whether the `Authorization` header carries `Bearer <token>`.
fn authorized(header: Option<&str>, token: &str) -> bool {
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

/// The body read, as text.
pub fn body_text(bytes: Vec<u8>) -> Result<String, Error> {
    String::from_utf8(bytes).map_err(|_| Error::InvalidBody {
        expected: BODY_EXPECTED,
    })
}

impl Lookup {
    /// The key a purge body names.
    pub fn from_purge_body(body: &str) -> Result<Lookup, Error> {
        let invalid = || Error::InvalidBody {
            expected: BODY_EXPECTED,
        };
        if body.len() > MAX_BODY_BYTES {
            return Err(invalid());
        }
        // Read as a `Value`, which the Worker links anyway, rather than through a struct of
        // its own: one object with exactly one of the three keys, a string.
        let body: serde_json::Value = serde_json::from_str(body).map_err(|_| invalid())?;
        let fields = body
            .as_object()
            .filter(|o| o.len() == 1)
            .ok_or_else(invalid)?;
        let (name, value) = fields.iter().next().ok_or_else(invalid)?;
        let value = value.as_str().ok_or_else(invalid)?;
        match name.as_str() {
            "slug" => Ok(Lookup::Slug(Slug::parse(value)?)),
            "domain" => Ok(Lookup::Domain(Host::parse_domain(value)?)),
            "id" => Ok(Lookup::Id(TenantId::parse(value)?)),
            _ => Err(invalid()),
        }
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
    fn a_wrong_token_says_the_purge_token_is_required() {
        let e = authorize(Some("Bearer nope"), TOKEN).unwrap_err();
        assert_eq!(e.code(), "unauthorized");
        assert!(e.message().contains("PURGE_TOKEN"), "{}", e.message());
        assert_eq!(authorize(Some("Bearer 0123456789abcdef"), TOKEN), Ok(()));
    }

    #[test]
    fn a_body_that_is_not_text_is_invalid() {
        assert_eq!(
            body_text(br#"{"slug":"acme"}"#.to_vec()).unwrap(),
            r#"{"slug":"acme"}"#
        );
        assert_eq!(body_text(vec![0xff]).unwrap_err().code(), "invalid_body");
    }

    #[test]
    fn body_names_one_valid_key() {
        assert_eq!(
            Lookup::from_purge_body(r#"{"slug":"Acme"}"#)
                .unwrap()
                .to_string(),
            "slug:acme"
        );
        assert_eq!(
            Lookup::from_purge_body(r#"{"domain":"coach.acme.com"}"#)
                .unwrap()
                .to_string(),
            "domain:coach.acme.com"
        );
        assert!(matches!(
            Lookup::from_purge_body(r#"{"id":"123e4567-e89b-12d3-a456-426614174000"}"#),
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
                Lookup::from_purge_body(body).unwrap_err().code(),
                "invalid_body",
                "{body}"
            );
        }
        assert_eq!(
            Lookup::from_purge_body(r#"{"slug":"-x"}"#)
                .unwrap_err()
                .code(),
            "invalid_slug"
        );
        assert_eq!(
            Lookup::from_purge_body(&" ".repeat(MAX_BODY_BYTES + 1))
                .unwrap_err()
                .code(),
            "invalid_body"
        );
    }
}
