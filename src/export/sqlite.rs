//! The SQLite export: the synced tables with the columns Postgres has (which are the
//! columns the clients sync: the sync streams select `*`), holding the rows the user
//! receives, written in one SQLite transaction and moved into place only when complete.

use std::path::Path;

use anyhow::{Context, bail};
use rusqlite::types::Value as SqliteValue;
use sqlx::PgPool;
use uuid::Uuid;

use super::{USER_NOTES, snapshot};
use crate::schema::quote;

/// The synced tables an export holds, and which of their rows belong to the user.
pub const EXPORTED_TABLES: &[(&str, &str)] = &[
    ("notes", USER_NOTES),
    (
        "notebooks",
        "t.id in (select notebook_id from notebook_members where user_id = $1)",
    ),
    (
        "notebook_members",
        "t.notebook_id in (select notebook_id from notebook_members where user_id = $1)",
    ),
];

/// Says what the file is, for `notebox import` and for people.
const INFO_TABLE: &str = "notebox_export";

struct TableData {
    name: &'static str,
    columns: Vec<(String, &'static str)>,
    rows: Vec<serde_json::Value>,
}

/// Writes the user's rows to `out`, which must not exist yet. Returns the rows per table.
pub async fn write_sqlite(
    pool: &PgPool,
    user: Uuid,
    email: &str,
    out: &Path,
) -> anyhow::Result<Vec<(&'static str, usize)>> {
    if out.exists() {
        bail!(
            "{} already exists: export never overwrites; choose another --out",
            out.display()
        );
    }
    let mut tx = snapshot(pool).await?;
    let mut tables = Vec::new();
    for (name, rows_of_user) in EXPORTED_TABLES {
        let columns: Vec<(String, String)> = sqlx::query_as(
            "select column_name::text, data_type::text from information_schema.columns
             where table_schema = current_schema() and table_name = $1 order by ordinal_position",
        )
        .bind(name)
        .fetch_all(&mut *tx)
        .await?;
        let rows: Vec<serde_json::Value> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select to_jsonb(t) from {name} t where {rows_of_user} order by t.id"
        )))
        .bind(user)
        .fetch_all(&mut *tx)
        .await?;
        tables.push(TableData {
            name,
            columns: columns
                .into_iter()
                .map(|(column, kind)| (column, affinity(&kind)))
                .collect(),
            rows,
        });
    }
    tx.commit().await?;

    let partial = out.with_file_name(format!(
        ".{}.partial-{}",
        out.file_name().and_then(|n| n.to_str()).unwrap_or("export"),
        Uuid::new_v4().simple()
    ));
    let written = write_file(&partial, &tables, email)
        .with_context(|| format!("cannot write {}", partial.display()));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    if out.exists() {
        let _ = std::fs::remove_file(&partial);
        bail!(
            "{} appeared while exporting: export never overwrites",
            out.display()
        );
    }
    std::fs::rename(&partial, out)
        .with_context(|| format!("cannot move the export to {}", out.display()))?;
    Ok(tables.iter().map(|t| (t.name, t.rows.len())).collect())
}

fn write_file(path: &Path, tables: &[TableData], email: &str) -> anyhow::Result<()> {
    let mut db = rusqlite::Connection::open(path)?;
    let tx = db.transaction()?;
    tx.execute_batch(&format!(
        "create table {INFO_TABLE} (key text primary key not null, value text not null)"
    ))?;
    for (key, value) in [
        ("format", "notebox-export-1"),
        ("user", email),
        ("exported_at", &chrono::Utc::now().to_rfc3339()),
        ("notebox_version", env!("CARGO_PKG_VERSION")),
    ] {
        tx.execute(
            &format!("insert into {INFO_TABLE} (key, value) values (?1, ?2)"),
            [key, value],
        )?;
    }
    for table in tables {
        let definitions: Vec<String> = table
            .columns
            .iter()
            .map(|(name, kind)| {
                if name == "id" {
                    format!("{} text primary key not null", quote(name))
                } else {
                    format!("{} {kind}", quote(name))
                }
            })
            .collect();
        tx.execute_batch(&format!(
            "create table {} ({})",
            quote(table.name),
            definitions.join(", ")
        ))?;
        let placeholders = vec!["?"; table.columns.len()].join(", ");
        let names: Vec<String> = table.columns.iter().map(|(n, _)| quote(n)).collect();
        let mut insert = tx.prepare(&format!(
            "insert into {} ({}) values ({placeholders})",
            quote(table.name),
            names.join(", ")
        ))?;
        for row in &table.rows {
            let values: Vec<SqliteValue> = table
                .columns
                .iter()
                .map(|(name, _)| to_sqlite(&row[name.as_str()]))
                .collect();
            insert.execute(rusqlite::params_from_iter(values))?;
        }
    }
    tx.commit()?;
    db.close().map_err(|(_, e)| e)?;
    Ok(())
}

/// SQLite's column type for a Postgres type, as PowerSync's clients declare them:
/// integers and booleans as integer, other numbers as real, everything else as text.
fn affinity(postgres_type: &str) -> &'static str {
    match postgres_type {
        "smallint" | "integer" | "bigint" | "boolean" => "integer",
        "real" | "double precision" | "numeric" => "real",
        _ => "text",
    }
}

/// A JSON value (`to_jsonb` of a row) as SQLite stores it: strings stay text (uuids and
/// timestamps included), booleans become 0/1, objects and arrays their JSON text.
fn to_sqlite(value: &serde_json::Value) -> SqliteValue {
    match value {
        serde_json::Value::Null => SqliteValue::Null,
        serde_json::Value::Bool(b) => SqliteValue::Integer(i64::from(*b)),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map(SqliteValue::Integer)
            .or_else(|| n.as_f64().map(SqliteValue::Real))
            .unwrap_or_else(|| SqliteValue::Text(n.to_string())),
        serde_json::Value::String(s) => SqliteValue::Text(s.clone()),
        other => SqliteValue::Text(other.to_string()),
    }
}
