//! `POST /api/data`: applies PowerSync clients' upload queues to Postgres.
//!
//! The status code decides the fate of a user's write (powersync.md §3): 2xx tells the
//! client "done, drop it", anything else makes it retry the same entries forever. So a
//! permanent data problem answers 2xx and is recorded in `upload_rejections` (which syncs
//! back to its owner), and only transient failures answer 503.

mod apply;
mod classify;
mod doc;
mod ledger;
mod limits;
mod merge;
mod rejections;
mod request;
mod row;
mod schema;
mod spare;
mod statements;
mod typed;
mod values;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use tracing::Instrument;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub use apply::{Limits, Outcome, Rejection, Retryable, apply, server_fault};
pub use rejections::{KEPT_PER_USER, MAX_DATA, MAX_TEXT};
pub use request::{ClientTransaction, Entry, Format, Op, parse};
pub use row::{Field, Row};
pub use schema::{Table, UploadSchema};
use spare::{Held, Spare};
pub use statements::Form;

use crate::app::AppState;
use crate::auth::{Credential, session_from, tokens};
use crate::config::REQUEST_TIMEOUT;
use crate::http::{ApiError, Json};

/// Seconds a client should wait before retrying after a transient failure.
const RETRY_AFTER_SECS: u64 = 5;

/// Upload state shared by requests: the introspected schema, read on first use and again
/// after a server fault says it may be stale.
pub struct UploadState {
    schema: RwLock<Option<Arc<UploadSchema>>>,
    loading: tokio::sync::Mutex<()>,
    /// The connection the last clean upload ran on, for the next one.
    spare: Arc<Spare>,
}

impl UploadState {
    /// Upload state whose spare connection goes back to the pool soon after uploads stop
    /// (a task on the current Tokio runtime sees to it: call this inside the runtime that
    /// serves the uploads; it panics outside one).
    pub fn new() -> Arc<Self> {
        let state = Arc::new(Self {
            schema: RwLock::default(),
            loading: tokio::sync::Mutex::default(),
            spare: Arc::default(),
        });
        tokio::spawn(Spare::release_idle(Arc::downgrade(&state.spare)));
        state
    }

    /// Gives the spare connection back to the pool (before closing it).
    pub fn release_spare(&self) {
        self.spare.release();
    }

    pub async fn schema(&self, state: &AppState) -> anyhow::Result<Arc<UploadSchema>> {
        if let Some(schema) = self.cached() {
            return Ok(schema);
        }
        let _one_loader = self.loading.lock().await;
        if let Some(schema) = self.cached() {
            return Ok(schema);
        }
        let schema = Arc::new(UploadSchema::load(&state.pool, &state.schema).await?);
        *self.schema.write().unwrap_or_else(|p| p.into_inner()) = Some(schema.clone());
        Ok(schema)
    }

    /// Drops the cached schema: the next upload reads it from Postgres again.
    pub fn forget_schema(&self) {
        *self.schema.write().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn cached(&self) -> Option<Arc<UploadSchema>> {
        self.schema
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(limits::limits))
        .routes(routes!(limits::oversized))
        .routes(routes!(rejections::dismiss))
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
#[derive(Debug, Serialize, utoipa::ToSchema)]
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

impl TransactionResult {
    /// A refusal as the ledger recorded it (the JSON this type serialized to then).
    fn recorded(result: Value) -> Self {
        let text = |key: &str| result[key].as_str().unwrap_or_default().to_owned();
        TransactionResult::FatalError {
            code: text("code"),
            message: text("message"),
            table: text("table"),
            id: text("id"),
            op_id: result.get("op_id").cloned().filter(|v| !v.is_null()),
        }
    }
}

/// Applies a client's upload queue (PowerSync's `uploadData`).
#[utoipa::path(post, path = "/data", tag = "upload", security(("bearer" = []), ("session_cookie" = []), ("powersync_token" = [])),
    request_body = doc::UploadBody,
    responses(
        (status = 200, description = "Every transaction handled: applied, or refused for good (recorded in `upload_rejections`)", body = doc::UploadResults),
        (status = 400, description = "The body is not one of the documented shapes", body = crate::http::ErrorBody),
        (status = 401, description = "No credential, an invalid or expired token, or a disabled account", body = crate::http::ErrorBody),
        (status = 413, description = "The body is larger than `upload.max_body`", body = crate::http::ErrorBody),
        (status = 503, description = "Retry later (see `Retry-After`): a batch that could not be applied now, with the results so far; or the database unavailable", body = doc::UploadRetry),
    ))]
#[tracing::instrument(skip_all, fields(user = %uploader.0))]
async fn upload(
    State(state): State<AppState>,
    uploader: Uploader,
    request: Request,
) -> Result<Response, ApiError> {
    let started = Instant::now();
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
    let limits = Limits {
        max_value: usize::try_from(state.config.upload.max_value.as_u64()).unwrap_or(usize::MAX),
        commit_by: started + commit_window(state.config.database.statement_timeout),
    };
    // The database work runs in a task of its own, to completion: if the client hangs up
    // or the request times out, this future is dropped, but never a connection midway
    // through a BEGIN or COMMIT. The body moves into the task, whose entries borrow from it.
    let work = async move {
        let (format, transactions) = parse(&body).map_err(|error| {
            // The one answer that stops a device's uploads: its client sends the same
            // body again and again, and nothing queued behind it arrives. Say so.
            let error_text = rejections::clip(&error, MAX_TEXT);
            tracing::warn!(error = %error_text, bytes = body.len(), "an upload body is not a documented shape: answered 400; the device retries it, and its later writes wait behind it");
            ApiError::BadRequest(error)
        })?;
        if transactions.is_empty() {
            // Nothing to apply: no connection is taken from the pool (nor checked on return).
            return Ok((format, Vec::new(), false));
        }
        let schema = state.upload.schema(&state).await.map_err(|error| {
            match error.downcast_ref::<sqlx::Error>() {
                Some(e) if crate::db::is_transient(e) => {
                    ApiError::unavailable("the database is unavailable; retry shortly")
                }
                _ => ApiError::Internal(error),
            }
        })?;
        let (results, retry) =
            apply_all(&state, uploader.0, &schema, &transactions, limits).await?;
        Ok::<_, ApiError>((format, results, retry))
    };
    let (format, results, retry) = tokio::spawn(work.in_current_span())
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("the upload task failed: {e}")))??;
    Ok(respond(format, results, retry))
}

