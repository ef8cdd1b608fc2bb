//! `POST /api/notes/{id}/conflicts/{conflict_id}/resolve`: someone who may write the note
//! settles an edit that could not merge (it syncs to everyone who sees the note as a
//! `note_conflicts` row). `keep`: `"kept"` (the note stays as it is), `"theirs"` (the
//! other edit replaces it), `"both"` (the note stays, the other edit becomes a new note
//! beside it, with the id the client chose so it appears at once), or `"merged"` with
//! `text` (a hand merge). The note's text before is saved as a version first.

use axum::extract::{Path, State};
use serde::Deserialize;
use uuid::Uuid;

use super::versions::save_version;
use super::{NoteRef, may_write, parse_note_id};
use crate::app::AppState;
use crate::auth::CurrentSession;
use crate::http::{ApiError, Json};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Keep {
    Kept,
    Theirs,
    Both,
    Merged,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolve {
    keep: Keep,
    /// The hand-merged text (`merged`).
    text: Option<String>,
    /// The id of the new note (`both`); made by the client, like every note id.
    new_note_id: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct Conflict {
    column_name: String,
    their_text: String,
}

#[utoipa::path(post, path = "/notes/{note_id}/conflicts/{conflict_id}/resolve", tag = "notes", security(("bearer" = []), ("session_cookie" = [])),
    params(("note_id" = uuid::Uuid, Path, description = "The note (an id that is not a UUID names nothing: 404)"), ("conflict_id" = uuid::Uuid, Path, description = "The `note_conflicts` row")),
    request_body = Resolve,
    responses(
        (status = 200, description = "Settled", body = NoteRef),
        (status = 400, description = "`merged` without `text`", body = crate::http::ErrorBody),
        (status = 403, description = "The caller may only view this note", body = crate::http::ErrorBody),
        (status = 404, description = "No such note, or the conflict was already settled", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn resolve(
    State(state): State<AppState>,
    session: CurrentSession,
    Path((note_id, conflict_id)): Path<(String, String)>,
    Json(request): Json<Resolve>,
) -> Result<Json<NoteRef>, ApiError> {
    let note_id = parse_note_id(&note_id)?;
    let conflict_id = parse_note_id(&conflict_id)?;
    let me = session.user.id;
    let mut tx = crate::db::begin(&state.pool).await?;
    let allowed: Option<bool> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select {} from notes n where n.id = $2 for update",
        may_write("n.owner_id", "n.notebook_id")
    )))
    .bind(me)
    .bind(note_id)
    .fetch_optional(&mut *tx)
    .await?;
    match allowed {
        Some(true) => {}
        Some(false) => {
            return Err(ApiError::Forbidden(
                "you can only view this note; ask one of the notebook's owners to make you an editor".into(),
            ));
        }
        None => return Err(ApiError::Missing("there is no such note".into())),
    }
    let conflict: Conflict = sqlx::query_as(
        "select column_name, their_text from note_conflicts where id = $1 and note_id = $2 for update",
    )
    .bind(conflict_id)
    .bind(note_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::Missing("this conflict was already settled".into()))?;
    // The column comes from our own check constraint (title or body), never the request.
    let column = if conflict.column_name == "title" {
        "title"
    } else {
        "body"
    };
    let replacement = match request.keep {
        Keep::Kept | Keep::Both => None,
        Keep::Theirs => Some(conflict.their_text.clone()),
        Keep::Merged => Some(request.text.ok_or_else(|| {
            ApiError::BadRequest("keep \"merged\" needs the merged text in \"text\"".into())
        })?),
    };
    if let Some(text) = replacement {
        save_version(&mut tx, note_id, "conflict").await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "update notes set {column} = $2, updated_at = now(), updated_by = $3 where id = $1"
        )))
        .bind(note_id)
        .bind(text)
        .bind(me)
        .execute(&mut *tx)
        .await?;
    }
    if let Keep::Both = request.keep {
        let copy = request.new_note_id.unwrap_or_else(Uuid::new_v4);
        // The copy: the note with the other edit's text, beside it (same notebook), by me.
        sqlx::query(
            "insert into notes (id, owner_id, notebook_id, title, body, updated_by) \
             select $2, $3, n.notebook_id, \
                    case when $4 = 'title' then $5 else n.title || ' (other version)' end, \
                    case when $4 = 'body' then $5 else n.body end, $3 \
             from notes n where n.id = $1 \
             on conflict (id) do nothing",
        )
        .bind(note_id)
        .bind(copy)
        .bind(me)
        .bind(column)
        .bind(&conflict.their_text)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("delete from note_conflicts where id = $1")
        .bind(conflict_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(note = %note_id, conflict = %conflict_id, by = %me, "conflict settled");
    Ok(Json(NoteRef { id: note_id }))
}
