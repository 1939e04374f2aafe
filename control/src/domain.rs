//! A tenant's domain: the `tenant_domains` row as PostgREST returns it, and the coach's view of
//! it (`schema/domain.schema.json`), with the DNS records the coach must add.

use serde::{Deserialize, Serialize};
use tenant_common::Host;

use crate::doctor::{self, Diagnosis, Stored};
use crate::error::{Service, UpstreamError};

/// The embedded last diagnosis, as `GET /domains` selects it beside [`COLUMNS`].
pub const DIAGNOSIS: &str = "tenant_domain_diagnoses(code,fix,points_to,checked_at)";

/// Whether `hostname` is an apex: a registrable domain by the Public Suffix List
/// (`example.com`, `example.co.uk`), where most DNS hosts allow no CNAME. The one test of it,
/// for the doctor and for pairing an apex with its `www`.
pub fn is_apex(hostname: &str) -> bool {
    let name = hostname
        .strip_suffix('.')
        .unwrap_or(hostname)
        .to_ascii_lowercase();
    psl2::lookup(&name).is_some_and(|d| d.registrable_domain() == Some(name.as_str()))
}

/// The other name of `hostname`'s apex–`www` pair: `www.<d>` for an apex `<d>`, `<d>` for
/// `www.<d>` of an apex; `None` for any other name. Adding one adds the other: a visitor reads
/// them as one site, and the database lets no other tenant hold the second
/// (`20261208000007`).
pub fn partner(hostname: &str) -> Option<String> {
    if is_apex(hostname) {
        return Some(format!("www.{hostname}"));
    }
    hostname
        .strip_prefix("www.")
        .filter(|apex| is_apex(apex))
        .map(str::to_string)
}

/// What a coach does at an apex, which most DNS hosts allow no CNAME at.
fn apex_note(hostname: &str, target: &Host) -> String {
    format!(
        "{hostname} is an apex, where most DNS hosts allow no CNAME: use your DNS host's ALIAS, \
         ANAME or CNAME flattening to {target} (on Cloudflare DNS, a CNAME here is flattened); \
         if it has none, make www.{hostname} the primary domain and forward {hostname} to it at \
         your registrar"
    )
}

/// The columns the control plane reads, as a PostgREST `select`.
pub const COLUMNS: &str = "id,tenant_id,hostname,status,is_primary,ssl_status,cloudflare_id,\
ownership_txt_name,ownership_txt_value,ownership_http_path,ownership_http_body,\
verification_errors,created_at,updated_at,verified_at,proof_token,proven_at";

/// A domain's lifecycle status, as `tenant_domains.status` holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Added by its owner; Cloudflare has not verified it (or its certificate) yet.
    Pending,
    /// Verified, with a certificate: it resolves.
    Active,
    /// Cloudflare says it no longer points here.
    Moved,
    /// Cloudflare blocked it.
    Blocked,
    /// Given up: refused by Cloudflare, not verified in time, or gone at Cloudflare.
    Failed,
    /// Its owner removed it; the cron deletes its Cloudflare hostname, then the row.
    Removing,
}

impl Status {
    /// The status as stored and as PostgREST filters name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Active => "active",
            Status::Moved => "moved",
            Status::Blocked => "blocked",
            Status::Failed => "failed",
            Status::Removing => "removing",
        }
    }
}

/// One `tenant_domains` row.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DomainRow {
    pub id: String,
    pub tenant_id: String,
    pub hostname: String,
    pub status: Status,
    pub is_primary: bool,
    pub ssl_status: Option<String>,
    pub cloudflare_id: Option<String>,
    pub ownership_txt_name: Option<String>,
    pub ownership_txt_value: Option<String>,
    pub ownership_http_path: Option<String>,
    pub ownership_http_body: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub verification_errors: Vec<String>,
    pub created_at: String,
    /// When the row last changed (RFC 3339, stamped by the database on every update): a
    /// webhook notice older than this is stale.
    pub updated_at: String,
    pub verified_at: Option<String>,
    /// The value of the TXT record that proves control: this claim's, and only its owner's.
    pub proof_token: String,
    /// When its tenant proved control of the hostname, if it has.
    pub proven_at: Option<String>,
    /// The doctor's last diagnosis, when read with it ([`DIAGNOSIS`]).
    #[serde(
        default,
        rename = "tenant_domain_diagnoses",
        deserialize_with = "one_or_none"
    )]
    pub diagnosis: Option<Stored>,
}

