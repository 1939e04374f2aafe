//! Supabase API keys: what a key is, read from the key itself, and how it is sent.
//!
//! Both Workers refuse a key that is not the one they should hold (the resolver and a coach's
//! requests never carry a privileged key; the control plane's own calls need one), so both
//! classify keys here, the one way. A JWT is only decoded, never verified: the Workers hold no
//! JWT secret, PostgREST verifies it.

use crate::token::jwt_role;

/// A Supabase API key, by what it can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A legacy JWT whose `role` claim is `anon`.
    AnonJwt,
    /// `sb_publishable_…`.
    Publishable,
    /// A legacy JWT whose `role` claim is `service_role`.
    ServiceJwt,
    /// `sb_secret_…`.
    Secret,
    /// A JWT of another role: not a key Supabase issues, and no less privileged for it.
    OtherJwt,
    /// Anything else: not a JWT with a `role` claim, nor an `sb_` key.
    Other,
}

impl KeyKind {
    /// Reads what `key` is, by its prefix or its JWT `role` claim.
    #[inline]
    pub fn of(key: &str) -> KeyKind {
        if key.starts_with("sb_publishable_") {
            return KeyKind::Publishable;
        }
        if key.starts_with("sb_secret_") {
            return KeyKind::Secret;
        }
        match jwt_role(key).as_deref() {
            Some("anon") => KeyKind::AnonJwt,
            Some("service_role") => KeyKind::ServiceJwt,
            Some(_) => KeyKind::OtherJwt,
            None => KeyKind::Other,
        }
    }
}

/// A key PostgREST is called with, and how it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiKey {
    /// A legacy JWT: sent as `apikey` and as the bearer token of requests made as the key's role.
    Jwt(String),
    /// An opaque `sb_…` key: sent as `apikey` only (the gateway turns it into a role).
    Opaque(String),
}

impl ApiKey {
    /// The key as sent in the `apikey` header.
    #[inline]
    pub fn as_str(&self) -> &str {
        match self {
            ApiKey::Jwt(k) | ApiKey::Opaque(k) => k,
        }
    }

    /// The bearer token to send when the request carries no user token of its own.
    #[inline]
    pub fn bearer(&self) -> Option<&str> {
        match self {
            ApiKey::Jwt(k) => Some(k),
            ApiKey::Opaque(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn jwt(payload: &str) -> String {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            engine.encode(r#"{"alg":"HS256"}"#),
            engine.encode(payload)
        )
    }

    #[test]
    fn keys_are_read_by_prefix_or_role_claim() {
        for (key, kind) in [
            ("sb_publishable_x".to_string(), KeyKind::Publishable),
            ("sb_secret_x".to_string(), KeyKind::Secret),
            (jwt(r#"{"role":"anon"}"#), KeyKind::AnonJwt),
            (jwt(r#"{"role":"service_role"}"#), KeyKind::ServiceJwt),
            (jwt(r#"{"role":"authenticated"}"#), KeyKind::OtherJwt),
            (jwt(r#"{"sub":"x"}"#), KeyKind::Other),
            ("not-a-key".to_string(), KeyKind::Other),
        ] {
            assert_eq!(KeyKind::of(&key), kind, "{key}");
        }
    }

    #[test]
    fn only_a_jwt_is_sent_as_a_bearer() {
        assert_eq!(ApiKey::Jwt("a.b.c".into()).bearer(), Some("a.b.c"));
        assert_eq!(ApiKey::Opaque("sb_publishable_x".into()).bearer(), None);
        assert_eq!(ApiKey::Opaque("sb_x".into()).as_str(), "sb_x");
    }
}
