//! Cloudflare's HTTP ownership check of a custom hostname, as the Worker answers it.
//!
//! Cloudflare verifies a custom hostname by fetching, over plain HTTP on that hostname,
//! `/.well-known/cf-custom-hostname-challenge/<id>` and expecting a token. The Worker answers it
//! whatever the domain's status, so a coach adds nothing but a CNAME (and the TXT record that
//! proves control to the platform). What a domain that is not active shows the anon key is only
//! this: the body at that exact path, read from `domain_challenges` by a request naming the
//! path ([`lookup_header`]); never its tenant, status or other rows. A domain's tenant is looked
//! up in `tenant_profiles`, which shows it only for an active domain.

/// The `x-tenant-lookup` value that names one ownership check: the database's policy shows the
/// anon key the row of that exact hostname and path, nothing else.
pub fn lookup_header(host: &str, path: &str) -> String {
    format!("challenge:{host}{path}")
}

/// The body of a check as `domain_challenges` holds it, from PostgREST's rows of
/// `select=body`: `None` for no row, or for a body that is not one plain token (the check
/// answers nothing rather than anything odd). `Err` when the answer is not such rows.
pub fn challenge_body(rows: &str) -> Result<Option<String>, String> {
    let rows: Vec<serde_json::Value> = serde_json::from_str(rows).map_err(|e| e.to_string())?;
    let mut bodies = rows.iter().map(|row| {
        row.as_object()
            .filter(|r| r.len() == 1)
            .and_then(|r| r.get("body")?.as_str())
            .ok_or_else(|| format!("a challenge row {row}"))
    });
    let Some(body) = bodies.next().transpose()? else {
        return Ok(None);
    };
    let plain = |c: char| !c.is_control() && !c.is_whitespace();
    Ok((!body.is_empty() && body.len() <= 512 && body.chars().all(plain)).then(|| body.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str =
        "/.well-known/cf-custom-hostname-challenge/24a2b0d8-0c4b-4b3c-a5c4-1f3b8a1e2d3c";

    #[test]
    fn a_check_is_named_by_its_hostname_and_exact_path() {
        assert_eq!(
            lookup_header("coach.example.com", PATH),
            format!("challenge:coach.example.com{PATH}")
        );
    }

    #[test]
    fn the_body_of_the_row_is_answered() {
        assert_eq!(
            challenge_body(r#"[{"body":"token-1"}]"#),
            Ok(Some("token-1".into()))
        );
        assert_eq!(challenge_body("[]"), Ok(None));
    }

    #[test]
    fn a_body_that_is_not_one_plain_token_is_not_answered() {
        for body in [r#""""#, r#""two words""#, r#""line\nbreak""#] {
            assert_eq!(
                challenge_body(&format!(r#"[{{"body":{body}}}]"#)),
                Ok(None),
                "{body}"
            );
        }
        let long = format!(r#"[{{"body":"{}"}}]"#, "x".repeat(513));
        assert_eq!(challenge_body(&long), Ok(None));
    }

    #[test]
    fn what_postgrest_cannot_have_answered_is_an_error() {
        for body in [
            "{}",
            "not json",
            r#"[{"body":1}]"#,
            r#"[{"body":"a","tenant_id":"x"}]"#,
        ] {
            assert!(challenge_body(body).is_err(), "{body}");
        }
    }
}
