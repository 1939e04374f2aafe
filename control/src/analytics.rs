//! A coach's own traffic: `GET /analytics?tenant_id=&since=&bucket=hour|day`, read from the
//! resolver's Workers Analytics Engine dataset through the SQL API (docs/control-plane.md,
//! "Analytics").
//!
//! The resolver writes one data point per request that found its tenant (src/edge/analytics.js
//! holds the layout): `index1` the tenant id; `blob1` host, `blob2` route, `blob3` cache,
//! `blob4` branding, `blob5` status class, `blob6` data center; `double1` total ms, `double2`
//! upstream ms, `double3` response bytes. The query reads those positions.
//!
//! Every value in the SQL comes from a validated parameter ([`TenantId`], a time this module
//! formats, a [`Bucket`], the dataset name checked as a setting), never from the caller's text:
//! nothing a coach sends can change the statement but through those types. Counts are weighted
//! by `_sample_interval`, as Cloudflare asks, so they stay right when it samples.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tenant_common::{format_ms, parse_ms, TenantId};

use crate::error::{Error, Service, UpstreamError};

/// How far back `since` may go for hourly buckets: 31 days, at most 744 buckets per host.
pub const MAX_HOURLY_DAYS: u64 = 31;
/// How far back `since` may go for daily buckets: Analytics Engine keeps data points 3 months.
pub const MAX_DAILY_DAYS: u64 = 90;
/// Rows one query may return: [`MAX_HOURLY_DAYS`] of hours for a dozen hosts.
pub const MAX_ROWS: usize = 10_000;
/// SQL queries one tenant's owner may make a minute, per isolate: each is a read Cloudflare bills
/// and counts against the account's SQL API limits, which every coach shares. The demo's
/// Domains page makes one a minute.
pub const QUERIES_PER_MINUTE: u32 = 30;
const MS_PER_DAY: u64 = 86_400_000;
const MS_PER_MINUTE: u64 = 60_000;
const SINCE_EXPECTED: &str =
    "the query parameter since=<RFC 3339 time, e.g. 2026-12-07T00:00:00Z>, not in the future, \
     at most 31 days back with bucket=hour, 90 with bucket=day";
const BUCKET_EXPECTED: &str = "the query parameter bucket=hour or bucket=day";
const TOKEN_REFUSED: &str = "was refused by Cloudflare's SQL API (unknown, expired or revoked)";
const TOKEN_NOT_ALLOWED: &str = "may not read the analytics of CLOUDFLARE_ACCOUNT_ID: it needs \
     Account Analytics Read on that account";
const NO_SQL_API: &str =
    "has no Analytics Engine SQL API (expected https://api.cloudflare.com/client/v4)";
const NO_DATASET: &str = "names no dataset the resolver has written to: it must match the \
     resolver's [[analytics_engine_datasets]] (a dataset exists from its first data point)";

/// The width of a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Hour,
    Day,
}

impl Bucket {
    /// The SQL function that truncates a timestamp to the bucket's start (both documented for
    /// the SQL API and giving a `DateTime`).
    fn start_of(self) -> &'static str {
        match self {
            Bucket::Hour => "toStartOfHour",
            Bucket::Day => "toStartOfDay",
        }
    }

    fn max_days(self) -> u64 {
        match self {
            Bucket::Hour => MAX_HOURLY_DAYS,
            Bucket::Day => MAX_DAILY_DAYS,
        }
    }
}

/// A validated analytics request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub tenant: TenantId,
    /// Milliseconds since the epoch, not after the request and within the bucket's reach.
    pub since_ms: u64,
    pub bucket: Bucket,
}

impl Query {
    /// Reads `since` and `bucket` (each at most once; `since` required, `bucket` `hour` unless
    /// given) for `tenant`. How far back `since` may go is [`Query::within_reach`]'s to check.
    pub fn parse(tenant: TenantId, since: &[&str], bucket: &[&str]) -> Result<Query, Error> {
        let bucket = match bucket {
            [] | ["hour"] => Bucket::Hour,
            ["day"] => Bucket::Day,
            _ => {
                return Err(Error::InvalidBody {
                    expected: BUCKET_EXPECTED,
                })
            }
        };
        let since_ms = match since {
            [since] => parse_ms(since),
            _ => None,
        }
        .ok_or(Error::InvalidBody {
            expected: SINCE_EXPECTED,
        })?;
        Ok(Query {
            tenant,
            since_ms,
            bucket,
        })
    }

