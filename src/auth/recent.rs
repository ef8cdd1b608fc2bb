//! Credentials this replica verified a moment ago. An upload queue draining or the UI
//! fetching tokens makes bursts of requests with one credential: trusting a positive answer
//! for `auth.recheck_after` saves a database round trip on each. Revocation on this replica
//! is immediate; elsewhere (another replica, `notebox user disable`) it takes at most that long.

use std::hash::Hash;
use std::time::{Duration, Instant};

/// A bounded cache (`quick_cache`: CLOCK-Pro eviction) whose entries count only while
/// younger than `ttl`. A storm of distinct credentials evicts older ones instead of
/// growing memory: a miss costs one database round trip, never a wrong answer.
pub struct Recent<K, V> {
    ttl: Duration,
    entries: quick_cache::sync::Cache<K, (V, Instant)>,
}

impl<K: Eq + Hash, V: Clone> Recent<K, V> {
    /// At most `capacity` entries.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            entries: quick_cache::sync::Cache::new(capacity.max(1)),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let (value, at) = self.entries.get(key)?;
        (at.elapsed() < self.ttl).then_some(value)
    }

    pub fn insert(&self, key: K, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        self.entries.insert(key, (value, Instant::now()));
    }

    pub fn remove(&self, key: &K) {
        self.entries.remove(key);
    }

    /// Drops the entries that no longer count, so memory falls back after a burst.
    pub fn forget_expired(&self) {
        let ttl = self.ttl;
        self.entries.retain(|_, (_, at)| at.elapsed() < ttl);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_removed() {
        let recent = Recent::new(Duration::from_millis(50), 10);
        recent.insert("a", 1);
        assert_eq!(recent.get(&"a"), Some(1));
        recent.remove(&"a");
        assert_eq!(recent.get(&"a"), None);
        recent.insert("b", 2);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(recent.get(&"b"), None);
        let never = Recent::new(Duration::ZERO, 10);
        never.insert("c", 3);
        assert_eq!(never.get(&"c"), None);
        let recent = Recent::new(Duration::from_millis(50), 10);
        recent.insert("d", 4);
        std::thread::sleep(Duration::from_millis(60));
        recent.insert("e", 5);
        recent.forget_expired();
        assert_eq!((recent.len(), recent.get(&"e")), (1, Some(5)));
    }

    #[test]
    fn a_storm_of_keys_stays_within_capacity() {
        let recent = Recent::new(Duration::from_secs(60), 100);
        for key in 0..10_000 {
            recent.insert(key, key);
        }
        assert!(recent.len() <= 100, "{} entries", recent.len());
        assert_eq!(recent.get(&9_999), Some(9_999), "the newest entry is kept");
    }
}
