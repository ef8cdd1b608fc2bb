//! What clients may write: the uploadable tables of the sync schema, introspected from
//! Postgres. Every identifier that reaches SQL comes from here, quoted, never from a request.

use std::collections::BTreeMap;
use std::sync::Arc;

use sqlx::PgPool;

use super::statements::Statements;
pub use crate::schema::quote;
use crate::schema::{Access, SyncSchema};

/// A column as Postgres describes it.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// `format_type()` text, e.g. `uuid`, `timestamp with time zone`.
    pub sql_type: String,
    /// The column default, as Postgres prints it (`now()`, `''::text`).
    pub default: Option<String>,
}

/// One uploadable table and the SQL fragments built from its catalog entry.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub quoted: String,
    pub id: Column,
    /// Forced to the uploader on insert, never changed after (owner / creator).
    pub owner: Column,
    /// Set to the uploader on every write ("last edited by").
    pub stamp: Option<Column>,
    /// Who may write which row (the sync schema's rule).
    pub access: Access,
    /// Text columns merged line by line on concurrent edits.
    pub merged: &'static [&'static str],
    /// Columns a client may write: all but `id`, the owner and stamp columns and generated
    /// columns.
    pub writable: Vec<Column>,
    /// The SQL of its upload statements, built from the fields above.
    pub statements: Arc<Statements>,
}

impl Table {
    pub fn writable_column(&self, name: &str) -> Option<&Column> {
        self.writable.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, Default)]
pub struct UploadSchema {
    pub tables: BTreeMap<String, Table>,
}

impl UploadSchema {
    /// Reads every uploadable table from `public`; an error names what the config gets wrong.
    pub async fn load(pool: &PgPool, schema: &SyncSchema) -> anyhow::Result<Self> {
        let mut tables = BTreeMap::new();
        for table in schema.uploadable() {
            let name = &table.name;
            let owner_column = table.owner.as_deref().unwrap_or("id");
            let rows: Vec<(String, String, Option<String>, bool)> = sqlx::query_as(
                "select a.attname::text, format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid),
                        a.attgenerated <> ''
                 from pg_attribute a
                 join pg_class c on c.oid = a.attrelid
                 join pg_namespace n on n.oid = c.relnamespace
                 left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
                 where n.nspname = 'public' and c.relname = $1 and c.relkind in ('r', 'p')
                   and a.attnum > 0 and not a.attisdropped
                 order by a.attnum",
            )
            .bind(name)
            .fetch_all(pool)
            .await?;
            if rows.is_empty() {
                anyhow::bail!(
                    "upload.tables.{name}: there is no table public.{name}; remove it from [upload.tables] or create it"
                );
            }
            let columns: Vec<(Column, bool)> = rows
                .into_iter()
                .map(|(name, sql_type, default, generated)| {
                    (
                        Column {
                            name,
                            sql_type,
                            default,
                        },
                        generated,
                    )
                })
                .collect();
            let find = |wanted: &str| {
                columns
                    .iter()
                    .find(|(c, _)| c.name == wanted)
                    .map(|(c, _)| c.clone())
            };
            let id = find("id").ok_or_else(|| {
                anyhow::anyhow!("upload.tables.{name}: table public.{name} has no \"id\" column, which PowerSync requires")
            })?;
            let owner = find(owner_column).ok_or_else(|| {
                anyhow::anyhow!(
                    "upload.tables.{name}.owner_column: table public.{name} has no column {owner_column:?}"
                )
            })?;
            let stamp = match table.stamp {
                Some(column) => Some(find(column).ok_or_else(|| {
                    anyhow::anyhow!(
                        "table public.{name} has no column {column:?}: run `notebox migrate`"
                    )
                })?),
                None => None,
            };
            refuse_key_owner(pool, name, &owner.name).await?;
            let writable = columns
                .iter()
                .filter(|(c, generated)| {
                    !generated
                        && c.name != "id"
                        && c.name != owner.name
                        && Some(c.name.as_str()) != table.stamp
                })
                .map(|(c, _)| c.clone())
                .collect();
            let mut upload = Table {
                name: name.clone(),
                quoted: quote(name),
                id,
                owner,
                stamp,
                access: table.access.clone(),
                merged: table.merged,
                writable,
                statements: Arc::default(),
            };
            upload.statements = Arc::new(Statements::new(&upload));
            tables.insert(name.clone(), upload);
        }
        Ok(Self { tables })
    }
}

/// An owner column that is (part of) the primary key would let a writer pick whose row
/// it is by picking the key.
async fn refuse_key_owner(pool: &PgPool, table: &str, owner: &str) -> anyhow::Result<()> {
    let in_key: bool = sqlx::query_scalar(
        "select exists (
             select from pg_index i
             join pg_class c on c.oid = i.indrelid
             join pg_namespace n on n.oid = c.relnamespace
             join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
             where i.indisprimary and n.nspname = 'public' and c.relname = $1 and a.attname = $2)",
    )
    .bind(table)
    .bind(owner)
    .fetch_one(pool)
    .await?;
    if in_key || owner == "id" {
        anyhow::bail!(
            "upload.tables.{table}.owner_column: {owner:?} is the primary key of public.{table}, so anyone could claim any row; name the column holding the owner's user id"
        );
    }
    Ok(())
}
