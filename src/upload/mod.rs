//! `POST /api/data`: applies PowerSync clients' upload queues to Postgres.
//!
//! The status code decides the fate of a user's write (powersync.md §3): 2xx tells the
//! client "done, drop it", anything else makes it retry the same entries forever. So a
//! permanent data problem answers 2xx and is recorded in `upload_rejections` (which syncs
//! back to its owner), and only transient failures answer 503.

mod apply;
mod request;
mod schema;
mod statements;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use uuid::Uuid;

pub use apply::{Outcome, Rejection, Retryable, apply};
pub use request::{ClientTransaction, Entry, Format, Op, parse};
pub use schema::{Table, UploadSchema};

use crate::app::AppState;
use crate::auth::{Credential, session_from, tokens};
use crate::http::{ApiError, Json};

/// Seconds a client should wait before retrying after a transient failure.
const RETRY_AFTER_SECS: u64 = 5;

/// Upload state shared by requests: the introspected schema, read once.
#[derive(Default)]
pub struct UploadState {
    schema: OnceCell<UploadSchema>,
}

impl UploadState {
    pub async fn schema(&self, state: &AppState) -> anyhow::Result<&UploadSchema> {
        self.schema
            .get_or_try_init(|| UploadSchema::load(&state.pool, &state.schema))
            .await
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/data", post(upload))
}

/// The user an upload is written as: from a session (cookie or bearer) or a PowerSync
/// token we signed (bearer).
pub struct Uploader(pub Uuid);

impl FromRequestParts<AppState> for Uploader {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let credential = Credential::from_headers(&parts.headers).ok_or_else(|| {
            ApiError::Unauthorized("log in first, or send a PowerSync token as bearer".into())
        })?;
        let Credential::Bearer(token) = &credential else {
            return Ok(Uploader(
                session_from(parts, state, credential).await?.user.id,
            ));
        };
        if token.split('.').count() != 3 {
            return Ok(Uploader(
                session_from(parts, state, credential).await?.user.id,
            ));
        }
        let user = tokens::verify(&state.auth.keys, &state.pool, &state.config, token)
            .await
            .map_err(|e| {
                ApiError::Unauthorized(format!("{e}: fetch a new token from /api/auth/token"))
            })?;
        if state.auth.recent_active_users.get(&user).is_some() {
            return Ok(Uploader(user));
        }
        let active: Option<bool> =
            sqlx::query_scalar("select disabled_at is null from users where id = $1")
                .bind(user)
                .fetch_optional(&state.pool)
                .await?;
        match active {
            Some(true) => {
                state.auth.recent_active_users.insert(user, ());
                Ok(Uploader(user))
            }
            _ => Err(ApiError::Unauthorized(
                "this account no longer exists or is disabled".into(),
            )),
        }
    }
}

/// One client transaction's fate, as reported back.
#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TransactionResult {
    Success,
    FatalError {
        code: String,
        message: String,
        table: String,
        id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        op_id: Option<Value>,
    },
    RetryableError {
        message: String,
    },
    NotAttempted,
}

#[tracing::instrument(skip_all, fields(user = %uploader.0))]
async fn upload(
    State(state): State<AppState>,
    uploader: Uploader,
    request: Request,
) -> Result<Response, ApiError> {
    let limit = state.config.upload.max_body;
    let too_large = || ApiError::PayloadTooLarge(limit.to_string());
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit.as_u64()) {
        return Err(too_large());
    }
    let body = axum::body::to_bytes(
        request.into_body(),
        usize::try_from(limit.as_u64()).unwrap_or(usize::MAX),
    )
    .await
    .map_err(|_| too_large())?;
    let (format, transactions) = parse(&body).map_err(ApiError::BadRequest)?;
    let schema = state.upload.schema(&state).await.map_err(|error| {
        match error.downcast_ref::<sqlx::Error>() {
            Some(e) if crate::db::is_transient(e) => {
                ApiError::unavailable("the database is unavailable; retry shortly")
            }
            _ => ApiError::Internal(error),
        }
    })?;
    let mut conn = state.pool.acquire().await?;
    let mut results = Vec::with_capacity(transactions.len());
    let mut retry = false;
    for transaction in &transactions {
        if retry {
            results.push(TransactionResult::NotAttempted);
            continue;
        }
        let outcome = match apply(&mut conn, schema, uploader.0, transaction).await {
            Ok(Outcome::Applied) => Ok(TransactionResult::Success),
            Ok(Outcome::Rejected(rejection)) => {
                record_rejection(&mut conn, uploader.0, transaction, &rejection)
                    .await
                    .map(|()| {
                        let entry = &transaction.entries[rejection.entry];
                        TransactionResult::FatalError {
                            code: rejection.code,
                            message: rejection.message,
                            table: entry.table.clone(),
                            id: entry.id.clone(),
                            op_id: entry.op_id.clone(),
                        }
                    })
            }
            Err(Retryable(error)) => Err(error),
        };
        let counted = match &outcome {
            Ok(TransactionResult::Success) => "applied",
            Ok(TransactionResult::FatalError { code, .. }) => {
                state.metrics.record_rejection(code);
                "rejected"
            }
            _ => "retry",
        };
        // Counted per run of (table, op), not per entry: one lock for a 100-op transaction.
        for run in transaction
            .entries
            .chunk_by(|a, b| a.table == b.table && a.op == b.op)
        {
            let (table, op) = (&run[0].table, run[0].op.as_str());
            state
                .metrics
                .record_upload_ops(table, op, counted, run.len() as u64);
        }
        match outcome {
            Ok(result) => results.push(result),
            Err(error) if crate::db::is_transient(&error) => {
                tracing::warn!(%error, "upload hit a transient failure; the client will retry");
                results.push(TransactionResult::RetryableError {
                    message: "the database is temporarily unavailable; retry shortly".into(),
                });
                retry = true;
            }
            Err(error) => return Err(ApiError::Internal(error.into())),
        }
    }
    Ok(respond(format, results, retry))
}

fn respond(format: Format, results: Vec<TransactionResult>, retry: bool) -> Response {
    let retry_after = (header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    match format {
        Format::Transactions if retry => {
            ([retry_after], Json(json!({ "results": results }))).into_response()
        }
        Format::Transactions => Json(json!({ "results": results })).into_response(),
        Format::Batch if retry => {
            let body = json!({
                "error": { "code": "unavailable", "message": "the database is temporarily unavailable; retry the whole batch" },
                "results": results,
            });
            (StatusCode::SERVICE_UNAVAILABLE, [retry_after], Json(body)).into_response()
        }
        Format::Batch => Json(json!({ "results": results })).into_response(),
    }
}

/// Records a refused transaction for its owner, who sees it once it syncs back.
async fn record_rejection(
    conn: &mut sqlx::PgConnection,
    owner: Uuid,
    transaction: &ClientTransaction,
    rejection: &Rejection,
) -> Result<(), sqlx::Error> {
    let entry = &transaction.entries[rejection.entry];
    tracing::info!(table = %entry.table, op = entry.op.as_str(), code = %rejection.code, "upload refused");
    sqlx::query(
        "insert into upload_rejections (owner_id, table_name, row_id, op, code, message, data)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(owner)
    .bind(&entry.table)
    .bind(&entry.id)
    .bind(entry.op.as_str())
    .bind(&rejection.code)
    .bind(&rejection.message)
    .bind(Value::Object(entry.data.clone()))
    .execute(conn)
    .await?;
    Ok(())
}
