//! A preview key's signature, by Web Crypto (`preview.js`); the token and the link around it are
//! the core's (`crate::preview`). A domain event's signature (`super::notify`) is the same HMAC.

use wasm_bindgen::prelude::{wasm_bindgen, JsValue};
use worker::js_sys;
use worker::wasm_bindgen_futures::JsFuture;

use crate::error::Error;

#[wasm_bindgen(module = "/src/edge/preview.js")]
extern "C" {
    /// Resolves with the HMAC-SHA256 of `message` under `secret`. `catch`: a JS exception that
    /// crossed into Wasm uncaught would trap the instance.
    #[wasm_bindgen(catch)]
    fn sign(secret: &str, message: &str) -> Result<js_sys::Promise, JsValue>;
}

/// The HMAC-SHA256 of `key` under `secret` (`PREVIEW_SIGNING_SECRET`), 32 bytes. Web Crypto
/// refusing it can only be the secret's fault.
pub async fn signature(secret: &str, key: &str) -> Result<Vec<u8>, Error> {
    hmac(secret, key).await.map_err(|()| Error::Misconfigured {
        setting: "PREVIEW_SIGNING_SECRET",
        problem: "is refused by Web Crypto as an HMAC key",
    })
}

/// The HMAC-SHA256 of `message` under `secret`, 32 bytes (a preview key's, a domain event's);
/// `Err` when Web Crypto refuses the secret.
pub async fn hmac(secret: &str, message: &str) -> Result<Vec<u8>, ()> {
    let tag = JsFuture::from(sign(secret, message).map_err(drop)?)
        .await
        .map_err(drop)?;
    Ok(js_sys::Uint8Array::new(&tag).to_vec())
}
