//! The keys a tenant is named by in a path: its slug and its id.
//!
//! Each can only be built valid, so a key that reaches a store or a cache has already passed the
//! database's own rules: invalid input never costs an upstream request.

use crate::error::{Input, Invalid};

const SLUG_EXPECTED: &str =
    "3-63 lowercase letters, digits or hyphens, not starting or ending with a hyphen";
const ID_EXPECTED: &str = "a UUID like 123e4567-e89b-12d3-a456-426614174000";

/// A tenant slug under the database's CHECK rule `tenant_profiles_slug_format`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    /// Parses a slug; uppercase letters are normalised to lowercase.
    #[inline]
    pub fn parse(input: &str) -> Result<Slug, Invalid> {
        let slug = input.to_ascii_lowercase();
        let bytes = slug.as_bytes();
        let valid = (3..=63).contains(&bytes.len())
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            && bytes[0] != b'-'
            && bytes[bytes.len() - 1] != b'-';
        if valid {
            Ok(Slug(slug))
        } else {
            Err(Invalid {
                what: Input::Slug,
                input: input.to_string(),
                expected: SLUG_EXPECTED,
            })
        }
    }

    /// The normalised slug.
    #[inline]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tenant id: a UUID in its canonical lowercase hyphenated form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantId(String);

impl TenantId {
    /// Parses a hyphenated UUID in either case.
    #[inline]
    pub fn parse(input: &str) -> Result<TenantId, Invalid> {
        let id = input.to_ascii_lowercase();
        let valid = id.len() == 36
            && id.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_hexdigit(),
            });
        if valid {
            Ok(TenantId(id))
        } else {
            Err(Invalid {
                what: Input::Id,
                input: input.to_string(),
                expected: ID_EXPECTED,
            })
        }
    }

    /// The canonical form.
    #[inline]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_follows_the_database_rule() {
        for ok in [
            "abc",
            "leadingwithmeaning",
            "a-b",
            "a1-2-3",
            &"a".repeat(63),
        ] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "",
            "-abc",
            "abc-",
            "a_b",
            "a b",
            "a.b",
            "ab%",
            "ñandu",
            &"a".repeat(64),
        ] {
            assert_eq!(
                Slug::parse(bad).unwrap_err().code(),
                "invalid_slug",
                "{bad}"
            );
        }
    }

    #[test]
    fn slug_uppercase_is_normalised() {
        assert_eq!(
            Slug::parse("LeadingWithMeaning").unwrap().as_str(),
            "leadingwithmeaning"
        );
    }

    #[test]
    fn id_is_a_uuid() {
        let id = TenantId::parse("123E4567-E89B-12D3-A456-426614174000").unwrap();
        assert_eq!(id.as_str(), "123e4567-e89b-12d3-a456-426614174000");
        for bad in [
            "",
            "123",
            "123e4567e89b12d3a456426614174000",
            "123e4567-e89b-12d3-a456-42661417400g",
            "123e4567-e89b-12d3-a456_426614174000",
            "{123e4567-e89b-12d3-a456-426614174000}",
        ] {
            assert_eq!(
                TenantId::parse(bad).unwrap_err().code(),
                "invalid_id",
                "{bad}"
            );
        }
    }
}
