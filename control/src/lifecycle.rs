//! The domain lifecycle: what the cron does with each row, and what Cloudflare's answers make
//! of it. Pure decisions; `edge/cron.rs` only sequences the calls they ask for.
//!
//! A run first looks up the TXT record of every claim whose tenant has not proven control yet
//! ([`proofs`]: a DNS query each, no Cloudflare call); a claim whose token is there is recorded
//! proven, and takes the hostname. Then, within its Cloudflare call budget, each row at most
//! once ([`plan`]):
//! - cleanup: `removing` rows (their Cloudflare hostname deleted, then the row), and `pending`
//!   rows with a hostname past `DOMAIN_PENDING_DAYS` (the hostname deleted, the row failed);
//! - creation: proven `pending` rows without a hostname (however old: a row is given up only
//!   once Cloudflare has had its hostname, so an outage of Cloudflare or of the cron costs none);
//! - refresh: rows Cloudflare has not finished with (`pending`, `moved`, `active` with a
//!   certificate not `active`);
//! - with what is left of the budget, checks of `active` rows: Cloudflare may have found them
//!   moved or blocked since.
//!
//! No coach can starve the others: the first three take turns, one call each, so creation and
//! refresh keep their share of the budget whatever the cleanup backlog; within each, tenants
//! take turns, one row each (their oldest first); and refreshes and checks start at a different
//! row each minute, so a backlog larger than the budget is worked through in turn.
//!
//! Every write is guarded by what the decision was made on (`status=eq.<status read>`), so an
//! owner's concurrent removal is never overwritten by a stale decision.

use serde_json::{Map, Value};

use crate::cloudflare::CustomHostname;
use crate::domain::{DomainRow, Status};

/// What the cron does with a row at Cloudflare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// A `removing` row: delete its Cloudflare hostname, then the row.
    Delete,
    /// A `pending` row with a hostname, past `DOMAIN_PENDING_DAYS`: delete the hostname, mark
    /// the row `failed`.
    Expire,
    /// A proven `pending` row without a Cloudflare hostname: create it.
    Create,
    /// A row Cloudflare has not finished with: read its hostname, apply what changed.
    Refresh,
    /// An `active` row: read its hostname in case Cloudflare moved or blocked it.
    Check,
}

/// The rows the cron reads for its Cloudflare work: what its steps can apply to (a PostgREST
/// `or` filter). Claims not proven yet are read apart (`claims_to_prove`), so that however many
/// there are, they never crowd these out of the [`CANDIDATE_LIMIT`].
pub const CANDIDATES: &str = "status.in.(removing,moved),\
and(status.eq.pending,or(proven_at.not.is.null,cloudflare_id.not.is.null)),\
and(status.eq.active,cloudflare_id.not.is.null)";
/// At most this many rows are read per run; with a budget of 25 calls a run cannot use more.
pub const CANDIDATE_LIMIT: usize = 500;
/// At most this many TXT lookups a run makes (claims beyond wait for the next run, tenants in
/// turn): each is a request to `DNS_RESOLVER_URL` and waits up to `UPSTREAM_TIMEOUT_MS`.
pub const DNS_LOOKUPS_PER_RUN: usize = 50;

/// The claims whose TXT record the run looks up, of those the database gave
/// (`claims_to_prove`, tenants in turn): `pending` rows not proven yet, tenants in turn, each
/// tenant's oldest first; at most [`DNS_LOOKUPS_PER_RUN`], starting at another one each `turn`
/// (the run's minute).
pub fn proofs(rows: &[DomainRow], turn: u64) -> Vec<DomainRow> {
    let mut claims = in_turns(
        rows.iter()
            .filter(|r| r.status == Status::Pending && !r.is_proven())
            .cloned()
            .collect(),
    );
    if !claims.is_empty() {
        let start = (turn % claims.len() as u64) as usize;
        claims.rotate_left(start);
    }
    claims.truncate(DNS_LOOKUPS_PER_RUN);
    claims
}

