//! The SQL text of upload statements, built from a table's catalog entry and its sync-schema
//! access rule. Parameters: `$1` the ids (text[], or uuid[] for a typed PUT), `$2` the
//! uploader's user id (uuid); PUT then one array per writable column (text[], or typed: see
//! `typed`), PATCH `$3` the ids with `$1` the rows (jsonb).
//!
//! Who may write is part of every statement, and each statement is all-or-nothing by
//! itself, evaluated set-based in Postgres (no per-row round trip): the row filter
//! (`may_write`), and a guard that makes the statement touch nothing when any of its rows,
//! or any notebook it moves a note into, is not the uploader's to write (one index probe
//! per id). A PUT that runs alone needs no probe: its conflict clause checks each row it
//! replaces, and the statement undoes itself when that clause left one alone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::request::Op;
use super::schema::{Column, Table, quote};
use super::typed::Native;
use crate::schema::Access;
use form::{Check, FORMS};
pub use form::{Form, REFUSED, cached_plan};

mod form;

/// Roles that may change a notebook's notes, or rename it.
const WRITERS: &str = "'owner', 'editor'";
/// Roles that may delete a notebook.
const OWNERS: &str = "'owner'";
/// Any member: sees it.
const MEMBERS: &str = "'owner', 'editor', 'viewer'";

/// Why a row (or a target notebook) may not be written: the rejection code and message.
pub fn refusal(code: &str, table: &str) -> String {
    match code {
        "NOT_A_MEMBER" => "you are not a member of this notebook".into(),
        "READ_ONLY" => {
            "you can only view this notebook; ask one of its owners to make you an editor".into()
        }
        "OWNERS_ONLY" => "only the notebook's owners can delete it".into(),
        _ => format!("this {table} row belongs to another user"),
    }
}

/// `$2` as the uploader's id, typed like the table's owner column.
fn me(table: &Table) -> String {
    uploader_as(&table.owner)
}

/// `$2` (a uuid) typed like `column`: as it is for a uuid column (no cast to run per row).
fn uploader_as(column: &Column) -> String {
    match Native::of(column) {
        Some(Native::Uuid) => "$2::uuid".to_owned(),
        _ => format!("$2::uuid::text::{}", column.sql_type),
    }
}

/// The uploader is a member of notebook `notebook` (an SQL uuid expression) with one of `roles`.
fn member(notebook: &str, roles: &str) -> String {
    format!(
        "exists (select 1 from notebook_members m where m.notebook_id = {notebook} \
         and m.user_id = $2::uuid and m.role in ({roles}))"
    )
}

/// May the uploader apply `op` to the existing row `x` (a table alias)?
fn may_write(table: &Table, x: &str, op: Op) -> String {
    let owner = format!("{x}.{}", quote(&table.owner.name));
    match &table.access {
        Access::Owner => format!("{owner} = {}", me(table)),
        Access::NotebookItem { notebook } => {
            let notebook = format!("{x}.{}", quote(notebook));
            format!(
                "(case when {notebook} is null then {owner} = {me} else {writer} end)",
                me = me(table),
                writer = member(&notebook, WRITERS),
            )
        }
        Access::Notebook => {
            let roles = if op == Op::Delete { OWNERS } else { WRITERS };
            member(&format!("{x}.{}", quote(&table.id.name)), roles)
        }
        Access::Membership { .. } => "false".into(),
    }
}

/// Why the uploader may not write row `x`: an SQL expression giving the rejection code.
fn denial_code(table: &Table, x: &str) -> String {
    match &table.access {
        Access::NotebookItem { notebook } => {
            let notebook = format!("{x}.{}", quote(notebook));
            format!(
                "case when {notebook} is null then 'NOT_OWNER' when {any} then 'READ_ONLY' else 'NOT_A_MEMBER' end",
                any = member(&notebook, MEMBERS),
            )
        }
        Access::Notebook => {
            let id = format!("{x}.{}", quote(&table.id.name));
            format!(
                "case when {writer} then 'OWNERS_ONLY' when {any} then 'READ_ONLY' else 'NOT_A_MEMBER' end",
                writer = member(&id, WRITERS),
                any = member(&id, MEMBERS),
            )
        }
        Access::Owner | Access::Membership { .. } => "'NOT_OWNER'".into(),
    }
}

/// The ids as text, as every statement but a typed PUT takes them.
const TEXT_IDS: &str = "$1::text[]";
/// The ids of a typed PUT into a table whose id is a uuid.
const TYPED_IDS: &str = "$1::uuid[]";

