//! The embedded SQL migrations, then the PowerSync setup that depends on them.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::migrate::{MigrateError, Migrator};

use super::{DbError, SetupStep, setup_powersync};
use crate::config::Config;

/// Every file of `migrations/`, embedded at compile time.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// Applies pending migrations, then (idempotently) the publication, the replication role,
/// PowerSync's storage database and, with `database.admin_url`, the app role's grants.
/// Returns what the setup did or skipped. Replicas starting together: see `under_setup_lock`.
pub async fn migrate(pool: &PgPool, config: &Config) -> Result<Vec<SetupStep>, DbError> {
    MIGRATOR.run(pool).await.map_err(explain_migrate_error)?;
    let mut steps = setup_powersync(pool, config).await?;
    steps.extend(
        super::app_role::app_role(pool, &config.database)
            .await
            .map_err(|e| DbError(format!("app role setup failed: {e}")))?,
    );
    Ok(steps)
}

fn explain_migrate_error(error: MigrateError) -> DbError {
    DbError(match error {
        MigrateError::VersionMismatch(v) => format!(
            "migration {v} was changed after it was applied to this database; shipped migrations must never be edited: restore the original file"
        ),
        MigrateError::VersionMissing(v) => format!(
            "this database has migration {v} applied, which this notebox binary does not know: run a newer notebox"
        ),
        MigrateError::Dirty(v) => format!(
            "migration {v} failed half-way earlier; fix the cause, then delete its row from _sqlx_migrations and run `notebox migrate` again"
        ),
        MigrateError::Execute(e) => format!("a migration failed: {e}"),
        other => format!("migrations could not run: {other}"),
    })
}

/// One embedded migration and whether this database has it.
#[derive(Debug, Clone)]
pub struct MigrationState {
    pub version: i64,
    pub description: String,
    pub applied_on: Option<DateTime<Utc>>,
}

pub async fn migration_status(pool: &PgPool) -> Result<Vec<MigrationState>, sqlx::Error> {
    let table_exists: bool =
        sqlx::query_scalar("select to_regclass('_sqlx_migrations') is not null")
            .fetch_one(pool)
            .await?;
    let applied: Vec<(i64, DateTime<Utc>)> = if table_exists {
        sqlx::query_as("select version, installed_on from _sqlx_migrations where success")
            .fetch_all(pool)
            .await?
    } else {
        Vec::new()
    };
    Ok(MIGRATOR
        .iter()
        .map(|m| MigrationState {
            version: m.version,
            description: m.description.to_string(),
            applied_on: applied
                .iter()
                .find(|(v, _)| *v == m.version)
                .map(|(_, at)| *at),
        })
        .collect())
}
