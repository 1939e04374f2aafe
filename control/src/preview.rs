//! Preview links of a coach's brand draft (docs/control-plane.md, "Previews"): `POST
//! /brand/preview?tenant_id=<uuid>` with the coach's token.
//!
//! The owner function `public.create_tenant_brand_preview` makes a key (64 lowercase hex digits
//! of randomness, live for an hour, the database keeping only its SHA-256) and answers it with
//! the tenant's slug and primary domain. The link is the tenant's own site with a token in the
//! query, `https://<host>/?tenant_preview=<key>.<signature>`: the signature is the HMAC-SHA256 of
//! the key's 64 ASCII characters under `PREVIEW_SIGNING_SECRET` (its UTF-8 bytes), base64url
//! without padding, 43 characters (`tenant_common::preview`, the format both Workers share). The
//! glue computes the HMAC with Web Crypto (`edge/preview.js`); this module reads the function's
//! answer and builds the link. The resolver, which holds the same secret, checks the signature
//! before it asks the database what the key names (`public.tenant_preview`), and shows that
//! visitor the draft.

use serde::Deserialize;
use tenant_common::preview::{is_key, PARAM};
use tenant_common::Host;

use crate::error::{Error, Service, UpstreamError};

/// What `public.create_tenant_brand_preview` answers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Made {
    /// 64 lowercase hex digits.
    pub key: String,
    /// When the preview stops showing the draft (RFC 3339, as the database writes it).
    pub expires_at: String,
    pub slug: String,
    /// The tenant's primary custom domain, if it has one.
    pub custom_domain: Option<String>,
}

impl Made {
    /// Reads the owner function's answer; an answer of another shape (a key that is not 64
    /// lowercase hex digits, a time that is not RFC 3339) is an upstream failure.
    pub fn parse(body: &str) -> Result<Made, Error> {
        let decode = |detail: String| {
            Error::UpstreamUnavailable(UpstreamError::Decode {
                service: Service::Postgrest,
                detail,
            })
        };
        let made: Made = serde_json::from_str(body).map_err(|e| decode(e.to_string()))?;
        if !is_key(&made.key) {
            return Err(decode(
                "the preview key is not 64 lowercase hex digits".into(),
            ));
        }
        if tenant_common::parse_ms(&made.expires_at).is_none() {
            return Err(decode("expiresAt is not an RFC 3339 time".into()));
        }
        Ok(made)
    }

    /// The host the link opens: the tenant's primary domain, else its subdomain of
    /// `platform_domain`.
    pub fn host(&self, platform_domain: &Host) -> String {
        match &self.custom_domain {
            Some(domain) => domain.clone(),
            None => format!("{}.{}", self.slug, platform_domain.as_str()),
        }
    }

    /// `expiresAt` as the control plane answers every time: UTC, milliseconds, `Z`.
    pub fn expires_at(&self) -> String {
        tenant_common::parse_ms(&self.expires_at)
            .map(tenant_common::format_ms)
            .unwrap_or_else(|| self.expires_at.clone())
    }
}

/// The preview link: `https://<host>/?tenant_preview=<token>` (a token needs no escaping).
pub fn link(host: &str, token: &str) -> String {
    format!("https://{host}/?{PARAM}={token}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;
    use tenant_common::preview::{split, token};

    /// A fixed vector, computed with node's crypto:
    ///
    /// ```text
    /// node -e 'console.log(require("crypto").createHmac("sha256",
    ///   "preview-signing-secret-0123456789abcdef")
    ///   .update("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
    ///   .digest("base64url"))'
    /// ```
    const SECRET: &str = "preview-signing-secret-0123456789abcdef";
    const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const SIGNATURE: &str = "axuFbQMYKR2d7wTEi6NCoVbFUf0sPl6rGG9haB4F_KQ";

    /// The HMAC-SHA256 of `key` under `secret`, as Web Crypto computes it in `edge/preview.js`.
    fn hmac(secret: &str, key: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(key.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    fn made(custom_domain: Option<&str>) -> Made {
        Made::parse(
            &serde_json::json!({
                "key": KEY,
                "expiresAt": "2026-12-08T03:40:00.123456+00:00",
                "slug": "northstar",
                "customDomain": custom_domain,
            })
            .to_string(),
        )
        .unwrap()
    }

    #[test]
    fn the_token_is_the_key_and_its_signature_the_published_vector() {
        let token = token(KEY, &hmac(SECRET, KEY));
        assert_eq!(token, format!("{KEY}.{SIGNATURE}"));
        assert_eq!(SIGNATURE.len(), 43);
        assert_eq!(split(&token), Some((KEY, SIGNATURE)));
    }

    #[test]
    fn the_link_opens_the_primary_domain_else_the_platform_subdomain() {
        let platform = Host::parse_domain("coachplatform.com").unwrap();
        let token = token(KEY, &hmac(SECRET, KEY));
        assert_eq!(
            link(&made(Some("coach.northstar.test")).host(&platform), &token),
            format!("https://coach.northstar.test/?tenant_preview={token}")
        );
        assert_eq!(
            link(&made(None).host(&platform), &token),
            format!("https://northstar.coachplatform.com/?tenant_preview={token}")
        );
        assert_eq!(made(None).expires_at(), "2026-12-08T03:40:00.123Z");
    }

    #[test]
    fn an_answer_of_another_shape_is_an_upstream_failure() {
        for body in [
            "null",
            "{}",
            r#"{"key":"ABC","expiresAt":"2026-12-08T03:40:00Z","slug":"a","customDomain":null}"#,
            &serde_json::json!({"key": KEY, "expiresAt": "soon", "slug": "a", "customDomain": null}).to_string(),
        ] {
            assert_eq!(Made::parse(body).unwrap_err().code(), "upstream_unavailable", "{body}");
        }
    }
}
