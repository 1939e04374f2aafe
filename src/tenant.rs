//! Tenant rows as PostgREST returns them, the JSON shapes the Worker serves, and the [`Tenant`]
//! the cache keeps of a row.
//!
//! The anon key can read only the public columns; PostgREST writes them as the public tenant
//! JSON ([`PUBLIC_SELECT`]), camelCase as frontends consume it, and [`TenantRow`] checks that it
//! holds exactly those before the public routes serve it byte for byte. An owner's full row, served only by
//! `/_tenant/me`, is written by PostgREST itself ([`PROFILE_SELECT`]) and only checked here
//! ([`active_profile`]).

use std::cell::OnceCell;
use std::rc::Rc;

use crate::brand::Members;
use crate::error::UpstreamError;
use crate::feed::TenantHash;
use crate::key::Lookup;
use crate::render::Rendered;
use crate::reply::etag;
use crate::route::Asset;
use tenant_common::{Host, Slug, TenantId};

/// The `select` of a tenant's public row: the columns of `tenant_profiles` the anon key may
/// select, named as the public tenant JSON names them, so that PostgREST writes that JSON,
/// `{"id","slug","displayName","tenantType","customDomain","enabledAssessments","brand",
/// "maintenance"}`, and
/// the Worker only checks it (serde code to rewrite it cost the Wasm more than the check). Asking
/// for any other column is a permission error by design (see the tenant_profiles migration).
pub const PUBLIC_SELECT: &str = concat!(public_select!(), ",maintenance");

/// [`PUBLIC_SELECT`] as a database older than this Worker can answer it: without the column
/// the last migration the Worker reads added (`maintenance`, 20261208000002). A Worker deployed
/// before `supabase db push` reads with it (`edge/store.rs`), and each row as
/// [`TenantRow::with_maintenance_off`] says: every tenant keeps being served, none in maintenance.
pub const OLDER_SELECT: &str = public_select!();

macro_rules! public_select {
    () => {
        "id,slug,displayName:display_name,tenantType:tenant_type,customDomain:custom_domain,\
         enabledAssessments:enabled_assessments,brand:brand_config"
    };
}
pub(crate) use public_select;

/// A tenant's public row: the public tenant JSON as PostgREST wrote it ([`PUBLIC_SELECT`]),
/// checked, and the keys it is found by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRow {
    pub id: String,
    pub slug: String,
    pub custom_domain: Option<String>,
    /// The public tenant JSON, served as it is.
    pub json: String,
}

/// The keys of the public tenant JSON: a row with any other (a private column) is refused,
/// never passed on.
const PUBLIC_KEYS: [&str; 8] = [
    "id",
    "slug",
    "displayName",
    "tenantType",
    "customDomain",
    "enabledAssessments",
    "brand",
    "maintenance",
];

/// A tenant's maintenance switch, when its owner turned it on (`PUT /maintenance` of the
/// control plane, carried by the change feed like any edit): what its visitors read, and when
/// to come back. Its pages are then answered without the origin (`Error::Maintenance`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    /// The owner's message, control characters made spaces (it travels in a header line).
    pub message: String,
    pub retry_after_s: u32,
}

impl Maintenance {
    /// The `maintenance` member of a tenant's public JSON: `None` when it is `null` (off), and
    /// when it cannot be read: a switch the Worker cannot read never takes a site down.
    pub fn of(json: &str) -> Option<Maintenance> {
        let value: serde_json::Value =
            serde_json::from_str(object(json).ok()?.get("maintenance")?.get()).ok()?;
        let message = value.get("message")?.as_str()?;
        Some(Maintenance {
            message: message
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
            retry_after_s: value.get("retryAfterSeconds")?.as_u64()?.try_into().ok()?,
        })
    }
}

/// The `select` of `public.my_tenant_profile()`'s rows: every column, in the profile JSON's
/// camelCase, so that PostgREST writes `/_tenant/me`'s body and the Worker only checks it.
pub const PROFILE_SELECT: &str = concat!(
    public_select!(),
    ",maintenance,emailConfig:email_config,userId:user_id,subscriptionTier:subscription_tier,\
     isActive:is_active,createdAt:created_at,updatedAt:updated_at"
);

