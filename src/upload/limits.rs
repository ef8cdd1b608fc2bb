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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UploadLimits {
    /// Largest request body, in bytes.
    pub max_body: u64,
    /// Largest single value (e.g. a note body), in bytes; larger ones are refused.
    pub max_value: u64,
}

#[utoipa::path(get, path = "/data/limits", tag = "upload", responses((status = 200, body = UploadLimits)))]
pub async fn limits(State(state): State<AppState>) -> Json<UploadLimits> {
    Json(UploadLimits {
        max_body: state.config.upload.max_body.as_u64(),
        max_value: state.config.upload.max_value.as_u64(),
    })
}

/// A client transaction too large for one request (its first entry names it). Whatever
/// a client reports only lands in its own, pruned, refusals.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Oversized {
    #[serde(alias = "type")]
    pub table: String,
    pub id: String,
    pub op: String,
    /// Size of the request the transaction alone would make, in bytes.
    pub bytes: u64,
}

/// The refusal code of a transaction too large to upload.
const TOO_LARGE: &str = "TRANSACTION_TOO_LARGE";

/// The refusal as recorded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Recorded {
    /// `recorded`.
    pub status: &'static str,
    /// `TRANSACTION_TOO_LARGE`.
    pub code: &'static str,
    pub message: String,
}

/// Reports a client transaction too large to upload: it is recorded as refused.
#[utoipa::path(post, path = "/data/oversized", tag = "upload", security(("bearer" = []), ("session_cookie" = []), ("powersync_token" = [])),
    request_body = Oversized,
    responses(
        (status = 200, description = "Recorded as refused; the client drops the transaction", body = Recorded),
        (status = 401, description = "No credential, an invalid or expired token, or a disabled account", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user = %uploader.0))]
pub async fn oversized(
    State(state): State<AppState>,
    uploader: Uploader,
    Json(report): Json<Oversized>,
) -> Result<Json<Recorded>, ApiError> {
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
        code: TOO_LARGE,
        message: &message,
        data: None,
    };
    let mut conn = state.pool.acquire().await?;
    rejections::record(&mut conn, uploader.0, &refusal).await?;
    state.metrics.record_rejection(refusal.code);
    Ok(Json(Recorded {
        status: "recorded",
        code: TOO_LARGE,
        message,
    }))
}
