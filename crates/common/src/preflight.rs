//! The preflight's engine, shared by both Workers' preflights (`tenant_resolver::preflight`,
//! `tenant_control::preflight`): every missing or invalid setting of an environment, named
//! before its deploy by the Worker's own settings parser.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::Misconfigured;

/// A setting the preflight knows more about than the parser: whether it is a secret (never in
/// `wrangler.toml`), whether a deploy needs it even where the Worker would run without it, and
/// a value the parser accepts, put in place of a missing or wrong one so the check can go on.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub name: &'static str,
    pub secret: bool,
    pub required: bool,
    /// Another setting that, when set, makes this one unnecessary (`SUPABASE_REST_URL` for
    /// `SUPABASE_URL`).
    pub or: Option<&'static str>,
    pub stand_in: &'static str,
}

/// `SUPABASE_URL`, as both Workers read it ([`crate::rest_url`]): unneeded when
/// `SUPABASE_REST_URL` is set.
pub const SUPABASE_URL: Setting = Setting {
    name: "SUPABASE_URL",
    secret: false,
    required: true,
    or: Some("SUPABASE_REST_URL"),
    stand_in: "https://preflight.supabase.co",
};

/// `PLATFORM_DOMAIN`, as both Workers read it ([`crate::platform_domain`]).
pub const PLATFORM_DOMAIN: Setting = Setting {
    name: "PLATFORM_DOMAIN",
    secret: false,
    required: true,
    or: None,
    stand_in: "coachplatform.com",
};

/// `SUPABASE_ANON_KEY`, the project's publishable key: both Workers send it to Supabase.
pub const SUPABASE_ANON_KEY: Setting = Setting {
    name: "SUPABASE_ANON_KEY",
    secret: true,
    required: true,
    or: None,
    stand_in: "sb_publishable_preflight",
};

/// `PREVIEW_SIGNING_SECRET`, the key of a brand preview link's HMAC ([`crate::preview`]): the
/// control plane signs with it, the resolver checks; optional in both (unset, previews are off).
pub const PREVIEW_SIGNING_SECRET: Setting = Setting {
    name: "PREVIEW_SIGNING_SECRET",
    secret: true,
    required: false,
    or: None,
    stand_in: "0123456789abcdef0123456789abcdef",
};

/// What the preflight found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Each wrong setting once, in the order found: (setting, what is wrong).
    pub problems: Vec<(String, String)>,
    /// Secrets it could not see (`wrangler secret list` needs a login): check them by hand.
    pub unchecked: Vec<&'static str>,
}

impl Report {
    /// The wrong settings' names, in the order found.
    #[inline]
    pub fn settings(&self) -> Vec<&str> {
        self.problems.iter().map(|(s, _)| s.as_str()).collect()
    }
}

/// An environment's `[vars]` from `(name, value)` pairs.
#[inline]
pub fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A Worker's settings error, as the preflight reads it: each Worker's `Error`, whose
/// `Display` is its message.
pub trait SettingsError: fmt::Display {
    /// The setting this error names and what is wrong with it; `None` when it names none (the
    /// preflight then reports it under `?`, with its message).
    fn misconfigured(&self) -> Option<Misconfigured>;
}

/// A settings parser, as the preflight runs it: `get` reads a setting by name, and an error
/// names the first wrong setting.
pub type Parse<'a, E> = &'a dyn Fn(&dyn Fn(&str) -> Option<String>) -> Result<(), E>;

/// Checks an environment: `vars` its `[vars]`, `secrets` the names `wrangler secret list`
/// shows (`None`: unknown), `known` what the preflight knows of the Worker's settings, `parse`
/// the Worker's parser.
#[inline]
pub fn check<E: SettingsError>(
    known: &[Setting],
    vars: &BTreeMap<String, String>,
    secrets: Option<&[String]>,
    parse: Parse<'_, E>,
) -> Report {
    let mut report = Report::default();
    let mut values: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.clone(), v.trim().to_string()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let problem = |report: &mut Report, setting: &str, what: String| {
        if !report.problems.iter().any(|(s, _)| s == setting) {
            report.problems.push((setting.to_string(), what));
        }
    };
    for setting in known {
        let set = values.contains_key(setting.name);
        if setting.secret {
            if set {
                problem(
                    &mut report,
                    setting.name,
                    "is a secret: never in wrangler.toml; set it with `wrangler secret put`".into(),
                );
            }
            let listed = match secrets {
                Some(names) => names.iter().any(|n| n == setting.name),
                None => {
                    report.unchecked.push(setting.name);
                    setting.required
                }
            };
            if !listed && setting.required {
                problem(
                    &mut report,
                    setting.name,
                    "is not set (a secret: `wrangler secret put`)".into(),
                );
            }
            // Unlisted (wrangler not logged in), an optional secret may be set: it stands in,
            // so a setting that needs it is not reported missing on a guess.
            if listed || setting.required || secrets.is_none() {
                values.insert(setting.name.into(), setting.stand_in.into());
            } else {
                values.remove(setting.name);
            }
        } else if !set && setting.required && !setting.or.is_some_and(|o| values.contains_key(o)) {
            problem(&mut report, setting.name, "is not set".into());
            values.insert(setting.name.into(), setting.stand_in.into());
        }
    }
    // Each round names one wrong setting and replaces it: by its stand-in, or by nothing (its
    // default); a setting the parser refuses twice ends the check.
    let mut replaced: Vec<&'static str> = Vec::new();
    while let Err(e) = parse(&|name: &str| values.get(name).cloned()) {
        let (setting, what) = match e.misconfigured() {
            Some(Misconfigured { setting, problem }) => (setting, problem.to_string()),
            None => ("?", e.to_string()),
        };
        problem(&mut report, setting, what);
        if replaced.iter().filter(|s| **s == setting).count() == 2 {
            break;
        }
        match (
            replaced.contains(&setting),
            known.iter().find(|k| k.name == setting),
        ) {
            (false, _) => values.remove(setting),
            (true, Some(k)) => values.insert(setting.into(), k.stand_in.into()),
            (true, None) => break,
        };
        replaced.push(setting);
    }
    report
}