impl TenantRow {
    /// A row read with [`OLDER_SELECT`], as [`PUBLIC_SELECT`] reads it: `maintenance` off.
    pub fn with_maintenance_off(body: &str) -> Result<TenantRow, UpstreamError> {
        let body = body.trim_end();
        match body.strip_suffix('}') {
            Some(rest) => TenantRow::from_json(&format!(r#"{rest},"maintenance":null}}"#)),
            None => TenantRow::from_json(body),
        }
    }

    /// Decodes a single-object PostgREST answer and checks that what came back is a tenant
    /// (a valid id and slug, a JSON object as brand): garbage from upstream is an error, not a
    /// tenant.
    pub fn from_json(body: &str) -> Result<TenantRow, UpstreamError> {
        let row = object(body)?;
        let keys: Vec<&str> = row.keys().collect();
        let keys_are_public =
            keys.len() == PUBLIC_KEYS.len() && PUBLIC_KEYS.iter().all(|k| keys.contains(k));
        if !keys_are_public {
            return Err(UpstreamError::Decode(format!(
                "a tenant row with the keys {keys:?}"
            )));
        }
        let (id, slug) = check_identity(&row)?;
        let custom_domain = match member(&row, "customDomain")? {
            serde_json::Value::Null => None,
            serde_json::Value::String(domain) => Some(domain),
            _ => return Err(UpstreamError::Decode("customDomain is not a string".into())),
        };
        Ok(TenantRow {
            id,
            slug,
            custom_domain,
            json: body.trim().to_string(),
        })
    }
}

/// A tenant as the cache keeps it: its keys, its public JSON already serialised with its ETag,
/// and the hash the change feed names it by. Everything derived is computed once, when the
/// tenant enters the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: Slug,
    /// Its primary custom domain (`custom_domain`), if it has one: where its other domains
    /// redirect.
    pub primary: Option<Host>,
    /// The public tenant JSON served by every public route.
    pub json: Rc<str>,
    /// The strong ETag of `json`.
    pub etag: Rc<str>,
    /// The SHA-256 of `id`, as the change feed names the tenant.
    pub hash: TenantHash,
    /// Its maintenance switch, when on.
    pub maintenance: Option<Maintenance>,
    /// Its branding written out, on first use.
    rendered: OnceCell<Rendered>,
}

impl Tenant {
    pub fn new(id: TenantId, slug: Slug, primary: Option<Host>, json: String) -> Tenant {
        Tenant {
            hash: TenantHash::of(id.as_str()),
            etag: etag(&json).into(),
            maintenance: Maintenance::of(&json),
            id,
            slug,
            primary,
            json: json.into(),
            rendered: OnceCell::new(),
        }
    }

    /// The body and ETag of one of its host-bound answers.
    pub fn asset(&self, asset: Asset) -> (Rc<str>, Rc<str>) {
        let (body, tag) = match asset {
            Asset::Json => (&self.json, &self.etag),
            Asset::Css => (&self.rendered().css, &self.rendered().css_etag),
            Asset::Manifest => (&self.rendered().manifest, &self.rendered().manifest_etag),
        };
        (body.clone(), tag.clone())
    }

    /// Its `brand.css`, manifest and injected `<head>` block, rendered the first time they are
    /// asked for and kept as long as the tenant.
    pub fn rendered(&self) -> &Rendered {
        self.rendered
            .get_or_init(|| Rendered::for_tenant(&self.json))
    }

    /// The tenant a row describes (already checked by `TenantRow::from_json`), or `None` if its id
    /// or slug is not one.
    pub fn of(row: &TenantRow) -> Option<Tenant> {
        Some(Tenant::new(
            TenantId::parse(&row.id).ok()?,
            Slug::parse(&row.slug).ok()?,
            row.custom_domain
                .as_deref()
                .and_then(|d| Host::parse_domain(d).ok()),
            row.json.clone(),
        ))
    }

