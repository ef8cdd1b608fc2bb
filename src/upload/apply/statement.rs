//! One group of entries (same table and op) as one statement: its SQL's parameters, the
//! rows it changed, and, when it changed fewer than it was given, which entry was refused.

use std::borrow::Cow;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use sqlx::{AssertSqlSafe, PgConnection};
use uuid::Uuid;

use super::{Checked, Group, Rejection};
use crate::upload::ledger::{self, LedgerKey};
use crate::upload::request::Op;
use crate::upload::row::{Field, Row};
use crate::upload::schema::{Column, Table};
use crate::upload::statements::{
    Form, REFUSED, cached_plan, notebook_column, refusal, typed_put_ids,
};
use crate::upload::typed::{self, Native, Values};

/// What one statement did.
pub(super) enum Ran {
    /// Ran; None, or the entry refused.
    Done(Option<Rejection>),
    /// The ledger already had this transaction: nothing ran.
    Replay,
    /// A PUT was refused a row, which changed before it could be named, every time it ran:
    /// nothing of it stays.
    Raced,
}

/// Where a statement runs.
#[derive(Clone, Copy)]
pub(super) enum Scope<'a> {
    /// Inside BEGIN … COMMIT, among others.
    Transaction,
    /// Alone in its own implicit transaction; claiming the ledger key when there is one
    /// (then it changes nothing when the key was claimed before).
    Alone(Option<LedgerKey<'a>>),
}

/// How often a PUT refused a row that nobody can name runs again before giving up.
const RUNS: usize = 3;

/// Runs one group as one statement; when it changed fewer rows than it was given, asks
/// which entry was refused.
pub(super) async fn run_group(
    conn: &mut PgConnection,
    owner: Uuid,
    checked: &[Checked<'_>],
    group: &Group<'_>,
    scope: Scope<'_>,
) -> Result<Ran, sqlx::Error> {
    let ids: Vec<&str> = group.entries.iter().map(|&i| &*checked[i].id).collect();
    for _ in 0..RUNS {
        match run_statement(conn, owner, &ids, checked, group, scope).await {
            Ok((false, _)) => return Ok(Ran::Replay),
            Ok((true, affected)) if affected == group.entries.len() as u64 => {
                return Ok(Ran::Done(None));
            }
            Ok(_) => {}
            Err(error) if !refused(&error) => return Err(error),
            Err(_) => {}
        }
        // Fewer rows: some are missing (fine for PATCH/DELETE), or one is not the
        // uploader's to write (or moves into a notebook that is not), in which case the
        // statement touched nothing. Ask which.
        let rejection = refused_entry(conn, owner, &ids, checked, group).await?;
        // A PUT writes every row it is given: when none is named, the row that stood in
        // the way changed since. Run it again.
        if rejection.is_some() || group.op != Op::Put {
            return Ok(Ran::Done(rejection));
        }
    }
    Ok(Ran::Raced)
}

/// A lone PUT refused one of its rows and undid itself (see `statements::Check`).
fn refused(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code == REFUSED)
}

/// Runs one group as one statement, `ids` its rows' ids, written as `owner`: (claimed,
/// rows affected).
async fn run_statement(
    conn: &mut PgConnection,
    owner: Uuid,
    ids: &[&str],
    checked: &[Checked<'_>],
    group: &Group<'_>,
    scope: Scope<'_>,
) -> Result<(bool, u64), sqlx::Error> {
    let (form, claim) = match scope {
        Scope::Transaction => (Form::InTransaction, None),
        Scope::Alone(None) => (Form::Alone, None),
        Scope::Alone(Some(key)) => (Form::Claiming, Some(key)),
    };
    let table = group.table;
    let statements = &table.statements;
    let query = match group.op {
        Op::Put => {
            // One array per column (not one jsonb document): uuids and times typed when
            // they all are in the form both sides read alike, else text for Postgres to
            // coerce, without parsing and walking a JSON document first.
            let (typed, ids, columns) = put_values(table, ids, checked, &group.entries);
            let sql = statements.put(form, typed);
            let mut query = ids.bind(sqlx::query(AssertSqlSafe(sql))).bind(owner);
            for values in columns {
                query = values.bind(query);
            }
            query
        }
        Op::Patch => {
            let columns: Vec<&str> = checked[group.entries[0]].data.keys().collect();
            if columns.is_empty() {
                // Changes nothing, but a row the uploader may not write is still refused
                // (the check after it), like any other write there.
                let claimed = match claim {
                    Some(key) => ledger::claim(conn, owner, key).await?,
                    None => true,
                };
                return Ok((claimed, 0));
            }
            let sql = statements.patch(table, &columns, form);
            let rows = PatchRows {
                id_column: &table.id.name,
                checked,
                entries: &group.entries,
            };
            sqlx::query(AssertSqlSafe(sql))
                .bind(sqlx::types::Json(rows))
                .bind(owner)
                .bind(ids)
        }
        Op::Delete => {
            let sql = statements.delete(form);
            sqlx::query(AssertSqlSafe(sql)).bind(ids).bind(owner)
        }
    };
    let query = query.persistent(cached_plan(group.op, form));
    execute(conn, query, form, claim).await
}

/// A PUT's ids (`ids`, of `entries`) and columns, one array each: with the `Native` ones
/// typed (true), or all as text when one of those values is in a form only Postgres should
/// read (false). The ids are typed along with the columns when the table's are uuids (see
/// `statements::put_ids`).
fn put_values<'c>(
    table: &Table,
    ids: &[&'c str],
    checked: &'c [Checked<'_>],
    entries: &[usize],
) -> (bool, Values<'c>, Vec<Values<'c>>) {
    let columns: Vec<(&Column, Vec<Option<&'c Field<'c>>>)> = table
        .writable
        .iter()
        .map(|column| {
            let values = entries.iter().map(|&i| checked[i].data.get(&column.name));
            (column, values.collect())
        })
        .collect();
    let text = |values: &[Option<&'c Field<'c>>]| {
        Values::Text(
            values
                .iter()
                .map(|value| value.and_then(Field::text))
                .collect(),
        )
    };
    let text_ids = || Values::Text(ids.iter().map(|id| Some(Cow::Borrowed(*id))).collect());
    let typed_ids = match typed_put_ids(table) {
        // Canonical already (`check` parsed them), so none fails here.
        true => ids
            .iter()
            .map(|id| Uuid::parse_str(id).ok().map(Some))
            .collect::<Option<_>>()
            .map(Values::Uuid),
        false => Some(text_ids()),
    };
    let typed: Option<Vec<Values>> = columns
        .iter()
        .map(|(column, values)| match Native::of(column) {
            Some(native) => typed::convert(native, values),
            None => Some(text(values)),
        })
        .collect();
    match (typed_ids, typed) {
        (Some(ids), Some(typed)) => (true, ids, typed),
        _ => (
            false,
            text_ids(),
            columns.iter().map(|(_, values)| text(values)).collect(),
        ),
    }
}

