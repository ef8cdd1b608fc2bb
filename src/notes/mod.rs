//! What happens to a note beyond its live row: the trash it goes to when deleted and the
//! history of its earlier versions, both read and restored over HTTP (never synced, so
//! clients' databases stay small), and the upkeep that purges them after their time.

mod conflicts;
mod trash;
mod versions;

pub use versions::save_version;

use std::time::Duration;

use serde::Serialize;
use sqlx::PgPool;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::config::Config;
use crate::http::ApiError;

/// `/api/trash…` and `/api/notes/{id}/versions…` (nested under `/api`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(trash::list))
        .routes(routes!(trash::purge))
        .routes(routes!(trash::restore))
        .routes(routes!(versions::list))
        .routes(routes!(conflicts::resolve))
        .routes(routes!(versions::restore))
}

/// The note a request changed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoteRef {
    pub id: uuid::Uuid,
}

/// SQL: the caller (`$1`, uuid) may change a note with these owner and notebook columns.
fn may_write(owner: &str, notebook: &str) -> String {
    format!(
        "(({notebook} is null and {owner} = $1) or exists (select 1 from notebook_members m \
         where m.notebook_id = {notebook} and m.user_id = $1 and m.role in ('owner', 'editor')))"
    )
}

/// SQL: the caller (`$1`, uuid) may see a note with these owner and notebook columns.
fn may_see(owner: &str, notebook: &str) -> String {
    format!(
        "(({notebook} is null and {owner} = $1) or exists (select 1 from notebook_members m \
         where m.notebook_id = {notebook} and m.user_id = $1))"
    )
}

fn parse_note_id(id: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(id).map_err(|_| ApiError::Missing("there is no such note".into()))
}

/// Writes the settings the history trigger reads (`notes.history_interval`).
pub async fn apply_settings(pool: &PgPool, config: &Config) -> Result<(), sqlx::Error> {
    sqlx::query("update notebox_settings set history_interval = make_interval(secs => $1)")
        .bind(config.notes.history_interval.as_secs_f64())
        .execute(pool)
        .await?;
    Ok(())
}

/// Purges what has outlived its retention: trashed notes (and their history) after
/// `notes.trash_days`, the upload ledger after `upload.ledger_retention`. In small batches,
/// so uploads writing the same tables never wait long behind it.
pub async fn purge_expired(pool: &PgPool, config: &Config) -> Result<u64, sqlx::Error> {
    const BATCH: i64 = 1000;
    let trash_age = Duration::from_secs(u64::from(config.notes.trash_days) * 86_400);
    let ledger_age = config.upload.ledger_retention;
    let mut purged = 0;
    loop {
        let gone: i64 = sqlx::query_scalar(
            "with gone as (delete from note_trash where id in (select id from note_trash \
             where deleted_at < now() - make_interval(secs => $1) limit $2) returning id), \
             history as (delete from note_versions v using gone where v.note_id = gone.id) \
             select count(*) from gone",
        )
        .bind(trash_age.as_secs_f64())
        .bind(BATCH)
        .fetch_one(pool)
        .await?;
        let ledger = sqlx::query(
            "delete from upload_ledger where ctid = any(array(select ctid from upload_ledger \
             where applied_at < now() - make_interval(secs => $1) limit $2))",
        )
        .bind(ledger_age.as_secs_f64())
        .bind(BATCH)
        .execute(pool)
        .await?
        .rows_affected();
        purged += gone as u64 + ledger;
        if gone < BATCH && ledger < BATCH as u64 {
            return Ok(purged);
        }
        tokio::task::yield_now().await;
    }
}
