//! The in-isolate memory tier of the tenant cache.
//!
//! A bounded map from lookup key to [`Entry`], evicting the least recently used key. A tenant is
//! stored once (one `Rc<Entry>`) and reachable by each of its keys, so a lookup by slug warms the
//! lookups by domain and id. It lives as long as the isolate, shared by the requests it serves.
//!
//! When the change feed reports a change, a tenant's keys are marked changed rather than
//! forgotten: they are never served fresh again, but the next lookup by any of them knows which
//! tenant to re-read (once, by id, for every key), and the old answer remains for
//! stale-if-error. "No such tenant" answers are simply forgotten.

use std::collections::HashMap;
use std::rc::Rc;

use crate::cache::{Entry, REFRESH_BACKOFF_MS};
use crate::feed::Applied;
use crate::key::Lookup;

/// One memory slot: an answer, when it was last used, when a failed refresh may be retried, and
/// whether the change feed reported its tenant changed.
#[derive(Debug)]
struct Slot {
    entry: Rc<Entry>,
    used: u64,
    retry_refresh_at_ms: u64,
    changed: bool,
}

/// What memory holds for a key.
#[derive(Debug, Clone)]
pub struct Held {
    pub entry: Rc<Entry>,
    /// The change feed reported a change of its tenant after it was fetched.
    pub changed: bool,
}

/// The in-isolate memory tier: at most `capacity` keys, least recently used evicted first.
#[derive(Debug)]
pub struct Memory {
    capacity: usize,
    slots: HashMap<Lookup, Slot>,
    clock: u64,
}

impl Memory {
    /// An empty tier holding at most `capacity` keys (at least one).
    pub fn new(capacity: usize) -> Memory {
        Memory {
            capacity: capacity.max(1),
            slots: HashMap::new(),
            clock: 0,
        }
    }

