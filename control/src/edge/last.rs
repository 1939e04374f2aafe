//! What this isolate's last calls found of PostgREST and Cloudflare (`crate::health::LastUpstream`),
//! kept per isolate for plain `/health`: every call records its outcome here, nothing else
//! reads it.

use std::cell::RefCell;

use super::now_ms;
use crate::health::LastUpstream;
use tenant_common::Condition;

thread_local! {
    static LAST: RefCell<LastUpstream> = RefCell::new(LastUpstream::default());
}

/// A PostgREST call relying on the settings `uses` (the URL's and the key's) found `found`.
pub fn postgrest(found: Condition, uses: &[&str]) {
    let at = now_ms();
    LAST.with_borrow_mut(|last| last.postgrest_found(found, uses, at));
}

/// A Cloudflare call found `found`.
pub fn cloudflare(found: Condition) {
    let at = now_ms();
    LAST.with_borrow_mut(|last| last.cloudflare_found(found, at));
}

/// What the last calls found.
pub fn seen() -> LastUpstream {
    LAST.with_borrow(|last| *last)
}
