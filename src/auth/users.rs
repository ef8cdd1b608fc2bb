//! Accounts in Postgres. Emails are unique whatever their case.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

#[derive(Debug, Clone, FromRow, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    #[serde(skip)]
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub disabled_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, email, display_name, is_admin, created_at, disabled_at";

/// The user and their password hash.
pub async fn find_by_email(
    db: impl PgExecutor<'_>,
    email: &str,
) -> Result<Option<(User, String)>, sqlx::Error> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: User,
        password_hash: String,
    }
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS}, password_hash from users where lower(email) = lower($1)"
    )))
    .bind(email)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.user, r.password_hash)))
}

pub async fn create(
    db: impl PgExecutor<'_>,
    email: &str,
    display_name: &str,
    password_hash: &str,
    is_admin: bool,
) -> Result<User, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into users (email, display_name, password_hash, is_admin) values ($1, $2, $3, $4) returning {COLUMNS}"
    )))
    .bind(email)
    .bind(display_name)
    .bind(password_hash)
    .bind(is_admin)
    .fetch_one(db)
    .await
}

pub async fn count(db: impl PgExecutor<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from users")
        .fetch_one(db)
        .await
}

pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<User>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from users order by created_at"
    )))
    .fetch_all(db)
    .await
}

/// Disables the account and ends its sessions. False when there is no such user.
pub async fn disable(pool: &sqlx::PgPool, email: &str) -> Result<bool, sqlx::Error> {
    let sql = "update users set disabled_at = coalesce(disabled_at, now()) where lower(email) = lower($1) returning id";
    update_and_end_sessions(pool, sqlx::query_scalar(sql).bind(email)).await
}

/// Sets a new password hash and ends every session of the user. False when there is no such user.
pub async fn set_password(
    pool: &sqlx::PgPool,
    email: &str,
    password_hash: &str,
) -> Result<bool, sqlx::Error> {
    let sql = "update users set password_hash = $2 where lower(email) = lower($1) returning id";
    update_and_end_sessions(
        pool,
        sqlx::query_scalar(sql).bind(email).bind(password_hash),
    )
    .await
}

/// Runs an update returning the user's id, and ends that user's sessions, atomically.
async fn update_and_end_sessions<'q>(
    pool: &sqlx::PgPool,
    update: sqlx::query::QueryScalar<'q, sqlx::Postgres, Uuid, sqlx::postgres::PgArguments>,
) -> Result<bool, sqlx::Error> {
    let mut tx = crate::db::begin(pool).await?;
    let id = update.fetch_optional(&mut *tx).await?;
    if let Some(id) = id {
        sqlx::query("delete from sessions where user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(id.is_some())
}
