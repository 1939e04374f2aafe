//! Property-based fuzzing of everything that parses client input: hosts, slugs, ids, routes,
//! bearer tokens and purge bodies. Each property holds for any input, including input no
//! browser would send: no panic, and whatever is accepted is already normalised.
//!
//! The test command runs a short pass (`PROPTEST_CASES`, default below). A long run:
//! `PROPTEST_CASES=1000000 cargo test --release --test fuzz_parsers` (see README.md).
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use tenant_common::{bearer_token, Host, Slug, TenantId};
use tenant_resolver::{route, Asset, Lookup, Route};

/// Cases per property in the test command's short run, unless `PROPTEST_CASES` says otherwise.
const SHORT_RUN_CASES: u32 = 3000;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SHORT_RUN_CASES);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Strings shaped like what arrives in a Host header or a path segment: mostly host-ish
/// characters, with punctuation, digits, ports, Unicode and control characters mixed in.
fn hostish() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9.\\-]{0,80}",
        "[a-z0-9\\-]{1,20}(\\.[a-z0-9\\-]{1,20}){0,4}\\.?(:[0-9]{0,6})?",
        "\\[?[0-9a-f:.]{0,40}\\]?(:[0-9]{1,5})?",
        any::<String>(),
        "[a-z]{1,70}\\.[a-z]{2,3}",
    ]
}

/// Cloudflare's HTTP ownership check of a custom hostname, as `crates/common/src/challenge.rs` spells it.
const CHALLENGE_PREFIX: &str = "/.well-known/cf-custom-hostname-challenge/";

/// Paths that reach every route the Worker answers, and the paths beside them: each
/// `/_tenant/` route with keys that parse and keys that do not, Cloudflare's ownership check
/// (with ids it accepts, and ids and extra segments it does not), other `/.well-known/` paths,
/// and anything else.
fn routeish() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec![
        "slug",
        "domain",
        "id",
        "me",
        "health",
        "brand.json",
        "brand.css",
        "manifest.webmanifest",
        "schema",
        "purge",
        "",
    ]);
    let key = prop_oneof![
        "[a-zA-Z0-9\\-]{1,20}",
        "[a-z0-9\\-]{1,20}\\.[a-z]{2,3}",
        "[0-9a-fA-F]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        prop::sample::select(vec!["tenant.schema.json", "brand-config.schema.json"])
            .prop_map(str::to_string),
        "[^/]{0,80}",
    ];
    let tenant = (name, prop::collection::vec(key, 0..3)).prop_map(|(name, keys)| {
        let keys: String = keys.iter().map(|k| format!("/{k}")).collect();
        format!("/_tenant/{name}{keys}")
    });
    let challenge = prop_oneof!["[A-Za-z0-9._~\\-]{0,130}", "[^/]{0,40}(/[^/]{0,20}){0,2}",]
        .prop_map(|id| format!("{CHALLENGE_PREFIX}{id}"));
    prop_oneof![
        tenant,
        challenge,
        "/\\.well-known/[ -~]{0,60}",
        "/[ -~]{0,100}",
        any::<String>(),
    ]
}

/// One ASCII character as a lenient origin may receive it and still read it as itself: as is,
/// upper case, percent-encoded (once or twice), as IIS's `%uXXXX`, as overlong UTF-8 of two or
/// three bytes, or as its fullwidth form (raw or percent-encoded).
fn spelled(c: char) -> impl Strategy<Value = String> {
    let b = c as u32;
    let fullwidth = char::from_u32(b + 0xFEE0).unwrap_or(c);
    let utf8 = |c: char| {
        c.encode_utf8(&mut [0; 4])
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect::<String>()
    };
    prop_oneof![
        Just(c.to_string()),
        Just(c.to_ascii_uppercase().to_string()),
        Just(format!("%{b:02x}")),
        Just(format!("%25{b:02X}")),
        Just(format!("%u{b:04x}")),
        Just(format!(
            "%{:02x}%{:02x}",
            0xC0 | (b >> 6),
            0x80 | (b & 0x3F)
        )),
        Just(format!(
            "%E0%{:02X}%{:02X}",
            0x80 | (b >> 6),
            0x80 | (b & 0x3F)
        )),
        Just(fullwidth.to_string()),
        Just(utf8(fullwidth)),
    ]
}

