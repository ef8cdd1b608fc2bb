//! The sync schema: the one definition of which tables sync, who receives their rows and
//! who may write them. Everything else is derived from it — the `powersync` publication
//! and the replication role's grants, the rendered sync streams, the upload write rules,
//! preflight and `/readyz` — so a table cannot sync without upload rules or the reverse.
//!
//! Built from code (notebox's own tables) and config (`[upload.tables]`: tables of the
//! operator's own, each owned by a user column); columns come from the catalog when
//! uploads need them (`upload::UploadSchema::load`).

use crate::config::Config;

/// Who receives a table's rows (sync) and who may change them (upload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// The row belongs to the user in the owner column: only they receive and write it.
    Owner,
    /// Notes: personal while `notebook` is NULL (as `Owner`); in a notebook, every member
    /// receives it and its owners and editors write it.
    NotebookItem { notebook: &'static str },
    /// The notebooks themselves: members receive them, owners and editors rename them,
    /// owners delete them; the creator (the owner column) becomes the first owner.
    Notebook,
    /// The member lists: every member of a notebook receives its list (with names).
    /// Written by the server only (`/api/notebooks/{id}/members`).
    Membership { notebook: &'static str },
}

/// One synced table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncedTable {
    pub name: String,
    pub access: Access,
    /// Holds the user id of the row's owner (or creator). On upload it is always the
    /// uploader for a new row and never changes afterwards. `None`: no such column.
    pub owner: Option<String>,
    /// Set to the uploader on every uploaded write ("last edited by").
    pub stamp: Option<&'static str>,
    /// Clients may write it through `POST /api/data`.
    pub uploadable: bool,
    /// Text columns whose concurrent edits are merged line by line (a PATCH carrying the
    /// `old` value it started from) instead of the last write winning.
    pub merged: &'static [&'static str],
}

/// notebox's tables that must never be synced or written by clients through config.
pub const INTERNAL_TABLES: &[&str] = &[
    "users",
    "sessions",
    "signing_keys",
    "upload_rejections",
    "notebooks",
    "notebook_members",
    "invitations",
    "note_conflicts",
    "note_trash",
    "note_versions",
    "upload_ledger",
    "notebox_settings",
    "_sqlx_migrations",
];

/// Which membership rows a user's notebooks come from (PowerSync stream subquery).
const MY_NOTEBOOKS: &str =
    "SELECT notebook_id FROM notebook_members WHERE user_id = auth.user_id()";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSchema {
    pub tables: Vec<SyncedTable>,
}

impl SyncSchema {
    /// notebox's own tables, then the operator's `[upload.tables]`. An error names the
    /// config key at fault.
    pub fn new(config: &Config) -> Result<Self, String> {
        let mut tables = vec![
            SyncedTable {
                name: "notes".into(),
                access: Access::NotebookItem {
                    notebook: "notebook_id",
                },
                owner: Some("owner_id".into()),
                stamp: Some("updated_by"),
                uploadable: true,
                merged: &["title", "body"],
            },
            SyncedTable {
                name: "notebooks".into(),
                access: Access::Notebook,
                owner: Some("created_by".into()),
                stamp: None,
                uploadable: true,
                merged: &[],
            },
            SyncedTable {
                name: "notebook_members".into(),
                access: Access::Membership {
                    notebook: "notebook_id",
                },
                owner: None,
                stamp: None,
                uploadable: false,
                merged: &[],
            },
            SyncedTable {
                name: "note_conflicts".into(),
                access: Access::NotebookItem {
                    notebook: "notebook_id",
                },
                owner: Some("owner_id".into()),
                stamp: None,
                uploadable: false,
                merged: &[],
            },
            SyncedTable {
                name: "upload_rejections".into(),
                access: Access::Owner,
                owner: Some("owner_id".into()),
                stamp: None,
                uploadable: false,
                merged: &[],
            },
        ];
        for (name, table) in &config.upload.tables {
            let key = format!("upload.tables.{name}");
            if let Some(builtin) = tables.iter().find(|t| &t.name == name) {
                // Older configs list notes; that is fine as long as they agree.
                if builtin.uploadable && builtin.owner.as_deref() == Some(&table.owner_column) {
                    continue;
                }
                return Err(format!(
                    "{key}: {name} is one of notebox's own tables, synced and written under notebox's own rules; remove [{key}]"
                ));
            }
            if INTERNAL_TABLES.contains(&name.as_str()) {
                return Err(format!(
                    "{key}: {name} is one of notebox's own tables, which clients may never write; remove [{key}]"
                ));
            }
            if table.owner_column == "id" {
                return Err(format!(
                    "{key}.owner_column: the owner column cannot be the primary key \"id\" (every user could then write the row whose id is theirs); name the column that holds the owner's user id"
                ));
            }
            tables.push(SyncedTable {
                name: name.clone(),
                access: Access::Owner,
                owner: Some(table.owner_column.clone()),
                stamp: None,
                uploadable: true,
                merged: &[],
            });
        }
        Ok(Self { tables })
    }

