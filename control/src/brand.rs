//! A coach's own brand, edited through the control plane (docs/control-plane.md, "The brand"):
//! `GET /brand`, `PUT /brand`, `GET /brand/versions`, `POST /brand/rollback`, `PUT /brand/draft`,
//! `POST /brand/publish` and `POST /brand/preview` (`crate::preview`), each `?tenant_id=<uuid>`
//! with the coach's token.
//!
//! Nothing is lost: every write that replaces the published brand carries `If-Match` with the
//! ETag of the version it was made from (`"v<version>"`), so an edit made on an old version is
//! refused (412) rather than silently overwriting another tab's; a write without it is 428.
//! Every published version is kept by the database (owner-readable only). An edit is checked
//! against the brand contract here, every wrong field named, before the database is touched;
//! the database checks it again (`private.brand_config_problem`) and names the field too.
//!
//! The owner functions (`public.tenant_brand`, `publish_tenant_brand`, …) decide ownership,
//! versions and the per-tenant budget; this module shapes their arguments and reads the state
//! they answer with.

use serde::Deserialize;
use serde_json::value::RawValue;
use tenant_common::brand::problems;
use tenant_common::TenantId;

use crate::error::Error;

/// Largest body of a brand write: a brand with both messages at their 2,000 characters is under
/// 8 KiB.
pub const MAX_BODY_BYTES: usize = 32 * 1024;
const EDIT_EXPECTED: &str =
    r#"a JSON object {"displayName": "<1 to 120 characters>", "brandConfig": {…}}"#;
const ROLLBACK_EXPECTED: &str = r#"a JSON object {"version": <a version number>}"#;
/// The longest display name, in characters (the database's `tenant_profiles_display_name_length`).
const MAX_DISPLAY_NAME_CHARS: usize = 120;

/// What a brand route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `GET /brand`: the published brand, its version (and ETag) and the draft.
    Read,
    /// `PUT /brand` with `If-Match`: publishes a whole new brand.
    Publish,
    /// `GET /brand/versions`: every published version, newest first.
    Versions,
    /// `POST /brand/rollback` with `If-Match`, body `{"version":n}`: publishes an old version again.
    Rollback,
    /// `PUT /brand/draft`: saves a draft beside the published brand.
    SaveDraft,
    /// `POST /brand/publish` with `If-Match`: makes the draft the brand.
    PublishDraft,
    /// `POST /brand/preview`: a link showing the draft, for an hour (`crate::preview`).
    Preview,
}

impl Action {
    /// The owner function that does it.
    pub fn function(self) -> &'static str {
        match self {
            Action::Read => "tenant_brand",
            Action::Publish => "publish_tenant_brand",
            Action::Versions => "tenant_brand_versions",
            Action::Rollback => "rollback_tenant_brand",
            Action::SaveDraft => "save_tenant_brand_draft",
            Action::PublishDraft => "publish_tenant_brand_draft",
            Action::Preview => "create_tenant_brand_preview",
        }
    }

    /// Whether it replaces the published brand, and so needs `If-Match`.
    pub fn publishes(self) -> bool {
        matches!(
            self,
            Action::Publish | Action::Rollback | Action::PublishDraft
        )
    }

    /// Whether it takes a body (read after routing).
    pub fn has_body(self) -> bool {
        matches!(self, Action::Publish | Action::Rollback | Action::SaveDraft)
    }

    /// Its name in the `api` event.
    pub fn event_name(self) -> &'static str {
        match self {
            Action::Read => "read_brand",
            Action::Publish => "publish_brand",
            Action::Versions => "list_brand_versions",
            Action::Rollback => "rollback_brand",
            Action::SaveDraft => "save_brand_draft",
            Action::PublishDraft => "publish_brand_draft",
            Action::Preview => "preview_brand",
        }
    }
}

/// The ETag of a published version.
pub fn etag(version: u32) -> String {
    format!("\"v{version}\"")
}

/// The version an `If-Match` names: [`Error::PreconditionRequired`] without one,
/// [`Error::PreconditionFailed`] for one that cannot be a version's ETag (`*`, a weak or
/// foreign tag, a list), which can match no version.
pub fn if_match(header: Option<&str>) -> Result<u32, Error> {
    let value = header
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(Error::PreconditionRequired)?;
    value
        .strip_prefix("\"v")
        .and_then(|v| v.strip_suffix('"'))
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
        .ok_or(Error::PreconditionFailed)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditBody<'a> {
    #[serde(rename = "displayName")]
    display_name: String,
    #[serde(borrow, rename = "brandConfig")]
    brand_config: &'a RawValue,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    version: u32,
}

