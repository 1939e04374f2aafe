//! The caller's Supabase user token, as far as the Worker looks at it.
//!
//! The Worker never verifies a user JWT itself (it does not hold the JWT secret): PostgREST
//! does, and row-level security decides what the token may read. The Worker only refuses what
//! cannot be a JWT, so such requests cost no upstream request.

use crate::error::Error;

/// Largest token accepted; real Supabase access tokens are around 1 KB.
const MAX_TOKEN_LEN: usize = 8192;

/// The bearer token of an `Authorization` header, if it has the shape of a JWT
/// (three base64url segments). Anything else is [`Error::Unauthorized`].
pub fn bearer_token(header: Option<&str>) -> Result<&str, Error> {
    let value = header.ok_or(Error::user_unauthorized())?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(Error::user_unauthorized())?;
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
        Err(Error::user_unauthorized())
    }
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
            assert_eq!(
                bearer_token(header),
                Err(Error::user_unauthorized()),
                "{header:?}"
            );
        }
        let huge = format!("Bearer a.{}.c", "b".repeat(MAX_TOKEN_LEN));
        assert_eq!(bearer_token(Some(&huge)), Err(Error::user_unauthorized()));
    }
}