    /// How many keys are held.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// The most keys held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Changes the capacity, evicting as needed.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        while self.slots.len() > self.capacity {
            self.evict_one();
        }
    }

    /// The answer for `lookup`, marking it used.
    pub fn get(&mut self, lookup: &Lookup) -> Option<Held> {
        self.clock += 1;
        let slot = self.slots.get_mut(lookup)?;
        slot.used = self.clock;
        Some(Held {
            entry: slot.entry.clone(),
            changed: slot.changed,
        })
    }

    /// Forgets `lookup` alone.
    pub fn remove(&mut self, lookup: &Lookup) {
        self.slots.remove(lookup);
    }

    /// Stores the answer to `lookup` under its key and, for a tenant, under every key of the
    /// tenant, all sharing one `Rc<Entry>`.
    pub fn put(&mut self, lookup: &Lookup, entry: Rc<Entry>) {
        for key in entry.keys(lookup) {
            self.clock += 1;
            let slot = Slot {
                entry: entry.clone(),
                used: self.clock,
                retry_refresh_at_ms: 0,
                changed: false,
            };
            if self.slots.insert(key, slot).is_none() && self.slots.len() > self.capacity {
                self.evict_one();
            }
        }
    }

    /// Whether a background refresh of `lookup` may start now; if so, no other may start before
    /// `REFRESH_BACKOFF_MS` has passed (a successful refresh replaces the slot anyway), by this
    /// key or any other key holding the same answer: a tenant asked for by slug and by domain
    /// at the moment it goes stale is refreshed once, not once per key.
    pub fn claim_refresh(&mut self, lookup: &Lookup, now_ms: u64) -> bool {
        let entry = match self.slots.get(lookup) {
            Some(slot) if slot.retry_refresh_at_ms <= now_ms => slot.entry.clone(),
            _ => return false,
        };
        for key in entry.keys(lookup) {
            if let Some(slot) = self.slots.get_mut(&key) {
                if Rc::ptr_eq(&slot.entry, &entry) {
                    slot.retry_refresh_at_ms = now_ms + REFRESH_BACKOFF_MS;
                }
            }
        }
        true
    }

    /// Drops `lookup` and, when it holds a tenant, every key of that tenant. Returns the keys
    /// dropped.
    pub fn purge(&mut self, lookup: &Lookup) -> Vec<Lookup> {
        let keys = match self.slots.get(lookup) {
            Some(slot) => slot.entry.keys(lookup),
            None => vec![lookup.clone()],
        };
        keys.into_iter()
            .filter(|k| self.slots.remove(k).is_some())
            .collect()
    }

    /// Applies what the change feed says changed: every key of a changed tenant fetched before
    /// its change is marked changed, and every "no such tenant" fetched before the newest change
    /// is forgotten (a tenant, slug or domain may have appeared). Returns how many keys were
    /// marked or forgotten.
    pub fn apply_changes(&mut self, applied: &Applied) -> usize {
        let mut touched = 0;
        self.slots.retain(|_, slot| {
            let fetched = slot.entry.fetched_at_ms;
            let changed_at = match slot.entry.hash() {
                Some(tenant) => applied.tenants.get(tenant).copied(),
                None => applied.newest_ms,
            };
            if !changed_at.is_some_and(|t| Applied::predates(fetched, t)) || slot.changed {
                return true;
            }
            touched += 1;
            slot.changed = true;
            slot.entry.tenant.is_some()
        });
        touched
    }

    fn evict_one(&mut self) {
        if let Some(oldest) = self
            .slots
            .iter()
            .min_by_key(|(_, s)| s.used)
            .map(|(k, _)| k.clone())
        {
            self.slots.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::tests::{found, missing};
    use tenant_common::{Host, Slug, TenantId};

    fn slug(s: &str) -> Lookup {
        Lookup::Slug(Slug::parse(s).unwrap())
    }

    #[test]
    fn a_tenant_is_reachable_by_each_of_its_keys() {
        let mut m = Memory::new(10);
        m.put(&slug("acme"), Rc::new(found("acme", 0)));
        let by_domain = m
            .get(&Lookup::Domain(
                Host::parse_domain("coach.acme.com").unwrap(),
            ))
            .unwrap();
        let by_id = m
            .get(&Lookup::Id(
                TenantId::parse("00000000-0000-4000-8000-000000000004").unwrap(),
            ))
            .unwrap();
        assert!(
            Rc::ptr_eq(&by_domain.entry, &by_id.entry),
            "one entry shared by all keys"
        );
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn the_least_recently_used_key_is_evicted_at_capacity() {
        let mut m = Memory::new(2);
        m.put(&slug("aaa"), Rc::new(missing(0)));
        m.put(&slug("bbb"), Rc::new(missing(0)));
        m.get(&slug("aaa"));
        m.put(&slug("ccc"), Rc::new(missing(0)));
        assert_eq!(m.len(), 2);
        assert!(m.get(&slug("aaa")).is_some());
        assert!(m.get(&slug("bbb")).is_none());
    }

    #[test]
    fn memory_never_grows_past_capacity() {
        let mut m = Memory::new(5);
        for i in 0..100 {
            m.put(
                &slug(&format!("tenant-{i}")),
                Rc::new(found(&format!("tenant-{i}"), 0)),
            );
            assert!(m.len() <= 5);
        }
        m.set_capacity(2);
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn purge_drops_every_key_of_the_tenant() {
        let mut m = Memory::new(10);
        m.put(&slug("acme"), Rc::new(found("acme", 0)));
        m.put(&slug("other"), Rc::new(found("other", 0)));
        let dropped = m.purge(&Lookup::Domain(
            Host::parse_domain("coach.acme.com").unwrap(),
        ));
        assert_eq!(dropped.len(), 3);
        assert!(m.get(&slug("acme")).is_none());
        assert!(m.get(&slug("other")).is_some());
    }

    #[test]
    fn a_refresh_is_claimed_once_per_backoff() {
        let mut m = Memory::new(10);
        m.put(&slug("acme"), Rc::new(found("acme", 0)));
        assert!(m.claim_refresh(&slug("acme"), 100));
        assert!(!m.claim_refresh(&slug("acme"), 200));
        assert!(m.claim_refresh(&slug("acme"), 100 + REFRESH_BACKOFF_MS));
        assert!(!m.claim_refresh(&slug("unknown"), 0));
    }

    #[test]
    fn a_refresh_claimed_by_one_key_holds_for_every_key_of_the_answer() {
        let mut m = Memory::new(10);
        m.put(&slug("acme"), Rc::new(found("acme", 0)));
        m.put(&slug("other"), Rc::new(found("other", 0)));
        let by_domain = Lookup::Domain(Host::parse_domain("coach.acme.com").unwrap());
        assert!(m.claim_refresh(&slug("acme"), 100));
        assert!(!m.claim_refresh(&by_domain, 100), "the same entry");
        assert!(m.claim_refresh(&slug("other"), 100), "another entry");
        m.put(&by_domain, Rc::new(found("acme", 50)));
        assert!(
            m.claim_refresh(&slug("acme"), 100),
            "a new entry starts without a claim"
        );
    }

    #[test]
    fn a_change_marks_the_tenant_under_every_key_and_forgets_older_negatives() {
        let mut m = Memory::new(10);
        let acme = Rc::new(found("acme", 1_000));
        let tenant = *acme.hash().unwrap();
        m.put(&slug("acme"), acme);
        m.put(&slug("other"), Rc::new(found("other", 1_000)));
        m.put(&slug("nobody"), Rc::new(missing(1_000)));
        m.put(&slug("newcomer"), Rc::new(missing(9_000)));
        let applied = Applied {
            tenants: HashMap::from([(tenant, 5_000)]),
            newest_ms: Some(5_000),
            ended: None,
        };
        assert_eq!(
            m.apply_changes(&applied),
            4,
            "acme's three keys and the older negative"
        );
        let by_domain = Lookup::Domain(Host::parse_domain("coach.acme.com").unwrap());
        assert!(m.get(&slug("acme")).unwrap().changed);
        assert!(m.get(&by_domain).unwrap().changed);
        assert!(m.get(&slug("nobody")).is_none());
        assert!(!m.get(&slug("other")).unwrap().changed);
        assert!(
            m.get(&slug("newcomer")).is_some(),
            "fetched after the change"
        );
        assert_eq!(
            m.apply_changes(&applied),
            0,
            "applying it again changes nothing"
        );
        m.put(&slug("acme"), Rc::new(found("acme", 6_000)));
        assert!(
            !m.get(&by_domain).unwrap().changed,
            "a new entry clears the mark"
        );
    }
}
