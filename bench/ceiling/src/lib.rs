//! Benchmark ceiling: answers every request with the same JSON body, a copy of a typical
//! tenant answer (`body.json`, written by bench/bench.mjs from the resolver before this is
//! built). No routing, no parsing, no I/O: what any Rust/Wasm Worker costs at the least.

use worker::*;

const BODY: &str = include_str!("../body.json");

#[event(fetch)]
async fn fetch(_req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    let mut response = Response::ok(BODY)?;
    response.headers_mut().set("content-type", "application/json")?;
    Ok(response)
}
