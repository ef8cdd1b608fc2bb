//! Applies one client transaction as one Postgres transaction.
//!
//! Fast path: consecutive entries of the same table and op become one multi-row statement.
//! PUT rows travel as one text[] parameter per column (`unnest`), PATCH rows as one jsonb
//! document (`jsonb_populate_recordset`, since each may name other columns); either way
//! Postgres coerces every value from text to its column type. Ownership is part of every statement's WHERE
//! clause, and a statement touching any row of another user touches none, so each statement
//! is all-or-nothing by itself: a transaction of one statement (100 PUTs, or one edit) runs
//! without BEGIN/COMMIT in one round trip. When a statement touched fewer rows than it was
//! given, one more query tells missing rows (fine) from someone else's (refused).
//! When a multi-row statement fails, the transaction is replayed entry by entry (and
//! rolled back) to name the entry at fault.

use std::collections::HashSet;
use std::time::Instant;

use serde_json::{Map, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use super::rejections::{MAX_TEXT, clip};
use super::request::{ClientTransaction, Entry, Op};
use super::schema::{Column, Table, UploadSchema};
use super::statements::{
    delete_sql, denied_moves, denied_rows, notebook_column, patch_sql, put_moves, put_sql, refusal,
};
use super::values::refuse_values;
use crate::db::is_transient;

/// Why a client transaction was refused for good: it will never apply as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Index of the entry at fault within its transaction.
    pub entry: usize,
    pub code: String,
    pub message: String,
}

#[derive(Debug)]
pub enum Outcome {
    Applied,
    Rejected(Rejection),
}

/// A failure after which the same request may succeed (or a bug): nothing was committed.
#[derive(Debug, thiserror::Error)]
pub enum Retryable {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Too late to commit: the client may already have been told its request timed out.
    #[error("the request ran out of time before this transaction could commit")]
    OutOfTime,
}

/// What one upload may do: how large a value may be, and until when it may commit.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes of one value (a string's UTF-8, anything else as JSON text).
    pub max_value: usize,
    /// A transaction does not start after this, nor commit.
    pub commit_by: Instant,
}

/// An entry checked against the schema, with its id in canonical form.
struct Checked<'a> {
    table: &'a Table,
    op: Op,
    id: String,
    /// Writable columns and their values (`id` and the owner column removed).
    data: Map<String, Value>,
}

/// Entries that run as one statement.
struct Group<'a> {
    table: &'a Table,
    op: Op,
    entries: Vec<usize>,
}

pub async fn apply(
    conn: &mut PgConnection,
    schema: &UploadSchema,
    owner: Uuid,
    transaction: &ClientTransaction,
    limits: &Limits,
) -> Result<Outcome, Retryable> {
    let checked = match check(schema, owner, &transaction.entries, limits) {
        Ok(checked) => checked,
        Err(rejection) => return Ok(Outcome::Rejected(rejection)),
    };
    if Instant::now() > limits.commit_by {
        return Err(Retryable::OutOfTime);
    }
    let groups = group(&checked);
    match run(conn, owner, &checked, &groups, limits).await? {
        None => Ok(Outcome::Applied),
        Some(rejection) if groups.len() == checked.len() => Ok(Outcome::Rejected(rejection)),
        // A multi-row statement failed: find the entry at fault, one statement each.
        Some(first) => {
            let single: Vec<Group> = (0..checked.len())
                .map(|i| Group {
                    table: checked[i].table,
                    op: checked[i].op,
                    entries: vec![i],
                })
                .collect();
            Ok(match run(conn, owner, &checked, &single, limits).await? {
                Some(rejection) => Outcome::Rejected(rejection),
                None => {
                    tracing::warn!(
                        ?first,
                        "a grouped statement failed but its entries applied one by one"
                    );
                    Outcome::Applied
                }
            })
        }
    }
}