/// An embedded one-to-one row: an object, `null`, or an array of at most one.
fn one_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Stored>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Embedded {
        One(Stored),
        Many(Vec<Stored>),
    }
    Ok(match Option::<Embedded>::deserialize(d)? {
        Some(Embedded::One(one)) => Some(one),
        Some(Embedded::Many(many)) => many.into_iter().next(),
        None => None,
    })
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

impl DomainRow {
    /// Rows from a PostgREST array, each decoded on its own: a row that cannot be read is
    /// returned as an error beside the others, so one bad row never hides the rest.
    pub fn from_rows(body: &str) -> Result<Vec<Result<DomainRow, String>>, UpstreamError> {
        let rows: Vec<serde_json::Value> =
            serde_json::from_str(body).map_err(|e| UpstreamError::Decode {
                service: Service::Postgrest,
                detail: e.to_string(),
            })?;
        Ok(rows
            .into_iter()
            .map(|row| serde_json::from_value(row).map_err(|e| e.to_string()))
            .collect())
    }

    /// The one row an RPC answers: a JSON object, or an array holding exactly one.
    pub fn from_rpc(body: &str) -> Result<DomainRow, UpstreamError> {
        let decode = |detail: String| UpstreamError::Decode {
            service: Service::Postgrest,
            detail,
        };
        let value: serde_json::Value =
            serde_json::from_str(body).map_err(|e| decode(e.to_string()))?;
        let row = match value {
            serde_json::Value::Array(mut rows) if rows.len() == 1 => rows.remove(0),
            serde_json::Value::Object(_) => value,
            _ => return Err(decode(format!("not one row: {body:.80}"))),
        };
        serde_json::from_value(row).map_err(|e| decode(e.to_string()))
    }

    /// Whether its tenant proved control of the hostname's DNS: only then does it hold the
    /// name, and only then is it created at Cloudflare.
    pub fn is_proven(&self) -> bool {
        self.proven_at.is_some()
    }

    /// The coach's view of this row: the CNAME to `target` and the TXT record that proves
    /// control of the domain (`challenge_record`, with this claim's token), both required.
    pub fn to_domain(&self, target: &Host, challenge_record: String) -> DomainView {
        let mut dns = vec![
            DnsRecord {
                kind: "CNAME",
                name: self.hostname.clone(),
                value: target.to_string(),
                optional: None,
                note: is_apex(&self.hostname).then(|| apex_note(&self.hostname, target)),
            },
            DnsRecord {
                kind: "TXT",
                name: challenge_record,
                value: self.proof_token.clone(),
                optional: None,
                note: None,
            },
        ];
        if let (Some(name), Some(value)) = (&self.ownership_txt_name, &self.ownership_txt_value) {
            dns.push(DnsRecord {
                kind: "TXT",
                name: name.clone(),
                value: value.clone(),
                optional: Some(true),
                note: None,
            });
        }
        let diagnosis = doctor::shown(self, self.diagnosis.as_ref());
        DomainView {
            ready: doctor::is_ready(self, &diagnosis),
            diagnosis,
            hostname: self.hostname.clone(),
            status: self.status,
            primary: self.is_primary,
            ssl: self.ssl_status.clone(),
            verified_at: self.verified_at.clone(),
            ownership_verified_at: self.proven_at.clone(),
            errors: self.verification_errors.clone(),
            dns,
        }
    }
}

/// A domain as the coach's API answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainView {
    pub hostname: String,
    pub status: Status,
    pub primary: bool,
    /// Cloudflare's certificate status, as given (`pending_validation`, …, `active`).
    pub ssl: Option<String>,
    pub verified_at: Option<String>,
    /// When the platform found the domain's TXT record with this claim's token: the tenant
    /// proved control of its DNS. Until then the claim holds nothing.
    pub ownership_verified_at: Option<String>,
    /// Why the domain is not active yet, or why it failed, in words a coach can act on.
    pub errors: Vec<String>,
    /// The DNS records the coach adds at their DNS provider.
    pub dns: Vec<DnsRecord>,
    /// Whether the domain is ready: Cloudflare's hostname and certificate active, and its DNS
    /// pointing here.
    pub ready: bool,
    /// The doctor's verdict, and its fix.
    pub diagnosis: Diagnosis,
}

