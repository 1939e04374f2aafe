//! A preview cookie read into the tenant's draft (`crate::preview` says how a preview works):
//! the signature checked in `preview.js`, then the database asked, with the anon key, what the
//! key names; what it said kept `preview::MEMO_MS` per isolate.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::{wasm_bindgen, JsValue};
use worker::js_sys;
use worker::wasm_bindgen_futures::JsFuture;

use super::{event, now_ms, store};
use crate::config::Config;
use crate::preview;
use crate::tenant::Tenant;

#[wasm_bindgen(module = "/src/edge/preview.js")]
extern "C" {
    /// Resolves with whether `signature` is the HMAC of `key` under `secret`. `catch`: a JS
    /// exception that crossed into Wasm uncaught would trap the instance.
    #[wasm_bindgen(catch)]
    fn verify(secret: &str, key: &str, signature: &str) -> Result<js_sys::Promise, JsValue>;
}

/// What the database said of a key, and until when this isolate believes it.
type Memo = (String, u64, Option<Rc<Tenant>>);

/// At most this many keys are remembered (the oldest forgotten first).
const MEMO_KEYS: usize = 32;

thread_local! {
    static MEMO: RefCell<Vec<Memo>> = const { RefCell::new(Vec::new()) };
}

/// The draft of `tenant` that the request's `cookies` name a live preview of; `None` for no
/// cookie, previews off (no `PREVIEW_SIGNING_SECRET`), a token that is not signed, not live or
/// another tenant's, or the database failing: the published brand, never an error.
pub async fn draft(
    config: &Config,
    calls: &event::Calls,
    cookies: Option<&str>,
    tenant: &Tenant,
) -> Option<Rc<Tenant>> {
    let secret = config.preview_secret.as_deref()?;
    let (key, signature) = tenant_common::preview::split(preview::from_cookies(cookies?)?)?;
    let now = now_ms();
    let remembered = MEMO.with_borrow(|memo| {
        memo.iter()
            .find(|(k, until, _)| k == key && *until > now)
            .map(|(_, _, draft)| draft.clone())
    });
    let draft = match remembered {
        Some(draft) => draft,
        None => {
            let signed = JsFuture::from(verify(secret, key, signature).ok()?).await;
            if signed.ok()?.as_bool() != Some(true) {
                return None;
            }
            let started_ms = calls.start();
            let row = store::preview(config, key).await;
            calls.end(started_ms, row.is_err());
            let draft = row.ok().flatten().and_then(|r| Tenant::of(&r)).map(Rc::new);
            MEMO.with_borrow_mut(|memo| {
                memo.retain(|(_, until, _)| *until > now);
                if memo.len() >= MEMO_KEYS {
                    memo.remove(0);
                }
                memo.push((key.to_string(), now + preview::MEMO_MS, draft.clone()));
            });
            draft
        }
    };
    draft.filter(|draft| draft.id == tenant.id)
}
