//! The in-isolate memory tier of the tenant cache.
//!
//! A bounded map from lookup key to [`Entry`], evicting the least recently used key. A tenant is
//! stored once (one `Rc<Entry>`) and reachable by each of its keys, so a lookup by slug warms the
//! lookups by domain and id. It lives as long as the isolate, shared by the requests it serves.

use std::collections::HashMap;
use std::rc::Rc;

use crate::cache::{Entry, REFRESH_BACKOFF_MS};
use crate::key::Lookup;

/// One memory slot: an entry, when it was last used, and when a failed refresh may be retried.
#[derive(Debug)]
struct Slot {
    entry: Rc<Entry>,
    used: u64,
    retry_refresh_at_ms: u64,
}

/// The in-isolate memory tier: at most `capacity` keys, least recently used evicted first.
#[derive(Debug)]
pub struct Memory {
    capacity: usize,
    slots: HashMap<String, Slot>,
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

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
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

    /// The entry for `lookup`, marking it used.
    pub fn get(&mut self, lookup: &Lookup) -> Option<Rc<Entry>> {
        self.clock += 1;
        let slot = self.slots.get_mut(&lookup.to_string())?;
        slot.used = self.clock;
        Some(slot.entry.clone())
    }

    /// Stores the answer to `lookup` under its key and, for a tenant, under every key of the
    /// tenant, all sharing one entry.
    pub fn put(&mut self, lookup: &Lookup, entry: Entry) {
        let mut keys = entry.record.as_ref().map(|r| r.keys()).unwrap_or_default();
        let key = lookup.to_string();
        if !keys.contains(&key) {
            keys.push(key);
        }
        let entry = Rc::new(entry);
        for key in keys {
            self.clock += 1;
            let slot = Slot {
                entry: entry.clone(),
                used: self.clock,
                retry_refresh_at_ms: 0,
            };
            if self.slots.insert(key, slot).is_none() && self.slots.len() > self.capacity {
                self.evict_one();
            }
        }
    }

    /// Whether a background refresh of `lookup` may start now; if so, no other may start before
    /// `REFRESH_BACKOFF_MS` has passed (a successful refresh replaces the slot anyway).
    pub fn claim_refresh(&mut self, lookup: &Lookup, now_ms: u64) -> bool {
        match self.slots.get_mut(&lookup.to_string()) {
            Some(slot) if slot.retry_refresh_at_ms <= now_ms => {
                slot.retry_refresh_at_ms = now_ms + REFRESH_BACKOFF_MS;
                true
            }
            _ => false,
        }
    }

    /// Drops `key` and, when it holds a tenant, every key of that tenant. Returns the keys
    /// dropped.
    pub fn purge(&mut self, lookup: &Lookup) -> Vec<String> {
        let key = lookup.to_string();
        let mut keys = vec![key.clone()];
        if let Some(record) = self.slots.get(&key).and_then(|s| s.entry.record.clone()) {
            keys.extend(record.keys().into_iter().filter(|k| *k != key));
        }
        keys.retain(|k| self.slots.remove(k).is_some());
        keys
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
    use crate::cache::tests::found;
    use crate::key::{Slug, TenantId};
    use crate::Host;

    fn slug(s: &str) -> Lookup {
        Lookup::Slug(Slug::parse(s).unwrap())
    }

    #[test]
    fn a_tenant_is_reachable_by_each_of_its_keys() {
        let mut m = Memory::new(10);
        m.put(&slug("acme"), found("acme", 0));
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
            Rc::ptr_eq(&by_domain, &by_id),
            "one entry shared by all keys"
        );
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn the_least_recently_used_key_is_evicted_at_capacity() {
        let mut m = Memory::new(2);
        m.put(
            &slug("aaa"),
            Entry {
                record: None,
                fetched_at_ms: 0,
            },
        );
        m.put(
            &slug("bbb"),
            Entry {
                record: None,
                fetched_at_ms: 0,
            },
        );
        m.get(&slug("aaa"));
        m.put(
            &slug("ccc"),
            Entry {
                record: None,
                fetched_at_ms: 0,
            },
        );
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
                found(&format!("tenant-{i}"), 0),
            );
            assert!(m.len() <= 5);
        }
        m.set_capacity(2);
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn purge_drops_every_key_of_the_tenant() {
        let mut m = Memory::new(10);
        m.put(&slug("acme"), found("acme", 0));
        m.put(&slug("other"), found("other", 0));
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
        m.put(&slug("acme"), found("acme", 0));
        assert!(m.claim_refresh(&slug("acme"), 100));
        assert!(!m.claim_refresh(&slug("acme"), 200));
        assert!(m.claim_refresh(&slug("acme"), 100 + REFRESH_BACKOFF_MS));
        assert!(!m.claim_refresh(&slug("unknown"), 0));
    }
}
