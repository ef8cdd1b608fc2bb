//! `notebox import`: Markdown and text files (a folder as Obsidian, Joplin or notebox
//! export it, or one file) or a notebox SQLite export, into one user's notes.
//!
//! Ids: a note keeps its id when no note has it yet or the importing user already owns
//! it (so importing the same export again changes nothing new); an id that is someone
//! else's gets a fresh one: an import never touches another user's note. A file that
//! cannot be read as a note is reported by name and skipped; the notes are written in one
//! Postgres transaction, so a failure leaves nothing half-imported.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rusqlite::OptionalExtension;
use sqlx::PgPool;
use uuid::Uuid;

use super::markdown::{FrontMatter, split};

/// The longest title Postgres accepts (`notes.title` check).
const MAX_TITLE: usize = 1000;
const NOTE_EXTENSIONS: &[&str] = &["md", "markdown", "txt"];

/// Which notebook an imported note names: by id (SQLite export) or by name (front matter).
#[derive(Debug, Clone)]
enum NotebookRef {
    Personal,
    Id(Uuid),
    Name(String),
}

/// One note read from a file (or a row of a SQLite export), before it has an id.
#[derive(Debug)]
struct Candidate {
    source: String,
    id: Option<Uuid>,
    title: String,
    body: String,
    created: Option<DateTime<Utc>>,
    updated: Option<DateTime<Utc>>,
    notebook: NotebookRef,
}

#[derive(Debug, Default)]
pub struct ImportReport {
    pub imported: usize,
    /// Notes that kept the id they came with.
    pub kept_ids: usize,
    /// Notes that got a fresh id (none given, or it was another user's).
    pub new_ids: usize,
    /// Notes that name a notebook the user cannot write to: imported as personal notes.
    pub made_personal: usize,
    /// Files (or rows) that could not be imported, and why.
    pub skipped: Vec<(String, String)>,
    /// Files that are not notes (images, attachments), left alone.
    pub ignored: usize,
}

/// Reads `source` and writes its notes as `user`'s, all in one transaction.
pub async fn import(pool: &PgPool, user: Uuid, source: &Path) -> anyhow::Result<ImportReport> {
    let mut report = ImportReport::default();
    let candidates = if is_sqlite(source) {
        read_sqlite(source, &mut report)?
    } else if source.is_dir() {
        read_folder(source, &mut report)?
    } else if source.is_file() {
        read_file(
            source,
            source.parent().unwrap_or(Path::new(".")),
            &mut report,
        )
        .into_iter()
        .collect()
    } else {
        bail!(
            "{} is neither a folder, a Markdown or text file, nor a notebox SQLite export",
            source.display()
        );
    };
    write(pool, user, candidates, &mut report).await?;
    Ok(report)
}

fn is_sqlite(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 16];
    path.is_file()
        && std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut header))
            .is_ok()
        && &header == b"SQLite format 3\0"
}

/// Every note file under `dir`, in name order; hidden folders (`.obsidian`, `.trash`) are
/// not notes.
fn read_folder(dir: &Path, report: &mut ImportReport) -> anyhow::Result<Vec<Candidate>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let entries = std::fs::read_dir(&folder)
            .with_context(|| format!("cannot read {}", folder.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read {}", folder.display()))?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files
        .iter()
        .filter_map(|path| read_file(path, dir, report))
        .collect())
}

fn read_file(path: &Path, root: &Path, report: &mut ImportReport) -> Option<Candidate> {
    let name = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if !NOTE_EXTENSIONS.contains(&extension.as_str()) {
        report.ignored += 1;
        return None;
    }
    match parse_file(path, &extension, name.clone()) {
        Ok(candidate) => Some(candidate),
        Err(why) => {
            report.skipped.push((name, why));
            None
        }
    }
}

fn parse_file(path: &Path, extension: &str, source: String) -> Result<Candidate, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it ({e})"))?;
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())?;
    if text.contains('\0') {
        return Err("it contains NUL bytes: not a text file".into());
    }
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .map(DateTime::<Utc>::from);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (front_matter, body) = if extension == "txt" {
        (FrontMatter::default(), text.as_str())
    } else {
        let document = split(&text);
        let front_matter = match document.front_matter {
            None => FrontMatter::default(),
            Some(yaml) => front_matter(yaml)?,
        };
        (front_matter, document.body)
    };
    let title = front_matter.title.unwrap_or(stem);
    check_title(&title)?;
    Ok(Candidate {
        source,
        id: front_matter
            .id
            .as_deref()
            .and_then(|id| Uuid::parse_str(id).ok()),
        title,
        body: body.to_owned(),
        created: front_matter.created.as_deref().and_then(timestamp),
        updated: front_matter
            .updated
            .as_deref()
            .and_then(timestamp)
            .or(modified),
        notebook: match front_matter.notebook {
            Some(name) if !name.is_empty() => NotebookRef::Name(name),
            _ => NotebookRef::Personal,
        },
    })
}

/// Refuses a title Postgres would refuse, so the file is skipped by name instead.
fn check_title(title: &str) -> Result<(), String> {
    if title.chars().count() > MAX_TITLE {
        return Err(format!("its title is longer than {MAX_TITLE} characters"));
    }
    Ok(())
}

/// The keys notebox reads from front matter; values of other types (Obsidian's tag lists,
/// Joplin's numbers) are ignored rather than refused.
fn front_matter(yaml: &str) -> Result<FrontMatter, String> {
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml)
        .map_err(|e| format!("its front matter is not valid YAML ({e})"))?;
    let text = |key: &str| match value.get(key)? {
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    Ok(FrontMatter {
        id: text("id"),
        title: text("title"),
        created: text("created").or_else(|| text("created_at")),
        updated: text("updated").or_else(|| text("updated_at")),
        notebook: text("notebook"),
    })
}

