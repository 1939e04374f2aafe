//! Brand previews: how a visitor holding a preview link sees the tenant's draft brand.
//!
//! The control plane's `POST /brand/preview` makes a link to the tenant's primary host whose
//! query carries a token in [`PARAM`]. The Worker moves the token into a cookie: it answers that
//! request with a redirect to the same URL without it ([`from_query`]), so the token never
//! reaches the origin, its logs or a `Referer`, and drops the cookie from what it forwards
//! ([`without_cookie`]). While the cookie is sent, that browser's pages, `brand.css`,
//! `brand.json` and manifest are branded with the draft and kept by no cache.
//!
//! The token is `<key>.<signature>` (`tenant_common::preview`, the format the control plane
//! writes): the key, 64 hex digits the database made, names
//! one live preview of one tenant (`public.tenant_preview(key)`, which the anon key may call:
//! the draft is returned only to whoever holds the key, for an hour); the signature is the
//! HMAC-SHA256 of the key under `PREVIEW_SIGNING_SECRET`, base64url, which the Worker checks
//! before it asks the database (Web Crypto, in `src/edge/preview.js`), so a forged token costs
//! no upstream request. A token that fails either check, or names another tenant, is ignored:
//! the visitor sees the published brand, never an error.

use tenant_common::preview::PARAM;

/// The `Cache-Control` of every answer made with a draft: no cache keeps it, the browser's
/// included.
pub const CACHE_CONTROL: &str = "private, no-store";

/// The header that marks an answer made with a draft.
pub const HEADER: (&str, &str) = ("x-tenant-preview", "draft");

/// How long the cookie lives: as long as the database keeps a preview.
pub const MAX_AGE_S: u32 = 3600;

/// How long an isolate keeps what the database said of one key: a preview link opened by many
/// (or reloaded in a loop) costs one read per isolate per this long.
pub const MEMO_MS: u64 = 5_000;

/// The token in `query`, and the query without it (other parameters kept, in order).
pub fn from_query(query: &str) -> Option<(&str, String)> {
    let mut token = None;
    let mut rest: Vec<&str> = Vec::new();
    for pair in query.split('&') {
        match pair.strip_prefix(PARAM).and_then(|v| v.strip_prefix('=')) {
            Some(value) => token = Some(value),
            None if pair.is_empty() => {}
            None => rest.push(pair),
        }
    }
    Some((token?, rest.join("&")))
}

/// The token in a `Cookie` header, if it has one.
pub fn from_cookies(cookies: &str) -> Option<&str> {
    cookies
        .split(';')
        .find_map(|c| c.trim().strip_prefix(PARAM)?.strip_prefix('='))
}

/// A `Cookie` header without the preview cookie; `None` when nothing else is left.
pub fn without_cookie(cookies: &str) -> Option<String> {
    let kept: Vec<&str> = cookies
        .split(';')
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.strip_prefix(PARAM).is_some_and(|v| v.starts_with('=')))
        .collect();
    (!kept.is_empty()).then(|| kept.join("; "))
}

/// The `Set-Cookie` of a token: sent back to this host only, for [`MAX_AGE_S`], never to
/// scripts, nor on other sites' requests; `Secure` over https.
pub fn set_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{PARAM}={token}; Path=/; Max-Age={MAX_AGE_S}; HttpOnly; SameSite=Lax{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_gives_its_token_and_keeps_the_rest_of_its_query() {
        assert_eq!(from_query("tenant_preview=t"), Some(("t", String::new())));
        assert_eq!(
            from_query("a=1&tenant_preview=t&b=2"),
            Some(("t", "a=1&b=2".into()))
        );
        assert_eq!(from_query("a=1&tenant_previews=t"), None);
        assert_eq!(from_query(""), None);
    }

    #[test]
    fn the_cookie_is_found_and_never_forwarded() {
        let cookies = "a=1; tenant_preview=t;b=2";
        assert_eq!(from_cookies(cookies), Some("t"));
        assert_eq!(from_cookies("tenant_previews=t; a=1"), None);
        assert_eq!(without_cookie(cookies).as_deref(), Some("a=1; b=2"));
        assert_eq!(without_cookie("tenant_preview=t"), None);
        assert_eq!(
            without_cookie("tenant_previews=1").as_deref(),
            Some("tenant_previews=1")
        );
    }

    #[test]
    fn the_cookie_is_for_this_host_and_not_for_scripts() {
        assert_eq!(
            set_cookie("t", true),
            "tenant_preview=t; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(!set_cookie("t", false).contains("Secure"));
    }
}
