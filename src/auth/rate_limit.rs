//! Attempt limits for login and sign-up, per client address and per account, on `governor`'s
//! keyed GCRA limiter. Kept in memory: each replica limits on its own, which still bounds
//! guessing. Memory stays bounded under a flood of distinct keys: keys whose bucket is full
//! again are forgotten regularly, and past `MAX_KEYS` the whole table starts afresh.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// Keys tracked at most (a key costs well under 100 bytes).
pub const MAX_KEYS: usize = 50_000;
/// How often keys whose bucket has refilled are forgotten.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

pub struct RateLimiter<K: Hash + Eq + Clone> {
    quota: Quota,
    state: Mutex<State<K>>,
}

struct State<K: Hash + Eq + Clone> {
    limiter: Arc<DefaultKeyedRateLimiter<K>>,
    pruned: Instant,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// Allows `burst` attempts at once, then one more per `refill_every`.
    pub fn new(burst: u32, refill_every: Duration) -> Self {
        let quota = Quota::with_period(refill_every)
            .expect("a non-zero refill period")
            .allow_burst(NonZeroU32::new(burst).expect("a non-zero burst"));
        Self {
            quota,
            state: Mutex::new(State {
                limiter: Arc::new(DefaultKeyedRateLimiter::keyed(quota)),
                pruned: Instant::now(),
            }),
        }
    }

    /// Takes one attempt for `key`, or says how long to wait for the next.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        let limiter = self.limiter();
        limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Keys currently tracked.
    pub fn len(&self) -> usize {
        self.limiter().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The current limiter, pruned first when it is due.
    fn limiter(&self) -> Arc<DefaultKeyedRateLimiter<K>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let full = state.limiter.len() >= MAX_KEYS;
        if full || state.pruned.elapsed() >= PRUNE_EVERY {
            state.limiter.retain_recent();
            state.limiter.shrink_to_fit();
            state.pruned = Instant::now();
            // Still crowded after forgetting refilled keys: a flood of distinct addresses.
            // Starting afresh forgets their counts too, but memory must stay bounded.
            if state.limiter.len() >= MAX_KEYS * 3 / 4 {
                tracing::warn!(
                    keys = state.limiter.len(),
                    "rate limiter table full (a flood of distinct clients?): starting afresh"
                );
                state.limiter = Arc::new(DefaultKeyedRateLimiter::keyed(self.quota));
            }
        }
        state.limiter.clone()
    }
}

/// The key a client address is limited under: IPv4 as is, IPv6 by its /64 (one
/// customer's whole prefix, which they can spread requests over at will).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refuse_with_wait() {
        let limiter = RateLimiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(limiter.check(&"a").is_ok());
        }
        let wait = limiter.check(&"a").unwrap_err();
        assert!(
            wait > Duration::from_secs(55) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        assert!(limiter.check(&"b").is_ok(), "keys are independent");
    }

    #[test]
    fn a_flood_of_distinct_addresses_stays_bounded() {
        let limiter = RateLimiter::new(20, Duration::from_secs(3));
        for n in 0..100_000u32 {
            let ip = IpAddr::V4(n.wrapping_mul(2_654_435_761).into());
            let _ = limiter.check(&client_key(ip));
            assert!(
                limiter.len() <= MAX_KEYS,
                "{} keys after {n}",
                limiter.len()
            );
        }
        // A key that is still refilling and was seen recently is remembered.
        let me = IpAddr::from([203, 0, 113, 7]);
        for _ in 0..20 {
            limiter.check(&me).unwrap();
        }
        assert!(limiter.check(&me).is_err());
    }

    #[test]
    fn ipv6_is_limited_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(client_key(mapped), IpAddr::from([192, 0, 2, 1]));
    }
}