/// What a lenient origin drops between characters: control, format and combining characters.
fn ignored() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(String::new()),
        Just(String::new()),
        prop::sample::select(vec![
            "%00",
            "%09",
            "%0a",
            "%0D",
            "%7f",
            "\u{200b}",
            "%E2%80%8B",
            "\u{ad}",
            "%CC%81",
            "\u{feff}"
        ])
        .prop_map(str::to_string),
    ]
}

/// `/_tenant`, each character spelled and maybe preceded by something dropped, after a prefix
/// that leads to the first segment and before a suffix that ends it.
fn reserved_spelling() -> impl Strategy<Value = String> {
    let characters: Vec<_> = "_tenant".chars().map(|c| (ignored(), spelled(c))).collect();
    (
        prop::sample::select(vec![
            "/",
            "//",
            "/./",
            "/x/%252e%252e/",
            "/x/%c0%ae%c0%ae/",
            "\u{ff0f}",
            "/%00/",
            "/%09",
        ]),
        characters,
        prop::sample::select(vec![
            "",
            "/",
            "/health",
            "%00.html",
            ";x=1/y",
            ".",
            "...",
            "%20",
            "%3Fq",
            "%c0%af",
            "\u{ff0f}x",
        ]),
    )
        .prop_map(|(prefix, characters, suffix)| {
            let name: String = characters.into_iter().map(|(i, c)| i + &c).collect();
            format!("{prefix}{name}{suffix}")
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn accepted_hosts_are_normalised_and_stable(input in hostish()) {
        if let Ok(host) = Host::parse(&input) {
            let s = host.as_str();
            prop_assert!(!s.is_empty() && s.len() <= 253);
            prop_assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'));
            prop_assert!(!s.ends_with('.') && !s.contains(".."));
            prop_assert!(s.split('.').all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-')));
            prop_assert!(s.parse::<std::net::Ipv4Addr>().is_err());
            prop_assert_eq!(Host::parse(s).unwrap(), host.clone());
        }
    }

    #[test]
    fn accepted_domains_are_hosts_with_two_labels(input in hostish()) {
        if let Ok(domain) = Host::parse_domain(&input) {
            prop_assert!(domain.as_str().contains('.'));
            prop_assert_eq!(Host::parse(domain.as_str()).unwrap(), domain);
        }
    }

    #[test]
    fn accepted_slugs_follow_the_database_rule(input in prop_oneof!["[a-zA-Z0-9\\-_.]{0,70}", any::<String>()]) {
        if let Ok(slug) = Slug::parse(&input) {
            let s = slug.as_str();
            prop_assert!((3..=63).contains(&s.len()));
            prop_assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            prop_assert!(!s.starts_with('-') && !s.ends_with('-'));
            prop_assert_eq!(Slug::parse(s).unwrap(), slug.clone());
        }
    }

    #[test]
    fn accepted_ids_are_canonical_uuids(input in prop_oneof!["[0-9a-fA-F\\-]{30,40}", any::<String>()]) {
        if let Ok(id) = TenantId::parse(&input) {
            prop_assert_eq!(id.as_str().len(), 36);
            prop_assert_eq!(id.as_str(), input.to_ascii_lowercase());
        }
    }

    #[test]
    fn routing_answers_each_route_at_its_path_and_forwards_the_rest(
        method in prop_oneof![Just("GET".to_string()), Just("HEAD".to_string()), Just("POST".to_string()), Just("OPTIONS".to_string()), "[A-Z]{1,10}"],
        path in routeish(),
        query in "[ -~]{0,40}",
    ) {
        let reserved = path.starts_with("/_tenant/");
        let segments: Vec<&str> = path.strip_prefix("/_tenant/").unwrap_or("").split('/').collect();
        let read = method == "GET" || method == "HEAD";
        let found = route(&method, &path, &query);
        if path.starts_with(CHALLENGE_PREFIX) {
            match &found {
                Ok(Route::Challenge) => prop_assert!(read, "{method} {path}"),
                Err(error) => prop_assert!(!read && error.code() == "method_not_allowed", "{method} {path}: {}", error.code()),
                Ok(other) => prop_assert!(false, "{method} {path} → {other:?}"),
            }
        }
        match found {
            Ok(Route::Challenge) => prop_assert!(path.starts_with(CHALLENGE_PREFIX)),
            Ok(Route::Forward) => prop_assert!(!reserved && path != "/_tenant" && !path.starts_with(CHALLENGE_PREFIX), "{path}"),
            Ok(Route::Preflight { .. }) => prop_assert!(reserved && method == "OPTIONS"),
            Ok(Route::Purge) => prop_assert!(segments == ["purge"] && method == "POST"),
            Ok(found) => {
                prop_assert!(read, "{method} {path} → {found:?}");
                match found {
                    Route::Health { .. } => prop_assert_eq!(segments, ["health"]),
                    Route::Brand(Asset::Json) => prop_assert_eq!(segments, ["brand.json"]),
                    Route::Brand(Asset::Css) => prop_assert_eq!(segments, ["brand.css"]),
                    Route::Brand(Asset::Manifest) => prop_assert_eq!(segments, ["manifest.webmanifest"]),
                    Route::Schema(schema) => prop_assert_eq!(segments, ["schema", schema.name]),
                    Route::Me => prop_assert_eq!(segments, ["me"]),
                    Route::Tenant(Lookup::Slug(slug)) => {
                        prop_assert_eq!(segments.len(), 2);
                        prop_assert_eq!(segments[0], "slug");
                        prop_assert_eq!(Slug::parse(segments[1]).ok(), Some(slug));
                    }
                    Route::Tenant(Lookup::Domain(host)) => {
                        prop_assert_eq!(segments.len(), 2);
                        prop_assert_eq!(segments[0], "domain");
                        prop_assert_eq!(Host::parse_domain(segments[1]).ok(), Some(host));
                    }
                    Route::Tenant(Lookup::Id(id)) => {
                        prop_assert_eq!(segments.len(), 2);
                        prop_assert_eq!(segments[0], "id");
                        prop_assert_eq!(TenantId::parse(segments[1]).ok(), Some(id));
                    }
                    other => prop_assert!(false, "{method} {path} → {other:?}"),
                }
            }
            Err(error) => {
                prop_assert!(reserved || path.starts_with(CHALLENGE_PREFIX) || error.code() == "not_found", "{path}: {}", error.code());
                prop_assert!((400..500).contains(&error.status()));
                prop_assert!(serde_json::from_str::<serde_json::Value>(&error.body()).is_ok());
            }
        }
    }

    #[test]
    fn every_lenient_spelling_of_the_reserved_prefix_is_refused(path in reserved_spelling()) {
        match route("GET", &path, "") {
            Err(error) => prop_assert_eq!(error.code(), "not_found", "{}", path),
            Ok(found) => prop_assert!(path.starts_with("/_tenant/"), "{path} → {found:?}"),
        }
    }

    #[test]
    fn plain_paths_without_the_name_are_forwarded(path in "/[a-zA-Z0-9/._~-]{0,60}") {
        prop_assume!(!path.to_ascii_lowercase().contains("tenant"));
        prop_assert_eq!(route("GET", &path, ""), Ok(Route::Forward));
    }

    #[test]
    fn bearer_tokens_are_jwt_shaped(header in prop_oneof!["(Bearer|bearer|Basic) [A-Za-z0-9_\\-.]{0,60}", any::<String>()]) {
        if let Ok(token) = bearer_token(Some(&header)) {
            prop_assert_eq!(token.split('.').count(), 3);
        }
    }

    #[test]
    fn purge_bodies_never_panic(body in prop_oneof![r#"\{"(slug|domain|id)":"[ -~]{0,70}"\}"#, any::<String>()]) {
        if let Err(error) = Lookup::from_purge_body(&body) {
            prop_assert_eq!(error.status(), 400);
        }
    }
}
