//! `upload_rejections`: what was refused, for its owner. Recording must never fail on the
//! refused data itself, and never grow without bound: client-supplied names, ids and
//! messages are clipped, NUL characters replaced, large data replaced by a marker, and
//! each user keeps only their latest refusals.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::Uploader;
use super::row::Row;
use crate::app::AppState;
use crate::http::{ApiError, Json};

/// Characters kept of a client-supplied name, id or message.
pub const MAX_TEXT: usize = 200;
/// Bytes of refused data kept (as JSON text); larger data is stored as a marker.
pub const MAX_DATA: usize = 8 * 1024;
/// Refusals kept per user; older ones are deleted as new ones arrive.
pub const KEPT_PER_USER: i64 = 100;

/// One refusal as stored.
pub struct Refusal<'a> {
    pub table: &'a str,
    pub row_id: &'a str,
    pub op: &'a str,
    pub code: &'a str,
    pub message: &'a str,
    pub data: Option<&'a Row<'a>>,
}

/// Records a refusal for `owner` (who sees it once it syncs back) and prunes their oldest
/// beyond `KEPT_PER_USER`, in one statement.
pub async fn record(
    conn: &mut sqlx::PgConnection,
    owner: Uuid,
    refusal: &Refusal<'_>,
) -> Result<(), sqlx::Error> {
    tracing::info!(
        table = %clip(refusal.table, MAX_TEXT),
        op = %clip(refusal.op, MAX_TEXT),
        code = %refusal.code,
        "upload refused"
    );
    // The delete's snapshot predates the insert: keep KEPT_PER_USER - 1 old rows + the new.
    sqlx::query(
        "with added as (
             insert into upload_rejections (owner_id, table_name, row_id, op, code, message, data)
             values ($1, $2, $3, $4, $5, $6, $7)
         )
         delete from upload_rejections where id in (
             select id from upload_rejections where owner_id = $1
             order by created_at desc, id desc offset $8
         )",
    )
    .bind(owner)
    .bind(clip(refusal.table, MAX_TEXT))
    .bind(clip(refusal.row_id, MAX_TEXT))
    .bind(clip(refusal.op, MAX_TEXT))
    .bind(clip(refusal.code, MAX_TEXT))
    .bind(clip(refusal.message, MAX_TEXT * 2))
    .bind(refusal.data.map(stored_data))
    .bind(KEPT_PER_USER - 1)
    .execute(conn)
    .await?;
    Ok(())
}

/// Which refusals their owner has read and dismissed (`POST /api/data/rejections/dismiss`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dismissal {
    pub ids: Vec<Uuid>,
}

/// Deletes the caller's own refusals among `ids`: the deletion syncs to every device, so a
/// refusal dismissed once does not come back on the next phone. Others' ids are ignored.
#[utoipa::path(post, path = "/data/rejections/dismiss", tag = "upload",
    security(("bearer" = []), ("session_cookie" = []), ("powersync_token" = [])),
    request_body = Dismissal,
    responses(
        (status = 200, description = "How many of the caller's refusals were deleted", body = Dismissed),
        (status = 400, description = "More ids than a user has refusals", body = crate::http::ErrorBody),
        (status = 401, description = "No credential, an invalid or expired token, or a disabled account", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user = %uploader.0))]
pub async fn dismiss(
    State(state): State<AppState>,
    uploader: Uploader,
    Json(dismissal): Json<Dismissal>,
) -> Result<Json<Dismissed>, ApiError> {
    if dismissal.ids.len() > KEPT_PER_USER as usize {
        return Err(ApiError::BadRequest(format!(
            "at most {KEPT_PER_USER} ids at once"
        )));
    }
    let removed = sqlx::query("delete from upload_rejections where owner_id = $1 and id = any($2)")
        .bind(uploader.0)
        .bind(&dismissal.ids)
        .execute(&state.pool)
        .await?
        .rows_affected();
    Ok(Json(Dismissed { dismissed: removed }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Dismissed {
    pub dismissed: u64,
}

/// `text` as Postgres can store it, on one line, cut to `max` characters (marked `…`).
pub fn clip(text: &str, max: usize) -> String {
    let mut clipped: String = text
        .chars()
        .take(max)
        .map(|c| match c {
            '\0' => '\u{FFFD}',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    if text.chars().nth(max).is_some() {
        clipped.push('…');
    }
    clipped
}

/// The refused data as stored: NUL characters replaced; over `MAX_DATA`, a marker saying
/// how large it was and which columns it had.
fn stored_data(data: &Row) -> Value {
    let cleaned = without_nul(data.to_value());
    let size = serde_json::to_vec(&cleaned).map_or(usize::MAX, |bytes| bytes.len());
    if size <= MAX_DATA {
        return cleaned;
    }
    let columns: Vec<String> = data.keys().take(20).map(|k| clip(k, MAX_TEXT)).collect();
    json!({ "truncated": true, "bytes": size, "columns": columns })
}

fn without_nul(value: Value) -> Value {
    let clean = |text: String| {
        if text.contains('\0') {
            text.replace('\0', "\u{FFFD}")
        } else {
            text
        }
    };
    match value {
        Value::String(text) => Value::String(clean(text)),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nul).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (clean(k), without_nul(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_cuts_by_characters_and_marks_the_cut() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("ééééé", 3), "ééé…");
        assert_eq!(clip("a\u{0}b\nc", 10), "a\u{FFFD}b c");
    }

    #[test]
    fn large_data_becomes_a_marker_and_nul_is_replaced() {
        let data = Row::parse_owned(r#"{"t\u0000": ["\u0000"]}"#).unwrap();
        assert_eq!(stored_data(&data), json!({"t\u{FFFD}": ["\u{FFFD}"]}));
        let data = json!({"t": 1, "body": "x".repeat(MAX_DATA)}).to_string();
        let stored = stored_data(&Row::parse_owned(&data).unwrap());
        assert_eq!(stored["truncated"], true);
        assert!(serde_json::to_vec(&stored).unwrap().len() < 1024);
    }
}
