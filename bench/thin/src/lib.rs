//! Benchmark: the ceiling (`../ceiling`) without the `worker` crate. The same constant body
//! (`../ceiling/body.json`), answered synchronously by one wasm-bindgen export that `index.js`
//! calls with the request: no `#[event(fetch)]` glue (its future, the `Env` and `Context`
//! wrappers, the request and response conversions) and no worker-build shim (its entrypoint
//! class and proxies, built per request). Beside the ceiling and the JS constant Worker it
//! shows how much of the crate's fixed cost per request a thinner entry would save.

use wasm_bindgen::prelude::*;
use web_sys::{Headers, Request, Response, ResponseInit};

const BODY: &str = include_str!("../../ceiling/body.json");

/// The answer to every request: the body as JSON.
#[wasm_bindgen]
pub fn fetch(_request: Request) -> Result<Response, JsValue> {
    let headers = Headers::new()?;
    headers.set("content-type", "application/json")?;
    let init = ResponseInit::new();
    init.set_headers(&headers);
    Response::new_with_opt_str_and_init(Some(BODY), &init)
}
