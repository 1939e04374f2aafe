//! What each step of a cache hit costs in the pure core, measured natively (bench/README.md
//! quotes the numbers). A measurement, not a pass/fail test, so it is ignored by `cargo test`:
//!
//! ```sh
//! cargo test --release --lib -- --ignored --nocapture costs
//! ```
//!
//! Native x86 timings are not Wasm timings (workerd's Wasm is slower by a small factor), but
//! they rank the steps, and they show what was moved out of the hit path: the lines marked
//! "per tenant" are done once, when a tenant enters the cache, not on every hit.

use std::hint::black_box;
use std::rc::Rc;
use std::time::Instant;

use crate::cache::{tests::found, Freshness, Policy};
use crate::config::Config;
use crate::feed::{Feed, Snapshot, Tier, WINDOW_MS};
use crate::key::Lookup;
use crate::memory::Memory;
use crate::render::Rendered;
use crate::reply::{etag, Reply, Scope};
use crate::route::{route, Asset, Route};
use crate::site::{classify, Site};
use crate::url::RequestUrl;
use tenant_common::Host;
use tenant_common::Slug;

/// A typical tenant answer (about 830 bytes, like the benchmark's).
const BODY: &str = r##"{"id":"b0000000-0000-4000-8000-000000000100","slug":"northstar-coaching-0100","displayName":"Northstar Coaching 100","tenantType":"consultancy","customDomain":"coach.northstar-coaching-0100.test","enabledAssessments":["industry4"],"brand":{"logo":{"alt":"Northstar Coaching 100","url":"https://cdn.northstar-coaching-0100.test/logo.svg","width":160},"fonts":{"body":"Open Sans","heading":"Montserrat"},"colors":{"text":"#0f172a","border":"#e2e8f0","primary":"#1d3557","secondary":"#e9c46a","textMuted":"#64748b","background":"#ffffff","primaryHover":"#142640","backgroundSubtle":"#f1f5f9"},"tagline":"Find your direction.","showPoweredBy":true,"welcomeMessage":"Welcome to your leadership assessment. It takes about fifteen minutes.","completionMessage":"Thanks! Your coach will review your results with you."}}"##;

/// Runs `step` enough times to time it; returns nanoseconds per run.
fn time<T>(step: impl Fn() -> T) -> f64 {
    for _ in 0..10_000 {
        black_box(step());
    }
    let runs = 200_000;
    let started = Instant::now();
    for _ in 0..runs {
        black_box(step());
    }
    started.elapsed().as_nanos() as f64 / f64::from(runs)
}

#[test]
#[ignore = "a measurement: cargo test --release --lib -- --ignored --nocapture costs"]
fn costs_of_a_cache_hit() {
    let config = Config::from_lookup(|name| match name {
        "SUPABASE_REST_URL" => Some("http://127.0.0.1:3000".into()),
        "SUPABASE_ANON_KEY" => Some("sb_publishable_x".into()),
        _ => None,
    })
    .unwrap();
    let policy: Policy = config.cache;
    let url = "http://coach.northstar-coaching-0100.test/_tenant/slug/northstar-coaching-0100";
    let lookup = Lookup::Slug(Slug::parse("acme").unwrap());
    let mut memory = Memory::new(1000);
    for i in 0..300 {
        let slug = format!("tenant-{i:04}");
        memory.put(
            &Lookup::Slug(Slug::parse(&slug).unwrap()),
            Rc::new(found(&slug, 0)),
        );
    }
    let entry = Rc::new(found("acme", 0));
    memory.put(&lookup, entry.clone());
    let memory = std::cell::RefCell::new(memory);
    let mut feed = Feed::default();
    feed.apply(
        &Snapshot {
            read_at_ms: WINDOW_MS,
            covers_from_ms: 0,
            changes: Vec::new(),
        },
        5000,
        0.0,
    );
    let tenant = entry.tenant.clone().unwrap();
    let shared: (Rc<str>, Rc<str>) = (BODY.into(), etag(BODY).into());
    let fresh = Freshness::Fresh { remaining_s: 3000 };

    let rows: Vec<(&str, f64)> = vec![
        ("split the request URL", time(|| RequestUrl::split(url))),
        (
            "route /_tenant/slug/<slug> (parse the slug)",
            time(|| route("GET", "/_tenant/slug/northstar-coaching-0100", "")),
        ),
        (
            "Host header → Host → Site (brand.json)",
            time(|| {
                let host = Host::parse("coach.northstar-coaching-0100.test").unwrap();
                classify(&host, None)
            }),
        ),
        (
            "memory lookup (1000-key tier, LRU touch)",
            time(|| memory.borrow_mut().get(&lookup)),
        ),
        (
            "what the feed vouches + freshness",
            time(|| {
                let vouch = feed.vouch(entry.fetched_at_ms, entry.hash(), Tier::Memory);
                policy.freshness(&entry, 10_000, vouch)
            }),
        ),
        (
            "Cache-Control, precomputed (feed on)",
            time(|| config.cache_control.value(Scope::Public, fresh)),
        ),
        (
            "Cache-Control, formatted (what it was)",
            time(|| policy.cache_control(Scope::Public, fresh)),
        ),
        (
            "the Reply (body and ETag shared)",
            time(|| {
                Reply::tenant(
                    Asset::Json,
                    shared.clone(),
                    Scope::Public,
                    config.cache_control.value(Scope::Public, fresh),
                    None,
                )
            }),
        ),
        (
            "its header lines (one string for the runtime)",
            time(|| {
                Reply::tenant(Asset::Json, shared.clone(), Scope::Public, "x".into(), None)
                    .header_lines()
            }),
        ),
        (
            "per tenant: the ETag (FNV-1a of the body)",
            time(|| etag(BODY)),
        ),
        ("per tenant: a copy of the body", time(|| BODY.to_string())),
        (
            "per tenant: brand.css, manifest and <head> rendered",
            time(|| Rendered::for_tenant(BODY)),
        ),
    ];
    assert!(matches!(
        route("GET", "/_tenant/slug/northstar-coaching-0100", ""),
        Ok(Route::Tenant(_))
    ));
    assert!(matches!(
        classify(&Host::parse("coach.example.com").unwrap(), None),
        Site::Tenant(_)
    ));
    assert!(memory.borrow_mut().get(&lookup).is_some());
    assert_eq!(tenant.slug.as_str(), "acme");
    println!("\n| step | ns (native, release) |\n|---|---:|");
    for (step, ns) in rows {
        println!("| {step} | {ns:.0} |");
    }
}
