//! Edge tenant resolver: a Cloudflare Worker that finds the tenant of every request to a
//! coach's custom domain or platform subdomain in Supabase (through PostgREST, with the anon
//! key only), serves its branding as JSON and forwards the request to the app with the
//! tenant's identity.
//!
//! The crate is split in two. The pure core (every module below but `edge`) parses, routes
//! and shapes answers without touching the Workers runtime, so `cargo test` covers it natively.
//! The `edge` module, compiled only for Wasm, is the thin glue to the runtime: it reads the
//! request and the environment, talks to PostgREST and turns the core's answers into
//! responses. See ARCHITECTURE.md for the request's path through the code.

// Dead code is judged in the Wasm build with the `edge` glue, the only one that calls the whole
// core; natively much of the core is reached only by that glue and by tests.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use tenant_common::brand;
mod cache;
mod challenge;
mod config;
mod crawl;
mod error;
mod event;
mod feed;
mod forward;
mod health;
mod key;
mod lines;
mod memory;
pub mod preflight;
mod preview;
mod purge;
mod render;
mod reply;
mod reserved;
mod route;
mod signature;
mod site;
mod tenant;
mod url;

#[cfg(target_arch = "wasm32")]
mod edge;

// What each step of a cache hit costs, measured natively: an ignored test kept beside the
// benchmark it feeds (bench/README.md).
#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "../bench/costs.rs"]
mod costs;

// The crate's whole public surface: the router, for the property tests (tests/fuzz_parsers.rs).
// Everything else is crate-private, so the compiler finds dead code.
pub use crate::key::Lookup;
pub use crate::route::{route, Asset, Route};
