//! Tenant rows as PostgREST returns them, and the JSON shapes the Worker serves.
//!
//! The anon key can read only the public columns ([`PUBLIC_COLUMNS`]); [`TenantRow`] holds exactly
//! those and is what the public routes serve, camelCase as frontends consume it. `brand` is
//! passed through byte for byte as PostgREST returned it. [`Profile`] is a tenant owner's full
//! row, served only by `/_tenant/me`.

use serde::de::DeserializeOwned;
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

/// A tenant owner's full row, from `public.my_tenant_profile()`.
///
/// It repeats [`TenantRow`]'s fields instead of `#[serde(flatten)]`-ing it: flatten buffers the
/// row through serde's generic content type, which cannot carry `brand_config` as a `RawValue`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct Profile {
    pub id: String,
    pub slug: String,
    pub display_name: String,
    pub tenant_type: String,
    pub custom_domain: Option<String>,
    #[serde(default)]
    pub enabled_assessments: Vec<String>,
    #[serde(rename(serialize = "brand"))]
    pub brand_config: Box<RawValue>,
    pub email_config: Option<Box<RawValue>>,
    pub user_id: Option<String>,
    pub subscription_tier: String,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
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

impl Profile {
    /// Decodes a single-object PostgREST answer; see [`TenantRow::from_json`].
    pub fn from_json(body: &str) -> Result<Profile, UpstreamError> {
        decode(body)
    }

    /// The first active profile of the rows `public.my_tenant_profile()` returns (a JSON
    /// array, oldest first), if any: an owner of inactive tenants only has none.
    pub fn first_active(rows: &str) -> Result<Option<Profile>, UpstreamError> {
        let rows: Vec<Box<RawValue>> =
            serde_json::from_str(rows).map_err(|e| UpstreamError::Decode(e.to_string()))?;
        for row in rows {
            let profile = Profile::from_json(row.get())?;
            if profile.is_active {
                return Ok(Some(profile));
            }
        }
        Ok(None)
    }

    /// The owner's profile JSON: the public fields plus `emailConfig`, `userId`,
    /// `subscriptionTier`, `isActive`, `createdAt` and `updatedAt`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A row that names a tenant: what [`decode`] checks before trusting it.
trait Row: DeserializeOwned {
    fn identity(&self) -> (&str, &str, &RawValue);
}

impl Row for TenantRow {
    fn identity(&self) -> (&str, &str, &RawValue) {
        (&self.id, &self.slug, &self.brand_config)
    }
}

impl Row for Profile {
    fn identity(&self) -> (&str, &str, &RawValue) {
        (&self.id, &self.slug, &self.brand_config)
    }
}

/// Decodes a row and checks its id, slug and brand.
fn decode<T: Row>(body: &str) -> Result<T, UpstreamError> {
    check(serde_json::from_str(body).map_err(|e| UpstreamError::Decode(e.to_string()))?)
}

/// Checks a row's id, slug and brand.
fn check<T: Row>(row: T) -> Result<T, UpstreamError> {
    let (id, slug, brand) = row.identity();
    TenantId::parse(id)
        .map_err(|_| UpstreamError::Decode(format!("tenant id {id:?} is not a uuid")))?;
    Slug::parse(slug)
        .map_err(|_| UpstreamError::Decode(format!("tenant slug {slug:?} is not a slug")))?;
    if !brand.get().trim_start().starts_with('{') {
        return Err(UpstreamError::Decode(
            "brand_config is not an object".into(),
        ));
    }
    Ok(row)
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

    /// `ROW` as an owner's profile, active or not.
    fn profile_row(active: bool) -> String {
        ROW.replacen(
            '{',
            &format!(r#"{{"email_config":{{}},"user_id":null,"subscription_tier":"free","is_active":{active},"created_at":"x","updated_at":"x","#),
            1,
        )
    }

    #[test]
    fn an_owner_gets_the_first_active_profile() {
        let inactive = profile_row(false);
        let active = profile_row(true).replace("leadingwithmeaning\"", "second-tenant\"");
        let found = Profile::first_active(&format!("[{inactive},{active}]"))
            .unwrap()
            .unwrap();
        assert_eq!(found.slug, "second-tenant");
        assert!(Profile::first_active(&format!("[{inactive}]"))
            .unwrap()
            .is_none());
        assert!(Profile::first_active("[]").unwrap().is_none());
        assert!(Profile::first_active("{}").is_err());
    }

    #[test]
    fn profile_includes_the_private_columns() {
        let row = ROW.replacen(
            '{',
            r#"{"email_config":{"replyTo":"mark@example.com"},"user_id":"00000000-0000-4000-8000-000000000001","subscription_tier":"professional","is_active":true,"created_at":"2026-01-06T00:00:00+00:00","updated_at":"2026-01-06T00:00:00+00:00","#,
            1,
        );
        let v: serde_json::Value =
            serde_json::from_str(&Profile::from_json(&row).unwrap().to_json()).unwrap();
        assert_eq!(v["emailConfig"]["replyTo"], "mark@example.com");
        assert_eq!(v["subscriptionTier"], "professional");
        assert_eq!(v["brand"]["colors"]["primary"], "#123");
    }
}
