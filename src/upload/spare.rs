//! One pooled connection kept from one upload for the next.
//!
//! sqlx tests every connection given back to its pool with a round trip to Postgres, which
//! also flushes a rollback left queued on it. An upload that finished without an error on
//! its connection needs neither: it ran in a task nothing cancels, so no statement was cut
//! off midway, and it left no transaction open and nothing unsent (both checked here). Kept
//! for the next upload, such a connection saves that round trip and the pool's hand-over: a
//! device sending its queue one transaction after another writes on one connection.
//! Anything else goes back through the pool as usual: a connection after an error, one
//! unused for `IDLE`, one used `USES` times in a row (so the pool's own checks and
//! `max_lifetime` still see it), and one the pool may be short of (a pool of one never
//! keeps a spare).

use std::sync::{Mutex, Weak};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Connection, PgPool, Postgres};

/// A spare unused this long goes back to the pool (a device sends its next transaction
/// as soon as the last one is answered).
const IDLE: Duration = Duration::from_millis(500);
/// How often a spare is checked for idleness: it is out of the pool `IDLE` + this at most.
const SWEEP: Duration = Duration::from_millis(125);
/// Uploads in a row on one spare before it goes back through the pool.
const USES: u32 = 1000;

#[derive(Default)]
pub struct Spare {
    slot: Mutex<Option<Kept>>,
}

/// A connection from the pool, and how many uploads in a row ran on it.
pub struct Held {
    pub conn: PoolConnection<Postgres>,
    uses: u32,
}

impl Held {
    pub fn new(conn: PoolConnection<Postgres>) -> Self {
        Self { conn, uses: 0 }
    }
}

struct Kept {
    held: Held,
    since: Instant,
}

impl Spare {
    /// The spare, when there is one kept less than `IDLE` ago.
    pub fn take(&self) -> Option<Held> {
        let kept = self.lock().take()?;
        (kept.since.elapsed() < IDLE).then_some(kept.held)
    }

    /// Keeps `held` for the next upload. Call it only after an upload that finished
    /// without an error on it; a connection still in a transaction is never kept, nor one
    /// that other requests of `pool` may be waiting for (no other connection idle, and no
    /// room to open one).
    pub fn keep(&self, mut held: Held, pool: &PgPool) {
        held.uses += 1;
        let spare_room = pool.num_idle() > 0 || pool.size() < pool.options().get_max_connections();
        // A transaction left open, or a message not yet sent (a dropped transaction's
        // queued ROLLBACK): what sqlx's check on return would flush. Never kept.
        let unsettled = held.conn.is_in_transaction() || held.conn.should_flush();
        if held.uses >= USES || unsettled || !spare_room || pool.is_closed() {
            return;
        }
        let mut slot = self.lock();
        if slot.is_none() {
            *slot = Some(Kept {
                held,
                since: Instant::now(),
            });
        }
    }

    /// Gives a spare unused for `IDLE` back to the pool, checking every `SWEEP`, until the
    /// upload state is dropped: an idle server holds no connection out of the pool for long.
    pub async fn release_idle(spare: Weak<Self>) {
        let mut every = tokio::time::interval(SWEEP);
        loop {
            every.tick().await;
            let Some(spare) = spare.upgrade() else { return };
            let mut slot = spare.lock();
            let idle = slot
                .as_ref()
                .is_some_and(|kept| kept.since.elapsed() >= IDLE);
            let released = if idle { slot.take() } else { None };
            drop(slot);
            drop(released);
        }
    }

    /// Gives the spare back to the pool now (before the pool closes).
    pub fn release(&self) {
        let released = self.lock().take();
        drop(released);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Kept>> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }
}