    /// Whether `since` is not after `now_ms` and within the bucket's reach
    /// ([`MAX_HOURLY_DAYS`], [`MAX_DAILY_DAYS`]).
    pub fn within_reach(&self, now_ms: u64) -> Result<(), Error> {
        let earliest = now_ms.saturating_sub(self.bucket.max_days() * MS_PER_DAY);
        if self.since_ms > now_ms || self.since_ms < earliest {
            return Err(Error::InvalidBody {
                expected: SINCE_EXPECTED,
            });
        }
        Ok(())
    }

    /// The SQL statement for `dataset` (a name [`crate::config`] checked: letters, digits, `_`).
    pub fn sql(&self, dataset: &str) -> String {
        // Whole seconds, UTC, as the SQL API compares a DateTime with a string.
        let since = &format_ms(self.since_ms)[..19].replace('T', " ");
        let start = self.bucket.start_of();
        let tenant = self.tenant.as_str();
        let weighted = |condition: &str| format!("sum(if({condition}, _sample_interval, 0))");
        format!(
            "SELECT {start}(timestamp) AS start, blob1 AS host, \
             sum(_sample_interval) AS requests, \
             {hits} AS hits, {s4} AS status4xx, {s5} AS status5xx, {skipped} AS branding_skipped, \
             quantileExactWeighted(0.5)(double1, _sample_interval) AS p50, \
             quantileExactWeighted(0.95)(double1, _sample_interval) AS p95 \
             FROM {dataset} \
             WHERE index1 = '{tenant}' AND timestamp >= toDateTime('{since}') \
             GROUP BY start, host ORDER BY start, host LIMIT {MAX_ROWS} FORMAT JSON",
            hits = weighted("blob3 IN ('hit', 'stale')"),
            s4 = weighted("blob5 = '4xx'"),
            s5 = weighted("blob5 = '5xx'"),
            skipped = weighted("blob4 LIKE 'skipped%'"),
        )
    }
}

/// The queries each tenant made in this isolate's current minute ([`QUERIES_PER_MINUTE`]). It
/// holds only tenants whose owner asked this minute, and forgets them all when the minute ends.
#[derive(Debug, Default)]
pub struct Limiter {
    minute: u64,
    made: HashMap<TenantId, u32>,
}

impl Limiter {
    /// Counts one query for `tenant` at `now_ms`, or refuses it with the seconds until the next
    /// minute.
    pub fn admit(&mut self, tenant: &TenantId, now_ms: u64) -> Result<(), Error> {
        let minute = now_ms / MS_PER_MINUTE;
        if minute != self.minute {
            self.minute = minute;
            self.made.clear();
        }
        let made = self.made.entry(tenant.clone()).or_insert(0);
        if *made >= QUERIES_PER_MINUTE {
            let left_ms = (minute + 1) * MS_PER_MINUTE - now_ms;
            return Err(Error::RateLimited {
                what: "analytics queries",
                retry_after_s: left_ms.div_ceil(1000).max(1) as u32,
            });
        }
        *made += 1;
        Ok(())
    }
}

/// One bucket of one host, as `GET /analytics` answers it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketView {
    /// The bucket's start, RFC 3339 in UTC.
    pub start: String,
    pub host: String,
    pub requests: u64,
    /// Answers from the data center's cache (fresh or stale) over requests, 0 to 1.
    pub cache_hit_ratio: f64,
    pub status4xx: u64,
    pub status5xx: u64,
    pub branding_skipped: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
}

/// A number as the SQL API writes it: 64-bit integers as strings (as ClickHouse does), others
/// as numbers.
#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Float(f64),
    Text(String),
}

impl Number {
    fn value(&self) -> Option<f64> {
        match self {
            Number::Float(n) => Some(*n),
            Number::Text(s) => s.parse().ok(),
        }
    }
}

#[derive(Deserialize)]
struct Row {
    start: String,
    host: String,
    requests: Number,
    hits: Number,
    status4xx: Number,
    status5xx: Number,
    branding_skipped: Number,
    p50: Number,
    p95: Number,
}

#[derive(Deserialize)]
struct Answer {
    data: Vec<Row>,
}