/// Refusals that need no database: unknown table or column, bad id, foreign owner, a
/// value Postgres cannot store (NUL) or one over `upload.max_value`.
fn check<'a>(
    schema: &'a UploadSchema,
    owner: Uuid,
    entries: &[Entry],
    limits: &Limits,
) -> Result<Vec<Checked<'a>>, Rejection> {
    let checked = entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let refuse = |code: &str, message: String| Rejection { entry: index, code: code.into(), message };
            let table = schema.tables.get(&entry.table).ok_or_else(|| {
                refuse("UNKNOWN_TABLE", format!("table {:?} cannot be written by clients", clip(&entry.table, MAX_TEXT)))
            })?;
            let id = canonical(&table.id, &entry.id)
                .ok_or_else(|| refuse("INVALID_ID", format!("{:?} is not a valid id ({})", clip(&entry.id, MAX_TEXT), table.id.sql_type)))?;
            let mut data = Map::new();
            for (column, value) in &entry.data {
                if column == &table.owner.name {
                    let given = value.as_str().and_then(|v| canonical(&table.owner, v));
                    if given.as_deref() != Some(owner.hyphenated().to_string().as_str()) {
                        return Err(refuse(
                            "OWNER_MISMATCH",
                            format!("{column} must be your own user id; rows are always written as their owner"),
                        ));
                    }
                } else if column == "id" {
                    if value.as_str().and_then(|v| canonical(&table.id, v)).as_deref() != Some(id.as_str()) {
                        return Err(refuse("ID_MISMATCH", "data.id differs from the entry's id".into()));
                    }
                } else if table.writable_column(column).is_some() {
                    data.insert(column.clone(), value.clone());
                } else {
                    return Err(refuse("UNKNOWN_COLUMN", format!("{} has no writable column {:?}", table.name, clip(column, MAX_TEXT))));
                }
            }
            Ok(Checked { table, op: entry.op, id, data })
        })
        .collect::<Result<Vec<_>, Rejection>>()?;
    match refuse_values(entries, limits.max_value) {
        Some(rejection) => Err(rejection),
        None => Ok(checked),
    }
}

/// Ids are compared as Postgres prints them: uuids lowercase and hyphenated.
fn canonical(column: &Column, value: &str) -> Option<String> {
    if column.sql_type == "uuid" {
        Uuid::parse_str(value)
            .ok()
            .map(|u| u.hyphenated().to_string())
    } else {
        Some(value.to_owned())
    }
}

/// Consecutive entries with the same table and op (and for PATCH the same columns) share
/// a statement, unless an id repeats: one statement may not touch a row twice.
fn group<'a>(checked: &[Checked<'a>]) -> Vec<Group<'a>> {
    let mut groups: Vec<Group> = Vec::new();
    let mut ids: HashSet<&str> = HashSet::new();
    for (index, entry) in checked.iter().enumerate() {
        let joins = groups.last().is_some_and(|g| {
            let first = &checked[g.entries[0]];
            g.table.name == entry.table.name
                && g.op == entry.op
                && (entry.op != Op::Patch || first.data.keys().eq(entry.data.keys()))
                && !ids.contains(entry.id.as_str())
        });
        if !joins {
            groups.push(Group {
                table: entry.table,
                op: entry.op,
                entries: Vec::new(),
            });
            ids.clear();
        }
        ids.insert(&entry.id);
        groups.last_mut().expect("pushed above").entries.push(index);
    }
    groups
}

