//! Migrations, the PowerSync setup and the first signing key run once per database, however
//! many replicas start at the same moment: under one session-level advisory lock, held on a
//! connection of its own. The other replicas wait for it, then find everything done.
//!
//! The lock is released explicitly on every return path; if the process dies or the future
//! is dropped, the connection closes and Postgres releases the lock with the session.

use std::future::Future;

use sqlx::postgres::PgConnection;
use sqlx::{Connection, PgPool};

use super::DbError;

/// The key of the setup lock ("notebox" + 0x10), one per database.
const SETUP_LOCK: i64 = 0x6e6f_7465_626f_7810;

/// Runs `work` while holding the setup lock. `work` may use `pool` freely: the lock belongs
/// to a dedicated connection, not to the pool's.
pub async fn under_setup_lock<T, E, F>(pool: &PgPool, work: impl FnOnce() -> F) -> Result<T, E>
where
    E: From<DbError>,
    F: Future<Output = Result<T, E>>,
{
    let fail = |e: sqlx::Error| DbError(format!("could not take the setup lock: {e}"));
    let mut conn = PgConnection::connect_with(&pool.connect_options())
        .await
        .map_err(fail)?;
    // Waiting for another replica's migrations may take longer than statement_timeout.
    let locked = async {
        sqlx::query("set statement_timeout = 0")
            .execute(&mut conn)
            .await?;
        sqlx::query("select pg_advisory_lock($1)")
            .bind(SETUP_LOCK)
            .execute(&mut conn)
            .await
    }
    .await;
    if let Err(e) = locked {
        let _ = conn.close().await;
        return Err(fail(e).into());
    }
    let result = work().await;
    let unlocked = sqlx::query("select pg_advisory_unlock($1)")
        .bind(SETUP_LOCK)
        .execute(&mut conn)
        .await;
    if let Err(error) = unlocked {
        tracing::warn!(%error, "could not release the setup lock; closing its connection releases it");
    }
    let _ = conn.close().await;
    result
}
