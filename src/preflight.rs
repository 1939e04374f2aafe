//! `scripts/preflight`: every missing or invalid setting of an environment, named before its
//! deploy, by the rules the Worker itself applies.
//!
//! A Worker reads its settings on the first request and answers every request `500
//! misconfigured` when one is wrong: the right behaviour once deployed, and the wrong moment to
//! find out. The preflight runs the same parser (`Config::from_lookup` here, the control
//! plane's in `tenant_control::preflight`) over the environment's `[vars]`, with stand-ins for
//! the secrets it cannot read. The parser stops at the first wrong setting, so the check parses
//! again with a valid stand-in in its place until the parser is satisfied: each wrong setting is
//! named once, with the Worker's own words for what is wrong.

use std::collections::BTreeMap;

use tenant_common::preflight::{
    check, Report, Setting, PLATFORM_DOMAIN, PREVIEW_SIGNING_SECRET, SUPABASE_ANON_KEY,
    SUPABASE_URL,
};

use crate::config::Config;

/// The resolver's settings a deploy needs beyond what the Worker needs to start: without
/// `PLATFORM_DOMAIN` no subdomain resolves, without `ORIGIN_URL` nothing is forwarded, without
/// `ORIGIN_SIGNING_SECRET` the app cannot trust what is.
pub const RESOLVER: &[Setting] = &[
    SUPABASE_URL,
    PLATFORM_DOMAIN,
    Setting {
        name: "ORIGIN_URL",
        secret: false,
        required: true,
        or: None,
        stand_in: "https://app.coachplatform.com",
    },
    SUPABASE_ANON_KEY,
    Setting {
        name: "ORIGIN_SIGNING_SECRET",
        secret: true,
        required: true,
        or: None,
        stand_in: "0123456789abcdef0123456789abcdef",
    },
    PREVIEW_SIGNING_SECRET,
    Setting {
        name: "PURGE_TOKEN",
        secret: true,
        required: false,
        or: None,
        stand_in: "preflight-purge-token",
    },
];

/// The resolver's preflight (see [`check`]).
pub fn resolver(vars: &BTreeMap<String, String>, secrets: Option<&[String]>) -> Report {
    check(RESOLVER, vars, secrets, &|get| {
        Config::from_lookup(get).map(drop)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenant_common::preflight::vars;

    const GOOD: &[(&str, &str)] = &[
        ("SUPABASE_URL", "https://abc.supabase.co"),
        ("PLATFORM_DOMAIN", "coachplatform.com"),
        ("ORIGIN_URL", "https://app.coachplatform.com"),
        ("UPSTREAM_TIMEOUT_MS", "3000"),
    ];

    #[test]
    fn commented_out_settings_are_each_named() {
        let report = resolver(&vars(&[("UPSTREAM_TIMEOUT_MS", "3000")]), None);
        assert_eq!(
            report.settings(),
            ["SUPABASE_URL", "PLATFORM_DOMAIN", "ORIGIN_URL"]
        );
        assert_eq!(
            report.unchecked,
            [
                "SUPABASE_ANON_KEY",
                "ORIGIN_SIGNING_SECRET",
                "PREVIEW_SIGNING_SECRET",
                "PURGE_TOKEN"
            ]
        );
    }

    #[test]
    fn set_settings_pass_and_unseen_secrets_are_left_to_check() {
        let report = resolver(&vars(GOOD), None);
        assert!(report.problems.is_empty(), "{report:?}");
        assert_eq!(report.unchecked.len(), 4);
    }

    #[test]
    fn listed_secrets_are_checked() {
        let listed = ["SUPABASE_ANON_KEY".to_string()];
        let report = resolver(&vars(GOOD), Some(&listed));
        assert_eq!(report.settings(), ["ORIGIN_SIGNING_SECRET"]);
        assert!(report.unchecked.is_empty());
    }

    #[test]
    fn every_invalid_setting_is_named_by_the_workers_rules() {
        let report = resolver(
            &vars(&[
                ("SUPABASE_URL", "abc.supabase.co"),
                ("PLATFORM_DOMAIN", "not a domain"),
                ("ORIGIN_URL", "ftp://app"),
                ("UPSTREAM_TIMEOUT_MS", "soon"),
                ("INJECT_BRANDING", "maybe"),
            ]),
            None,
        );
        assert_eq!(
            report.settings(),
            [
                "SUPABASE_URL",
                "PLATFORM_DOMAIN",
                "ORIGIN_URL",
                "UPSTREAM_TIMEOUT_MS",
                "INJECT_BRANDING"
            ]
        );
        assert!(report.problems[0].1.contains("URL"));
    }

    #[test]
    fn a_secret_in_vars_is_refused() {
        let mut v = vars(GOOD);
        v.insert("SUPABASE_ANON_KEY".into(), "sb_publishable_x".into());
        assert_eq!(resolver(&v, None).settings(), ["SUPABASE_ANON_KEY"]);
    }

    #[test]
    fn the_rest_url_stands_for_the_project_url() {
        let mut v = vars(&GOOD[1..]);
        v.insert("SUPABASE_REST_URL".into(), "https://db.example.com".into());
        assert!(resolver(&v, None).problems.is_empty());
    }
}