/// Whether a typed PUT into `table` takes its ids typed: when they are uuids.
pub fn typed_put_ids(table: &Table) -> bool {
    Native::of(&table.id) == Some(Native::Uuid)
}

/// How a PUT takes its ids: typed along with its columns when they are uuids (no cast per
/// row), else as text.
fn put_ids(table: &Table, typed: bool) -> &'static str {
    if typed && typed_put_ids(table) {
        TYPED_IDS
    } else {
        TEXT_IDS
    }
}

/// The rows among `$1` (ids, text[]) that the uploader (`$2`) may edit.
pub fn writable_rows(table: &Table) -> String {
    format!(
        "select * from {t} x where x.{id} = any($1::text[]::{ty}[]) and {may}",
        t = table.quoted,
        id = quote(&table.id.name),
        ty = table.id.sql_type,
        may = may_write(table, "x", Op::Patch),
    )
}

/// `(id, code)` of the rows among `ids` (an array parameter: text[], or of the id's type)
/// that exist and that the uploader may not apply `op` to.
fn denied_rows(table: &Table, ids: &str, op: Op) -> String {
    format!(
        "select x.{id}::text, {code} from {t} x where x.{id} = any({ids}::{ty}[]) \
         and not coalesce({may}, false)",
        t = table.quoted,
        id = quote(&table.id.name),
        ty = table.id.sql_type,
        code = denial_code(table, "x"),
        may = may_write(table, "x", op),
    )
}

/// `(id, code)` of the rows of `moves` (an SQL row source `n(id, nb)`: each row's id and
/// the notebook it is written into, NULL meaning personal) that the uploader may not
/// write there: a notebook needs them as its owner or editor; making a note personal needs
/// them as its owner (it becomes the owner's personal note).
fn denied_moves(table: &Table, moves: &str) -> String {
    format!(
        "select n.id::text, case when n.nb is null then 'NOT_OWNER' when {any} then 'READ_ONLY' else 'NOT_A_MEMBER' end \
         from {moves} where (n.nb is not null and not {writer}) or (n.nb is null and {taken})",
        any = member("n.nb::uuid", MEMBERS),
        writer = member("n.nb::uuid", WRITERS),
        taken = made_personal_by_another(table),
    )
}

/// SQL on a move `n(id, nb)` with `nb` NULL: the row is a notebook's note of another
/// owner, which only that owner may make personal.
fn made_personal_by_another(table: &Table) -> String {
    format!(
        "exists (select 1 from {t} x where x.{id} = n.id::{ty} and {taken})",
        t = table.quoted,
        id = quote(&table.id.name),
        ty = table.id.sql_type,
        taken = personal_of_another(table, "x"),
    )
}

/// The existing row `x` is a notebook's note of another owner.
fn personal_of_another(table: &Table, x: &str) -> String {
    format!(
        "{x}.{nb} is not null and {x}.{owner} is distinct from {me}",
        nb = quote(notebook_column(table).unwrap_or("notebook_id")),
        owner = quote(&table.owner.name),
        me = me(table),
    )
}

/// The moves of a PUT: the ids (`$1` as `ids`) and the notebook column's parameter
/// (text[] or uuid[]).
fn put_moves(ids: &str, notebook_array: &str) -> String {
    format!("unnest({ids}, {notebook_array}) as n(id, nb)")
}

/// The moves of a PATCH that sets the notebook column (rows in `$1`).
fn patch_moves(table: &Table, notebook: &str) -> String {
    format!(
        "(select r.{id}::text, r.{nb}::text from jsonb_populate_recordset(null::{t}, $1) as r) as n(id, nb)",
        id = quote(&table.id.name),
        nb = quote(notebook),
        t = table.quoted,
    )
}

/// The notebook column of a table whose rows live in notebooks.
pub fn notebook_column(table: &Table) -> Option<&'static str> {
    match table.access {
        Access::NotebookItem { notebook } => Some(notebook),
        _ => None,
    }
}

/// The statement's guard: none of its rows (nor where it moves them) is off limits.
/// With moves, one probe per row covers both the row and its move out of a notebook
/// (`moves` holds every row of the statement), and each target notebook is probed once,
/// however many rows go into it.
fn guard(table: &Table, ids: &str, op: Op, moves: Option<&str>) -> String {
    let Some(moves) = moves else {
        return format!("not exists ({})", denied_rows(table, ids, op));
    };
    format!(
        "not exists (select 1 from {moves} join {t} x on x.{id} = n.id::{ty} \
         where not coalesce({may}, false) or (n.nb is null and {taken})) and {targets}",
        t = table.quoted,
        id = quote(&table.id.name),
        ty = table.id.sql_type,
        may = may_write(table, "x", op),
        taken = personal_of_another(table, "x"),
        targets = targets_guard(moves),
    )
}