/// One DNS record to add. The CNAME and the platform's TXT record (the proof of control) are
/// required; Cloudflare's HTTP check then goes through the resolver. Cloudflare's own TXT
/// record, when it gave one, verifies the hostname before the CNAME is switched over (no
/// downtime for a site already live elsewhere): `"optional": true`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsRecord {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    /// What is different about this record at this name (an apex: no CNAME at most DNS hosts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A pending row as the owner's RPC returns it.
    pub(crate) fn row(hostname: &str) -> DomainRow {
        DomainRow {
            id: "d0000000-0000-4000-8000-000000000001".into(),
            tenant_id: "7e000000-0000-4000-8000-000000000002".into(),
            hostname: hostname.into(),
            status: Status::Pending,
            is_primary: false,
            ssl_status: None,
            cloudflare_id: None,
            ownership_txt_name: None,
            ownership_txt_value: None,
            ownership_http_path: None,
            ownership_http_body: None,
            verification_errors: vec![],
            created_at: "2026-12-02T10:00:00.000000+00:00".into(),
            updated_at: "2026-12-02T10:00:00.000000+00:00".into(),
            verified_at: None,
            proof_token: "0f73f020e7894d42bc0a19cd546c8c6c".into(),
            proven_at: None,
            diagnosis: None,
        }
    }

    const CHALLENGE: &str = "_coachplatform-challenge.coach.example.test";

    fn target() -> Host {
        Host::parse_domain("customers.coachplatform.com").unwrap()
    }

    #[test]
    fn a_new_domain_asks_for_the_cname_and_the_txt_record_that_proves_control() {
        let r = row("coach.example.test");
        let json = serde_json::to_value(r.to_domain(&target(), CHALLENGE.into())).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "hostname": "coach.example.test",
                "status": "pending",
                "primary": false,
                "ssl": null,
                "verifiedAt": null,
                "ownershipVerifiedAt": null,
                "errors": [],
                "dns": [
                    {"type": "CNAME", "name": "coach.example.test", "value": "customers.coachplatform.com"},
                    {"type": "TXT", "name": CHALLENGE, "value": "0f73f020e7894d42bc0a19cd546c8c6c"},
                ],
                "ready": false,
                "diagnosis": {
                    "code": "not_checked",
                    "fix": "The DNS of coach.example.test is checked within a minute.",
                    "checkedAt": null,
                },
            })
        );
        assert!(!r.is_proven());
    }

    #[test]
    fn the_txt_record_is_added_when_cloudflare_gave_one_and_marked_optional() {
        let mut r = row("coach.example.test");
        r.ownership_txt_name = Some("_cf-custom-hostname.coach.example.test".into());
        r.ownership_txt_value = Some("5cc07c04".into());
        r.verification_errors = vec!["custom hostname does not CNAME to this zone.".into()];
        let json = serde_json::to_value(r.to_domain(&target(), CHALLENGE.into())).unwrap();
        assert_eq!(
            json["dns"][2],
            serde_json::json!({"type": "TXT", "name": "_cf-custom-hostname.coach.example.test", "value": "5cc07c04", "optional": true})
        );
        assert_eq!(
            json["errors"][0],
            "custom hostname does not CNAME to this zone."
        );
    }

    #[test]
    fn an_apex_is_a_registrable_domain_by_the_public_suffix_list() {
        for apex in [
            "example.com",
            "example.co.uk",
            "Example.CO.UK.",
            "example.test",
        ] {
            assert!(is_apex(apex), "{apex}");
        }
        for not in ["www.example.com", "coach.example.co.uk", "co.uk", "com"] {
            assert!(!is_apex(not), "{not}");
        }
    }

    #[test]
    fn an_apex_and_its_www_are_a_pair_and_nothing_else_is() {
        assert_eq!(
            partner("example.co.uk").as_deref(),
            Some("www.example.co.uk")
        );
        assert_eq!(
            partner("www.example.co.uk").as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(partner("example.com").as_deref(), Some("www.example.com"));
        for none in ["coach.example.com", "www.coach.example.com", "co.uk"] {
            assert_eq!(partner(none), None, "{none}");
        }
    }

    #[test]
    fn an_apex_cname_says_what_to_do_instead() {
        let target = Host::parse_domain("customers.coachplatform.com").unwrap();
        let note = apex_note("example.co.uk", &target);
        assert!(note.contains("ALIAS, ANAME or CNAME flattening to customers.coachplatform.com"));
        assert!(note.contains("make www.example.co.uk the primary domain"));
    }

    #[test]
    fn the_last_diagnosis_is_read_embedded_as_an_object_an_array_or_null() {
        let stored = serde_json::json!({"code": "cname_elsewhere", "fix": "f", "points_to": "x.example.net", "checked_at": "2026-12-08T03:00:00+00:00"});
        for embedded in [stored.clone(), serde_json::json!([stored])] {
            let mut json = pending_json();
            json["tenant_domain_diagnoses"] = embedded;
            let r: DomainRow = serde_json::from_value(json).unwrap();
            let d = r.diagnosis.unwrap();
            assert_eq!(
                (d.code, d.points_to.as_deref()),
                (doctor::Code::CnameElsewhere, Some("x.example.net"))
            );
        }
        let mut json = pending_json();
        json["tenant_domain_diagnoses"] = serde_json::Value::Null;
        assert_eq!(
            serde_json::from_value::<DomainRow>(json).unwrap().diagnosis,
            None
        );
        assert_eq!(
            serde_json::from_value::<DomainRow>(pending_json())
                .unwrap()
                .diagnosis,
            None
        );
    }

    /// A pending row as PostgREST writes it.
    fn pending_json() -> serde_json::Value {
        serde_json::json!({
            "id": "a", "tenant_id": "t", "hostname": "a.example.test", "status": "pending",
            "is_primary": false, "ssl_status": null, "cloudflare_id": null,
            "ownership_txt_name": null, "ownership_txt_value": null,
            "ownership_http_path": null, "ownership_http_body": null,
            "verification_errors": [], "created_at": "2026-12-02T10:00:00+00:00",
            "updated_at": "2026-12-02T10:00:00+00:00", "verified_at": null,
            "proof_token": "0f73f020e7894d42bc0a19cd546c8c6c", "proven_at": null
        })
    }

    #[test]
    fn rows_decode_one_by_one() {
        let good = serde_json::json!({
            "id": "a", "tenant_id": "t", "hostname": "a.example.test", "status": "active",
            "is_primary": true, "ssl_status": "active", "cloudflare_id": "cf1",
            "ownership_txt_name": null, "ownership_txt_value": null,
            "ownership_http_path": null, "ownership_http_body": null,
            "verification_errors": null, "created_at": "2026-12-02T10:00:00+00:00",
            "verified_at": "2026-12-02T10:05:00+00:00", "updated_at": "2026-12-02T10:05:00+00:00",
            "proof_token": "0f73f020e7894d42bc0a19cd546c8c6c", "proven_at": "2026-12-02T10:01:00+00:00"
        });
        let bad = serde_json::json!({"id": "b", "status": "exploded"});
        let body = serde_json::json!([good, bad]).to_string();
        let rows = DomainRow::from_rows(&body).unwrap();
        assert_eq!(rows.len(), 2);
        let first = rows[0].as_ref().unwrap();
        assert_eq!((first.status, first.is_primary), (Status::Active, true));
        assert!(first.verification_errors.is_empty());
        assert!(rows[1].is_err());
        assert!(DomainRow::from_rows("{}").is_err());
    }

    #[test]
    fn an_rpc_answers_one_row_as_an_object_or_a_one_element_array() {
        let one = pending_json();
        assert_eq!(
            DomainRow::from_rpc(&one.to_string()).unwrap().hostname,
            "a.example.test"
        );
        let array = serde_json::json!([one]).to_string();
        assert_eq!(DomainRow::from_rpc(&array).unwrap().status, Status::Pending);
        assert!(DomainRow::from_rpc("[]").is_err());
        assert!(DomainRow::from_rpc("null").is_err());
    }
}
