//! Tenant rows as PostgREST returns them, and the JSON shapes the Worker serves.
//!
//! The anon key can read only the public columns ([`PUBLIC_COLUMNS`]); [`TenantRow`] holds exactly
//! those and is what the public routes serve, camelCase as frontends consume it. `brand` is
//! passed through byte for byte as PostgREST returned it. An owner's full row, served only by
//! `/_tenant/me`, is written by PostgREST itself ([`PROFILE_SELECT`]) and only checked here
//! ([`active_profile`]).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::UpstreamError;
use crate::key::{Slug, TenantId};

/// The columns of `tenant_profiles` the anon key may select. Asking for any other column is a
/// permission error by design (see the tenant_profiles migration).
pub const PUBLIC_COLUMNS: &str =
    "id,slug,display_name,tenant_type,custom_domain,enabled_assessments,brand_config";

/// A tenant's public row. Serialises to the public tenant JSON:
/// `{"id","slug","displayName","tenantType","customDomain","enabledAssessments","brand"}`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase"), deny_unknown_fields)]
pub struct TenantRow {
    pub id: String,
    pub slug: String,
    pub display_name: String,
    pub tenant_type: String,
    pub custom_domain: Option<String>,
    #[serde(default)]
    pub enabled_assessments: Vec<String>,
    #[serde(rename(serialize = "brand"))]
    pub brand_config: Box<RawValue>,
}

/// The `select` of `public.my_tenant_profile()`'s rows: every column, in the profile JSON's
/// camelCase, so that PostgREST writes `/_tenant/me`'s body and the Worker only checks it.
pub const PROFILE_SELECT: &str = "id,slug,displayName:display_name,tenantType:tenant_type,\
     customDomain:custom_domain,enabledAssessments:enabled_assessments,brand:brand_config,\
     emailConfig:email_config,userId:user_id,subscriptionTier:subscription_tier,\
     isActive:is_active,createdAt:created_at,updatedAt:updated_at";

/// What `/_tenant/me` checks of an owner's profile (as [`PROFILE_SELECT`] names it) before it
/// serves it as PostgREST wrote it: that it is a tenant, and an active one.
#[derive(Deserialize)]
struct ProfileCheck<'a> {
    id: &'a str,
    slug: &'a str,
    brand: &'a RawValue,
    #[serde(rename = "isActive")]
    is_active: bool,
}

impl TenantRow {
    /// Decodes a single-object PostgREST answer and checks that what came back is a tenant
    /// (a valid id and slug, a JSON object as brand): garbage from upstream is an error, not a
    /// tenant.
    pub fn from_json(body: &str) -> Result<TenantRow, UpstreamError> {
        decode(body)
    }

    /// The public tenant JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The owner's profile JSON (`[PROFILE_SELECT]`, one object) when it is an active tenant;
/// `None` when the owner has no active tenant (an inactive one is as good as none).
pub fn active_profile(body: &str) -> Result<Option<&str>, UpstreamError> {
    let check: ProfileCheck =
        serde_json::from_str(body).map_err(|e| UpstreamError::Decode(e.to_string()))?;
    check_identity(check.id, check.slug, check.brand)?;
    Ok(Some(body).filter(|_| check.is_active))
}

/// Decodes a row and checks its id, slug and brand.
fn decode(body: &str) -> Result<TenantRow, UpstreamError> {
    let row: TenantRow =
        serde_json::from_str(body).map_err(|e| UpstreamError::Decode(e.to_string()))?;
    check_identity(&row.id, &row.slug, &row.brand_config)?;
    Ok(row)
}

/// Checks that a row names a tenant: a uuid, a slug and an object as its brand.
fn check_identity(id: &str, slug: &str, brand: &RawValue) -> Result<(), UpstreamError> {
    TenantId::parse(id)
        .map_err(|_| UpstreamError::Decode(format!("tenant id {id:?} is not a uuid")))?;
    Slug::parse(slug)
        .map_err(|_| UpstreamError::Decode(format!("tenant slug {slug:?} is not a slug")))?;
    if !brand.get().trim_start().starts_with('{') {
        return Err(UpstreamError::Decode(
            "brand_config is not an object".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROW: &str = r##"{"id":"3bb43f29-695c-493b-8b5c-3819ffc0675c","slug":"leadingwithmeaning","display_name":"Leading with Meaning","tenant_type":"coach","custom_domain":"coach.leadingwithmeaning.com","enabled_assessments":["industry4"],"brand_config":{"logo": {"url": "https://x/l.svg"}, "colors": {"primary": "#123"}}}"##;

    #[test]
    fn public_json_is_camel_case_with_brand_as_stored() {
        let json = TenantRow::from_json(ROW).unwrap().to_json();
        assert_eq!(
            json,
            r##"{"id":"3bb43f29-695c-493b-8b5c-3819ffc0675c","slug":"leadingwithmeaning","displayName":"Leading with Meaning","tenantType":"coach","customDomain":"coach.leadingwithmeaning.com","enabledAssessments":["industry4"],"brand":{"logo": {"url": "https://x/l.svg"}, "colors": {"primary": "#123"}}}"##
        );
    }

    #[test]
    fn private_columns_are_refused_not_passed_on() {
        let leaky = ROW.replacen('{', r#"{"email_config":{"replyTo":"x@y.z"},"#, 1);
        assert!(matches!(
            TenantRow::from_json(&leaky),
            Err(UpstreamError::Decode(_))
        ));
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
