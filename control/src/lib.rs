//! The control plane: a second Cloudflare Worker, beside the resolver, that connects coaches'
//! domains (`tenant_domains`) to Cloudflare for SaaS. A Cron Trigger creates, refreshes and
//! deletes custom hostnames; a webhook takes Cloudflare's certificate notices; the coach's API
//! adds, lists, removes and promotes domains through the owner RPCs, as the coach.
//!
//! It is the only component holding privileged credentials (the Supabase secret key, a
//! Cloudflare API token) and serves no tenant traffic. As in the resolver, the pure core (every
//! module below but `edge`) decides everything and is tested natively; `edge`, compiled only
//! for Wasm, does the I/O. See ARCHITECTURE.md.

// Dead code is judged in the Wasm build, the only one with the `edge` glue calling the core.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

mod analytics;
mod api;
mod brand;
mod cloudflare;
mod config;
mod dns;
mod doctor;
mod domain;
mod error;
mod event;
mod health;
mod lifecycle;
mod maintenance;
mod notify;
pub mod preflight;
mod preview;
mod reply;
mod token;
mod webhook;

#[cfg(target_arch = "wasm32")]
mod edge;
