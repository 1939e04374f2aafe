//! How both Workers log: every line is an event, one JSON object with `event` and `level` first
//! (each Worker writes its events' fields: `src/event.rs`, `control/src/event.rs`), handed to
//! `console.log` by `emit` (Wasm only) as an object, so Workers Logs indexes its fields.

use serde::Serialize;

/// How bad an event is: `error` for a 5xx and a failed upstream call, `warn` for a 4xx (and a
/// limit met), `info` otherwise. Ordered, so that the worse of two is their `max`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    #[default]
    Info,
    Warn,
    Error,
}

impl Level {
    /// The level of an answer with `status`: `error` for a 5xx, `warn` for a 4xx, `info`
    /// otherwise.
    #[inline]
    pub fn of(status: u16) -> Level {
        match status {
            500.. => Level::Error,
            400..=499 => Level::Warn,
            _ => Level::Info,
        }
    }

    /// As an event writes it.
    #[inline]
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod glue {
    use wasm_bindgen::prelude::{wasm_bindgen, JsValue};

    #[wasm_bindgen(module = "/src/log.js")]
    extern "C" {
        /// Logs the event `line` (one JSON object) as an object that Workers Logs indexes and
        /// `wrangler dev` prints as `line`; returns that object. No `catch`: the line is one a
        /// Worker's event writer wrote, and `console.log` does not throw.
        pub fn emit(line: &str) -> JsValue;
    }
}

#[cfg(target_arch = "wasm32")]
pub use glue::emit;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_level_is_the_status_class_and_the_worse_of_two_is_the_max() {
        assert_eq!(Level::of(200), Level::Info);
        assert_eq!(Level::of(304), Level::Info);
        assert_eq!(Level::of(404), Level::Warn);
        assert_eq!(Level::of(503), Level::Error);
        assert_eq!(Level::Warn.max(Level::Error), Level::Error);
        assert_eq!(Level::Error.as_str(), "error");
        assert_eq!(serde_json::to_string(&Level::Warn).unwrap(), "\"warn\"");
    }
}
