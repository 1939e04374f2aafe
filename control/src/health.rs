//! `GET /health`: what this isolate's last calls found of PostgREST and Cloudflare
//! ([`LastUpstream`], no I/O of its own); `GET /health?deep=1`: what a deep check asks
//! PostgREST, Cloudflare and the DNS resolver, how it reads their answers, and how often it may
//! ask.
//!
//! Every call to PostgREST or Cloudflare (the coach's API, the webhook, the cron, the deep
//! check) leaves its upstream in a [`Condition`]: it answered (`ok`, whatever it said of the
//! request), it failed (`unavailable`: a timeout, a refused connection, a 5xx, a 429), or it
//! answered what only a wrong setting explains (`misconfigured`, naming the setting). A
//! misconfiguration stays until a call that relies on that setting finds otherwise: a coach's
//! request (the anon key beside the coach's token) says nothing of `SUPABASE_SECRET_KEY`.
//!
//! A deep check reads one row id of `tenant_domains` with the secret key, lists the zone's
//! custom hostnames (the listing the cron makes before declaring a hostname gone), and asks the
//! DNS resolver for the platform domain's TXT records (as the cron asks for claims' proofs). An answer
//! that only a wrong setting explains is [`UpstreamError::Misconfigured`], so the check says
//! `500 misconfigured` naming the setting; an upstream failing is `503 upstream_unavailable`.
//! Anyone may ask for a deep check, so an isolate runs at most one per
//! [`DEEP_CHECK_INTERVAL_MS`](tenant_common::DEEP_CHECK_INTERVAL_MS): repeated and concurrent
//! checks share the last result (as the resolver's `/_tenant/health?deep=1` does). Upstream load from health checks is then bounded
//! by the number of isolates, not by the number of callers.

use tenant_common::{write_seen, Condition, Seen};

use crate::cloudflare::Verdict;
use crate::error::{Error, Key, Service, UpstreamError};

/// What a deep check found: `Ok`, or the error it answers with.
pub type Health = Result<(), Error>;

/// The last deep check: when it ran and what it found.
pub type DeepCheck = tenant_common::DeepCheck<Health>;

/// Reads PostgREST's answer to the check's read (`GET /tenant_domains?select=id&limit=1` with
/// the secret key): a 200 with a JSON array is healthy; an answer only a wrong setting explains
/// names it, as on every call (`UpstreamError::postgrest_misconfigured`: 401 or 403 is
/// `SUPABASE_SECRET_KEY`, a 404 for the table `url_setting`, whichever of `SUPABASE_URL` and
/// `SUPABASE_REST_URL` set the URL); anything else is PostgREST failing.
pub fn read_postgrest(
    status: u16,
    body: &str,
    url_setting: &'static str,
) -> Result<(), UpstreamError> {
    if let Some(e) = UpstreamError::postgrest_misconfigured(status, body, Key::Secret, url_setting)
    {
        return Err(e);
    }
    match status {
        200 => match serde_json::from_str::<serde_json::Value>(body) {
            Ok(serde_json::Value::Array(_)) => Ok(()),
            _ => Err(UpstreamError::Decode {
                service: Service::Postgrest,
                detail: format!(
                    "not a JSON array: {}",
                    body.chars().take(120).collect::<String>()
                ),
            }),
        },
        _ => Err(UpstreamError::Status {
            service: Service::Postgrest,
            status,
            body: body.chars().take(300).collect(),
        }),
    }
}

/// Reads what Cloudflare's listing of the zone came to (`cloudflare::read_listing`).
pub fn read_cloudflare(listing: Result<(), Verdict>) -> Result<(), UpstreamError> {
    match listing {
        Ok(()) => Ok(()),
        Err(Verdict::Stop(e)) => Err(e),
        Err(other) => Err(UpstreamError::Status {
            service: Service::Cloudflare,
            status: if matches!(other, Verdict::RateLimited { .. }) {
                429
            } else {
                0
            },
            body: format!("{other:?}"),
        }),
    }
}