/// How long after the request started a transaction may still start or commit: a lone
/// statement started at the end still finishes (or is cancelled by `statement_timeout`)
/// before the request times out, so nothing commits after the client was told it did not.
fn commit_window(statement_timeout: Duration) -> Duration {
    REQUEST_TIMEOUT
        .saturating_sub(statement_timeout + Duration::from_secs(1))
        .max(Duration::from_secs(1))
}

/// Applies the transactions in order on one connection; the results, and whether the
/// client must retry from the first one not applied.
async fn apply_all(
    state: &AppState,
    owner: Uuid,
    schema: &UploadSchema,
    transactions: &[ClientTransaction<'_>],
    limits: Limits,
) -> Result<(Vec<TransactionResult>, bool), ApiError> {
    let mut held = match state.upload.spare.take() {
        Some(held) => held,
        None => Held::new(state.pool.acquire().await?),
    };
    let conn = &mut held.conn;
    let mut results = Vec::with_capacity(transactions.len());
    let mut retry = false;
    for transaction in transactions {
        if retry {
            results.push(TransactionResult::NotAttempted);
            continue;
        }
        let outcome = match apply(conn, schema, owner, transaction, &limits).await {
            Ok(Outcome::Applied | Outcome::Replayed(None)) => Ok(TransactionResult::Success),
            // Answered as the first time: a retry never records a second refusal.
            Ok(Outcome::Replayed(Some(recorded))) => Ok(TransactionResult::recorded(recorded)),
            Ok(Outcome::Rejected(rejection)) => {
                let entry = &transaction.entries[rejection.entry];
                let refusal = rejections::Refusal {
                    table: &entry.table,
                    row_id: &entry.id,
                    op: entry.op.as_str(),
                    code: &rejection.code,
                    message: &rejection.message,
                    data: Some(&entry.data),
                };
                let result = TransactionResult::FatalError {
                    code: rejection.code.clone(),
                    message: rejection.message.clone(),
                    table: rejections::clip(&entry.table, MAX_TEXT),
                    id: rejections::clip(&entry.id, MAX_TEXT),
                    op_id: entry.op_id.clone(),
                };
                record_refusal(conn, owner, transaction, &refusal, &result)
                    .await
                    .map(|()| result)
                    .map_err(Retryable::Database)
            }
            Err(error) => Err(error),
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
            let (table, op) = (metric_table(schema, &run[0].table), run[0].op.as_str());
            state
                .metrics
                .record_upload_ops(table, op, counted, run.len() as u64);
        }
        match outcome {
            Ok(result) => results.push(result),
            Err(Retryable::Database(e)) if !crate::db::is_transient(&e) && !server_fault(&e) => {
                return Err(ApiError::Internal(e.into()));
            }
            Err(error) => {
                if matches!(&error, Retryable::Database(e) if server_fault(e)) {
                    // Not the client's fault: its data is kept for a retry, and the schema
                    // is read again in case it changed under us.
                    tracing::error!(%error, "upload failed on the server's own schema or grants; rereading the schema, the client will retry: fix the database");
                    state.upload.forget_schema();
                } else {
                    tracing::warn!(%error, "upload hit a transient failure; the client will retry");
                }
                results.push(TransactionResult::RetryableError {
                    message: "the server could not apply this now; retry shortly".into(),
                });
                retry = true;
            }
        }
    }
    if !retry {
        // Nothing failed on it: it goes to the next upload, not through the pool's check.
        state.upload.spare.keep(held, &state.pool);
    }
    Ok((results, retry))
}

/// The metric label for a client-named table: only configured tables get their own, so
/// clients cannot add label values (and memory) at will.
fn metric_table<'a>(schema: &'a UploadSchema, table: &str) -> &'a str {
    schema
        .tables
        .get_key_value(table)
        .map_or("other", |(name, _)| name.as_str())
}

/// Records the refusal for its owner and, for a transaction the ledger can recognise, as
/// that transaction's result: both or neither.
async fn record_refusal(
    conn: &mut sqlx::PgConnection,
    owner: Uuid,
    transaction: &ClientTransaction<'_>,
    refusal: &rejections::Refusal<'_>,
    result: &TransactionResult,
) -> Result<(), sqlx::Error> {
    let Some(key) = transaction.ledger_key() else {
        return rejections::record(conn, owner, refusal).await;
    };
    #[expect(
        clippy::disallowed_methods,
        reason = "it runs in the upload task, which nothing cancels (see `upload`)"
    )]
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    rejections::record(&mut tx, owner, refusal).await?;
    let result = serde_json::to_value(result).expect("results always serialize");
    ledger::record_refusal(&mut tx, owner, key, &result).await?;
    tx.commit().await
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
                "error": { "code": "unavailable", "message": "the server could not apply this batch now; retry the whole batch" },
                "results": results,
            });
            (StatusCode::SERVICE_UNAVAILABLE, [retry_after], Json(body)).into_response()
        }
        Format::Batch => Json(json!({ "results": results })).into_response(),
    }
}