/// The buckets of the SQL API's answer `status`, `body`. A refusal only a wrong setting explains
/// names it (the token refused or not allowed to read the account's analytics, no SQL API under
/// `CLOUDFLARE_API_BASE`, a dataset that does not exist); any other status but 200 is a failed
/// query (its body kept for the log), as is a body that is not the `FORMAT JSON` shape.
pub fn read(status: u16, body: &str) -> Result<Vec<BucketView>, UpstreamError> {
    let decode = |detail: String| UpstreamError::Decode {
        service: Service::Analytics,
        detail,
    };
    let blame = |setting, problem| UpstreamError::Misconfigured {
        service: Service::Analytics,
        setting,
        problem,
        status,
        body: body.to_string(),
    };
    match status {
        200 => {}
        401 => return Err(blame("CLOUDFLARE_ANALYTICS_TOKEN", TOKEN_REFUSED)),
        403 => return Err(blame("CLOUDFLARE_ANALYTICS_TOKEN", TOKEN_NOT_ALLOWED)),
        404 => return Err(blame("CLOUDFLARE_API_BASE", NO_SQL_API)),
        _ if body.contains("doesn't exist") || body.contains("UNKNOWN_TABLE") => {
            return Err(blame("ANALYTICS_DATASET", NO_DATASET))
        }
        _ => {
            return Err(UpstreamError::Status {
                service: Service::Analytics,
                status,
                body: body.to_string(),
            })
        }
    }
    let answer: Answer = serde_json::from_str(body).map_err(|e| decode(e.to_string()))?;
    answer
        .data
        .into_iter()
        .map(|row| {
            let n = |v: &Number, name: &str| {
                v.value()
                    .filter(|n| n.is_finite() && *n >= 0.0)
                    .ok_or_else(|| decode(format!("{name} is not a number")))
            };
            let requests = n(&row.requests, "requests")?;
            let start = start_of(&row.start)
                .ok_or_else(|| decode(format!("start {:?} is not a time", row.start)))?;
            Ok(BucketView {
                start,
                host: row.host,
                requests: requests as u64,
                cache_hit_ratio: if requests > 0.0 {
                    n(&row.hits, "hits")? / requests
                } else {
                    0.0
                },
                status4xx: n(&row.status4xx, "status4xx")? as u64,
                status5xx: n(&row.status5xx, "status5xx")? as u64,
                branding_skipped: n(&row.branding_skipped, "branding_skipped")? as u64,
                p50_ms: n(&row.p50, "p50")?,
                p95_ms: n(&row.p95, "p95")?,
            })
        })
        .collect()
}

