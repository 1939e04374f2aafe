//! What the shared parsers refuse, described once: each Worker turns these into its own error
//! (and so into its HTTP answer) by `From`.

use std::fmt;

/// Longest piece of client input echoed back in a message; the rest is cut.
const ECHO_LIMIT: usize = 80;

/// Which kind of client input a parser refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A `Host` header.
    Host,
    /// A tenant slug.
    Slug,
    /// A custom domain.
    Domain,
    /// A tenant id.
    Id,
}

impl Input {
    /// The word a message uses for it.
    #[inline]
    pub fn name(self) -> &'static str {
        match self {
            Input::Host => "host",
            Input::Slug => "slug",
            Input::Domain => "domain",
            Input::Id => "id",
        }
    }

    /// The machine-readable code of the HTTP error contract.
    #[inline]
    pub fn code(self) -> &'static str {
        match self {
            Input::Host => "invalid_host",
            Input::Slug => "invalid_slug",
            Input::Domain => "invalid_domain",
            Input::Id => "invalid_id",
        }
    }
}

/// Client input a parser refused: the input as given and what was expected instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// What the input was meant to be.
    pub what: Input,
    /// The input as given.
    pub input: String,
    /// What was expected, in words.
    pub expected: &'static str,
}

impl Invalid {
    /// The machine-readable code of the HTTP error contract (`invalid_host`, …).
    #[inline]
    pub fn code(&self) -> &'static str {
        self.what.code()
    }

    /// What was wrong and what was expected, the input cut to a readable length.
    #[inline]
    pub fn message(&self) -> String {
        invalid_message(self.what.name(), &self.input, self.expected)
    }
}

/// `invalid <what> "<input>": expected <expected>`, the input cut to a readable length.
#[inline]
pub fn invalid_message(what: &str, input: &str, expected: &str) -> String {
    let shown: String = input.chars().take(ECHO_LIMIT).collect();
    let cut = if shown.len() < input.len() { "…" } else { "" };
    format!("invalid {what} {shown:?}{cut}: expected {expected}")
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Invalid {}

/// An `Authorization` header that cannot carry a Supabase user token (a JWT as a bearer token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoUserToken;

impl fmt::Display for NoUserToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no bearer token with the shape of a jwt")
    }
}

impl std::error::Error for NoUserToken {}

/// A setting that is missing or malformed. Names the setting, never its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Misconfigured {
    /// The setting's name, as the Worker's environment spells it.
    pub setting: &'static str,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl fmt::Display for Misconfigured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.setting, self.problem)
    }
}

impl std::error::Error for Misconfigured {}