    /// Every synced table's name, in definition order.
    pub fn table_names(&self) -> Vec<&str> {
        self.tables.iter().map(|t| t.name.as_str()).collect()
    }

    pub fn uploadable(&self) -> impl Iterator<Item = &SyncedTable> {
        self.tables.iter().filter(|t| t.uploadable)
    }

    /// The edition-3 sync streams: each a name and its query, all auto-subscribed.
    /// `auth.user_id()` is the token's `sub`, the same lowercase uuid text owner columns
    /// replicate as.
    pub fn streams(&self) -> Vec<(String, String)> {
        let mut streams = Vec::new();
        for table in &self.tables {
            let name = &table.name;
            let owner = table.owner.as_deref().map(quote);
            match (&table.access, owner) {
                (Access::Owner, Some(owner)) => streams.push((
                    format!("my_{name}"),
                    format!("SELECT * FROM {name} WHERE {owner} = auth.user_id()"),
                )),
                (Access::NotebookItem { notebook }, Some(owner)) => {
                    let notebook = quote(notebook);
                    streams.push((
                        format!("my_personal_{name}"),
                        format!(
                            "SELECT * FROM {name} WHERE {owner} = auth.user_id() AND {notebook} IS NULL"
                        ),
                    ));
                    streams.push((
                        format!("my_notebooks_{name}"),
                        format!("SELECT * FROM {name} WHERE {notebook} IN ({MY_NOTEBOOKS})"),
                    ));
                }
                (Access::Notebook, _) => streams.push((
                    format!("my_{name}"),
                    format!("SELECT * FROM {name} WHERE id IN ({MY_NOTEBOOKS})"),
                )),
                (Access::Membership { notebook }, _) => streams.push((
                    format!("my_{name}"),
                    format!(
                        "SELECT * FROM {name} WHERE {} IN ({MY_NOTEBOOKS})",
                        quote(notebook)
                    ),
                )),
                (Access::Owner | Access::NotebookItem { .. }, None) => {
                    unreachable!("owner-based access always names an owner column")
                }
            }
        }
        streams
    }
}

/// Quotes an identifier for SQL (double quotes, inner quotes doubled).
pub fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::UploadTable;

    fn with_table(name: &str, owner: &str) -> Result<SyncSchema, String> {
        let mut config = Config::default();
        config.upload.tables.insert(
            name.into(),
            UploadTable {
                owner_column: owner.into(),
            },
        );
        SyncSchema::new(&config)
    }

    #[test]
    fn internal_tables_and_primary_key_owners_are_refused() {
        for (name, owner, expected) in [
            ("users", "id", "own tables"),
            ("sessions", "user_id", "own tables"),
            ("upload_rejections", "owner_id", "own tables"),
            ("notes", "title", "own tables"),
            ("tasks", "id", "primary key"),
        ] {
            let error = with_table(name, owner).unwrap_err();
            assert!(error.contains(expected), "{name}: {error}");
            assert!(error.contains(&format!("upload.tables.{name}")), "{error}");
        }
    }

    #[test]
    fn operator_tables_sync_to_and_are_written_by_their_owner() {
        let schema = with_table("tasks", "assignee").unwrap();
        let tasks = schema.tables.iter().find(|t| t.name == "tasks").unwrap();
        assert!(tasks.uploadable);
        assert!(
            schema.streams().contains(&(
                "my_tasks".into(),
                "SELECT * FROM tasks WHERE \"assignee\" = auth.user_id()".into()
            )),
            "{:?}",
            schema.streams()
        );
        assert!(schema.table_names().contains(&"tasks"));
    }

    #[test]
    fn quote_doubles_inner_quotes() {
        assert_eq!(quote("notes"), "\"notes\"");
        assert_eq!(
            quote("a\"; drop table x; --"),
            "\"a\"\"; drop table x; --\""
        );
    }
}