/// Orders the rows into the run's Cloudflare work (see the module's doc): cleanup, creation
/// and refresh in turns, each with tenants in turn; then checks. Refreshes and checks start at
/// the `turn`-th row (the minute of the run), so each gets its turn.
pub fn plan(
    rows: Vec<DomainRow>,
    now_ms: u64,
    pending_ms: u64,
    turn: u64,
) -> Vec<(Step, DomainRow)> {
    let mut classes: [Vec<(Step, DomainRow)>; 4] = Default::default();
    // Rows arrive oldest first and stay so within a class.
    for row in rows {
        if let Some(step) = step(&row, now_ms, pending_ms) {
            let class = match step {
                Step::Delete | Step::Expire => 0,
                Step::Create => 1,
                Step::Refresh => 2,
                Step::Check => 3,
            };
            classes[class].push((step, row));
        }
    }
    for class in &mut classes[2..] {
        if !class.is_empty() {
            let start = (turn % class.len() as u64) as usize;
            class.rotate_left(start);
        }
    }
    let [cleanup, create, refresh, check] = classes.map(in_turns);
    let mut work = Vec::new();
    let mut taking = [cleanup.into_iter(), create.into_iter(), refresh.into_iter()];
    loop {
        let round: Vec<_> = taking.iter_mut().filter_map(Iterator::next).collect();
        if round.is_empty() {
            break;
        }
        work.extend(round);
    }
    work.extend(check);
    work
}

/// Items reordered so that tenants take turns: each tenant's first (in the order given), then
/// each tenant's second, and so on; tenants in the order they first appear.
fn in_turns<T: Tenanted>(items: Vec<T>) -> Vec<T> {
    let mut queues: Vec<(String, std::collections::VecDeque<T>)> = Vec::new();
    for item in items {
        match queues.iter_mut().find(|(t, _)| *t == item.tenant()) {
            Some((_, queue)) => queue.push_back(item),
            None => queues.push((item.tenant().to_string(), [item].into())),
        }
    }
    let mut turns = Vec::new();
    loop {
        let round: Vec<T> = queues
            .iter_mut()
            .filter_map(|(_, q)| q.pop_front())
            .collect();
        if round.is_empty() {
            return turns;
        }
        turns.extend(round);
    }
}

/// What [`in_turns`] orders: something of one tenant's.
trait Tenanted {
    fn tenant(&self) -> &str;
}

impl Tenanted for DomainRow {
    fn tenant(&self) -> &str {
        &self.tenant_id
    }
}

impl Tenanted for (Step, DomainRow) {
    fn tenant(&self) -> &str {
        &self.1.tenant_id
    }
}

/// The step a row needs at Cloudflare now, if any. A claim not proven yet needs none: its
/// tenant must prove control first (a hostname Cloudflare has for it from before proofs is
/// given up like any other once it is too old).
fn step(row: &DomainRow, now_ms: u64, pending_ms: u64) -> Option<Step> {
    let has_hostname = row.cloudflare_id.is_some();
    match row.status {
        Status::Removing => Some(Step::Delete),
        Status::Pending if has_hostname && is_expired(row, now_ms, pending_ms) => {
            Some(Step::Expire)
        }
        Status::Pending if !row.is_proven() => None,
        Status::Pending if !has_hostname => Some(Step::Create),
        Status::Pending | Status::Moved if has_hostname => Some(Step::Refresh),
        Status::Active if has_hostname && row.ssl_status.as_deref() != Some("active") => {
            Some(Step::Refresh)
        }
        Status::Active if has_hostname => Some(Step::Check),
        _ => None,
    }
}

/// Whether a pending row has waited longer than `pending_ms` since it was added.
pub fn is_expired(row: &DomainRow, now_ms: u64, pending_ms: u64) -> bool {
    row.status == Status::Pending
        && tenant_common::parse_ms(&row.created_at)
            .is_some_and(|created| now_ms.saturating_sub(created) > pending_ms)
}

/// Columns to write to one row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Patch(Map<String, Value>);

impl Patch {
    fn set(mut self, column: &str, value: impl Into<Value>) -> Patch {
        self.0.insert(column.to_string(), value.into());
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The PostgREST body.
    pub fn to_json(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }

    fn merge(mut self, other: Patch) -> Patch {
        self.0.extend(other.0);
        self
    }
}

/// A write and the status it was decided on (the write's guard).
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub patch: Patch,
    pub guard: Guard,
}

/// What a write is decided on: it applies only while the row still is so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// The row still has this status.
    Status(Status),
    /// The row has no Cloudflare hostname yet (whatever its status: a created hostname's id is
    /// stored even on a row removed meanwhile, so the next run deletes it).
    NoHostname,
    /// The row is still a `pending` claim whose tenant has not proven control.
    Unproven,
}