/// `YYYY-MM-DD hh:mm:ss` (the SQL API's DateTime, UTC) as `YYYY-MM-DDThh:mm:ssZ`.
fn start_of(datetime: &str) -> Option<String> {
    let ms = parse_ms(&format!("{datetime}Z"))?;
    Some(format!("{}Z", &format_ms(ms)[..19]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_796_601_600_000; // 2026-12-07T00:00:00Z
    const TENANT: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

    fn tenant() -> TenantId {
        TenantId::parse(TENANT).unwrap()
    }

    fn parse(since: &[&str], bucket: &[&str]) -> Result<Query, Error> {
        let query = Query::parse(tenant(), since, bucket)?;
        query.within_reach(NOW)?;
        Ok(query)
    }

    #[test]
    fn since_is_one_rfc_3339_time_within_the_buckets_reach() {
        let q = parse(&["2026-12-06T10:30:00Z"], &[]).unwrap();
        assert_eq!(q.bucket, Bucket::Hour);
        assert_eq!(q.since_ms, NOW - 13 * 3_600_000 - 1_800_000);
        assert_eq!(
            parse(&["2026-12-06T12:30:00+02:00"], &["day"])
                .unwrap()
                .since_ms,
            q.since_ms
        );
        for bad in [
            &[][..],
            &["yesterday"],
            &["2026-12-06"],
            &["2026-12-08T00:00:00Z"],
            &["2026-11-01T00:00:00Z"],
            &["2026-12-06T00:00:00Z", "2026-12-06T00:00:00Z"],
            &["2026-12-06T00:00:00Z' OR 1=1 --"],
        ] {
            assert_eq!(parse(bad, &[]).unwrap_err().status(), 400, "{bad:?}");
        }
        assert!(parse(&["2026-11-01T00:00:00Z"], &["day"]).is_ok());
        assert!(parse(&["2026-09-01T00:00:00Z"], &["day"]).is_err());
    }

    #[test]
    fn bucket_is_hour_or_day_once() {
        let since = &["2026-12-06T00:00:00Z"][..];
        assert_eq!(parse(since, &["day"]).unwrap().bucket, Bucket::Day);
        for bad in [&["week"][..], &["HOUR"], &["hour", "day"], &[""]] {
            let e = parse(since, bad).unwrap_err();
            assert_eq!((e.status(), e.code()), (400, "invalid_body"), "{bad:?}");
        }
    }

    #[test]
    fn the_statement_holds_only_validated_values() {
        let q = parse(&["2026-12-06T10:30:00.999Z"], &["day"]).unwrap();
        let sql = q.sql("tenant_requests");
        assert!(sql.contains("FROM tenant_requests"), "{sql}");
        assert!(sql.contains(&format!("index1 = '{TENANT}'")), "{sql}");
        assert!(
            sql.contains("timestamp >= toDateTime('2026-12-06 10:30:00')"),
            "{sql}"
        );
        assert!(sql.contains("toStartOfDay(timestamp) AS start"), "{sql}");
        assert!(sql.ends_with("FORMAT JSON"), "{sql}");
        assert!(!sql.contains("countIf") && !sql.contains("sumIf"), "{sql}");
    }

    #[test]
    fn an_answer_becomes_buckets() {
        let body = r#"{"meta":[],"data":[
            {"start":"2026-12-06 10:00:00","host":"coach.example.com","requests":"40","hits":"30",
             "status4xx":"2","status5xx":"1","branding_skipped":"0","p50":3,"p95":12.5},
            {"start":"2026-12-06 11:00:00","host":"acme.coachplatform.com","requests":10,"hits":10,
             "status4xx":0,"status5xx":0,"branding_skipped":4,"p50":1,"p95":2}],"rows":2}"#;
        let buckets = read(200, body).unwrap();
        assert_eq!(buckets.len(), 2);
        assert_eq!(buckets[0].start, "2026-12-06T10:00:00Z");
        assert_eq!(buckets[0].requests, 40);
        assert_eq!(buckets[0].cache_hit_ratio, 0.75);
        assert_eq!((buckets[0].status4xx, buckets[0].status5xx), (2, 1));
        assert_eq!(buckets[0].p95_ms, 12.5);
        assert_eq!(buckets[1].branding_skipped, 4);
        let json = serde_json::to_value(&buckets[0]).unwrap();
        for key in [
            "start",
            "host",
            "requests",
            "cacheHitRatio",
            "status4xx",
            "status5xx",
            "brandingSkipped",
            "p50Ms",
            "p95Ms",
        ] {
            assert!(json.get(key).is_some(), "{key} in {json}");
        }
    }

    #[test]
    fn each_tenant_has_its_own_queries_a_minute() {
        let other = TenantId::parse("7e000000-0000-4000-8000-000000000003").unwrap();
        let mut limiter = Limiter::default();
        let start = NOW + 15_000;
        for _ in 0..QUERIES_PER_MINUTE {
            limiter.admit(&tenant(), start).unwrap();
        }
        let e = limiter.admit(&tenant(), start + 500).unwrap_err();
        assert_eq!(
            e,
            Error::RateLimited {
                what: "analytics queries",
                retry_after_s: 45
            }
        );
        assert_eq!((e.status(), e.code()), (429, "rate_limited"));
        limiter.admit(&other, start + 500).unwrap();
        limiter.admit(&tenant(), NOW + 60_000).unwrap();
    }

    #[test]
    fn a_refusal_only_a_setting_explains_names_it() {
        let setting = |status, body| match read(status, body) {
            Err(UpstreamError::Misconfigured { setting, .. }) => setting,
            other => panic!("{status}: expected misconfigured, got {other:?}"),
        };
        let auth = r#"{"success":false,"errors":[{"code":9109,"message":"Invalid access token"}]}"#;
        assert_eq!(setting(401, auth), "CLOUDFLARE_ANALYTICS_TOKEN");
        assert_eq!(setting(403, auth), "CLOUDFLARE_ANALYTICS_TOKEN");
        assert_eq!(setting(404, "{}"), "CLOUDFLARE_API_BASE");
        let missing = "Table tenant_requests doesn't exist: no data point has been written";
        assert_eq!(setting(422, missing), "ANALYTICS_DATASET");
    }

    #[test]
    fn a_failed_or_strange_answer_is_an_upstream_error() {
        assert!(matches!(
            read(422, "Unknown column"),
            Err(UpstreamError::Status { status: 422, .. })
        ));
        assert!(matches!(
            read(500, "oops"),
            Err(UpstreamError::Status { status: 500, .. })
        ));
        for body in [
            "not json",
            r#"{"data":[{"start":"x","host":"h","requests":1,"hits":1,"status4xx":0,"status5xx":0,"branding_skipped":0,"p50":1,"p95":1}]}"#,
            r#"{"data":[{"start":"2026-12-06 10:00:00","host":"h","requests":"many","hits":1,"status4xx":0,"status5xx":0,"branding_skipped":0,"p50":1,"p95":1}]}"#,
        ] {
            assert!(
                matches!(read(200, body), Err(UpstreamError::Decode { .. })),
                "{body}"
            );
        }
    }
}
