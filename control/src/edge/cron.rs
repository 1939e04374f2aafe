//! One run of the Cron Trigger: the work `lifecycle::plan` orders, done row by row within the
//! run's Cloudflare call budget. A rate limit, a failing Cloudflare or PostgREST, or a spent
//! budget stops the run; the rows not reached are as they were and come first next minute.
//! A refusal or a bad row concerns that row alone. A hostname Cloudflare says it no longer has
//! fails its row only once the zone has answered a listing in the same run: an API or zone
//! that is not what the settings say can then never fail a row. What a run did is its
//! [`CronEvent`], row problems included.

use std::fmt;

use super::cloudflare as cf;
use super::dns;
use super::store::{self, Written};
use crate::cloudflare::{is_id, CustomHostname, Verdict, DUPLICATE};
use crate::config::Config;
use crate::dns::{has_token, Lookup};
use crate::domain::DomainRow;
use crate::error::UpstreamError;
use crate::event::{CronEvent, HaltKind, ProblemKind};
use crate::health::read_dns;
use crate::lifecycle::{self, Guard, Step, Update};

/// Why a run stopped before its work was done.
#[derive(Debug)]
pub enum Halt {
    /// The run's Cloudflare call budget is spent.
    Budget,
    /// Cloudflare answered 429; it said when to retry.
    RateLimited { retry_after_s: Option<u32> },
    /// Cloudflare or PostgREST failed, or answered what only a wrong setting explains
    /// ([`UpstreamError::Misconfigured`]: its log line names the setting).
    Upstream(UpstreamError),
    /// A hostname was not found, and the zone did not answer a listing either: nothing is
    /// declared gone.
    Unconfirmed(Verdict),
}

impl From<UpstreamError> for Halt {
    fn from(e: UpstreamError) -> Self {
        Halt::Upstream(e)
    }
}

impl fmt::Display for Halt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Halt::Budget => f.write_str("call budget spent"),
            Halt::RateLimited { retry_after_s } => {
                write!(
                    f,
                    "rate limited by cloudflare (retry-after {retry_after_s:?})"
                )
            }
            Halt::Upstream(e) => write!(f, "{e}"),
            Halt::Unconfirmed(verdict) => {
                write!(
                    f,
                    "a hostname not found, but the zone answered no listing: {verdict:?}"
                )
            }
        }
    }
}

impl Halt {
    /// How the run's event says it stopped: its kind and the retry-after Cloudflare gave.
    fn kind(&self) -> (HaltKind, Option<u32>) {
        match self {
            Halt::Budget => (HaltKind::Budget, None),
            Halt::RateLimited { retry_after_s } => (HaltKind::RateLimited, *retry_after_s),
            Halt::Upstream(UpstreamError::Misconfigured { .. }) => (HaltKind::Misconfigured, None),
            Halt::Upstream(_) => (HaltKind::Upstream, None),
            Halt::Unconfirmed(_) => (HaltKind::Unconfirmed, None),
        }
    }
}

/// One run: the platform's rules told to the database, the claims' proofs looked up, then the
/// rows' Cloudflare work, in order, until done or stopped. Its event, but for its duration.
pub async fn run(config: &Config, now_ms: u64) -> CronEvent {
    let mut run = Run {
        config,
        now_ms,
        now: tenant_common::format_ms(now_ms),
        zone_answered: false,
        report: CronEvent::default(),
    };
    if let Err(halt) = run.work().await {
        let (kind, retry_after_s) = halt.kind();
        run.report.halted(kind, retry_after_s, &halt.to_string());
    }
    // After the domain work, whatever stopped it: the app's state never delays a domain.
    super::notify::deliver(config).await;
    run.report
}

struct Run<'a> {
    config: &'a Config,
    now_ms: u64,
    /// The run's time, RFC 3339: `verified_at` of rows that become active.
    now: String,
    /// Whether the zone answered a listing in this run ([`Run::confirm_zone`]).
    zone_answered: bool,
    report: CronEvent,
}

