//! The signature on every request the Worker forwards: how the app's origin tells the Worker's
//! requests, and the tenant identity they carry, from anyone else's.
//!
//! The origin is an ordinary HTTPS endpoint: anyone who finds it can send it `X-Tenant-Id: <any
//! tenant>` directly. With `ORIGIN_SIGNING_SECRET` set, the Worker adds
//!
//! ```text
//! X-Tenant-Signature: t=<unix seconds>,v1=<lowercase hex HMAC-SHA256(secret, canonical string)>
//! ```
//!
//! over exactly the values the origin reads, one per line (`\n`), in this order:
//!
//! ```text
//! v1
//! <t, the same decimal seconds as in the header>
//! <the method, as sent: GET>
//! <X-Forwarded-Host: coach.leadingwithmeaning.com>
//! <the path and query the origin receives: /welcome?x=1>
//! <X-Tenant-Id, empty on the platform's own host>
//! <X-Tenant-Slug, empty on the platform's own host>
//! ```
//!
//! so a signature copied from one request fails for another method, host, path, query or
//! tenant, and after the origin's tolerance for the same one. The Worker signs with Web Crypto
//! (in the glue's JS, `src/edge/`) over [`canonical`]; origins check with `origin/verify.mjs`, and
//! docs/origin.md gives a test vector for any other language, which the tests here compute.

/// The shortest secret accepted (bytes): an HMAC key shorter than its hash's output is weaker.
pub const MIN_SECRET_LEN: usize = 32;

/// The values a signature covers, as the origin receives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed<'a> {
    pub method: &'a str,
    /// `X-Forwarded-Host`.
    pub host: &'a str,
    /// The request target: the path and, when there is one, `?` and the query.
    pub path_and_query: &'a str,
    /// `X-Tenant-Id` (empty on the platform's own host).
    pub tenant_id: &'a str,
    /// `X-Tenant-Slug` (empty on the platform's own host).
    pub slug: &'a str,
}

/// The canonical string a signature at `t` covers.
pub fn canonical(t: u64, signed: &Signed<'_>) -> String {
    format!(
        "v1\n{t}\n{}\n{}\n{}\n{}\n{}",
        signed.method, signed.host, signed.path_and_query, signed.tenant_id, signed.slug
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    /// The `X-Tenant-Signature` value for `signed` at `t`, with `secret`, as the Worker's Web
    /// Crypto code writes it.
    fn sign(secret: &[u8], t: u64, signed: &Signed<'_>) -> String {
        // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
        mac.update(canonical(t, signed).as_bytes());
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        format!("t={t},v1={hex}")
    }

    /// docs/origin.md's test vector: any verifier must compute the same.
    const SECRET: &[u8] = b"test-signing-secret-0123456789abcdef";
    const T: u64 = 1_767_225_600;
    const PAGE: Signed<'static> = Signed {
        method: "GET",
        host: "coach.leadingwithmeaning.com",
        path_and_query: "/welcome?x=1",
        tenant_id: "3bb43f29-695c-493b-8b5c-3819ffc0675c",
        slug: "leadingwithmeaning",
    };
    const VECTOR: &str =
        "t=1767225600,v1=3505163b090968dad6504e8fdea869ddbfa35ed25b3916c66f4469278bddea62";

    #[test]
    fn the_canonical_string_is_the_values_one_per_line() {
        assert_eq!(
            canonical(T, &PAGE),
            "v1\n1767225600\nGET\ncoach.leadingwithmeaning.com\n/welcome?x=1\n3bb43f29-695c-493b-8b5c-3819ffc0675c\nleadingwithmeaning"
        );
        let platform = Signed {
            tenant_id: "",
            slug: "",
            ..PAGE
        };
        assert!(
            canonical(T, &platform).ends_with("/welcome?x=1\n\n"),
            "no tenant is signed too"
        );
    }

    #[test]
    fn the_signature_matches_the_published_test_vector() {
        assert_eq!(sign(SECRET, T, &PAGE), VECTOR);
    }
}