/// Runs the groups in one transaction: commits and returns None, or rolls back and says
/// which entry was refused. A single statement is atomic on its own, so it runs without
/// BEGIN/COMMIT: one round trip instead of three.
async fn run(
    conn: &mut PgConnection,
    owner: Uuid,
    checked: &[Checked<'_>],
    groups: &[Group<'_>],
    limits: &Limits,
) -> Result<Option<Rejection>, Retryable> {
    if let [group] = groups {
        return match run_group(conn, owner, checked, group).await {
            Ok(rejection) => Ok(rejection),
            Err(error) => match permanent(&error) {
                Some((code, message)) => Ok(Some(Rejection {
                    entry: group.entries[0],
                    code,
                    message,
                })),
                None => Err(error.into()),
            },
        };
    }
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    for group in groups {
        match run_group(&mut tx, owner, checked, group).await {
            Ok(None) => {}
            Ok(Some(rejection)) => return Ok(Some(rejection)), // dropping tx rolls back
            Err(error) => {
                return match permanent(&error) {
                    Some((code, message)) => Ok(Some(Rejection {
                        entry: group.entries[0],
                        code,
                        message,
                    })),
                    None => Err(error.into()),
                };
            }
        }
    }
    if Instant::now() > limits.commit_by {
        return Err(Retryable::OutOfTime); // dropping tx rolls back
    }
    match tx.commit().await {
        Ok(()) => Ok(None),
        Err(error) => match permanent(&error) {
            // A deferred constraint fails at COMMIT: blame the last entry.
            Some((code, message)) => Ok(Some(Rejection {
                entry: checked.len() - 1,
                code,
                message,
            })),
            None => Err(error.into()),
        },
    }
}

/// Data errors (classes 21, 22, 23, 54 "too large to index", and trigger exceptions P0)
/// will fail the same way every time; everything else may pass on a retry. Class 42
/// (undefined table or column, revoked grant) is not one: clients never write SQL, so it
/// is the server's own state that is wrong (see `server_fault`).
fn permanent(error: &sqlx::Error) -> Option<(String, String)> {
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

async fn run_group(
    conn: &mut PgConnection,
    owner: Uuid,
    checked: &[Checked<'_>],
    group: &Group<'_>,
) -> Result<Option<Rejection>, sqlx::Error> {
    let table = group.table;
    let owner_text = owner.hyphenated().to_string();
    let ids: Vec<&str> = group
        .entries
        .iter()
        .map(|&i| checked[i].id.as_str())
        .collect();
    let rows = || -> Value {
        Value::Array(
            group
                .entries
                .iter()
                .map(|&i| {
                    let mut row = checked[i].data.clone();
                    row.insert(table.id.name.clone(), Value::String(checked[i].id.clone()));
                    Value::Object(row)
                })
                .collect(),
        )
    };
    let affected = match group.op {
        Op::Put => {
            // One text[] per column (not one jsonb document): Postgres still coerces each
            // value from text, without parsing and walking a JSON document first.
            let sql = put_sql(table);
            let mut query = sqlx::query(&sql).bind(&ids).bind(&owner_text);
            for column in &table.writable {
                let values: Vec<Option<String>> = group
                    .entries
                    .iter()
                    .map(|&i| as_text(checked[i].data.get(&column.name)))
                    .collect();
                query = query.bind(values);
            }
            query.execute(&mut *conn).await?.rows_affected()
        }
        Op::Patch => {
            let columns: Vec<&str> = checked[group.entries[0]]
                .data
                .keys()
                .map(String::as_str)
                .collect();
            if columns.is_empty() {
                // Changes nothing, but a row the uploader may not write is still refused
                // (the check below), like any other write there.
                0
            } else {
                sqlx::query(&patch_sql(table, &columns))
                    .bind(rows())
                    .bind(&owner_text)
                    .bind(&ids)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected()
            }
        }
        Op::Delete => sqlx::query(&delete_sql(table))
            .bind(&ids)
            .bind(&owner_text)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
    };
    if affected == ids.len() as u64 {
        return Ok(None);
    }
    // Fewer rows: some are missing (fine for PATCH/DELETE), or one is not the uploader's
    // to write (or moves into a notebook that is not), in which case the statement touched
    // nothing. Ask which.
    let mut denied: Vec<(String, String)> = sqlx::query_as(&denied_rows(table, "$1", group.op))
        .bind(&ids)
        .bind(&owner_text)
        .fetch_all(&mut *conn)
        .await?;
    if let Some(column) = notebook_column(table).filter(|_| group.op != Op::Delete) {
        // Where each entry writes the row (absent from a PATCH: it stays where it is).
        let (moved_ids, targets): (Vec<&str>, Vec<Option<String>>) = group
            .entries
            .iter()
            .filter(|&&i| group.op == Op::Put || checked[i].data.contains_key(column))
            .map(|&i| (checked[i].id.as_str(), as_text(checked[i].data.get(column))))
            .unzip();
        if !moved_ids.is_empty() {
            let moves: Vec<(String, String)> =
                sqlx::query_as(&denied_moves(table, &put_moves("$3::text[]")))
                    .bind(&moved_ids)
                    .bind(&owner_text)
                    .bind(&targets)
                    .fetch_all(&mut *conn)
                    .await?;
            denied.extend(moves);
        }
    }
    Ok(group.entries.iter().copied().find_map(|entry| {
        let (_, code) = denied.iter().find(|(id, _)| id == &checked[entry].id)?;
        Some(Rejection {
            entry,
            code: code.clone(),
            message: refusal(code, &table.name),
        })
    }))
}

/// A JSON value as the text Postgres parses into the column's type (what
/// `jsonb_populate_record` would hand the type's input function). Absent or null: NULL.
fn as_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => Some(number.to_string()),
        nested => Some(nested.to_string()),
    }
}
