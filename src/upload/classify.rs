//! Which database errors refuse a transaction for good, which are the server's own fault,
//! and what of Postgres' wording a user may read.

use super::rejections::{MAX_TEXT, clip};
use crate::db::is_transient;

/// Data errors (classes 21, 22, 23, 54 "too large to index", and trigger exceptions P0)
/// will fail the same way every time; everything else may pass on a retry. Class 42
/// (undefined table or column, revoked grant) is not one: clients never write SQL, so it
/// is the server's own state that is wrong (see `server_fault`).
pub fn permanent(error: &sqlx::Error) -> Option<(String, String)> {
    let db = error.as_database_error()?;
    let code = db.code()?.into_owned();
    let data_error = ["21", "22", "23", "54", "P0"]
        .iter()
        .any(|class| code.starts_with(class));
    (data_error && !is_transient(error)).then(|| (code, public_message(db.message())))
}

/// An error caused by the server's own state (a dropped column, a revoked grant, a stale
/// cached schema): the client's data is not at fault, so it must not be refused.
pub fn server_fault(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code.starts_with("42"))
}

/// Postgres' wording of a data error, for the user: its primary message only (never the
/// statement, detail or context), one line, capped.
fn public_message(message: &str) -> String {
    clip(message, 2 * MAX_TEXT)
}
