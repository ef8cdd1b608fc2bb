//! `GET /api/trash`, `POST /api/trash/{id}/restore`, `DELETE /api/trash/{id}`: deleted notes
//! the caller may restore — their own personal notes, and notes of notebooks where they are
//! an owner or editor. A restored note gets its id back and syncs to every device that may
//! see it again.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{NoteRef, may_write, parse_note_id};
use crate::app::AppState;
use crate::auth::CurrentSession;
use crate::http::{ApiError, Json};

#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TrashedNote {
    id: Uuid,
    owner_id: Uuid,
    notebook_id: Option<Uuid>,
    title: String,
    body: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: DateTime<Utc>,
    deleted_by: Option<Uuid>,
    deleted_by_name: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Trash {
    notes: Vec<TrashedNote>,
}

/// The trash rows the caller may restore (`$1`), newest first.
fn visible() -> String {
    format!(
        "select t.id, t.owner_id, t.notebook_id, t.title, t.body, t.created_at, t.updated_at, \
         t.deleted_at, t.deleted_by, nullif(coalesce(nullif(u.display_name, ''), u.email), '') as deleted_by_name \
         from note_trash t left join users u on u.id = t.deleted_by \
         where {}",
        // A notebook that is gone: its former notes go back to their owner.
        may_write("t.owner_id", "t.notebook_id").replace(
            "(t.notebook_id is null and t.owner_id = $1)",
            "((t.notebook_id is null or not exists (select 1 from notebooks b where b.id = t.notebook_id)) and t.owner_id = $1)"
        )
    )
}

/// Deleted notes the caller may restore, newest first (at most 500).
#[utoipa::path(get, path = "/trash", tag = "notes", security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = Trash)))]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<Trash>, ApiError> {
    let notes = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{} order by t.deleted_at desc limit 500",
        visible()
    )))
    .bind(session.user.id)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(Trash { notes }))
}

async fn find(
    state: &AppState,
    session: &CurrentSession,
    note_id: &str,
) -> Result<TrashedNote, ApiError> {
    let id = parse_note_id(note_id)?;
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{} and t.id = $2", visible())))
        .bind(session.user.id)
        .bind(id)
        .fetch_optional(&state.pool)
        .await?
        .ok_or_else(|| ApiError::Missing("there is no such note in your trash".into()))
}

/// `POST /api/trash/{id}/restore`: back where it was (personal, when its notebook is gone).
#[utoipa::path(post, path = "/trash/{note_id}/restore", tag = "notes", security(("bearer" = []), ("session_cookie" = [])),
    params(("note_id" = uuid::Uuid, Path, description = "The note (an id that is not a UUID names nothing: 404)")),
    responses(
        (status = 200, description = "Restored", body = NoteRef),
        (status = 404, description = "No such note in the caller's trash", body = crate::http::ErrorBody),
        (status = 409, description = "A note with this id exists again", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn restore(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(note_id): Path<String>,
) -> Result<Json<NoteRef>, ApiError> {
    let note = find(&state, &session, &note_id).await?;
    let mut tx = crate::db::begin(&state.pool).await?;
    let restored = sqlx::query(
        "insert into notes (id, owner_id, notebook_id, title, body, created_at, updated_at, updated_by) \
         select t.id, t.owner_id, (select b.id from notebooks b where b.id = t.notebook_id), t.title, t.body, \
                t.created_at, t.updated_at, t.updated_by \
         from note_trash t where t.id = $1 \
         on conflict (id) do nothing",
    )
    .bind(note.id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if restored == 0 {
        return Err(ApiError::Conflict(
            "a note with this id exists again (it was restored or re-created elsewhere)".into(),
        ));
    }
    sqlx::query("delete from note_trash where id = $1")
        .bind(note.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(note = %note.id, by = %session.user.id, "note restored from the trash");
    Ok(Json(NoteRef { id: note.id }))
}

/// `DELETE /api/trash/{id}`: gone for good, with its history.
#[utoipa::path(delete, path = "/trash/{note_id}", tag = "notes", security(("bearer" = []), ("session_cookie" = [])),
    params(("note_id" = uuid::Uuid, Path, description = "The note (an id that is not a UUID names nothing: 404)")),
    responses(
        (status = 204, description = "Deleted for good, with its history"),
        (status = 404, description = "No such note in the caller's trash", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn purge(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(note_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let note = find(&state, &session, &note_id).await?;
    let mut tx = crate::db::begin(&state.pool).await?;
    for sql in [
        "delete from note_trash where id = $1",
        "delete from note_versions where note_id = $1",
    ] {
        sqlx::query(sql).bind(note.id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    tracing::info!(note = %note.id, by = %session.user.id, "note deleted forever");
    Ok(StatusCode::NO_CONTENT)
}