/// Every notebook the rows of `moves` go into is the uploader's to write: each probed once,
/// however many rows go into it.
fn targets_guard(moves: &str) -> String {
    format!(
        "not exists (select 1 from (select distinct n.nb from {moves} where n.nb is not null) t \
         where not {writer})",
        writer = member("t.nb::uuid", WRITERS),
    )
}

/// Insert-or-replace: absent writable columns take their default (or NULL); the owner is
/// the uploader for a new row and never changes; a row the uploader may not write is left
/// alone. `$3…` one text[] per writable column.
///
/// `guarded`: the statement probes its rows first and touches none when one is off limits
/// (inside BEGIN … COMMIT, where an error would abort the transaction). Otherwise only the
/// conflict clause checks each existing row, as it meets it, and `Check::AllOrNothing` undoes
/// the statement when it left one alone: no probe of the table per row, and a plan that
/// does not depend on what the table holds (the conflict arbiter is its primary key).
///
/// `typed`: the columns of a `Native` type come as arrays of that type (see `typed`), and
/// so do the ids (`put_ids`).
fn put_sql(table: &Table, extra: &str, guarded: bool, typed: bool) -> String {
    let id = quote(&table.id.name);
    let owner = quote(&table.owner.name);
    let ids = put_ids(table, typed);
    let mut columns = vec![id.clone(), owner.clone()];
    let id_value = match ids {
        TYPED_IDS => "v.c0".to_owned(),
        _ => format!("v.c0::{}", table.id.sql_type),
    };
    let mut values = vec![id_value, me(table)];
    let mut arrays = vec![ids.to_owned()];
    let mut aliases = vec!["c0".to_owned()];
    let mut updates = Vec::new();
    let mut moves = None;
    for (i, column) in table.writable.iter().enumerate() {
        let name = quote(&column.name);
        let native = Native::of(column).filter(|_| typed);
        let (array, value) = match native {
            Some(native) => (
                format!("${}::{}", i + 3, native.array_type()),
                format!("v.c{}", i + 1),
            ),
            None => (
                format!("${}::text[]", i + 3),
                format!("v.c{}::{}", i + 1, column.sql_type),
            ),
        };
        values.push(match &column.default {
            Some(default) => format!("coalesce({value}, {default})"),
            None => value,
        });
        aliases.push(format!("c{}", i + 1));
        updates.push(format!("{name} = excluded.{name}"));
        if Some(column.name.as_str()) == notebook_column(table) {
            moves = Some(put_moves(ids, &array));
        }
        arrays.push(array);
        columns.push(name);
    }
    if let Some(stamp) = &table.stamp {
        let name = quote(&stamp.name);
        values.push(uploader_as(stamp));
        updates.push(format!("{name} = excluded.{name}"));
        columns.push(name);
    }
    if updates.is_empty() {
        updates.push(format!("{owner} = {t}.{owner}", t = table.quoted));
    }
    let condition = match (guarded, &moves) {
        (true, _) => guard(table, ids, Op::Put, moves.as_deref()),
        (false, Some(moves)) => targets_guard(moves),
        (false, None) => "true".into(),
    };
    let mut may = may_write(table, &table.quoted, Op::Put);
    if let Some(notebook) = notebook_column(table) {
        // Making another owner's note personal: `guard` refuses it too, when it runs.
        may = format!(
            "{may} and not (excluded.{nb} is null and {taken})",
            nb = quote(notebook),
            taken = personal_of_another(table, &table.quoted),
        );
    }
    format!(
        "insert into {t} ({columns}) select {values} from unnest({arrays}) as v({aliases}) \
         where {condition}{extra} \
         on conflict ({id}) do update set {updates} where {may}",
        t = table.quoted,
        columns = columns.join(", "),
        values = values.join(", "),
        arrays = arrays.join(", "),
        aliases = aliases.join(", "),
        updates = updates.join(", "),
    )
}

