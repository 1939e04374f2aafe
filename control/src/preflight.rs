//! The control plane's preflight: its settings a deploy needs, checked by its own parser
//! (`Config::from_lookup`) the way `tenant_resolver::preflight` checks the resolver's.

use std::collections::BTreeMap;

use tenant_common::preflight::{
    check, Report, Setting, PLATFORM_DOMAIN, PREVIEW_SIGNING_SECRET, SUPABASE_ANON_KEY,
    SUPABASE_URL,
};

use crate::config::Config;

/// What a deploy of the control plane needs. The anon key is required although the parser
/// takes none: hosted Supabase's gateway refuses a coach's request whose `apikey` is not one of
/// the project's keys.
pub const CONTROL: &[Setting] = &[
    SUPABASE_URL,
    Setting {
        name: "CLOUDFLARE_ZONE_ID",
        secret: false,
        required: true,
        or: None,
        stand_in: "023e105f4ecef8ad9ca31a8372d0c353",
    },
    Setting {
        name: "CUSTOM_HOSTNAME_TARGET",
        secret: false,
        required: true,
        or: None,
        stand_in: "customers.coachplatform.com",
    },
    PLATFORM_DOMAIN,
    Setting {
        name: "DASHBOARD_ORIGIN",
        secret: false,
        required: true,
        or: None,
        stand_in: "https://app.coachplatform.com",
    },
    Setting {
        name: "SUPABASE_SECRET_KEY",
        secret: true,
        required: true,
        or: None,
        stand_in: "sb_secret_preflight",
    },
    SUPABASE_ANON_KEY,
    Setting {
        name: "CLOUDFLARE_API_TOKEN",
        secret: true,
        required: true,
        or: None,
        stand_in: "preflight-token",
    },
    Setting {
        name: "CLOUDFLARE_WEBHOOK_SECRET",
        secret: true,
        required: true,
        or: None,
        stand_in: "preflight-webhook-secret-of-32-bytes",
    },
    Setting {
        name: "CLOUDFLARE_ANALYTICS_TOKEN",
        secret: true,
        required: false,
        or: None,
        stand_in: "preflight-analytics-token",
    },
    PREVIEW_SIGNING_SECRET,
    Setting {
        name: "DOMAIN_EVENTS_SECRET",
        secret: true,
        required: false,
        or: None,
        stand_in: "preflight-domain-events-secret-of-32-bytes",
    },
];

/// The control plane's preflight (see `tenant_common::preflight::check`).
pub fn control(vars: &BTreeMap<String, String>, secrets: Option<&[String]>) -> Report {
    check(CONTROL, vars, secrets, &|get| {
        Config::from_lookup(get).map(drop)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenant_common::preflight::vars;

    #[test]
    fn commented_out_settings_are_each_named() {
        let report = control(&vars(&[("DOMAIN_PENDING_DAYS", "7")]), None);
        assert_eq!(
            report.settings(),
            [
                "SUPABASE_URL",
                "CLOUDFLARE_ZONE_ID",
                "CUSTOM_HOSTNAME_TARGET",
                "PLATFORM_DOMAIN",
                "DASHBOARD_ORIGIN"
            ]
        );
        assert_eq!(report.unchecked.len(), 7, "the secrets, unlisted");
    }

    #[test]
    fn set_settings_pass() {
        let report = control(
            &vars(&[
                ("SUPABASE_URL", "https://abc.supabase.co"),
                ("CLOUDFLARE_ZONE_ID", "023e105f4ecef8ad9ca31a8372d0c353"),
                ("CUSTOM_HOSTNAME_TARGET", "customers.coachplatform.com"),
                ("PLATFORM_DOMAIN", "coachplatform.com"),
                ("DASHBOARD_ORIGIN", "https://app.coachplatform.com"),
                ("DOMAIN_PENDING_DAYS", "7"),
            ]),
            None,
        );
        assert!(report.problems.is_empty(), "{report:?}");
    }

    #[test]
    fn domain_events_need_their_secret_listed() {
        let with_url = vars(&[
            ("SUPABASE_URL", "https://abc.supabase.co"),
            ("CLOUDFLARE_ZONE_ID", "023e105f4ecef8ad9ca31a8372d0c353"),
            ("CUSTOM_HOSTNAME_TARGET", "customers.coachplatform.com"),
            ("PLATFORM_DOMAIN", "coachplatform.com"),
            ("DASHBOARD_ORIGIN", "https://app.coachplatform.com"),
            (
                "DOMAIN_EVENTS_URL",
                "https://app.coachplatform.com/hooks/domain-events",
            ),
        ]);
        let listed = |extra: &[&str]| -> Vec<String> {
            [
                "SUPABASE_SECRET_KEY",
                "SUPABASE_ANON_KEY",
                "CLOUDFLARE_API_TOKEN",
                "CLOUDFLARE_WEBHOOK_SECRET",
                "PREVIEW_SIGNING_SECRET",
            ]
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
        };
        let report = control(&with_url, Some(&listed(&[])));
        assert_eq!(report.settings(), ["DOMAIN_EVENTS_SECRET"]);
        let report = control(&with_url, Some(&listed(&["DOMAIN_EVENTS_SECRET"])));
        assert!(report.problems.is_empty(), "{report:?}");
    }

    #[test]
    fn invalid_settings_are_named_by_the_control_planes_rules() {
        let report = control(
            &vars(&[
                ("SUPABASE_URL", "https://abc.supabase.co"),
                ("CLOUDFLARE_ZONE_ID", "not a zone"),
                ("CUSTOM_HOSTNAME_TARGET", "customers.coachplatform.com"),
                ("PLATFORM_DOMAIN", "coachplatform.com"),
                ("DASHBOARD_ORIGIN", "app.coachplatform.com"),
                ("DOMAIN_PENDING_DAYS", "a week"),
            ]),
            None,
        );
        assert_eq!(
            report.settings(),
            [
                "CLOUDFLARE_ZONE_ID",
                "DOMAIN_PENDING_DAYS",
                "DASHBOARD_ORIGIN"
            ],
            "in the order the control plane reads them"
        );
    }
}