/// The entry of `group` (`ids` its rows' ids) the uploader (`owner`) may not write, or
/// move where it goes, if any.
async fn refused_entry(
    conn: &mut PgConnection,
    owner: Uuid,
    ids: &[&str],
    checked: &[Checked<'_>],
    group: &Group<'_>,
) -> Result<Option<Rejection>, sqlx::Error> {
    let table = group.table;
    let statements = &table.statements;
    let mut denied: Vec<(String, String)> =
        sqlx::query_as(AssertSqlSafe(statements.denied(group.op)))
            .bind(ids)
            .bind(owner)
            .persistent(false)
            .fetch_all(&mut *conn)
            .await?;
    if let Some(column) = notebook_column(table).filter(|_| group.op != Op::Delete) {
        // Where each entry writes the row (absent from a PATCH: it stays where it is).
        let (moved_ids, targets): (Vec<&str>, Vec<Option<Cow<str>>>) = group
            .entries
            .iter()
            .filter(|&&i| group.op == Op::Put || checked[i].data.contains_key(column))
            .map(|&i| {
                (
                    &*checked[i].id,
                    checked[i].data.get(column).and_then(Field::text),
                )
            })
            .unzip();
        if !moved_ids.is_empty() {
            let moves: Vec<(String, String)> =
                sqlx::query_as(AssertSqlSafe(statements.denied_moves()))
                    .bind(&moved_ids)
                    .bind(owner)
                    .bind(&targets)
                    .persistent(false)
                    .fetch_all(&mut *conn)
                    .await?;
            denied.extend(moves);
        }
    }
    Ok(group.entries.iter().copied().find_map(|entry| {
        let (_, code) = denied.iter().find(|(id, _)| *id == checked[entry].id)?;
        Some(Rejection {
            entry,
            code: code.clone(),
            message: refusal(code, &table.name),
        })
    }))
}

/// Runs a statement: (claimed, rows affected). Inside a transaction it counts its rows;
/// alone, it yields them as a row (see `statements::Form::build`), binding the ledger key
/// when it claims one.
async fn execute<'q>(
    conn: &mut PgConnection,
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    form: Form,
    claim: Option<LedgerKey<'q>>,
) -> Result<(bool, u64), sqlx::Error> {
    if form == Form::InTransaction {
        return Ok((true, query.execute(conn).await?.rows_affected()));
    }
    let query = match claim {
        Some((client, tx)) => query.bind(client).bind(tx),
        None => query,
    };
    let row = query.fetch_one(conn).await?;
    let claimed: i64 = sqlx::Row::try_get(&row, 0)?;
    let affected: i64 = sqlx::Row::try_get(&row, 1)?;
    Ok((claimed == 1, u64::try_from(affected).unwrap_or(0)))
}

/// The rows of a PATCH group as the jsonb array `jsonb_populate_recordset` reads: each
/// entry's columns and its id, serialized straight from the entries (no copy).
struct PatchRows<'s, 'a> {
    id_column: &'s str,
    checked: &'s [Checked<'a>],
    entries: &'s [usize],
}

impl Serialize for PatchRows<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut rows = serializer.serialize_seq(Some(self.entries.len()))?;
        for &index in self.entries {
            let entry = &self.checked[index];
            rows.serialize_element(&PatchRow {
                id_column: self.id_column,
                id: &entry.id,
                data: &entry.data,
            })?;
        }
        rows.end()
    }
}

struct PatchRow<'s> {
    id_column: &'s str,
    id: &'s str,
    data: &'s Row<'s>,
}

impl Serialize for PatchRow<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut row = serializer.serialize_map(Some(self.data.len() + 1))?;
        for (column, value) in self.data.iter() {
            row.serialize_entry(column, value)?;
        }
        row.serialize_entry(self.id_column, self.id)?;
        row.end()
    }
}
