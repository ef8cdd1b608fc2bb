//! Applies one client transaction as one Postgres transaction.
//!
//! Fast path: consecutive entries of the same table and op become one multi-row statement.
//! PUT rows travel as one array parameter per column (`unnest`): uuids and times typed
//! when all are in the form both sides read alike (`typed`), every other value as text.
//! PATCH rows travel as one jsonb document (`jsonb_populate_recordset`, since each may name
//! other columns). Postgres coerces every value sent as text to its column type. Ownership is part of every statement's WHERE
//! clause, and a statement touching any row of another user touches none, so each statement
//! is all-or-nothing by itself: a transaction of one statement (100 PUTs, or one edit) runs
//! without BEGIN/COMMIT in one round trip. When a statement touched fewer rows than it was
//! given, one more query tells missing rows (fine) from someone else's (refused).
//! When a multi-row statement fails, the transaction is replayed entry by entry (and
//! rolled back) to name the entry at fault.

use std::borrow::Cow;
use std::collections::HashSet;
use std::time::Instant;

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::classify::permanent;
pub use super::classify::server_fault;
use super::ledger::{self, LedgerKey};
use super::rejections::{MAX_TEXT, clip};
use super::request::{ClientTransaction, Entry, Op};
use super::row::{Field, Row};
use super::schema::{Column, Table, UploadSchema};
use super::values::refuse_values;
use statement::{Ran, Scope, run_group};
use transaction::{replayed, transactional};

mod statement;
mod transaction;

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
    /// Applied before (the ledger has it): answered with the recorded result, None for
    /// success, else the refusal answered then.
    Replayed(Option<Value>),
}

/// A failure after which the same request may succeed (or a bug): nothing was committed.
#[derive(Debug, thiserror::Error)]
pub enum Retryable {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Too late to commit: the client may already have been told its request timed out.
    #[error("the request ran out of time before this transaction could commit")]
    OutOfTime,
    /// A row refused to the upload kept changing before it could be named (see `run_group`).
    #[error("a row this transaction writes kept changing while it was checked")]
    Raced,
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
#[derive(Clone)]
struct Checked<'a> {
    table: &'a Table,
    op: Op,
    id: Cow<'a, str>,
    /// Writable columns and their values (`id` and the owner column removed): the
    /// entry's own unless one of those had to be removed, or a merge rewrote it.
    data: Cow<'a, Row<'a>>,
    /// The merge base the client sent (`old`), when it names a merged column.
    old: Option<&'a Row<'a>>,
}

impl Checked<'_> {
    /// A PATCH or DELETE that carries the base of a merged text column.
    fn merges(&self) -> bool {
        self.op != Op::Put && self.old.is_some()
    }
}

/// Entries that run as one statement.
struct Group<'a> {
    table: &'a Table,
    op: Op,
    entries: Vec<usize>,
}

/// Applies one client transaction on `conn`. Run it where nothing cancels it midway (the
/// upload handler runs it in a task of its own): it may BEGIN on `conn` (see `db::begin`).
pub async fn apply(
    conn: &mut PgConnection,
    schema: &UploadSchema,
    owner: Uuid,
    transaction: &ClientTransaction<'_>,
    limits: &Limits,
) -> Result<Outcome, Retryable> {
    let ledger = transaction.ledger_key();
    let checked = match check(schema, owner, &transaction.entries, limits) {
        Ok(checked) => checked,
        Err(rejection) => {
            // A retry of a refused transaction is answered from the ledger, not refused twice.
            if let Some(key) = ledger
                && let Some(result) = ledger::recorded(conn, owner, key).await?
            {
                return Ok(Outcome::Replayed(result));
            }
            return Ok(Outcome::Rejected(rejection));
        }
    };
    if Instant::now() > limits.commit_by {
        return Err(Retryable::OutOfTime);
    }
    let merging = checked.iter().any(Checked::merges);
    let groups = group(&checked);
    if let [single] = groups.as_slice()
        && !merging
    {
        return alone(conn, owner, &checked, single, ledger, limits).await;
    }
    transactional(conn, owner, &checked, ledger, limits, false).await
}

