//! The upload request and its answers as the OpenAPI document shows them. The parser
//! (`request.rs`) reads bodies as untyped JSON, to accept every connector's spelling and
//! to answer each entry's problem by its index; these types are its contract, for clients.
#![allow(dead_code)]

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::TransactionResult;
use crate::http::ErrorDetail;

/// One of three shapes: `{"batch":[…]}` or `{"operations":[…]}` (consecutive entries with
/// the same `transactionId` are one transaction; 200 when all were handled, 503 to retry
/// the whole batch), or `{"transactions":[{"crud":[…]}]}` (always 200, one result per
/// transaction). `client_id` (1 to 200 characters, the client database's id) makes
/// retries of a transaction apply at most once.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum UploadBody {
    Batch {
        client_id: Option<String>,
        batch: Vec<UploadEntry>,
    },
    Operations {
        client_id: Option<String>,
        operations: Vec<UploadEntry>,
    },
    Transactions {
        client_id: Option<String>,
        transactions: Vec<CrudTransaction>,
    },
}

#[derive(Deserialize, ToSchema)]
pub struct CrudTransaction {
    crud: Vec<UploadEntry>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum UploadOp {
    Put,
    Patch,
    Delete,
}

/// One change to one row, as PowerSync's `CrudEntry.toJSON()` writes it.
#[derive(Deserialize, ToSchema)]
pub struct UploadEntry {
    /// Also `clientId` / `client_id`.
    op_id: Option<i64>,
    op: UploadOp,
    /// The table (also `table`).
    #[serde(rename = "type")]
    table: String,
    /// The row's id.
    id: String,
    /// The columns written (also `opData` / `op_data`; a JSON string is accepted too).
    data: Option<Map<String, Value>>,
    /// The client's transaction counter (also `transactionId` / `transaction_id`).
    tx_id: Option<i64>,
    /// The values before a PATCH (also `previousValues` / `previous_values`).
    old: Option<Map<String, Value>>,
}

/// One result per client transaction, in order.
#[derive(Serialize, ToSchema)]
pub struct UploadResults {
    results: Vec<TransactionResult>,
}

/// A batch to retry (with its results so far), or the database unavailable (no results).
#[derive(Serialize, ToSchema)]
pub struct UploadRetry {
    error: ErrorDetail,
    results: Option<Vec<TransactionResult>>,
}
