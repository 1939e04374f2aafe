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

/// Implements what every Worker's `Error` has in common, as axum's `define_rejection!` does for
/// its rejections, so that the two Workers' errors cannot drift apart:
///
/// - `status()`, `code()`, `message()` and `body()` (the JSON [`envelope`](crate::envelope())),
///   each read from its `describe()`, where each variant's status, code and message are declared
///   together;
/// - `From` the shared refusals: a [`TooLarge`](crate::TooLarge) is `PayloadTooLarge { limit }`,
///   a [`Misconfigured`] is `Misconfigured { setting, problem }` and [`NoUserToken`] is
///   `user_unauthorized()` (each Worker says which credential it takes);
/// - back: the setting an `Error::Misconfigured` names, for the preflight
///   ([`SettingsError`](crate::preflight::SettingsError));
/// - `Display` as the message of its `describe()`, and as `source()` the upstream failure an
///   `UpstreamUnavailable` keeps for the log.
///
/// The Worker's `Error` has those three variants, `user_unauthorized()` and
/// `describe() -> Description`.
#[macro_export]
macro_rules! worker_error {
    ($error:ident) => {
        impl $error {
            /// The HTTP status of this error.
            pub fn status(&self) -> u16 {
                self.describe().status
            }

            /// The stable, machine-readable code clients switch on.
            pub fn code(&self) -> &'static str {
                self.describe().code
            }

            /// A human-readable message: what was wrong and what was expected. Never an
            /// upstream's details.
            pub fn message(&self) -> String {
                self.describe().message
            }

            /// The JSON error body of the HTTP contract: `{"error":{"code":"…","message":"…"}}`.
            pub fn body(&self) -> String {
                self.describe().body()
            }
        }

        impl From<$crate::TooLarge> for $error {
            fn from($crate::TooLarge { limit }: $crate::TooLarge) -> Self {
                Self::PayloadTooLarge { limit }
            }
        }

        impl From<$crate::Misconfigured> for $error {
            fn from($crate::Misconfigured { setting, problem }: $crate::Misconfigured) -> Self {
                Self::Misconfigured { setting, problem }
            }
        }

        impl From<$crate::NoUserToken> for $error {
            fn from(_: $crate::NoUserToken) -> Self {
                Self::user_unauthorized()
            }
        }

        impl $crate::preflight::SettingsError for $error {
            fn misconfigured(&self) -> Option<$crate::Misconfigured> {
                match *self {
                    Self::Misconfigured { setting, problem } => {
                        Some($crate::Misconfigured { setting, problem })
                    }
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $error {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.describe().message)
            }
        }

        impl ::std::error::Error for $error {
            fn source(&self) -> Option<&(dyn ::std::error::Error + 'static)> {
                match self {
                    Self::UpstreamUnavailable(e) => Some(e),
                    _ => None,
                }
            }
        }
    };
}
