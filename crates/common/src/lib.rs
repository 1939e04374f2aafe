//! What both Workers (the resolver and the control plane) share: the parsers of client input and
//! settings, the Supabase key classification, the bounded body reader, the preflight's engine, the
//! errors they fail with, the HTTP error contract (an error's description, its JSON envelope, and
//! `worker_error!`: what each Worker's `Error` derives from its description), the per-isolate
//! settings cell, the upstream timeout race and a brand preview link's token (`preview`). Pure
//! but for that race and the cell's reading of the environment (compiled for Wasm only): nothing
//! else imports `worker`, so `cargo test` covers it natively; each Worker turns these errors into
//! its own HTTP answers.
//!
//! Every function is `#[inline]`, which lets the Worker's crate compile it beside its own code:
//! compiled here, it would bring its own copies of the std code it uses (string search,
//! formatting), which the Worker's crate compiles for itself anyway, and the resolver's Wasm
//! would grow by more than a KiB gzipped.

mod apikey;
mod body;
pub mod brand;
mod challenge;
mod envelope;
mod error;
mod host;
mod key;
mod log;
pub mod preflight;
pub mod preview;
mod setting;
mod settings_cell;
#[cfg(target_arch = "wasm32")]
mod timeout;
mod timestamp;
mod token;
mod upstream;

pub use crate::apikey::{ApiKey, KeyKind};
pub use crate::body::{check_declared_length, BodyLimit, TooLarge};
pub use crate::challenge::{is_challenge_path, CHALLENGE_PREFIX};
pub use crate::envelope::{envelope, Description};
pub use crate::error::{invalid_message, Input, Invalid, Misconfigured, NoUserToken};
pub use crate::host::Host;
pub use crate::key::{Slug, TenantId};
#[cfg(target_arch = "wasm32")]
pub use crate::log::emit;
pub use crate::log::Level;
pub use crate::setting::{http_url, platform_domain, rest_url};
#[cfg(target_arch = "wasm32")]
pub use crate::settings_cell::env_vars;
pub use crate::settings_cell::SettingsCell;
#[cfg(target_arch = "wasm32")]
pub use crate::timeout::within;
pub use crate::timestamp::{format_ms, parse_ms};
pub use crate::token::{bearer_token, jwt_role};
pub use crate::upstream::{write_seen, Condition, DeepCheck, Seen, DEEP_CHECK_INTERVAL_MS};
