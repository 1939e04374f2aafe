//! What a JWT says of itself, read without verifying it.
//!
//! The control plane holds no JWT secret: PostgREST verifies every token. It only reads the
//! `role` claim, to tell a service-role key from the anon key among its settings, and to refuse
//! a coach's token that is not a signed-in user's (`role: authenticated`) before any upstream
//! request: PostgREST would run a `service_role` token as the service role, bypassing row-level
//! security, and an `anon` token as nobody.

use tenant_common::jwt_role;

use crate::error::Error;

/// The role a coach's token must claim: a signed-in Supabase user.
const COACH_ROLE: &str = "authenticated";

/// The coach's bearer token from an `Authorization` header: a JWT's shape (the shared
/// `bearer_token`) and a `role` claim of exactly `authenticated`. Anything else (no token, a
/// `service_role` or `anon` token, no role, a payload that is not JSON) is
/// [`Error::Unauthorized`], before any upstream request.
pub fn coach_token(authorization: Option<&str>) -> Result<&str, Error> {
    let token = tenant_common::bearer_token(authorization)?;
    match jwt_role(token).as_deref() {
        Some(COACH_ROLE) => Ok(token),
        _ => Err(Error::user_unauthorized()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use base64::Engine as _;

    /// An unsigned token with this payload (the signature is never read here).
    pub(crate) fn jwt(payload: &str) -> String {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.c2lnbmF0dXJl",
            engine.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
            engine.encode(payload)
        )
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    #[test]
    fn a_signed_in_users_token_is_a_coachs() {
        let token = jwt(r#"{"sub":"u1","role":"authenticated","aud":"authenticated"}"#);
        assert_eq!(coach_token(Some(&bearer(&token))), Ok(token.as_str()));
    }

    #[test]
    fn any_other_role_or_an_unreadable_payload_is_unauthorized() {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        for token in [
            jwt(r#"{"role":"service_role"}"#),
            jwt(r#"{"role":"anon"}"#),
            jwt(r#"{"sub":"u1"}"#),
            jwt(r#"{"role":"Authenticated"}"#),
            jwt(r#"{"role":"authenticated "}"#),
            jwt(r#"{"role":["authenticated"]}"#),
            jwt(r#"{"role":null}"#),
            jwt(r#"{"role":"postgres"}"#),
            jwt("not json"),
            jwt(r#"["authenticated"]"#),
            format!("eyJhbGciOiJIUzI1NiJ9.{}.c2ln", "!!!!"),
            format!("eyJhbGciOiJIUzI1NiJ9.{}.c2ln", engine.encode([0xff, 0xfe])),
            "aaa.bbb.ccc".into(),
        ] {
            let e = coach_token(Some(&bearer(&token))).unwrap_err();
            assert_eq!((e.status(), e.code()), (401, "unauthorized"), "{token}");
        }
        assert!(coach_token(None).is_err());
        assert!(coach_token(Some("Bearer not-a-jwt")).is_err());
    }

    #[test]
    fn the_role_claim_is_read_from_the_payload() {
        assert_eq!(
            jwt_role(&jwt(r#"{"role":"service_role"}"#)).as_deref(),
            Some("service_role")
        );
        assert_eq!(jwt_role("sb_secret_abc"), None);
        assert_eq!(jwt_role("a.b.c.d"), None);
    }
}
