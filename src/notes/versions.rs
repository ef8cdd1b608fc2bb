//! `GET /api/notes/{id}/versions` (anyone who may see the note) and
//! `POST /api/notes/{id}/versions/{v}/restore` (anyone who may write it): the earlier
//! titles and bodies the server kept. Restoring saves the current text as a version first,
//! so a restore can itself be undone.

use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{may_see, may_write, parse_note_id};
use crate::app::AppState;
use crate::auth::CurrentSession;
use crate::http::{ApiError, Json};

#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Version {
    id: i64,
    title: String,
    body: String,
    /// When this text was current, and who wrote it.
    created_at: DateTime<Utc>,
    created_by: Option<Uuid>,
    created_by_name: Option<String>,
    /// `edit` (periodic), `merge`, `conflict` or `restore`: what was about to replace it.
    reason: String,
    saved_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Versions {
    versions: Vec<Version>,
}

/// The note and the version put back.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RestoredVersion {
    id: Uuid,
    version: i64,
}

/// 404 unless the note exists and the caller may see it (or, with `write`, change it).
async fn check_access(
    state: &AppState,
    session: &CurrentSession,
    note_id: Uuid,
    write: bool,
) -> Result<(), ApiError> {
    let rule = if write { may_write } else { may_see };
    let allowed: Option<bool> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select {} from notes n where n.id = $2",
        rule("n.owner_id", "n.notebook_id")
    )))
    .bind(session.user.id)
    .bind(note_id)
    .fetch_optional(&state.pool)
    .await?;
    match allowed {
        Some(true) => Ok(()),
        Some(false) if write => Err(ApiError::Forbidden(
            "you can only view this note; ask one of the notebook's owners to make you an editor"
                .into(),
        )),
        _ => Err(ApiError::Missing("there is no such note".into())),
    }
}

/// The note's earlier versions, newest first (at most 200).
#[utoipa::path(get, path = "/notes/{note_id}/versions", tag = "notes", security(("bearer" = []), ("session_cookie" = [])),
    params(("note_id" = uuid::Uuid, Path, description = "The note (an id that is not a UUID names nothing: 404)")),
    responses(
        (status = 200, body = Versions),
        (status = 404, description = "No such note, or the caller may not see it", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(note_id): Path<String>,
) -> Result<Json<Versions>, ApiError> {
    let note_id = parse_note_id(&note_id)?;
    check_access(&state, &session, note_id, false).await?;
    let versions = sqlx::query_as(
        "select v.id, v.title, v.body, v.created_at, v.created_by, \
         nullif(coalesce(nullif(u.display_name, ''), u.email), '') as created_by_name, v.reason, v.saved_at \
         from note_versions v left join users u on u.id = v.created_by \
         where v.note_id = $1 order by v.saved_at desc, v.id desc limit 200",
    )
    .bind(note_id)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(Versions { versions }))
}

/// Puts an earlier version back (the current text becomes a version first).
#[utoipa::path(post, path = "/notes/{note_id}/versions/{version}/restore", tag = "notes", security(("bearer" = []), ("session_cookie" = [])),
    params(("note_id" = uuid::Uuid, Path, description = "The note (an id that is not a UUID names nothing: 404)"), ("version" = i64, Path, description = "A version's `id`")),
    responses(
        (status = 200, description = "Restored", body = RestoredVersion),
        (status = 400, description = "The version is not an integer", body = crate::http::ErrorBody),
        (status = 403, description = "The caller may only view this note", body = crate::http::ErrorBody),
        (status = 404, description = "No such note or version", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn restore(
    State(state): State<AppState>,
    session: CurrentSession,
    Path((note_id, version)): Path<(String, i64)>,
) -> Result<Json<RestoredVersion>, ApiError> {
    let note_id = parse_note_id(&note_id)?;
    check_access(&state, &session, note_id, true).await?;
    let mut tx = crate::db::begin(&state.pool).await?;
    save_version(&mut tx, note_id, "restore").await?;
    let restored = sqlx::query(
        "update notes n set title = v.title, body = v.body, updated_at = now(), updated_by = $3 \
         from note_versions v where v.id = $2 and v.note_id = $1 and n.id = $1",
    )
    .bind(note_id)
    .bind(version)
    .bind(session.user.id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if restored == 0 {
        return Err(ApiError::Missing("this note has no such version".into()));
    }
    tx.commit().await?;
    tracing::info!(note = %note_id, version, by = %session.user.id, "note version restored");
    Ok(Json(RestoredVersion {
        id: note_id,
        version,
    }))
}

/// Keeps the note's current title and body as a version (before a merge, a conflict or a
/// restore replaces them), whatever the periodic interval says.
pub async fn save_version(
    conn: &mut sqlx::PgConnection,
    note_id: Uuid,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into note_versions (note_id, title, body, created_at, created_by, reason) \
         select id, title, body, updated_at, updated_by, $2 from notes where id = $1",
    )
    .bind(note_id)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}
