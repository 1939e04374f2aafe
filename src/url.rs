//! The request's URL as the runtime gives it: an absolute URL, already normalised by the
//! runtime's WHATWG parser (scheme and host lowercased, dot segments resolved, path
//! percent-encoded). The Worker needs only its parts, so it splits the string instead of
//! parsing it again on every request.

/// The parts of a request URL: `scheme://authority/path?query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestUrl<'a> {
    pub scheme: &'a str,
    /// `host[:port]`, without userinfo.
    pub authority: &'a str,
    /// Starts with `/`.
    pub path: &'a str,
    /// Without the `?`; empty when there is none.
    pub query: &'a str,
}

impl<'a> RequestUrl<'a> {
    /// Splits an absolute URL; `None` if it has no `scheme://`.
    pub fn split(url: &'a str) -> Option<RequestUrl<'a>> {
        // Byte scans, not substring searches: this runs on every request.
        let bytes = url.as_bytes();
        let colon = bytes.iter().position(|&b| b == b':')?;
        if bytes.get(colon + 1..colon + 3) != Some(b"//") {
            return None;
        }
        let (scheme, rest) = (&url[..colon], &url[colon + 3..]);
        let end = rest.bytes().position(|b| b == b'#').unwrap_or(rest.len());
        let rest = &rest[..end];
        let authority_end = rest
            .bytes()
            .position(|b| b == b'/' || b == b'?')
            .unwrap_or(rest.len());
        let (authority, rest) = rest.split_at(authority_end);
        let authority = match authority.bytes().rposition(|b| b == b'@') {
            Some(at) => &authority[at + 1..],
            None => authority,
        };
        let (path, query) = match rest.bytes().position(|b| b == b'?') {
            Some(q) => (&rest[..q], &rest[q + 1..]),
            None => (rest, ""),
        };
        Some(RequestUrl {
            scheme,
            authority,
            path: if path.is_empty() { "/" } else { path },
            query,
        })
    }

    /// The host of the authority (its port dropped; IPv6 literals keep their brackets).
    pub fn host(&self) -> &'a str {
        match self.authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => host,
            _ => self.authority,
        }
    }

    /// The same URL with `query` (none when empty) in place of its own.
    pub fn with_query(&self, query: &str) -> String {
        let mark = if query.is_empty() { "" } else { "?" };
        format!(
            "{}://{}{}{mark}{query}",
            self.scheme, self.authority, self.path
        )
    }

    /// The same URL on `host`: scheme, port, path and query kept.
    pub fn with_host(&self, host: &str) -> String {
        let port = &self.authority[self.host().len()..];
        let query = if self.query.is_empty() { "" } else { "?" };
        format!(
            "{}://{host}{port}{}{query}{}",
            self.scheme, self.path, self.query
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_what_the_runtime_gives() {
        let u = RequestUrl::split("https://coach.example.com:8443/a/b?x=1&y=2#top").unwrap();
        assert_eq!(
            (u.scheme, u.authority, u.path, u.query),
            ("https", "coach.example.com:8443", "/a/b", "x=1&y=2")
        );
        assert_eq!(u.host(), "coach.example.com");
        let bare = RequestUrl::split("http://localhost").unwrap();
        assert_eq!((bare.path, bare.query, bare.host()), ("/", "", "localhost"));
        let query_only = RequestUrl::split("http://h?x").unwrap();
        assert_eq!((query_only.path, query_only.query), ("/", "x"));
        let v6 = RequestUrl::split("http://[::1]:8787/_tenant/health").unwrap();
        assert_eq!(v6.host(), "[::1]");
        assert_eq!(RequestUrl::split("http://[::1]/").unwrap().host(), "[::1]");
        assert_eq!(
            RequestUrl::split("http://user:pw@h/").unwrap().authority,
            "h"
        );
        assert_eq!(RequestUrl::split("/relative"), None);
    }

    #[test]
    fn moves_to_another_host_keeping_the_rest() {
        let u = RequestUrl::split("https://www.coach.example.com:8443/welcome?x=1").unwrap();
        assert_eq!(
            u.with_host("coach.example.com"),
            "https://coach.example.com:8443/welcome?x=1"
        );
        let u = RequestUrl::split("http://www.a.example/").unwrap();
        assert_eq!(u.with_host("a.example"), "http://a.example/");
    }

    #[test]
    fn changes_its_query_keeping_the_rest() {
        let u = RequestUrl::split("https://coach.example.com:8443/a/b?x=1#f").unwrap();
        assert_eq!(
            u.with_query("y=2"),
            "https://coach.example.com:8443/a/b?y=2"
        );
        assert_eq!(u.with_query(""), "https://coach.example.com:8443/a/b");
    }
}