/// `$1` the rows (jsonb array), `$2` the uploader, `$3` the ids.
fn patch_sql(table: &Table, columns: &[&str], extra: &str) -> String {
    let id = quote(&table.id.name);
    let mut sets: Vec<String> = columns
        .iter()
        .map(|c| format!("{q} = r.{q}", q = quote(c)))
        .collect();
    if let Some(stamp) = &table.stamp {
        sets.push(format!("{} = {}", quote(&stamp.name), uploader_as(stamp)));
    }
    let moves = notebook_column(table)
        .filter(|notebook| columns.contains(notebook))
        .map(|notebook| patch_moves(table, notebook));
    format!(
        "update {t} set {sets} from jsonb_populate_recordset(null::{t}, $1) as r \
         where {t}.{id} = r.{id} and {may} and {guard}{extra}",
        t = table.quoted,
        sets = sets.join(", "),
        may = may_write(table, &table.quoted, Op::Patch),
        guard = guard(table, "$3::text[]", Op::Patch, moves.as_deref()),
    )
}

/// The uploader is named in `notebox.actor` for the statement, so the trash records who
/// deleted a note (a trigger reads it).
fn delete_sql(table: &Table, extra: &str) -> String {
    format!(
        "delete from {t} where {id} = any($1::text[]::{ty}[]) and {may} and {guard}{extra} \
         and set_config('notebox.actor', $2::uuid::text, true) is not null",
        t = table.quoted,
        id = quote(&table.id.name),
        ty = table.id.sql_type,
        may = may_write(table, &table.quoted, Op::Delete),
        guard = guard(table, TEXT_IDS, Op::Delete, None),
    )
}

/// PATCH column sets kept per table; clients can only name writable columns, so this is
/// a bound that real schemas never reach.
const MAX_PATCH_SHAPES: usize = 256;

/// A table's upload statements, built once when the schema is read (PUT, DELETE and the
/// refusal queries), or on first use per column set (PATCH), instead of per request.
/// PUT and DELETE in each `Form`, in the order of `FORMS`.
#[derive(Debug, Default)]
pub struct Statements {
    /// Sending text, then typed (see `typed`).
    put: [[Arc<str>; 2]; 3],
    delete: [Arc<str>; 3],
    /// `denied_rows` for PUT, PATCH and DELETE.
    denied: [Arc<str>; 3],
    denied_moves: Arc<str>,
    patch: Mutex<HashMap<(String, Form), Arc<str>>>,
}

impl Statements {
    pub fn new(table: &Table) -> Self {
        Self {
            put: FORMS.map(|form| {
                let guarded = form == Form::InTransaction;
                let first_param = table.writable.len() + 3;
                [false, true].map(|typed| {
                    form.build(
                        |extra| put_sql(table, extra, guarded, typed),
                        first_param,
                        Check::AllOrNothing(put_ids(table, typed)),
                    )
                    .into()
                })
            }),
            delete: FORMS.map(|form| {
                form.build(|extra| delete_sql(table, extra), 3, Check::Count)
                    .into()
            }),
            denied: [Op::Put, Op::Patch, Op::Delete]
                .map(|op| denied_rows(table, TEXT_IDS, op).into()),
            denied_moves: denied_moves(table, &put_moves(TEXT_IDS, "$3::text[]")).into(),
            patch: Mutex::default(),
        }
    }

    /// Statements are `Arc<str>`: handing one to sqlx is a refcount, not a copy.
    /// `typed`: the statement taking the columns of a `Native` type as arrays of it.
    pub fn put(&self, form: Form, typed: bool) -> Arc<str> {
        self.put[form as usize][usize::from(typed)].clone()
    }

    pub fn delete(&self, form: Form) -> Arc<str> {
        self.delete[form as usize].clone()
    }

    /// `(id, code)` of the rows among `$1` the uploader (`$2`) may not apply `op` to.
    pub fn denied(&self, op: Op) -> Arc<str> {
        let index = match op {
            Op::Put => 0,
            Op::Patch => 1,
            Op::Delete => 2,
        };
        self.denied[index].clone()
    }

    /// `denied_moves` of `$1` ids into `$3` notebooks (text[]).
    pub fn denied_moves(&self) -> Arc<str> {
        self.denied_moves.clone()
    }

    /// The PATCH of exactly `columns` (writable columns of `table`, in order).
    pub fn patch(&self, table: &Table, columns: &[&str], form: Form) -> Arc<str> {
        let key = (columns.join(","), form);
        let mut cache = self.patch.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sql) = cache.get(&key) {
            return sql.clone();
        }
        let sql: Arc<str> = form
            .build(|extra| patch_sql(table, columns, extra), 4, Check::Count)
            .into();
        if cache.len() < MAX_PATCH_SHAPES {
            cache.insert(key, sql.clone());
        }
        sql
    }
}