/// The owner function's arguments for `action` on `tenant`, from the request's `body` (for the
/// actions that take one) and the version `If-Match` named (for those that publish): an edit
/// is checked against the brand contract first, every wrong field named
/// ([`Error::InvalidBrand`]).
pub fn args(
    action: Action,
    tenant: &TenantId,
    body: &[u8],
    expected_version: Option<u32>,
) -> Result<String, Error> {
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut args = format!(r#"{{"tenant_id":{}"#, quoted(tenant.as_str()));
    match action {
        Action::Publish | Action::SaveDraft => {
            let edit: EditBody = serde_json::from_slice(body).map_err(|_| Error::InvalidBody {
                expected: EDIT_EXPECTED,
            })?;
            let mut fields: Vec<(String, String)> = Vec::new();
            let name_chars = edit.display_name.trim().chars().count();
            if !(1..=MAX_DISPLAY_NAME_CHARS).contains(&name_chars) {
                fields.push(("/displayName".into(), "expected 1 to 120 characters".into()));
            }
            fields.extend(
                problems(edit.brand_config.get())
                    .into_iter()
                    .map(|p| (p.pointer(), format!("expected {}", p.expected))),
            );
            if !fields.is_empty() {
                return Err(Error::InvalidBrand { fields });
            }
            args.push_str(&format!(
                r#","display_name":{},"brand_config":{}"#,
                quoted(&edit.display_name),
                edit.brand_config.get()
            ));
        }
        Action::Rollback => {
            let rollback: RollbackBody =
                serde_json::from_slice(body).map_err(|_| Error::InvalidBody {
                    expected: ROLLBACK_EXPECTED,
                })?;
            args.push_str(&format!(r#","version":{}"#, rollback.version));
        }
        Action::Read | Action::Versions | Action::PublishDraft | Action::Preview => {}
    }
    if let Some(version) = expected_version {
        args.push_str(&format!(r#","expected_version":{version}"#));
    }
    args.push('}');
    Ok(args)
}

/// The published version in a brand state the owner functions answer with
/// (`{"displayName","brandConfig","version","draft"}`), for its ETag; `None` if there is none.
pub fn version_of(state: &str) -> Option<u32> {
    #[derive(Deserialize)]
    struct State {
        version: u32,
    }
    serde_json::from_str::<State>(state).ok().map(|s| s.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "7e000000-0000-4000-8000-000000000002";
    const BRAND: &str = r##"{"logo":{"url":"https://cdn.example/logo.svg","alt":"Northstar","width":1.5e2},"colors":{"primary":"#123456","primaryHover":"#234567","secondary":"#345678","background":"#ffffff","backgroundSubtle":"#f5f5f5","text":"#111111","textMuted":"#555555","border":"#dddddd"},"fonts":{"heading":"Inter","body":"Inter, sans-serif"},"showPoweredBy":true}"##;

    fn tenant() -> TenantId {
        TenantId::parse(TENANT).unwrap()
    }

    #[test]
    fn if_match_names_a_version_or_the_write_is_refused() {
        assert_eq!(if_match(Some("\"v3\"")), Ok(3));
        assert_eq!(if_match(Some(" \"v12\" ")), Ok(12));
        assert_eq!(if_match(None), Err(Error::PreconditionRequired));
        assert_eq!(if_match(Some("")), Err(Error::PreconditionRequired));
        for foreign in [
            "*",
            "W/\"v3\"",
            "\"3\"",
            "v3",
            "\"v3\", \"v4\"",
            "\"v\"",
            "\"v-1\"",
        ] {
            assert_eq!(
                if_match(Some(foreign)),
                Err(Error::PreconditionFailed),
                "{foreign}"
            );
        }
        assert_eq!(etag(7), "\"v7\"");
        assert_eq!(if_match(Some(&etag(7))), Ok(7));
    }

    #[test]
    fn an_edit_becomes_the_functions_arguments_with_the_brand_as_written() {
        let body = format!(r#"{{"displayName":"Northstar \"Coaching\"","brandConfig":{BRAND}}}"#);
        let args = args(Action::Publish, &tenant(), body.as_bytes(), Some(4)).unwrap();
        let value: serde_json::Value = serde_json::from_str(&args).unwrap();
        assert_eq!(value["tenant_id"], TENANT);
        assert_eq!(value["display_name"], "Northstar \"Coaching\"");
        assert_eq!(value["expected_version"], 4);
        assert!(
            args.contains(r#""width":1.5e2"#),
            "the number as written: {args}"
        );
    }

    #[test]
    fn every_wrong_field_is_named_before_the_database_is_asked() {
        let bad = BRAND
            .replace("#123456", "blue")
            .replace("https://cdn.example/logo.svg", "javascript:alert(1)");
        let body = format!(r#"{{"displayName":"  ","brandConfig":{bad}}}"#);
        let Err(Error::InvalidBrand { fields }) =
            args(Action::SaveDraft, &tenant(), body.as_bytes(), None)
        else {
            panic!("expected invalid_brand");
        };
        let pointers: Vec<&str> = fields.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(pointers, ["/displayName", "/logo/url", "/colors/primary"]);
        assert!(fields
            .iter()
            .all(|(_, reason)| reason.starts_with("expected ")));
        let e = Error::InvalidBrand { fields };
        assert_eq!((e.status(), e.code()), (422, "invalid_brand"));
    }

    #[test]
    fn a_body_that_is_not_the_shape_is_400() {
        for body in [
            "",
            "[]",
            r#"{"displayName":"x"}"#,
            r#"{"displayName":1,"brandConfig":{}}"#,
            r#"{"displayName":"x","brandConfig":{},"slug":"other"}"#,
        ] {
            let e = args(Action::Publish, &tenant(), body.as_bytes(), Some(1)).unwrap_err();
            assert_eq!(e.code(), "invalid_body", "{body}");
        }
        for body in ["{}", r#"{"version":-1}"#, r#"{"version":"2"}"#] {
            let e = args(Action::Rollback, &tenant(), body.as_bytes(), Some(1)).unwrap_err();
            assert_eq!(e.code(), "invalid_body", "{body}");
        }
        let args = args(Action::Rollback, &tenant(), br#"{"version":2}"#, Some(5)).unwrap();
        assert_eq!(
            args,
            format!(r#"{{"tenant_id":"{TENANT}","version":2,"expected_version":5}}"#)
        );
    }

    #[test]
    fn the_state_gives_the_etag() {
        assert_eq!(
            version_of(r#"{"displayName":"x","brandConfig":{},"version":3,"draft":null}"#),
            Some(3)
        );
        assert_eq!(version_of("{}"), None);
    }
}