/// RFC 3339, `2024-01-31 12:00:00(Z)` (Joplin) or a bare date; anything else is ignored.
fn timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    let naive = text.trim_end_matches('Z');
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(naive, format) {
            return Some(at.and_utc());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc())
}

/// The `notes` table of a notebox SQLite export (see `sqlite.rs`).
fn read_sqlite(path: &Path, report: &mut ImportReport) -> anyhow::Result<Vec<Candidate>> {
    let file = path.display().to_string();
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("cannot open {file} as SQLite"))?;
    let has_notes: Option<String> = db
        .query_row(
            "select name from sqlite_master where type = 'table' and name = 'notes'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if has_notes.is_none() {
        bail!("{file} has no notes table: it is not a notebox export");
    }
    let mut statement = db
        .prepare("select id, title, body, created_at, updated_at, notebook_id from notes order by created_at, id")
        .with_context(|| format!("{file}: its notes table lacks notebox's columns"))?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, Option<String>>(0)?,
            row.get::<_, Option<String>>(1)?,
            row.get::<_, Option<String>>(2)?,
            row.get::<_, Option<String>>(3)?,
            row.get::<_, Option<String>>(4)?,
            row.get::<_, Option<String>>(5)?,
        ))
    })?;
    let mut candidates = Vec::new();
    for (n, row) in rows.enumerate() {
        let source = format!("{file}: notes row {}", n + 1);
        let (id, title, body, created, updated, notebook) = match row {
            Ok(row) => row,
            Err(e) => {
                report.skipped.push((source, format!("unreadable ({e})")));
                continue;
            }
        };
        let title = title.unwrap_or_default();
        if let Err(why) = check_title(&title) {
            report.skipped.push((source, why));
            continue;
        }
        candidates.push(Candidate {
            source,
            id: id.as_deref().and_then(|id| Uuid::parse_str(id).ok()),
            title,
            body: body.unwrap_or_default(),
            created: created.as_deref().and_then(timestamp),
            updated: updated.as_deref().and_then(timestamp),
            notebook: notebook
                .as_deref()
                .and_then(|id| Uuid::parse_str(id).ok())
                .map_or(NotebookRef::Personal, NotebookRef::Id),
        });
    }
    Ok(candidates)
}

/// Writes the candidates in one transaction; see the module docs for the id rules.
async fn write(
    pool: &PgPool,
    user: Uuid,
    candidates: Vec<Candidate>,
    report: &mut ImportReport,
) -> anyhow::Result<()> {
    let mut tx = crate::db::begin(pool).await?;
    // The notebooks the user may add notes to.
    let writable: Vec<(Uuid, String)> = sqlx::query_as(
        "select nb.id, nb.name from notebooks nb join notebook_members m on m.notebook_id = nb.id
         where m.user_id = $1 and m.role in ('owner', 'editor') order by nb.created_at, nb.id",
    )
    .bind(user)
    .fetch_all(&mut *tx)
    .await?;
    // Who owns the ids the candidates bring, read once for all of them.
    let ids: Vec<Uuid> = candidates.iter().filter_map(|c| c.id).collect();
    let owners: HashMap<Uuid, Uuid> =
        sqlx::query_as("select id, owner_id from notes where id = any($1)")
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
    let mut used = HashSet::new();
    let now = Utc::now();
    for candidate in candidates {
        let notebook = match &candidate.notebook {
            NotebookRef::Personal => None,
            NotebookRef::Id(id) => writable.iter().find(|(nb, _)| nb == id).map(|(nb, _)| *nb),
            NotebookRef::Name(name) => writable.iter().find(|(_, n)| n == name).map(|(nb, _)| *nb),
        };
        if notebook.is_none() && !matches!(candidate.notebook, NotebookRef::Personal) {
            report.made_personal += 1;
        }
        let keep = candidate
            .id
            .filter(|id| !used.contains(id) && owners.get(id).is_none_or(|&owner| owner == user));
        let id = keep.unwrap_or_else(Uuid::new_v4);
        used.insert(id);
        let updated = candidate.updated.unwrap_or(now);
        let created = candidate.created.unwrap_or(updated);
        // The where clause is the rule itself: an existing row is only replaced when it
        // is the importer's (the check above already chose a fresh id otherwise).
        let written = sqlx::query(
            "insert into notes (id, owner_id, notebook_id, title, body, created_at, updated_at, updated_by)
             values ($1, $2, $3, $4, $5, $6, $7, $2)
             on conflict (id) do update set notebook_id = excluded.notebook_id, title = excluded.title,
                 body = excluded.body, created_at = excluded.created_at,
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by
             where notes.owner_id = excluded.owner_id",
        )
        .bind(id)
        .bind(user)
        .bind(notebook)
        .bind(&candidate.title)
        .bind(&candidate.body)
        .bind(created)
        .bind(updated)
        .execute(&mut *tx)
        .await
        .with_context(|| format!("cannot import {}", candidate.source))?;
        if written.rows_affected() == 0 {
            bail!(
                "{}: its id {id} became another user's note during the import; nothing was imported: run the import again",
                candidate.source
            );
        }
        report.imported += 1;
        if keep.is_some() {
            report.kept_ids += 1;
        } else {
            report.new_ids += 1;
        }
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::timestamp;

    #[test]
    fn timestamps_in_the_usual_exports_are_read() {
        assert!(timestamp("2024-01-31T12:00:00+01:00").is_some());
        assert!(timestamp("2024-01-31 12:00:00Z").is_some());
        assert!(timestamp("2024-01-31 12:00:00.123Z").is_some());
        assert!(timestamp("2024-01-31").is_some());
        assert!(timestamp("yesterday").is_none());
    }
}
