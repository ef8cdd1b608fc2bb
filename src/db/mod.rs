//! Postgres: the pool, migrations, the PowerSync setup and the preflight checks.

mod app_role;
mod bootstrap;
mod migrate;
mod powersync_setup;
mod preflight;
pub mod tls;

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::{Connection, PgPool, Postgres, Transaction};
use tracing::Instrument;

use crate::config::{DatabaseConfig, redact_url_password};

pub use app_role::serving_role;
pub use bootstrap::under_setup_lock;
pub use migrate::{MIGRATOR, MigrationState, migrate, migration_status};
pub use powersync_setup::{PUBLICATION, SetupStep, setup_powersync, synced_tables};
pub use preflight::{Check, Severity, preflight};

/// Why Postgres could not be used, phrased for the person running notebox.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DbError(pub String);

/// Opens the pool and proves it works with one connection, so a wrong URL fails now
/// with a clear sentence instead of on the first request.
pub async fn connect(config: &DatabaseConfig) -> Result<PgPool, DbError> {
    connect_as(config, config.url.expose(), config.max_connections).await
}

/// The pool for `migrate` and the setup step: `database.admin_url` when set, else `url`.
/// Small: the setup runs one step at a time.
pub async fn connect_admin(config: &DatabaseConfig) -> Result<PgPool, DbError> {
    let url = config.admin_url.as_ref().unwrap_or(&config.url);
    connect_as(config, url.expose(), 2).await
}

async fn connect_as(
    config: &DatabaseConfig,
    url: &str,
    max_connections: u32,
) -> Result<PgPool, DbError> {
    let options = connect_options(url)?.options([
        ("statement_timeout", millis(config.statement_timeout)),
        (
            "idle_in_transaction_session_timeout",
            millis(config.idle_in_transaction_timeout),
        ),
    ]);
    // One direct connection first: the pool would retry a refused connection until its
    // timeout and then only say "timed out", hiding the real cause.
    let probe = tokio::time::timeout(config.acquire_timeout, PgConnection::connect_with(&options))
        .await
        .map_err(|_| explain(&sqlx::Error::PoolTimedOut, url))?
        .map_err(|e| explain(&e, url))?;
    let _ = probe.close().await;
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(config.acquire_timeout)
        // No ping before every checkout (a round trip per request): a dead connection
        // fails on use, and that failure is already classified as transient. Nor a check
        // on release: no transaction outlives its request (see `begin`), and sqlx flushes
        // the rollback of a dropped one before the connection is idle again.
        .test_before_acquire(false)
        .connect_lazy_with(options))
}

fn millis(duration: std::time::Duration) -> String {
    format!("{}ms", duration.as_millis())
}

/// Starts a transaction on a connection of `pool`. Use it instead of `pool.begin()`
/// (clippy.toml forbids that): sqlx counts a transaction only once Postgres answered its
/// BEGIN, so a request cancelled (client hang-up, timeout) while BEGIN was on the wire
/// would return its connection to the pool inside a transaction nobody knows of, and a
/// later one-statement upload on it would report success without committing. Here BEGIN
/// runs to completion in a task of its own; when the caller is gone by then, the
/// transaction is dropped there, which rolls it back before the connection is reused.
pub async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let pool = pool.clone();
    // In the caller's span, as the upload task is: sqlx's logs of it keep the request.
    #[expect(clippy::disallowed_methods, reason = "the one cancel-safe caller")]
    let task = tokio::spawn(async move { pool.begin().await }.in_current_span());
    match task.await {
        Ok(result) => result,
        Err(error) => match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // Only when the runtime shuts down.
            Err(_) => Err(sqlx::Error::PoolClosed),
        },
    }
}

pub fn connect_options(url: &str) -> Result<PgConnectOptions, DbError> {
    PgConnectOptions::from_str(url).map_err(|e| {
        DbError(format!(
            "database.url ({}) is not a valid Postgres URL: {e}",
            redact_url_password(url)
        ))
    })
}

/// Turns a connection error into one actionable sentence.
pub fn explain(error: &sqlx::Error, url: &str) -> DbError {
    let target = redact_url_password(url);
    let parsed = url::Url::parse(url).ok();
    let user = parsed
        .as_ref()
        .map(|u| u.username().to_owned())
        .unwrap_or_default();
    let database = parsed
        .as_ref()
        .map(|u| u.path().trim_start_matches('/').to_owned())
        .unwrap_or_default();
    let message = match error {
        // rustls reports a refused certificate as an I/O error of the handshake.
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
            tls::explain_failure(&io.to_string(), url)
        }
        sqlx::Error::Io(io) => {
            format!("cannot reach Postgres at {target} ({io}): start Postgres or fix database.url")
        }
        sqlx::Error::PoolTimedOut => format!(
            "timed out connecting to Postgres at {target}: check that it is running and reachable, or raise database.acquire_timeout"
        ),
        sqlx::Error::Tls(e) => tls::explain_failure(&e.to_string(), url),
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") => format!(
                "Postgres refused the password for user {user:?}: fix the password in database.url"
            ),
            Some("28000") => format!(
                "Postgres does not let user {user:?} connect ({}): fix the user in database.url or pg_hba.conf",
                db.message()
            ),
            Some("3D000") => format!(
                "database {database:?} does not exist on {target}: create it (createdb {database}) or fix database.url"
            ),
            Some("57P03") => format!(
                "Postgres at {target} is starting up or shutting down: try again in a moment"
            ),
            _ => format!(
                "Postgres at {target} refused the connection: {}",
                db.message()
            ),
        },
        other => format!("cannot use Postgres at {target}: {other}"),
    };
    DbError(message)
}

/// Errors after which the same request may well succeed: the connection, the pool,
/// serialization/deadlock (40001/40P01), resources (53xxx), operator intervention (57xxx).
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| {
            matches!(c.as_ref(), "40001" | "40P01")
                || c.starts_with("53")
                || c.starts_with("57")
                || c.starts_with("08")
        }),
        _ => false,
    }
}
