//! A caller's Supabase user token, as far as the Workers look at it.
//!
//! The Workers never verify a user JWT themselves (they do not hold the JWT secret): PostgREST
//! does, and row-level security decides what the token may read. They only refuse what cannot
//! be a JWT, so such requests cost no upstream request, and read a JWT's `role` claim.

use base64::Engine as _;

use crate::error::NoUserToken;

/// Largest token accepted; real Supabase access tokens are around 1 KB.
const MAX_TOKEN_LEN: usize = 8192;

/// The bearer token of an `Authorization` header, if it has the shape of a JWT
/// (three base64url segments). Anything else is [`NoUserToken`].
#[inline]
pub fn bearer_token(header: Option<&str>) -> Result<&str, NoUserToken> {
    let value = header.ok_or(NoUserToken)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(NoUserToken)?;
    let token = token.trim();
    let base64url = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let segments: Vec<&str> = token.split('.').collect();
    if scheme.eq_ignore_ascii_case("bearer")
        && token.len() <= MAX_TOKEN_LEN
        && segments.len() == 3
        && segments.iter().all(|s| base64url(s))
    {
        Ok(token)
    } else {
        Err(NoUserToken)
    }
}

/// The `role` claim of a JWT (three dot-separated parts, the second a base64url JSON object
/// with a string `role`), or `None` for anything else. Read, never verified: PostgREST verifies.
#[inline]
pub fn jwt_role(token: &str) -> Option<String> {
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    // `from_str`, not `from_slice`: the Workers already read JSON text, and a second reader of
    // `Value` would cost the Wasm a few KiB.
    let claims: serde_json::Value = serde_json::from_str(&String::from_utf8(json).ok()?).ok()?;
    claims.get("role")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_bearer_jwt() {
        assert_eq!(bearer_token(Some("Bearer aaa.bbb.ccc")), Ok("aaa.bbb.ccc"));
        assert_eq!(bearer_token(Some("bearer a-_.b.c")), Ok("a-_.b.c"));
    }

    #[test]
    fn refuses_what_cannot_be_a_jwt() {
        for header in [
            None,
            Some(""),
            Some("Bearer"),
            Some("Basic dXNlcjpwYXNz"),
            Some("Bearer a.b"),
            Some("Bearer a..c"),
            Some("Bearer a.b.c.d"),
            Some("Bearer a.b.c d"),
            Some("Token a.b.c"),
        ] {
            assert_eq!(bearer_token(header), Err(NoUserToken), "{header:?}");
        }
        let huge = format!("Bearer a.{}.c", "b".repeat(MAX_TOKEN_LEN));
        assert_eq!(bearer_token(Some(&huge)), Err(NoUserToken));
    }
}
