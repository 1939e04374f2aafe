//! Single flight: concurrent callers of the same work in one isolate share one run of it.
//!
//! The first caller of a key leads and runs the work; callers that arrive while it runs wait
//! for its result. They wait by polling on timers of their own: workerd cancels a request that
//! waits only on another request's I/O (it looks hung), and code woken from another request's
//! context may not do I/O.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use worker::Delay;

use crate::error::UpstreamError;

/// What a run produces: shared with every caller that waited for it.
pub type Outcome<T> = Result<T, UpstreamError>;

/// A run in flight: its leader fills it when done.
type Pending<T> = Rc<RefCell<Option<Outcome<T>>>>;

/// How often a waiting caller looks whether the leader is done.
const FOLLOW_POLL: Duration = Duration::from_millis(5);

/// The runs in flight for one kind of work, by key. Held in a `thread_local` as an `Rc`, so a
/// caller can keep it across awaits.
pub struct Flights<T> {
    /// A handful at a time (one per key being loaded): a list is enough.
    running: RefCell<Vec<(String, Pending<T>)>>,
}

impl<T: Clone> Flights<T> {
    pub fn new() -> Rc<Flights<T>> {
        Rc::new(Flights {
            running: RefCell::new(Vec::new()),
        })
    }

    /// Runs `work` for `key` unless a run is already in flight, in which case it waits for that
    /// run's result (giving up a second after `timeout_ms`, which bounds the leader's work).
    /// Returns whether this caller led, and the result.
    pub async fn run(
        self: &Rc<Self>,
        key: &str,
        timeout_ms: u32,
        work: impl Future<Output = Outcome<T>>,
    ) -> (bool, Outcome<T>) {
        let pending = self
            .running
            .borrow()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, p)| p.clone());
        if let Some(pending) = pending {
            return (false, follow(&pending, timeout_ms).await);
        }
        let leading = Leading {
            flights: self.clone(),
            key: key.to_string(),
            pending: Rc::default(),
        };
        self.running
            .borrow_mut()
            .push((leading.key.clone(), leading.pending.clone()));
        let result = work.await;
        *leading.pending.borrow_mut() = Some(result.clone());
        (true, result)
    }
}

/// Waits for another request's run, polling on this request's own timer.
async fn follow<T: Clone>(pending: &Pending<T>, timeout_ms: u32) -> Outcome<T> {
    let polls = (u64::from(timeout_ms) + 1000) / FOLLOW_POLL.as_millis() as u64;
    for _ in 0..polls {
        if let Some(result) = pending.borrow().clone() {
            return result;
        }
        Delay::from(FOLLOW_POLL).await;
    }
    Err(UpstreamError::Timeout {
        after_ms: timeout_ms,
    })
}

/// The leader's claim on a key. Dropping it (done, or the leading request cancelled) ends the
/// run: waiters get the result, or an error if there is none, and the next caller starts afresh.
struct Leading<T> {
    flights: Rc<Flights<T>>,
    key: String,
    pending: Pending<T>,
}

impl<T> Drop for Leading<T> {
    fn drop(&mut self) {
        let mut pending = self.pending.borrow_mut();
        if pending.is_none() {
            *pending = Some(Err(UpstreamError::Network(
                "the leading request was cancelled".into(),
            )));
        }
        self.flights
            .running
            .borrow_mut()
            .retain(|(k, _)| *k != self.key);
    }
}