/// Reads the DNS resolver's answer for the platform domain's TXT records (`edge::dns::txt`):
/// any answer of the JSON API is healthy (whether the platform has TXT records is not the
/// question); an HTTP 4xx means `DNS_RESOLVER_URL` is not a DNS over HTTPS JSON endpoint; a
/// timeout, a network error or a 5xx is the resolver failing.
pub fn read_dns(answer: Result<(), UpstreamError>) -> Result<(), UpstreamError> {
    match answer {
        Err(UpstreamError::Status {
            service: Service::Dns,
            status: status @ 400..=499,
            body,
        }) => Err(UpstreamError::Misconfigured {
            service: Service::Dns,
            setting: "DNS_RESOLVER_URL",
            problem: "does not answer DNS over HTTPS JSON queries (GET ?name=&type=TXT, accept: application/dns-json)",
            status,
            body,
        }),
        other => other,
    }
}

/// What a call that ended in `e` found of its upstream.
pub fn condition_of_error(e: &UpstreamError) -> Condition {
    match e {
        UpstreamError::Misconfigured { setting, .. } => Condition::Misconfigured(setting),
        _ => Condition::Unavailable,
    }
}

/// What a Cloudflare answer read as `verdict` found: a result, a hostname not found or refused
/// is Cloudflare answering; a rate limit is Cloudflare unavailable for now.
pub fn condition_of_verdict(verdict: &Verdict) -> Condition {
    match verdict {
        Verdict::Ok(_) | Verdict::NotFound | Verdict::Refused { .. } => Condition::Ok,
        Verdict::RateLimited { .. } => Condition::Unavailable,
        Verdict::Stop(e) => condition_of_error(e),
    }
}

/// The settings every Cloudflare call relies on.
pub const CLOUDFLARE_SETTINGS: [&str; 3] = [
    "CLOUDFLARE_API_BASE",
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_ZONE_ID",
];

/// What this isolate's last calls found of PostgREST and of Cloudflare (`None` before any
/// call): plain `/health`'s `lastUpstream`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LastUpstream {
    pub postgrest: Option<Seen>,
    pub cloudflare: Option<Seen>,
}

impl LastUpstream {
    /// A PostgREST call relying on `uses` (the URL's setting and the key it sent) found `found`.
    pub fn postgrest_found(&mut self, found: Condition, uses: &[&str], at_ms: u64) {
        self.postgrest = Some(Seen::after(self.postgrest, found, uses, at_ms));
    }

    /// A Cloudflare call found `found`.
    pub fn cloudflare_found(&mut self, found: Condition, at_ms: u64) {
        self.cloudflare = Some(Seen::after(
            self.cloudflare,
            found,
            &CLOUDFLARE_SETTINGS,
            at_ms,
        ));
    }

