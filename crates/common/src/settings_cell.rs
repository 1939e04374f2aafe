//! The per-isolate settings cell: each Worker parses its settings on an isolate's first event
//! and keeps the outcome, a wrong setting included, for every later one (an isolate's
//! environment never changes). Pure but for `env_vars`, which reads the Workers runtime's
//! environment and is compiled for Wasm only.

use std::cell::OnceCell;
use std::rc::Rc;

/// An isolate's settings of type `T`, or the error `E` that parsing them ended with, parsed
/// once. Meant for a `thread_local!` (the isolate is single-threaded; a `static` would have to
/// be `Sync`).
pub struct SettingsCell<T, E>(OnceCell<Result<Rc<T>, E>>);

impl<T, E: Clone> SettingsCell<T, E> {
    /// An empty cell: nothing parsed yet.
    #[inline]
    pub const fn new() -> Self {
        SettingsCell(OnceCell::new())
    }

    /// The settings `parse` returned on the first call; later calls do not run theirs. An error
    /// is kept too: the environment that caused it cannot change.
    #[inline]
    pub fn get_or_parse(&self, parse: impl FnOnce() -> Result<T, E>) -> Result<Rc<T>, E> {
        self.0.get_or_init(|| parse().map(Rc::new)).clone()
    }
}

impl<T, E: Clone> Default for SettingsCell<T, E> {
    #[inline]
    fn default() -> Self {
        SettingsCell::new()
    }
}

/// The Worker's environment as a settings parser reads it: a setting's value by name (a var or
/// a secret), `None` when unset. A closure the parser is compiled for, not a `&dyn Fn` the cell
/// would pass it: that indirection made the resolver's Wasm larger.
#[cfg(target_arch = "wasm32")]
#[inline]
pub fn env_vars(env: &worker::Env) -> impl Fn(&str) -> Option<String> + '_ {
    |name| env.var(name).ok().map(|v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_parsed_once_and_shared() {
        let cell = SettingsCell::<String, ()>::new();
        let first = cell.get_or_parse(|| Ok("a".into())).unwrap();
        let again = cell.get_or_parse(|| panic!("parsed twice")).unwrap();
        assert!(Rc::ptr_eq(&first, &again));
    }

    #[test]
    fn a_wrong_setting_is_kept_too() {
        let cell = SettingsCell::<String, &str>::new();
        assert_eq!(cell.get_or_parse(|| Err("ORIGIN_URL")), Err("ORIGIN_URL"));
        assert_eq!(cell.get_or_parse(|| Ok("fixed".into())), Err("ORIGIN_URL"));
    }
}