impl Run<'_> {
    async fn work(&mut self) -> Result<(), Halt> {
        store::set_domain_rules(self.config).await?;
        let turn = self.now_ms / 60_000;
        let claims = store::claims(self.config).await?;
        self.prove_claims(&claims, turn).await;
        let rows = store::candidates(self.config).await?;
        self.diagnose(&rows, turn).await;
        for (step, row) in lifecycle::plan(rows, self.now_ms, self.config.pending_ms, turn) {
            self.step(step, &row).await?;
        }
        Ok(())
    }

    /// Looks up the TXT record of each claim not proven yet (`lifecycle::proofs`), and records
    /// the claims whose token is there as proven; the others learn what is missing, and fail
    /// once too old. Stops asking at the first failure of the resolver itself (logged: a run
    /// never waits on it more than once), and never gives a claim up on an answer that is not
    /// definitive. Each problem is the run's event's.
    async fn prove_claims(&mut self, rows: &[DomainRow], turn: u64) {
        for claim in lifecycle::proofs(rows, turn) {
            let record = self.config.challenge_record(&claim.hostname);
            self.report.lookups += 1;
            let found = match dns::txt(self.config, &record).await {
                Ok(Lookup::Found(values)) => values,
                Ok(Lookup::Absent) => Vec::new(),
                Ok(Lookup::Unknown(why)) => {
                    let detail = format!("txt {record} not read: {why}");
                    self.problem(ProblemKind::LookupUnknown, &claim, None, &detail);
                    continue;
                }
                Err(e) => {
                    // A 4xx is a resolver URL that is no DNS over HTTPS JSON API: named.
                    let e = read_dns(Err(e))
                        .err()
                        .map(|e| e.to_string())
                        .unwrap_or_default();
                    let detail = format!("the dns resolver failed, proofs wait: {e}");
                    self.problem(ProblemKind::ResolverFailed, &claim, None, &detail);
                    break;
                }
            };
            if let Err(e) = self.settle_claim(&claim, &record, &found).await {
                self.problem(ProblemKind::NotSettled, &claim, None, &e.to_string());
                break;
            }
        }
    }

    /// Diagnoses the domains not active yet (`doctor::to_diagnose`) with the lookups left of
    /// `lifecycle::DNS_LOOKUPS_PER_RUN`, and keeps the verdicts; stops at the first failed
    /// lookup. A verdict changes no row of `tenant_domains`.
    async fn diagnose(&mut self, rows: &[DomainRow], turn: u64) {
        let left = lifecycle::DNS_LOOKUPS_PER_RUN.saturating_sub(self.report.lookups as usize);
        let mut kept = Vec::new();
        let due = crate::doctor::to_diagnose(rows, turn, left);
        for row in &due {
            let (diagnosis, looked) = dns::diagnose(self.config, row, self.now_ms).await;
            self.report.lookups += looked.lookups as u32;
            kept.push(diagnosis.to_row(&row.id));
            if let Err(why) = looked.findings {
                let kind = if looked.resolver_failed {
                    ProblemKind::ResolverFailed
                } else {
                    ProblemKind::LookupUnknown
                };
                self.problem(kind, row, None, &format!("diagnosis: {why}"));
                break;
            }
        }
        if let (Err(e), Some(first)) = (store::save_diagnoses(self.config, kept).await, due.first())
        {
            let detail = format!("diagnoses not kept: {e}");
            self.problem(ProblemKind::NotSettled, first, None, &detail);
        }
    }

    /// Records what the TXT record `found` at `record` says of `claim`.
    async fn settle_claim(
        &mut self,
        claim: &DomainRow,
        record: &str,
        found: &[String],
    ) -> Result<(), UpstreamError> {
        if has_token(found, &claim.proof_token) {
            if store::prove(self.config, &claim.id).await? {
                self.report.proven += 1;
            }
            return Ok(());
        }
        let update = if lifecycle::is_expired(claim, self.now_ms, self.config.pending_ms) {
            self.report.expired += 1;
            Some(lifecycle::unproven_expired(
                record,
                self.config.pending_days,
            ))
        } else {
            lifecycle::unproven(claim, lifecycle::awaiting_proof(record, found))
        };
        if let Some(update) = update {
            if let Written::Refused(body) = store::update(self.config, &claim.id, &update).await? {
                self.problem(ProblemKind::WriteRefused, claim, None, &body);
            }
        }
        Ok(())
    }

    /// Spends one call of the budget on `call`, and turns what stops a run into a [`Halt`].
    async fn spend<T>(
        &mut self,
        call: impl std::future::Future<Output = Result<T, Verdict>>,
    ) -> Result<Result<T, Verdict>, Halt> {
        if self.report.cloudflare_calls >= self.config.calls_per_run {
            return Err(Halt::Budget);
        }
        self.report.cloudflare_calls += 1;
        match call.await {
            Err(Verdict::RateLimited { retry_after_s }) => Err(Halt::RateLimited { retry_after_s }),
            Err(Verdict::Stop(e)) => Err(Halt::Upstream(e)),
            other => Ok(other),
        }
    }

    /// Makes sure the zone answers a listing, once per run, from the run's budget: the proof
    /// that a "not found" is about the hostname, not about the API or the zone. A listing that
    /// does not succeed stops the run.
    async fn confirm_zone(&mut self) -> Result<(), Halt> {
        if self.zone_answered {
            return Ok(());
        }
        match self.spend(cf::zone_answers(self.config)).await? {
            Ok(()) => {
                self.zone_answered = true;
                Ok(())
            }
            Err(verdict) => Err(Halt::Unconfirmed(verdict)),
        }
    }

    /// Writes `update`, guarded; whether it was written. A write the database refuses is this
    /// row's problem: noted, and the run goes on.
    async fn write(&mut self, row: &DomainRow, update: &Update) -> Result<bool, Halt> {
        match store::update(self.config, &row.id, update).await? {
            Written::Matched => {
                self.report.updated += 1;
                Ok(true)
            }
            Written::Unmatched => Ok(false),
            Written::Refused(body) => {
                self.problem(ProblemKind::WriteRefused, row, None, &body);
                Ok(false)
            }
        }
    }

    async fn step(&mut self, step: Step, row: &DomainRow) -> Result<(), Halt> {
        match step {
            Step::Delete => self.delete(row).await,
            Step::Expire => self.expire(row).await,
            Step::Create => self.create(row).await,
            Step::Refresh | Step::Check => self.refresh(row).await,
        }
    }

    /// A `removing` row: its Cloudflare hostname goes, then the row. A row that was active
    /// without a hostname id (an operator's, written by hand) may still have one of its name
    /// in the zone: deleted too, unless another row holds it. One never verified and without an
    /// id never reached Cloudflare: deleted without a call.
    async fn delete(&mut self, row: &DomainRow) -> Result<(), Halt> {
        let id = match row.cloudflare_id.as_deref() {
            Some(id) => Some(id.to_string()),
            // Never verified and no id: Cloudflare never had a hostname for it. No call.
            None if row.verified_at.is_none() => None,
            None => match self.spend(cf::find(self.config, &row.hostname)).await? {
                Ok(found) => self.unclaimed(found).await?.map(|h| h.id),
                Err(verdict) => return self.skip(row, "find", &verdict),
            },
        };
        if let Some(id) = id.filter(|id| is_id(id)) {
            if let Err(verdict) = self.spend(cf::delete(self.config, &id)).await? {
                return self.skip(row, "delete", &verdict);
            }
        }
        if store::delete(self.config, &row.id).await? {
            self.report.deleted += 1;
        }
        Ok(())
    }

    /// A pending row past `DOMAIN_PENDING_DAYS`: its hostname goes, the row fails.
    async fn expire(&mut self, row: &DomainRow) -> Result<(), Halt> {
        if let Some(id) = row.cloudflare_id.as_deref().filter(|id| is_id(id)) {
            if let Err(verdict) = self.spend(cf::delete(self.config, id)).await? {
                // Cloudflare deletes a hostname pending 7 days itself: the row fails anyway.
                self.skipped(row, "delete", &verdict);
            }
        }
        let reason = lifecycle::expired_reason(
            &row.hostname,
            self.config.target.as_str(),
            self.config.pending_days,
        );
        if self.write(row, &lifecycle::expired(row, reason)).await? {
            self.report.expired += 1;
        }
        Ok(())
    }

    /// A pending row without a hostname: create it (or adopt the zone's hostname of that name
    /// when Cloudflare says it is a duplicate, as after a run that created it but could not
    /// store its id). A refusal fails the row with Cloudflare's message.
    async fn create(&mut self, row: &DomainRow) -> Result<(), Halt> {
        let created = match self.spend(cf::create(self.config, &row.hostname)).await? {
            Ok(hostname) => hostname,
            Err(Verdict::Refused { code, message }) => {
                let adopted = if code == DUPLICATE {
                    self.adoptable(&row.hostname).await?
                } else {
                    None
                };
                match adopted {
                    Some(hostname) => hostname,
                    None => {
                        if self.write(row, &lifecycle::refused(&message)).await? {
                            self.report.refused += 1;
                        }
                        return Ok(());
                    }
                }
            }
            Err(verdict) => return self.skip(row, "create", &verdict),
        };
        self.store_created(row, created).await
    }

    /// The zone's hostname of this name when no row holds it.
    async fn adoptable(&mut self, name: &str) -> Result<Option<CustomHostname>, Halt> {
        match self.spend(cf::find(self.config, name)).await? {
            Ok(found) => self.unclaimed(found).await,
            Err(_) => Ok(None),
        }
    }

    /// `found` unless a row holds it.
    async fn unclaimed(
        &self,
        found: Option<CustomHostname>,
    ) -> Result<Option<CustomHostname>, Halt> {
        let Some(hostname) = found else {
            return Ok(None);
        };
        let held = store::by_cloudflare_id(self.config, &hostname.id)
            .await?
            .is_some();
        Ok((!held).then_some(hostname))
    }

    async fn store_created(
        &mut self,
        row: &DomainRow,
        hostname: CustomHostname,
    ) -> Result<(), Halt> {
        let ids = Update {
            patch: lifecycle::created(row, &hostname),
            guard: Guard::NoHostname,
        };
        let written = store::update(self.config, &row.id, &ids).await?;
        if let Written::Refused(body) = &written {
            self.problem(ProblemKind::WriteRefused, row, None, body);
        }
        if written != Written::Matched {
            // The row is gone, got a hostname meanwhile, or cannot hold this one: do not leave
            // the hostname behind.
            let holder = store::by_id(self.config, &row.id).await?;
            if holder.and_then(|r| r.cloudflare_id) != Some(hostname.id.clone()) {
                if let Err(verdict) = self.spend(cf::delete(self.config, &hostname.id)).await? {
                    self.skipped(row, "delete", &verdict);
                }
            }
            return Ok(());
        }
        self.report.created += 1;
        let stored = lifecycle::with_hostname(row, &hostname);
        if let Some(update) = lifecycle::refreshed(&stored, &hostname, &self.now) {
            self.write(&stored, &update).await?;
        }
        Ok(())
    }

    /// Reads the row's hostname and applies what changed; a hostname Cloudflare no longer
    /// knows fails the row (its id kept), once the zone has answered a listing.
    async fn refresh(&mut self, row: &DomainRow) -> Result<(), Halt> {
        let Some(id) = row.cloudflare_id.as_deref().filter(|id| is_id(id)) else {
            return Ok(());
        };
        match self.spend(cf::get(self.config, id)).await? {
            Ok(hostname) => {
                if let Some(update) = lifecycle::refreshed(row, &hostname, &self.now) {
                    self.write(row, &update).await?;
                }
            }
            Err(Verdict::NotFound) => {
                self.confirm_zone().await?;
                if self.write(row, &lifecycle::vanished(row)).await? {
                    self.report.vanished += 1;
                }
            }
            Err(verdict) => self.skipped(row, "get", &verdict),
        }
        Ok(())
    }

    /// A call Cloudflare refused for this row: noted, the row left for the next run.
    fn skip(&mut self, row: &DomainRow, what: &'static str, verdict: &Verdict) -> Result<(), Halt> {
        self.skipped(row, what, verdict);
        Ok(())
    }

    /// Notes Cloudflare's `verdict` on call `what` for `row`, which waits for the next run.
    fn skipped(&mut self, row: &DomainRow, what: &'static str, verdict: &Verdict) {
        let detail = format!("{verdict:?}");
        self.problem(ProblemKind::CallSkipped, row, Some(what), &detail);
    }

    /// Notes a problem of `row` in the run's event.
    fn problem(
        &mut self,
        kind: ProblemKind,
        row: &DomainRow,
        call: Option<&'static str>,
        detail: &str,
    ) {
        self.report
            .problem(kind, &row.hostname, &row.id, call, detail);
    }
}