    /// Every key this tenant is reachable by: slug, id and primary domain.
    pub fn keys(&self) -> Vec<Lookup> {
        let mut keys = vec![Lookup::Slug(self.slug.clone()), Lookup::Id(self.id.clone())];
        keys.extend(self.primary.clone().map(Lookup::Domain));
        keys
    }
}

/// The owner's profile JSON (`[PROFILE_SELECT]`, one object) when it is an active tenant;
/// `None` when the owner has no active tenant (an inactive one is as good as none). What is
/// checked before it is served as PostgREST wrote it: that it is a tenant, and an active one.
pub fn active_profile(body: &str) -> Result<Option<&str>, UpstreamError> {
    let profile = object(body)?;
    check_identity(&profile)?;
    let active = member(&profile, "isActive")?.as_bool();
    let active = active.ok_or_else(|| UpstreamError::Decode("isActive is not a boolean".into()))?;
    Ok(Some(body).filter(|_| active))
}

/// One JSON object's members, each left as text (`brand::Members`, which the brand contract
/// links anyway: a struct of its own per shape cost the Wasm more). A brand is never parsed
/// here, so a number no parser reads (`1e400`) in it costs the tenant nothing.
fn object(body: &str) -> Result<Members<'_>, UpstreamError> {
    Members::parse(body).ok_or_else(|| UpstreamError::Decode("not a JSON object".into()))
}

/// The member named `name`, parsed (`null` when there is none).
fn member(row: &Members<'_>, name: &str) -> Result<serde_json::Value, UpstreamError> {
    row.get(name).map_or(Ok(serde_json::Value::Null), |raw| {
        serde_json::from_str(raw.get()).map_err(|e| UpstreamError::Decode(format!("{name}: {e}")))
    })
}

/// A string member, or a decode error naming it.
fn text(row: &Members<'_>, name: &str) -> Result<String, UpstreamError> {
    match member(row, name)? {
        serde_json::Value::String(text) => Ok(text),
        _ => Err(UpstreamError::Decode(format!("{name} is not a string"))),
    }
}

