//! Taking notes out and bringing them in: `notebox export` (a SQLite file with the tables
//! and columns the clients sync, or one Markdown file per note) and `notebox import`
//! (folders of Markdown/text files, or a notebox SQLite export).

mod import;
mod markdown;
mod names;
mod sqlite;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

pub use import::{ImportReport, import};
pub use markdown::write_markdown;
pub use names::safe_file_name;
pub use sqlite::{EXPORTED_TABLES, write_sqlite};

/// Every note the user syncs: personal ones and those of their notebooks, as the clients
/// receive them (the sync streams in `schema.rs`).
const USER_NOTES: &str = "(t.owner_id = $1 and t.notebook_id is null)
    or t.notebook_id in (select notebook_id from notebook_members where user_id = $1)";

/// One note with what a Markdown file shows of it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportedNote {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub notebook: Option<String>,
}

/// A consistent snapshot for one export: every read sees the same moment.
async fn snapshot(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = crate::db::begin(pool).await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// The user's notes, oldest first, with their notebook's name.
pub async fn notes_of(pool: &PgPool, user: Uuid) -> Result<Vec<ExportedNote>, sqlx::Error> {
    let mut tx = snapshot(pool).await?;
    let notes = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select t.id, t.title, t.body, t.created_at, t.updated_at, nb.name as notebook
         from notes t left join notebooks nb on nb.id = t.notebook_id
         where {USER_NOTES} order by t.created_at, t.id"
    )))
    .bind(user)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(notes)
}