    /// As JSON: `{"postgrest":…,"cloudflare":…}`, each in the shape both Workers write
    /// (`tenant_common::write_seen`).
    pub fn json(&self) -> String {
        let mut json = String::from(r#"{"postgrest":"#);
        write_seen(&mut json, self.postgrest);
        json.push_str(r#","cloudflare":"#);
        write_seen(&mut json, self.cloudflare);
        json.push('}');
        json
    }
}

/// The deep check's answer from its three reads: healthy when all are, else a wrong setting
/// first (PostgREST's before Cloudflare's before the resolver's: what the coach's API needs
/// first), then the first upstream failing.
pub fn verdict(
    postgrest: Result<(), UpstreamError>,
    cloudflare: Result<(), UpstreamError>,
    dns: Result<(), UpstreamError>,
) -> Health {
    let errors: Vec<Error> = [postgrest.err(), cloudflare.err(), dns.err()]
        .into_iter()
        .flatten()
        .map(Error::from)
        .collect();
    let misconfigured = errors
        .iter()
        .position(|e| matches!(e, Error::Misconfigured { .. }));
    match errors.into_iter().nth(misconfigured.unwrap_or(0)) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(result: Result<(), UpstreamError>) -> Option<&'static str> {
        match result {
            Err(UpstreamError::Misconfigured { setting, .. }) => Some(setting),
            _ => None,
        }
    }

    #[test]
    fn postgrest_is_healthy_with_a_json_array() {
        assert_eq!(read_postgrest(200, "[]", "SUPABASE_URL"), Ok(()));
        assert_eq!(
            read_postgrest(200, r#"[{"id":"x"}]"#, "SUPABASE_URL"),
            Ok(())
        );
    }

    #[test]
    fn postgrest_refusing_the_key_or_missing_the_table_names_the_setting() {
        let refused = r#"{"code":"PGRST301","message":"JWSError JWSInvalidSignature"}"#;
        assert_eq!(
            setting(read_postgrest(401, refused, "SUPABASE_URL")),
            Some("SUPABASE_SECRET_KEY")
        );
        assert_eq!(
            setting(read_postgrest(403, "{}", "SUPABASE_URL")),
            Some("SUPABASE_SECRET_KEY")
        );
        assert_eq!(
            setting(read_postgrest(
                404,
                "<html>Not Found</html>",
                "SUPABASE_REST_URL"
            )),
            Some("SUPABASE_REST_URL")
        );
        assert_eq!(
            setting(read_postgrest(404, "", "SUPABASE_URL")),
            Some("SUPABASE_URL")
        );
    }

    #[test]
    fn postgrest_failing_or_answering_garbage_is_unavailable() {
        for (status, body) in [
            (200, "{}"),
            (500, "oops"),
            (500, "<html>Internal Server Error</html>"),
            (503, ""),
            (400, "{}"),
        ] {
            let e = read_postgrest(status, body, "SUPABASE_URL").unwrap_err();
            assert!(
                !matches!(e, UpstreamError::Misconfigured { .. }),
                "{status} {body}"
            );
            assert_eq!(Error::from(e).status(), 503, "{status} {body}");
        }
    }

    #[test]
    fn a_web_page_where_postgrest_should_be_is_the_urls_setting() {
        assert_eq!(
            setting(read_postgrest(
                200,
                "<!doctype html><title>Home</title>",
                "SUPABASE_URL"
            )),
            Some("SUPABASE_URL")
        );
    }

    const MISCONFIGURED_KEY: Condition = Condition::Misconfigured("SUPABASE_SECRET_KEY");
    const SERVICE: [&str; 2] = ["SUPABASE_URL", "SUPABASE_SECRET_KEY"];
    const COACH: [&str; 2] = ["SUPABASE_URL", "SUPABASE_ANON_KEY"];

    #[test]
    fn a_state_keeps_its_since_until_it_changes() {
        let first = Seen::after(None, Condition::Ok, &SERVICE, 1_000);
        assert_eq!(first.since_ms, 1_000);
        let again = Seen::after(Some(first), Condition::Ok, &COACH, 2_000);
        assert_eq!(again, first);
        let down = Seen::after(Some(again), Condition::Unavailable, &SERVICE, 3_000);
        assert_eq!(
            (down.condition, down.since_ms),
            (Condition::Unavailable, 3_000)
        );
        let wrong = Seen::after(Some(down), MISCONFIGURED_KEY, &SERVICE, 4_000);
        assert_eq!(
            (wrong.condition, wrong.since_ms),
            (MISCONFIGURED_KEY, 4_000)
        );
        assert_eq!(
            Seen::after(Some(wrong), MISCONFIGURED_KEY, &SERVICE, 5_000),
            wrong
        );
        let other = Condition::Misconfigured("SUPABASE_URL");
        assert_eq!(
            Seen::after(Some(wrong), other, &COACH, 6_000).condition,
            other,
            "another setting found wrong"
        );
    }

    #[test]
    fn a_misconfiguration_is_cleared_only_by_a_call_that_relies_on_its_setting() {
        let wrong = Seen::after(None, MISCONFIGURED_KEY, &SERVICE, 1_000);
        for found in [Condition::Ok, Condition::Unavailable] {
            assert_eq!(
                Seen::after(Some(wrong), found, &COACH, 2_000),
                wrong,
                "a coach's call says nothing of the secret key"
            );
        }
        let fixed = Seen::after(Some(wrong), Condition::Ok, &SERVICE, 3_000);
        assert_eq!((fixed.condition, fixed.since_ms), (Condition::Ok, 3_000));
        let mut last = LastUpstream::default();
        last.cloudflare_found(Condition::Misconfigured("CLOUDFLARE_ZONE_ID"), 1_000);
        last.cloudflare_found(Condition::Ok, 2_000);
        assert_eq!(
            last.cloudflare.unwrap().condition,
            Condition::Ok,
            "every Cloudflare call relies on the zone"
        );
    }

    #[test]
    fn the_state_json_is_the_contract() {
        let mut last = LastUpstream::default();
        assert_eq!(last.json(), r#"{"postgrest":null,"cloudflare":null}"#);
        last.postgrest_found(MISCONFIGURED_KEY, &SERVICE, 1_795_894_426_123);
        last.cloudflare_found(Condition::Ok, 1_795_894_426_000);
        assert_eq!(
            last.json(),
            r#"{"postgrest":{"state":"misconfigured","setting":"SUPABASE_SECRET_KEY","since":"2026-11-28T19:33:46.123Z"},"cloudflare":{"state":"ok","since":"2026-11-28T19:33:46.000Z"}}"#
        );
        last.cloudflare_found(Condition::Unavailable, 1_795_894_427_000);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&last.json()).unwrap()["cloudflare"],
            serde_json::json!({"state": "unavailable", "since": "2026-11-28T19:33:47.000Z"})
        );
    }

    #[test]
    fn what_a_call_found() {
        assert_eq!(Condition::of_status(200), Condition::Ok);
        assert_eq!(
            Condition::of_status(401),
            Condition::Ok,
            "an answer about the request"
        );
        assert_eq!(Condition::of_status(429), Condition::Unavailable);
        assert_eq!(Condition::of_status(503), Condition::Unavailable);
        let timeout = UpstreamError::Timeout {
            service: Service::Postgrest,
            after_ms: 5000,
        };
        assert_eq!(condition_of_error(&timeout), Condition::Unavailable);
        assert_eq!(
            condition_of_verdict(&Verdict::RateLimited {
                retry_after_s: None
            }),
            Condition::Unavailable
        );
        assert_eq!(condition_of_verdict(&Verdict::NotFound), Condition::Ok);
        let refused = crate::cloudflare::read(
            401,
            None,
            r#"{"success":false,"errors":[{"code":9109,"message":"Invalid access token"}],"messages":[],"result":null}"#,
        );
        assert_eq!(
            condition_of_verdict(&refused),
            Condition::Misconfigured("CLOUDFLARE_API_TOKEN")
        );
    }

    #[test]
    fn a_wrong_setting_comes_before_an_upstream_failing() {
        let down = || UpstreamError::Timeout {
            service: Service::Postgrest,
            after_ms: 5000,
        };
        let wrong = || UpstreamError::Misconfigured {
            service: Service::Cloudflare,
            setting: "CLOUDFLARE_API_BASE",
            problem: "does not lead to Cloudflare's API",
            status: 404,
            body: String::new(),
        };
        assert_eq!(verdict(Ok(()), Ok(()), Ok(())), Ok(()));
        let e = verdict(Err(down()), Err(wrong()), Ok(())).unwrap_err();
        assert_eq!((e.status(), e.code()), (500, "misconfigured"));
        assert!(
            e.message().contains("CLOUDFLARE_API_BASE"),
            "{}",
            e.message()
        );
        let e = verdict(Err(down()), Ok(()), Ok(())).unwrap_err();
        assert_eq!((e.status(), e.code()), (503, "upstream_unavailable"));
        let e = verdict(Ok(()), Err(wrong()), Ok(())).unwrap_err();
        assert_eq!(e.code(), "misconfigured");
    }

    #[test]
    fn a_resolver_answering_4xx_is_a_wrong_dns_resolver_url_and_a_failing_one_is_down() {
        let status = |status| {
            read_dns(Err(UpstreamError::Status {
                service: Service::Dns,
                status,
                body: "Not Found".into(),
            }))
        };
        let e = verdict(Ok(()), Ok(()), status(404)).unwrap_err();
        assert_eq!((e.status(), e.code()), (500, "misconfigured"));
        assert!(e.message().contains("DNS_RESOLVER_URL"), "{}", e.message());
        assert_eq!(
            verdict(Ok(()), Ok(()), status(502)).unwrap_err().status(),
            503
        );
        let timeout = read_dns(Err(UpstreamError::Timeout {
            service: Service::Dns,
            after_ms: 5000,
        }));
        assert_eq!(verdict(Ok(()), Ok(()), timeout).unwrap_err().status(), 503);
        assert_eq!(read_dns(Ok(())), Ok(()));
    }

    #[test]
    fn cloudflares_listing_reads_as_the_cron_reads_it() {
        let rate_limited = read_cloudflare(Err(Verdict::RateLimited {
            retry_after_s: Some(3),
        }));
        assert_eq!(Error::from(rate_limited.unwrap_err()).status(), 503);
        let listed = crate::cloudflare::read_listing(
            404,
            None,
            r#"{"success":false,"errors":[{"code":7000,"message":"No route for that URI"}],"messages":[],"result":null}"#,
        );
        assert_eq!(
            setting(read_cloudflare(listed)),
            Some("CLOUDFLARE_API_BASE")
        );
    }
}