/// Checks that a row names a tenant: a uuid, a slug and an object as its brand.
fn check_identity(row: &Members<'_>) -> Result<(String, String), UpstreamError> {
    let id = text(row, "id")?;
    let slug = text(row, "slug")?;
    TenantId::parse(&id)
        .map_err(|_| UpstreamError::Decode(format!("tenant id {id:?} is not a uuid")))?;
    Slug::parse(&slug)
        .map_err(|_| UpstreamError::Decode(format!("tenant slug {slug:?} is not a slug")))?;
    if !row.get("brand").is_some_and(|b| b.get().starts_with('{')) {
        return Err(UpstreamError::Decode("brand is not an object".into()));
    }
    Ok((id, slug))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A public row as PostgREST writes it with [`PUBLIC_SELECT`].
    const ROW: &str = r##"{"id":"3bb43f29-695c-493b-8b5c-3819ffc0675c","slug":"leadingwithmeaning","displayName":"Leading \"with\" Meaning","tenantType":"coach","customDomain":"coach.leadingwithmeaning.com","enabledAssessments":["industry4"],"brand":{"logo": {"url": "https://x/l.svg"}, "colors": {"primary": "#123"}},"maintenance":null}"##;

    #[test]
    fn a_public_row_is_served_as_postgrest_wrote_it() {
        let row = TenantRow::from_json(&format!(" {ROW}\n")).unwrap();
        assert_eq!(row.json, ROW);
        assert_eq!(row.id, "3bb43f29-695c-493b-8b5c-3819ffc0675c");
        assert_eq!(row.slug, "leadingwithmeaning");
        assert_eq!(
            row.custom_domain.as_deref(),
            Some("coach.leadingwithmeaning.com")
        );
        let platform = ROW.replace("\"coach.leadingwithmeaning.com\"", "null");
        assert_eq!(TenantRow::from_json(&platform).unwrap().custom_domain, None);
    }

    #[test]
    fn a_row_of_an_older_database_is_served_with_maintenance_off() {
        let older = ROW.replace(r#","maintenance":null"#, "");
        assert!(TenantRow::from_json(&older).is_err(), "not the public JSON");
        assert_eq!(TenantRow::with_maintenance_off(&older).unwrap().json, ROW);
        assert!(TenantRow::with_maintenance_off("[]").is_err());
    }

    #[test]
    fn maintenance_is_read_once_and_never_takes_a_site_down() {
        let on = ROW.replace(
            r#""maintenance":null"#,
            r#""maintenance":{"message":"Back\nsoon","retryAfterSeconds":600}"#,
        );
        let tenant = |json: &str| Tenant::of(&TenantRow::from_json(json).unwrap()).unwrap();
        assert_eq!(
            tenant(&on).maintenance,
            Some(Maintenance {
                message: "Back soon".into(),
                retry_after_s: 600
            })
        );
        assert_eq!(tenant(ROW).maintenance, None);
        for unreadable in [
            r#""maintenance":{"message":"x"}"#,
            r#""maintenance":{"message":1,"retryAfterSeconds":600}"#,
            r#""maintenance":{"message":"x","retryAfterSeconds":-1}"#,
            r#""maintenance":{"message":"x","retryAfterSeconds":1e400}"#,
            r#""maintenance":true"#,
        ] {
            let json = ROW.replace(r#""maintenance":null"#, unreadable);
            assert_eq!(tenant(&json).maintenance, None, "{unreadable}");
        }
    }

    #[test]
    fn a_brand_no_parser_reads_in_full_is_still_the_tenants() {
        let huge = ROW.replace(r##""primary": "#123""##, r#""width": 1e400"#);
        assert_eq!(TenantRow::from_json(&huge).unwrap().json, huge);
        let profile = profile(true).replace(r##""primary": "#123""##, r#""width": 1e400"#);
        assert_eq!(active_profile(&profile).unwrap(), Some(profile.as_str()));
    }

    #[test]
    fn private_columns_are_refused_not_passed_on() {
        for leaky in [
            ROW.replacen('{', r#"{"email_config":{"replyTo":"x@y.z"},"#, 1),
            ROW.replacen('{', r#"{"emailConfig":{"replyTo":"x@y.z"},"#, 1),
            ROW.replace("\"displayName\"", "\"display_name\""),
        ] {
            assert!(
                matches!(TenantRow::from_json(&leaky), Err(UpstreamError::Decode(_))),
                "{leaky}"
            );
        }
    }

    #[test]
    fn garbage_is_a_decode_error() {
        for body in [
            "",
            "[]",
            "{}",
            "<html>",
            r#"{"id":"1","slug":"ab"}"#,
            &ROW.replace("leadingwithmeaning\"", "Bad Slug\""),
            &ROW.replace("\"brand\":{", "\"brand\":[{")
                .replace("}}}", "}}]}"),
            &format!("[{ROW}]"),
        ] {
            assert!(
                matches!(TenantRow::from_json(body), Err(UpstreamError::Decode(_))),
                "{body}"
            );
        }
    }

    /// An owner's profile as PostgREST writes it with [`PROFILE_SELECT`].
    fn profile(active: bool) -> String {
        format!(
            r##"{{"id":"3bb43f29-695c-493b-8b5c-3819ffc0675c","slug":"leadingwithmeaning","displayName":"Leading with Meaning","tenantType":"coach","customDomain":null,"enabledAssessments":[],"brand":{{"colors": {{"primary": "#123"}}}},"emailConfig":{{"replyTo":"mark@example.com"}},"userId":"00000000-0000-4000-8000-000000000001","subscriptionTier":"professional","isActive":{active},"createdAt":"2026-01-06T00:00:00+00:00","updatedAt":"2026-01-06T00:00:00+00:00"}}"##
        )
    }

    #[test]
    fn an_active_profile_is_served_as_postgrest_wrote_it() {
        let body = profile(true);
        assert_eq!(active_profile(&body).unwrap(), Some(body.as_str()));
        assert_eq!(
            active_profile(&profile(false)).unwrap(),
            None,
            "inactive: none"
        );
    }

    #[test]
    fn a_profile_that_is_no_tenant_is_a_decode_error() {
        for body in [
            "{}".to_string(),
            "[]".to_string(),
            profile(true).replace("leadingwithmeaning\"", "Bad Slug\""),
            profile(true)
                .replace("\"brand\":{", "\"brand\":[{")
                .replace("}},\"email", "}}],\"email"),
        ] {
            assert!(active_profile(&body).is_err(), "{body}");
        }
    }
}
