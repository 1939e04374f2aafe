//! Where Cloudflare's HTTP ownership check of a custom hostname is: the resolver answers it,
//! the control plane reads the paths Cloudflare names.

/// Where Cloudflare fetches its HTTP ownership token, on the hostname being verified.
pub const CHALLENGE_PREFIX: &str = "/.well-known/cf-custom-hostname-challenge/";

/// Whether `path` is one Cloudflare's HTTP ownership check can be at.
#[inline]
pub fn is_challenge_path(path: &str) -> bool {
    path.strip_prefix(CHALLENGE_PREFIX).is_some_and(|id| {
        (1..=128).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._~-".contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str =
        "/.well-known/cf-custom-hostname-challenge/24a2b0d8-0c4b-4b3c-a5c4-1f3b8a1e2d3c";

    #[test]
    fn challenges_are_served_only_at_paths_cloudflare_uses() {
        assert!(is_challenge_path(PATH));
        for bad in [
            "/.well-known/cf-custom-hostname-challenge/",
            "/.well-known/cf-custom-hostname-challenge/a/b",
            "/.well-known/cf-custom-hostname-challenge/a%2fb",
            "/.well-known/acme-challenge/x",
        ] {
            assert!(!is_challenge_path(bad), "{bad}");
        }
    }
}