/// The status Cloudflare's view of a hostname gives a row now at `current`.
fn status_for(current: Status, hostname: &CustomHostname) -> Status {
    let certified = hostname.ssl_status() == Some("active");
    match hostname.status.as_str() {
        "active" | "active_redeploying" if certified => Status::Active,
        "moved" => Status::Moved,
        "blocked" | "pending_blocked" => Status::Blocked,
        "deleted" | "pending_deletion" => Status::Failed,
        // Verifying, or an active hostname renewing its certificate: unchanged.
        _ => current,
    }
}

/// What a fresh read of the row's hostname changes, if anything: its status (`verified_at`
/// when it becomes active), the certificate's status, Cloudflare's errors for the coach and the
/// ownership records. `None` when nothing changed: no write, no change-feed entry.
pub fn refreshed(row: &DomainRow, hostname: &CustomHostname, now: &str) -> Option<Update> {
    let status = status_for(row.status, hostname);
    let mut patch = Patch::default();
    if status != row.status {
        patch = patch.set("status", status.as_str());
        if status == Status::Active && row.status != Status::Active {
            patch = patch.set("verified_at", now);
        }
    }
    let mut errors = hostname.errors();
    if status == Status::Failed && row.status != Status::Failed {
        errors.insert(0, GONE.to_string());
    }
    if status != Status::Active && errors != row.verification_errors {
        patch = patch.set("verification_errors", errors);
    } else if status == Status::Active && !row.verification_errors.is_empty() {
        patch = patch.set("verification_errors", Vec::<String>::new());
    }
    let ssl = ssl_status(hostname).map(str::to_string);
    if ssl.is_some() && ssl != row.ssl_status {
        patch = patch.set("ssl_status", ssl);
    }
    patch = patch.merge(ownership_changes(row, hostname));
    (!patch.is_empty()).then_some(Update {
        patch,
        guard: Guard::Status(row.status),
    })
}

/// Whether a text of Cloudflare's fits the column it goes to (the table's CHECKs): a value that
/// does not is left out, so the row's other changes are still written.
fn storable(text: &str, max: usize) -> bool {
    !text.is_empty() && text.chars().count() <= max && !text.chars().any(char::is_control)
}

/// The certificate's status, if Cloudflare gave one that fits `ssl_status`.
fn ssl_status(hostname: &CustomHostname) -> Option<&str> {
    hostname.ssl_status().filter(|s| storable(s, 64))
}

/// The ownership records Cloudflare gave, where they differ from the row's.
fn ownership_changes(row: &DomainRow, hostname: &CustomHostname) -> Patch {
    let mut patch = Patch::default();
    if let Some(txt) = hostname
        .ownership_verification
        .as_ref()
        .filter(|t| storable(&t.name, 300) && storable(&t.value, 300))
    {
        if row.ownership_txt_name.as_deref() != Some(txt.name.as_str())
            || row.ownership_txt_value.as_deref() != Some(txt.value.as_str())
        {
            patch = patch
                .set("ownership_txt_name", txt.name.as_str())
                .set("ownership_txt_value", txt.value.as_str());
        }
    }
    if let (Some(path), Some(http)) = (
        hostname.challenge_path(),
        hostname
            .ownership_verification_http
            .as_ref()
            .filter(|h| storable(&h.http_body, 512)),
    ) {
        if row.ownership_http_path.as_deref() != Some(path)
            || row.ownership_http_body.as_deref() != Some(http.http_body.as_str())
        {
            patch = patch
                .set("ownership_http_path", path)
                .set("ownership_http_body", http.http_body.as_str());
        }
    }
    patch
}

/// What a created (or adopted) hostname writes to its row: its id, the ownership records, the
/// certificate's status and Cloudflare's errors. The status is left to [`refreshed`], guarded
/// separately: the id must be stored even if the owner removed the row meanwhile, so the next
/// run deletes the hostname.
pub fn created(row: &DomainRow, hostname: &CustomHostname) -> Patch {
    let patch = Patch::default()
        .set("cloudflare_id", hostname.id.as_str())
        .set("verification_errors", hostname.errors())
        .merge(ownership_changes(row, hostname));
    match ssl_status(hostname) {
        Some(ssl) => patch.set("ssl_status", ssl),
        None => patch,
    }
}