/// One statement is atomic on its own, so it runs without BEGIN/COMMIT, claiming the
/// ledger key in the same statement: one round trip.
async fn alone(
    conn: &mut PgConnection,
    owner: Uuid,
    checked: &[Checked<'_>],
    group: &Group<'_>,
    ledger: Option<LedgerKey<'_>>,
    limits: &Limits,
) -> Result<Outcome, Retryable> {
    match run_group(conn, owner, checked, group, Scope::Alone(ledger)).await {
        Ok(Ran::Replay) => replayed(conn, owner, ledger).await,
        Ok(Ran::Done(None)) => Ok(Outcome::Applied),
        Ok(Ran::Done(Some(rejection))) => Ok(Outcome::Rejected(rejection)),
        Ok(Ran::Raced) => Err(Retryable::Raced),
        Err(error) => match permanent(&error) {
            // A multi-row statement failed: find the entry at fault, one statement each.
            Some(_) if group.entries.len() > 1 => {
                transactional(conn, owner, checked, ledger, limits, true).await
            }
            Some((code, message)) => Ok(Outcome::Rejected(Rejection {
                entry: group.entries[0],
                code,
                message,
            })),
            None => Err(error.into()),
        },
    }
}

/// Refusals that need no database: unknown table or column, bad id, foreign owner, a
/// value Postgres cannot store (NUL) or one over `upload.max_value`.
fn check<'a>(
    schema: &'a UploadSchema,
    owner: Uuid,
    entries: &'a [Entry<'a>],
    limits: &Limits,
) -> Result<Vec<Checked<'a>>, Rejection> {
    let owner_text = owner.hyphenated().to_string();
    let checked = entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let refuse = |code: &str, message: String| Rejection { entry: index, code: code.into(), message };
            let table = schema.tables.get(&*entry.table).ok_or_else(|| {
                refuse("UNKNOWN_TABLE", format!("table {:?} cannot be written by clients", clip(&entry.table, MAX_TEXT)))
            })?;
            let id = canonical(&table.id, &entry.id)
                .ok_or_else(|| refuse("INVALID_ID", format!("{:?} is not a valid id ({})", clip(&entry.id, MAX_TEXT), table.id.sql_type)))?;
            let mut filtered = false;
            // Whether `value` names what `expected` is, as a `column` value.
            let names = |column: &Column, value: &Field, expected: &str| {
                value.as_str().is_some_and(|v| canonical(column, &v).as_deref() == Some(expected))
            };
            for (column, value) in entry.data.iter() {
                if column == table.owner.name {
                    if !names(&table.owner, value, &owner_text) {
                        return Err(refuse(
                            "OWNER_MISMATCH",
                            format!("{column} must be your own user id; rows are always written as their owner"),
                        ));
                    }
                    filtered = true;
                } else if column == "id" {
                    if !names(&table.id, value, &id) {
                        return Err(refuse("ID_MISMATCH", "data.id differs from the entry's id".into()));
                    }
                    filtered = true;
                } else if table.writable_column(column).is_none() {
                    return Err(refuse("UNKNOWN_COLUMN", format!("{} has no writable column {:?}", table.name, clip(column, MAX_TEXT))));
                }
            }
            let data = if filtered {
                let mut data = entry.data.clone();
                data.retain(|column| table.writable_column(column).is_some());
                Cow::Owned(data)
            } else {
                Cow::Borrowed(&entry.data)
            };
            let old = entry
                .old
                .as_ref()
                .filter(|old| table.merged.iter().any(|c| old.contains_key(c)));
            Ok(Checked { table, op: entry.op, id, data, old })
        })
        .collect::<Result<Vec<_>, Rejection>>()?;
    match refuse_values(entries, limits.max_value) {
        Some(rejection) => Err(rejection),
        None => Ok(checked),
    }
}

/// Ids are compared as Postgres prints them: uuids lowercase and hyphenated.
fn canonical<'v>(column: &Column, value: &'v str) -> Option<Cow<'v, str>> {
    if column.sql_type != "uuid" {
        return Some(Cow::Borrowed(value));
    }
    let uuid = Uuid::parse_str(value).ok()?;
    let mut buffer = Uuid::encode_buffer();
    let printed = uuid.hyphenated().encode_lower(&mut buffer);
    Some(if *printed == *value {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(printed.to_owned())
    })
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
                && !ids.contains(&*entry.id)
        });
        if !joins {
            groups.push(Group {
                table: entry.table,
                op: entry.op,
                entries: Vec::new(),
            });
            ids.clear();
        }
        ids.insert(&*entry.id);
        groups.last_mut().expect("pushed above").entries.push(index);
    }
    groups
}
