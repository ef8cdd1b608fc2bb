//! Credentials this replica verified a moment ago. An upload queue draining or the UI
//! fetching tokens makes bursts of requests with one credential: trusting a positive answer
//! for `auth.recheck_after` saves a database round trip on each. Revocation on this replica
//! is immediate; elsewhere (another replica, `notebox user disable`) it takes at most that long.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries beyond this many are pruned of stale ones, bounding memory.
const MAX_ENTRIES: usize = 50_000;

pub struct Recent<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> Recent<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (V, Instant)>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.lock();
        let (value, at) = entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    pub fn insert(&self, key: K, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
        }
        entries.insert(key, (value, Instant::now()));
    }

    pub fn remove(&self, key: &K) {
        self.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_removed() {
        let recent = Recent::new(Duration::from_millis(50));
        recent.insert("a", 1);
        assert_eq!(recent.get(&"a"), Some(1));
        recent.remove(&"a");
        assert_eq!(recent.get(&"a"), None);
        recent.insert("b", 2);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(recent.get(&"b"), None);
        let never = Recent::new(Duration::ZERO);
        never.insert("c", 3);
        assert_eq!(never.get(&"c"), None);
    }
}