/// The row as it is once [`created`] is written.
pub fn with_hostname(row: &DomainRow, hostname: &CustomHostname) -> DomainRow {
    let mut row = row.clone();
    let written = created(&row, hostname).0;
    let text = |column: &str| {
        written
            .get(column)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    row.cloudflare_id = Some(hostname.id.clone());
    row.verification_errors = hostname.errors();
    row.ssl_status = text("ssl_status").or(row.ssl_status);
    for (column, field) in [
        ("ownership_txt_name", &mut row.ownership_txt_name),
        ("ownership_txt_value", &mut row.ownership_txt_value),
        ("ownership_http_path", &mut row.ownership_http_path),
        ("ownership_http_body", &mut row.ownership_http_body),
    ] {
        if let Some(value) = text(column) {
            *field = Some(value);
        }
    }
    row
}

/// Cloudflare refused to create the row's hostname: the row fails with Cloudflare's message.
pub fn refused(message: &str) -> Update {
    Update {
        patch: Patch::default()
            .set("status", Status::Failed.as_str())
            .set("verification_errors", vec![message.to_string()]),
        guard: Guard::Status(Status::Pending),
    }
}

/// What a coach reads when the cron gives their domain up after `days` pending.
pub fn expired_reason(hostname: &str, target: &str, days: f64) -> String {
    format!(
        "not verified within {days} days: Cloudflare could not confirm that {hostname} has a CNAME \
         record pointing to {target}, so the hostname was deleted at Cloudflare; add the record, \
         then remove this domain and add it again"
    )
}

/// Why a row fails when Cloudflare no longer has its hostname.
pub const GONE: &str = "Cloudflare no longer has this hostname (it was deleted outside the \
platform): remove this domain and add it again";

/// A pending row given up after `DOMAIN_PENDING_DAYS`, its hostname deleted at Cloudflare:
/// `failed` with `reason` first and Cloudflare's last errors after it; its hostname fields
/// cleared, since the hostname is gone.
pub fn expired(row: &DomainRow, reason: String) -> Update {
    let mut errors = vec![reason];
    errors.extend(row.verification_errors.iter().cloned());
    errors.truncate(10);
    Update {
        patch: gone_fields(Patch::default())
            .set("status", Status::Failed.as_str())
            .set("verification_errors", errors),
        guard: Guard::Status(Status::Pending),
    }
}

/// A row whose hostname Cloudflare no longer knows (code 1436, after the zone answered a
/// listing in the same run): `failed` (not created again: whoever deleted it at Cloudflare may
/// have meant it, and a new hostname would need verifying anew). Its `cloudflare_id` and
/// `ssl_status` are kept: if the "not found" was wrong after all, the id is what recovers the
/// hostname.
pub fn vanished(row: &DomainRow) -> Update {
    Update {
        patch: Patch::default()
            .set("status", Status::Failed.as_str())
            .set("verification_errors", vec![GONE.to_string()]),
        guard: Guard::Status(row.status),
    }
}

/// What a coach reads while the TXT record that proves control of their domain is not found:
/// the record to add, and what the DNS holds there instead, if anything.
pub fn awaiting_proof(record: &str, found: &[String]) -> String {
    match found.len() {
        0 => format!(
            "add the TXT record {record} with this domain's token at your DNS provider: it is not \
             there yet (a new record may take a few minutes to be seen)"
        ),
        n => format!(
            "the TXT record {record} does not hold this domain's token ({n} other value{} found): \
             set it to the token shown",
            if n == 1 { "" } else { "s" }
        ),
    }
}

/// A claim whose TXT record did not hold its token: its errors say what is missing. `None` when
/// they already say so: nothing is written, nothing enters the change feed.
pub fn unproven(row: &DomainRow, message: String) -> Option<Update> {
    (row.verification_errors != [message.as_str()]).then(|| Update {
        patch: Patch::default().set("verification_errors", vec![message]),
        guard: Guard::Unproven,
    })
}

/// A claim whose tenant did not prove control within `days` (`DOMAIN_PENDING_DAYS`): failed,
/// saying so. It reached no Cloudflare hostname; added again, it keeps its token.
pub fn unproven_expired(record: &str, days: f64) -> Update {
    let reason = format!(
        "not verified within {days} days: the TXT record {record} with this domain's token was \
         never found; publish it, then add the domain again (its token stays the same)"
    );
    Update {
        patch: Patch::default()
            .set("status", Status::Failed.as_str())
            .set("verification_errors", vec![reason]),
        guard: Guard::Unproven,
    }
}

fn gone_fields(patch: Patch) -> Patch {
    patch
        .set("cloudflare_id", Value::Null)
        .set("ssl_status", Value::Null)
}

/// What a webhook's certificate status changes on its row: the status only, idempotently, and
/// only from a notice made (`event_ms`) no earlier than the row's last change (`updated_at`):
/// a replayed or reordered notice, or one without a readable time, changes nothing.
pub fn certificate(row: &DomainRow, ssl_status: &str, event_ms: Option<u64>) -> Option<Update> {
    let changed_ms = tenant_common::parse_ms(&row.updated_at)?;
    if event_ms? < changed_ms || row.ssl_status.as_deref() == Some(ssl_status) {
        return None;
    }
    Some(Update {
        patch: Patch::default().set("ssl_status", ssl_status),
        guard: Guard::Status(row.status),
    })
}

/// Whether a webhook's certificate status, once written, calls for reading the hostname at
/// once: a deployed certificate on a row that is not active yet is the moment it may become
/// active.
pub fn activates(row: &DomainRow, ssl_status: &str) -> bool {
    ssl_status == "active" && matches!(row.status, Status::Pending | Status::Moved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudflare::tests::hostname;
    use crate::domain::tests::row;

    const DAY: u64 = 86_400_000;
    /// 2026-12-02T10:00:00Z, when `row()` was created.
    const CREATED: u64 = 1_796_205_600_000;

    /// A row of a tenant that proved control of its hostname.
    fn with(status: Status, cloudflare_id: Option<&str>, ssl: Option<&str>) -> DomainRow {
        let mut r = row("coach.example.test");
        r.status = status;
        r.cloudflare_id = cloudflare_id.map(str::to_string);
        r.ssl_status = ssl.map(str::to_string);
        r.proven_at = Some("2026-12-02T10:01:00Z".into());
        r
    }

    /// A row of tenant `tenant` (a letter) doing `status`, its Cloudflare id `id`.
    fn of(tenant: char, status: Status, id: Option<&str>) -> DomainRow {
        let mut r = with(status, id, None);
        r.tenant_id = format!("7e000000-0000-4000-8000-00000000000{tenant}");
        r.hostname = format!("{}.{tenant}.test", id.unwrap_or("new"));
        r
    }

    fn steps(work: &[(Step, DomainRow)]) -> Vec<(Step, String)> {
        work.iter().map(|(s, r)| (*s, r.hostname.clone())).collect()
    }

    fn json(update: &Update) -> Value {
        serde_json::from_str(&update.patch.to_json()).unwrap()
    }

    #[test]
    fn the_created_at_timestamp_is_read() {
        assert_eq!(
            tenant_common::parse_ms(&row("a.test").created_at),
            Some(CREATED)
        );
    }

    #[test]
    fn removals_come_first_then_expiry_creation_refreshes_and_checks() {
        let mut rows = vec![
            with(Status::Active, Some("cf-a"), Some("active")),
            with(Status::Pending, Some("cf-p"), Some("pending_validation")),
            with(Status::Pending, None, None),
            with(Status::Removing, Some("cf-r"), None),
            with(Status::Failed, None, None),
            with(Status::Blocked, Some("cf-b"), None),
            with(
                Status::Active,
                Some("cf-renewing"),
                Some("pending_validation"),
            ),
            with(Status::Moved, Some("cf-m"), Some("active")),
            with(Status::Active, None, None),
        ];
        let mut old = with(Status::Pending, Some("cf-old"), None);
        old.created_at = "2026-11-20T10:00:00Z".into();
        rows.push(old);
        let steps: Vec<(Step, Option<String>)> = plan(rows, CREATED + DAY, 7 * DAY, 0)
            .into_iter()
            .map(|(s, r)| (s, r.cloudflare_id))
            .collect();
        let id = |s: &str| Some(s.to_string());
        assert_eq!(
            steps,
            [
                (Step::Delete, id("cf-r")),
                (Step::Create, None),
                (Step::Refresh, id("cf-p")),
                (Step::Expire, id("cf-old")),
                (Step::Refresh, id("cf-renewing")),
                (Step::Refresh, id("cf-m")),
                (Step::Check, id("cf-a")),
            ],
            "cleanup, creation and refresh in turns, then checks; failed, blocked and hand-made \
             active rows are left alone"
        );
    }

    #[test]
    fn a_claim_not_proven_has_no_cloudflare_step_only_a_proof() {
        let mut claim = with(Status::Pending, None, None);
        claim.proven_at = None;
        assert!(plan(vec![claim.clone()], CREATED, 7 * DAY, 0).is_empty());
        assert_eq!(proofs(&[claim.clone()], 0), [claim.clone()]);
        let mut legacy = claim.clone();
        legacy.cloudflare_id = Some("cf-legacy".into());
        assert!(
            plan(vec![legacy.clone()], CREATED, 7 * DAY, 0).is_empty(),
            "not refreshed into active before its proof"
        );
        assert_eq!(
            plan(vec![legacy], CREATED + 8 * DAY, 7 * DAY, 0)[0].0,
            Step::Expire,
            "but given up, its hostname deleted, once too old"
        );
        let proven = with(Status::Pending, None, None);
        assert!(proofs(&[proven], 0).is_empty());
    }

    #[test]
    fn one_tenants_backlog_cannot_starve_another_tenants_creation() {
        let mut rows: Vec<DomainRow> = (0..30)
            .map(|i| of('a', Status::Removing, Some(&format!("cf-{i}"))))
            .collect();
        rows.extend((0..5).map(|i| of('a', Status::Pending, Some(&format!("p{i}")))));
        rows.push(of('b', Status::Pending, None));
        rows.push(of('c', Status::Removing, Some("gone")));
        let work = plan(rows, CREATED, 7 * DAY, 0);
        assert_eq!(
            steps(&work[..4]),
            [
                (Step::Delete, "cf-0.a.test".to_string()),
                (Step::Create, "new.b.test".to_string()),
                (Step::Refresh, "p0.a.test".to_string()),
                (Step::Delete, "gone.c.test".to_string()),
            ],
            "B's new domain is the second call of the run; C's removal the fourth, before A's next"
        );
    }

    #[test]
    fn claims_are_looked_up_tenants_in_turn_and_capped() {
        let claim = |tenant: char, i: usize| {
            let mut r = of(tenant, Status::Pending, Some(&format!("c{i}")));
            r.cloudflare_id = None;
            r.proven_at = None;
            r
        };
        let mut rows: Vec<DomainRow> = (0..80).map(|i| claim('a', i)).collect();
        rows.push(claim('b', 0));
        let order = proofs(&rows, 0);
        assert_eq!(order.len(), DNS_LOOKUPS_PER_RUN);
        assert_eq!(
            order[1].hostname, "c0.b.test",
            "B's claim is looked up second"
        );
        assert_ne!(
            proofs(&rows, 1)[0].hostname,
            order[0].hostname,
            "the next minute starts elsewhere"
        );
    }

    #[test]
    fn a_claim_waiting_for_its_proof_says_what_is_missing_once() {
        let mut claim = row("coach.example.test");
        let record = "_coachplatform-challenge.coach.example.test";
        let message = awaiting_proof(record, &[]);
        assert!(message.contains(record), "{message}");
        let update = unproven(&claim, message.clone()).unwrap();
        assert_eq!(update.guard, Guard::Unproven);
        assert_eq!(json(&update)["verification_errors"][0], message.as_str());
        claim.verification_errors = vec![message.clone()];
        assert_eq!(
            unproven(&claim, message),
            None,
            "said already: nothing written"
        );
        assert!(awaiting_proof(record, &["other".into()]).contains("1 other value"));
        let failed = unproven_expired(record, 7.0);
        assert_eq!(failed.guard, Guard::Unproven);
        assert_eq!(json(&failed)["status"], "failed");
        assert!(json(&failed)["verification_errors"][0]
            .as_str()
            .unwrap()
            .starts_with("not verified within 7 days: the TXT record _coachplatform-challenge."));
    }

    #[test]
    fn an_old_row_without_a_hostname_is_created_first_and_given_up_only_after() {
        let mut old = with(Status::Pending, None, None);
        old.created_at = "2026-11-20T10:00:00Z".into();
        assert_eq!(
            plan(vec![old.clone()], CREATED + DAY, 7 * DAY, 0)[0].0,
            Step::Create
        );
        old.cloudflare_id = Some("cf".into());
        assert_eq!(
            plan(vec![old], CREATED + DAY, 7 * DAY, 0)[0].0,
            Step::Expire
        );
        let fresh = with(Status::Pending, Some("cf"), None);
        assert_eq!(
            plan(vec![fresh], CREATED + 1, 0, 0)[0].0,
            Step::Expire,
            "0 days: at the next run"
        );
    }

    #[test]
    fn refreshes_start_at_another_row_each_minute() {
        let rows: Vec<DomainRow> = (0..3)
            .map(|i| with(Status::Pending, Some(&format!("cf-{i}")), None))
            .collect();
        let first = |turn| {
            plan(rows.clone(), CREATED, 7 * DAY, turn)[0]
                .1
                .cloudflare_id
                .clone()
        };
        assert_eq!(first(0).as_deref(), Some("cf-0"));
        assert_eq!(first(1).as_deref(), Some("cf-1"));
        assert_eq!(first(5).as_deref(), Some("cf-2"));
    }

    #[test]
    fn a_pending_row_expires_after_the_limit_and_not_before() {
        let r = row("a.test");
        assert!(!is_expired(&r, CREATED + 7 * DAY, 7 * DAY));
        assert!(is_expired(&r, CREATED + 7 * DAY + 1, 7 * DAY));
        assert!(is_expired(&r, CREATED + 1, 0), "0 days: given up at once");
        let active = with(Status::Active, Some("x"), Some("active"));
        assert!(!is_expired(&active, CREATED + 100 * DAY, 7 * DAY));
    }

    #[test]
    fn an_active_hostname_with_an_active_certificate_makes_the_row_active() {
        let r = with(Status::Pending, Some("cf"), Some("pending_deployment"));
        let u = refreshed(&r, &hostname("active", "active"), "2026-12-02T10:05:00Z").unwrap();
        assert_eq!(u.guard, Guard::Status(Status::Pending));
        let j = json(&u);
        assert_eq!(j["status"], "active");
        assert_eq!(j["ssl_status"], "active");
        assert_eq!(j["verified_at"], "2026-12-02T10:05:00Z");
    }

    #[test]
    fn a_verified_hostname_waiting_for_its_certificate_stays_pending_and_shows_each_step() {
        let r = with(Status::Pending, Some("cf"), Some("pending_validation"));
        let u = refreshed(&r, &hostname("active", "pending_issuance"), "now").unwrap();
        let j = json(&u);
        assert_eq!(j.get("status"), None);
        assert_eq!(j["ssl_status"], "pending_issuance");
    }

    #[test]
    fn moved_and_blocked_are_cloudflares_word() {
        let r = with(Status::Active, Some("cf"), Some("active"));
        assert_eq!(
            json(&refreshed(&r, &hostname("moved", "active"), "now").unwrap())["status"],
            "moved"
        );
        for blocked in ["blocked", "pending_blocked"] {
            let j = json(&refreshed(&r, &hostname(blocked, "active"), "now").unwrap());
            assert_eq!(j["status"], "blocked");
        }
    }

    #[test]
    fn a_renewing_certificate_keeps_an_active_row_active() {
        let r = with(Status::Active, Some("cf"), Some("active"));
        let u = refreshed(&r, &hostname("active", "pending_validation"), "now").unwrap();
        assert_eq!(json(&u).get("status"), None);
    }

    #[test]
    fn nothing_changed_writes_nothing() {
        let h = hostname("pending", "pending_validation");
        let r = with_hostname(&with(Status::Pending, None, None), &h);
        assert_eq!(refreshed(&r, &h, "now"), None);
    }

    #[test]
    fn cloudflares_errors_are_kept_for_the_coach_until_active() {
        let r = with(Status::Pending, Some("cf"), Some("pending_validation"));
        let j = json(&refreshed(&r, &hostname("pending", "pending_validation"), "now").unwrap());
        assert_eq!(
            j["verification_errors"][0],
            "custom hostname does not CNAME to this zone."
        );
        let mut r = r;
        r.verification_errors = vec!["old".into()];
        let j = json(&refreshed(&r, &hostname("active", "active"), "now").unwrap());
        assert_eq!(j["verification_errors"], serde_json::json!([]));
    }

    #[test]
    fn a_created_hostname_stores_its_id_and_ownership_records() {
        let h = hostname("pending", "initializing");
        let p: Value =
            serde_json::from_str(&created(&row("coach.example.test"), &h).to_json()).unwrap();
        assert_eq!(p["cloudflare_id"], h.id.as_str());
        assert_eq!(p["ssl_status"], "initializing");
        assert_eq!(
            p["ownership_txt_name"],
            "_cf-custom-hostname.coach.example.test"
        );
        assert_eq!(
            p["ownership_http_path"],
            format!("/.well-known/cf-custom-hostname-challenge/{}", h.id)
        );
        assert_eq!(p["ownership_http_body"], "5cc07c04");
        assert_eq!(
            p.get("status"),
            None,
            "the status is written separately, guarded"
        );
    }

    #[test]
    fn values_the_table_would_refuse_are_left_out() {
        let mut h = hostname("pending", "initializing");
        h.ownership_verification_http.as_mut().unwrap().http_body = "token\nwith a newline".into();
        h.ownership_verification.as_mut().unwrap().value = "x".repeat(301);
        h.ssl.as_mut().unwrap().status = Some("s".repeat(65));
        let p: Value =
            serde_json::from_str(&created(&row("coach.example.test"), &h).to_json()).unwrap();
        for column in [
            "ownership_http_path",
            "ownership_http_body",
            "ownership_txt_name",
            "ssl_status",
        ] {
            assert_eq!(p.get(column), None, "{column}");
        }
        assert_eq!(p["cloudflare_id"], h.id.as_str());
        assert_eq!(
            with_hostname(&row("coach.example.test"), &h).ownership_http_body,
            None
        );
    }

    #[test]
    fn a_refusal_fails_the_row_with_cloudflares_message() {
        let u = refused("Custom hostnames ending in example.com are prohibited.");
        assert_eq!(u.guard, Guard::Status(Status::Pending));
        assert_eq!(
            json(&u),
            serde_json::json!({"status": "failed", "verification_errors": ["Custom hostnames ending in example.com are prohibited."]})
        );
    }

    #[test]
    fn an_expired_row_fails_with_a_readable_reason_first() {
        let mut r = with(Status::Pending, Some("cf"), Some("pending_validation"));
        r.verification_errors = vec!["custom hostname does not CNAME to this zone.".into()];
        let reason = expired_reason("coach.example.test", "customers.coachplatform.com", 7.0);
        assert!(reason.starts_with("not verified within 7 days"));
        assert!(reason.contains("customers.coachplatform.com"));
        let j = json(&expired(&r, reason.clone()));
        assert_eq!(j["status"], "failed");
        assert_eq!(
            j["verification_errors"],
            serde_json::json!([reason, "custom hostname does not CNAME to this zone."])
        );
        assert_eq!(j["cloudflare_id"], Value::Null);
    }

    #[test]
    fn a_hostname_cloudflare_no_longer_knows_fails_the_row_and_keeps_its_id() {
        let r = with(Status::Active, Some("cf"), Some("active"));
        let u = vanished(&r);
        assert_eq!(u.guard, Guard::Status(Status::Active));
        assert_eq!(
            json(&u),
            serde_json::json!({"status": "failed", "verification_errors": [GONE]}),
            "the id and the certificate status are kept, for recovery"
        );
    }

    #[test]
    fn a_webhook_writes_the_certificate_status_once() {
        let r = with(Status::Pending, Some("cf"), Some("pending_issuance"));
        let later = Some(CREATED + 1000);
        assert_eq!(certificate(&r, "pending_issuance", later), None);
        let u = certificate(&r, "pending_deployment", later).unwrap();
        assert_eq!(
            json(&u),
            serde_json::json!({"ssl_status": "pending_deployment"})
        );
        assert!(activates(&r, "active"));
        assert!(!activates(&r, "pending_deployment"));
        assert!(!activates(
            &with(Status::Removing, Some("cf"), None),
            "active"
        ));
    }

    #[test]
    fn a_notice_older_than_the_rows_last_change_changes_nothing() {
        let mut r = with(Status::Pending, Some("cf"), Some("pending_issuance"));
        r.updated_at = "2026-12-02T10:00:05.250+00:00".into();
        let changed = CREATED + 5250;
        assert_eq!(
            certificate(&r, "pending_validation", Some(changed - 1)),
            None
        );
        assert_eq!(certificate(&r, "pending_validation", None), None, "no time");
        assert!(certificate(&r, "pending_deployment", Some(changed)).is_some());
        assert!(certificate(&r, "pending_deployment", Some(changed + 60_000)).is_some());
        r.updated_at = "not a time".into();
        assert_eq!(
            certificate(&r, "pending_deployment", Some(changed + 60_000)),
            None,
            "a row whose last change cannot be read is left to the cron"
        );
    }
}
