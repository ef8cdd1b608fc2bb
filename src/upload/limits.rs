//! What an upload may carry, for clients to learn (`GET /api/data/limits`), and the way
//! out for a change too large to ever upload (`POST /api/data/oversized`): a client
//! transaction is atomic, so one over `upload.max_body` cannot be split; the client reports
//! it here instead, it is recorded as refused like any other refusal (and syncs back to
//! its owner), and the client drops it, so nothing waits behind it forever.

use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::Uploader;
use super::rejections::{self, Refusal};
use crate::app::AppState;
use crate::http::{ApiError, Json};

#[derive(Debug, Serialize)]
pub struct UploadLimits {
    /// Largest request body, in bytes.
    pub max_body: u64,
    /// Largest single value (e.g. a note body), in bytes; larger ones are refused.
    pub max_value: u64,
}

pub async fn limits(State(state): State<AppState>) -> Json<UploadLimits> {
    Json(UploadLimits {
        max_body: state.config.upload.max_body.as_u64(),
        max_value: state.config.upload.max_value.as_u64(),
    })
}

/// A client transaction too large for one request (its first entry names it). Whatever
/// a client reports only lands in its own, pruned, refusals.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Oversized {
    #[serde(alias = "type")]
    pub table: String,
    pub id: String,
    pub op: String,
    /// Size of the request the transaction alone would make, in bytes.
    pub bytes: u64,
}

#[tracing::instrument(skip_all, fields(user = %uploader.0))]
pub async fn oversized(
    State(state): State<AppState>,
    uploader: Uploader,
    Json(report): Json<Oversized>,
) -> Result<Json<serde_json::Value>, ApiError> {
    // Not checked against max_body: a proxy in front may accept less than notebox does.
    let max_body = state.config.upload.max_body.as_u64();
    let message = format!(
        "this change is {} bytes, more than one upload may carry (at most {max_body} bytes); it was not saved",
        report.bytes
    );
    let refusal = Refusal {
        table: &report.table,
        row_id: &report.id,
        op: &report.op,
        code: "TRANSACTION_TOO_LARGE",
        message: &message,
        data: None,
    };
    let mut conn = state.pool.acquire().await?;
    rejections::record(&mut conn, uploader.0, &refusal).await?;
    state.metrics.record_rejection(refusal.code);
    Ok(Json(
        serde_json::json!({ "status": "recorded", "code": refusal.code, "message": message }),
    ))
}
