//! A preview link's token, as the control plane writes it and the resolver reads it: `<key>.<signature>`,
//! the key 64 lowercase hex digits the database made (`public.create_tenant_brand_preview`), the
//! signature the HMAC-SHA256 of the key's 64 ASCII characters under `PREVIEW_SIGNING_SECRET`,
//! base64url without padding (43 characters). Each Worker computes or checks the HMAC with Web
//! Crypto; this module is the format between them.

use base64::Engine as _;

/// The query parameter of a preview link (and the resolver's cookie of the same name).
pub const PARAM: &str = "tenant_preview";

/// Whether `key` is a preview key: 64 lowercase hex digits.
#[inline]
pub fn is_key(key: &str) -> bool {
    key.len() == 64
        && key
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The token of `key` whose HMAC under the signing secret is `tag` (32 bytes).
#[inline]
pub fn token(key: &str, tag: &[u8]) -> String {
    format!(
        "{key}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag)
    )
}

/// The key and signature of a token shaped as one (64 lowercase hex digits, a dot, 43 base64url
/// characters); `None` for anything else, which nobody need check.
#[inline]
pub fn split(token: &str) -> Option<(&str, &str)> {
    let (key, signature) = token.split_once('.')?;
    let base64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    (is_key(key) && signature.len() == 43 && signature.bytes().all(base64url))
        .then_some((key, signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn a_token_is_the_key_a_dot_and_the_tag_in_base64url() {
        let tag: Vec<u8> = (0..32).map(|b| b * 8).collect();
        let token = token(KEY, &tag);
        let (key, signature) = split(&token).unwrap();
        assert_eq!(key, KEY);
        assert_eq!(signature.len(), 43);
        assert_eq!(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(signature)
                .unwrap(),
            tag
        );
    }

    #[test]
    fn only_a_token_shaped_as_one_is_read() {
        let signature = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234";
        assert_eq!(split(&format!("{KEY}.{signature}")), Some((KEY, signature)));
        for bad in [
            String::new(),
            KEY.to_string(),
            format!("{}.{signature}", KEY.to_uppercase()),
            format!("{KEY}.{signature}="),
            format!("{KEY}0.{signature}"),
            format!("{KEY}.{}", &signature[1..]),
            format!("{KEY}.{}+", &signature[1..]),
        ] {
            assert_eq!(split(&bad), None, "{bad}");
        }
        assert!(!is_key(&KEY[1..]));
    }
}
