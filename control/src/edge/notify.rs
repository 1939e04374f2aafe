//! Domain events' delivery, once per cron run after its domain work: the due events claimed,
//! each sent to `DOMAIN_EVENTS_URL`, signed, within the upstream timeout, and what came of it
//! recorded. What is sent, signed, and what an answer means are the core's (`crate::notify`).
//!
//! It never holds the run up: at most `DELIVERIES_PER_RUN` events a run, and a run stops
//! sending after `UNANSWERED_PER_RUN` attempts the app did not answer (the rest keep their
//! turn). A PostgREST failure ends the deliveries, logged: the events stay queued.

use super::preview::hmac;
use super::{event, now_ms, store};
use crate::config::{Config, DomainEvents};
use crate::event::{clip_detail, Level};
use crate::notify::{
    canonical, detail, settle, signature_header, Answer, DeliveryEvent, Queued, StoppedEvent,
    DELIVERIES_PER_RUN, ID_HEADER, SIGNATURE_HEADER, UNANSWERED_PER_RUN,
};

/// Sends the due domain events, if `DOMAIN_EVENTS_URL` is set; each attempt is logged as a
/// `domain_event`.
pub async fn deliver(config: &Config) {
    let Some(events) = &config.domain_events else {
        return;
    };
    let due = match store::claim_domain_events(config, DELIVERIES_PER_RUN).await {
        Ok(due) => due,
        Err(e) => return stopped(Level::Error, &format!("domain events not claimed: {e}")),
    };
    let mut unanswered = 0;
    for (i, queued) in due.iter().enumerate() {
        if unanswered >= UNANSWERED_PER_RUN {
            // Claimed but not tried: due again when their lease ends, attempts aside.
            let skipped = due.len() - i;
            return stopped(
                Level::Warn,
                &format!("the app did not answer {unanswered} times: {skipped} domain events wait for a later run"),
            );
        }
        let started = now_ms();
        let answer = send(config, events, queued).await;
        if matches!(answer, Answer::Unanswered(_)) {
            unanswered += 1;
        }
        let outcome = settle(queued, &answer);
        let why = detail(&answer);
        event::write(&DeliveryEvent::of(
            queued,
            &answer,
            &outcome,
            now_ms().saturating_sub(started),
        ));
        if let Err(e) =
            store::settle_domain_event(config, &queued.id, &outcome, why.as_deref()).await
        {
            return stopped(
                Level::Error,
                &format!("domain event {} not settled: {e}", queued.id),
            );
        }
    }
}

/// `POST`s `queued` to the app, signed now; its status, or why there was none.
async fn send(config: &Config, events: &DomainEvents, queued: &Queued) -> Answer {
    let body = queued.body();
    let t = now_ms() / 1000;
    let Ok(tag) = hmac(&events.secret, &canonical(t, &body)).await else {
        return Answer::Unanswered("DOMAIN_EVENTS_SECRET is refused by Web Crypto".into());
    };
    let request = reqwest::Client::new()
        .post(&events.url)
        .header("content-type", "application/json")
        .header("user-agent", "tenant-control domain events")
        .header(ID_HEADER, &queued.id)
        .header(SIGNATURE_HEADER, signature_header(t, &tag))
        .body(body);
    let ms = config.upstream_timeout_ms;
    tenant_common::within(
        ms,
        async {
            request
                .send()
                .await
                .map(|response| Answer::Status(response.status().as_u16()))
                .map_err(|e| e.without_url().to_string())
        },
        || format!("no answer within {ms} ms"),
    )
    .await
    .unwrap_or_else(Answer::Unanswered)
}

/// Logs why this run's deliveries ended early.
fn stopped(level: Level, detail: &str) {
    event::write(&StoppedEvent {
        level,
        detail: clip_detail(detail),
    });
}
