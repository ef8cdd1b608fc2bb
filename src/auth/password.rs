//! argon2id password hashes, computed on the blocking pool so the async runtime keeps
//! serving while a hash takes its tens of milliseconds. Each hash holds a 19 MiB buffer, so
//! the server computes at most `Hasher::limit` at once: a flood of logins queues briefly and
//! is then answered 503, instead of growing memory by 19 MiB per concurrent attempt.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tokio::sync::Semaphore;

/// Longest a login waits for a hashing slot before it is told to come back.
const QUEUE_WAIT: Duration = Duration::from_secs(5);

pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_now(&password)).await?
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

fn verify_now(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The server was too busy hashing to take this attempt within `QUEUE_WAIT`.
#[derive(Debug, thiserror::Error)]
#[error("too many logins at once; try again in a few seconds")]
pub struct Busy;

/// Hashes and verifies with bounded concurrency (the HTTP handlers' way in).
pub struct Hasher {
    slots: Arc<Semaphore>,
    limit: usize,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    running: AtomicUsize,
    peak: AtomicUsize,
}

impl Default for Hasher {
    /// One hash per CPU: more would only queue on the blocking pool holding memory.
    fn default() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, usize::from))
    }
}

impl Hasher {
    pub fn new(limit: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(limit)),
            limit,
            counts: Arc::default(),
        }
    }

    /// Hashes computed at most at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The most hashes that ever ran at once.
    pub fn peak(&self) -> usize {
        self.counts.peak.load(Ordering::Relaxed)
    }

    pub async fn hash(&self, password: String) -> Result<anyhow::Result<String>, Busy> {
        self.run(move || hash_now(&password)).await
    }

    /// False for a wrong password and for an unparsable hash alike.
    pub async fn verify(&self, password: String, hash: String) -> Result<bool, Busy> {
        self.run(move || verify_now(&password, &hash)).await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let permit = tokio::time::timeout(QUEUE_WAIT, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| Busy)?
            .expect("the semaphore is never closed");
        let counts = self.counts.clone();
        // The permit lives as long as the hash, even when the request is dropped meanwhile.
        let result = tokio::task::spawn_blocking(move || {
            let running = counts.running.fetch_add(1, Ordering::Relaxed) + 1;
            counts.peak.fetch_max(running, Ordering::Relaxed);
            let result = work();
            counts.running.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
            result
        })
        .await;
        Ok(result.expect("hashing never panics"))
    }
}
