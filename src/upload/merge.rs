//! Concurrent edits of the same text merge instead of overwriting. A PATCH that carries the
//! value it started from (`old`, from the SDK's `trackPrevious`) is compared with what is
//! stored: unchanged since → applied as is; changed since (another edit arrived first) →
//! three-way merged line by line (diffy's diff3). A clean merge keeps both edits; when the
//! same lines changed on both sides, the note keeps the stored text and the incoming text
//! becomes a conflict copy (`note_conflicts`) that syncs to everyone who sees the note.
//! Before a merge or a conflict the note's text is saved as a version. Runs inside the
//! upload's Postgres transaction, with the rows locked. Its queries find rows by id and are
//! sent unprepared, planned for the tables as they are (see `statements::cached_plan`).

use std::borrow::Cow;
use std::collections::HashMap;

use sqlx::PgConnection;
use uuid::Uuid;

use super::row::Row;
use super::schema::{Table, quote};
use super::statements::writable_rows;
use crate::notes::save_version;

/// The outcome of merging one text.
#[derive(Debug, PartialEq, Eq)]
pub enum Merged {
    /// Both edits fit together: store this.
    Clean(String),
    /// The same lines changed on both sides.
    Conflict,
}

/// `base` is what the incoming edit started from, `ours` the incoming text, `theirs` the
/// stored one.
pub fn merge3(base: &str, ours: &str, theirs: &str) -> Merged {
    if theirs == base || theirs == ours {
        return Merged::Clean(ours.to_owned());
    }
    if ours == base {
        return Merged::Clean(theirs.to_owned());
    }
    match diffy::merge(base, ours, theirs) {
        Ok(merged) => Merged::Clean(merged),
        Err(_) => Merged::Conflict,
    }
}

/// One PATCH (or DELETE) entry that carries a merge base.
pub struct Edit<'a, 'r> {
    pub id: &'a str,
    pub data: &'a mut Row<'r>,
    pub old: &'a Row<'r>,
}

/// Merges the edits' text columns against the stored rows (locked here), rewriting each
/// edit's data to what must be written, and records conflict copies. Rows the uploader may
/// not write, or that are gone, are left to the statements that follow.
pub async fn merge_edits(
    conn: &mut PgConnection,
    table: &Table,
    user: Uuid,
    edits: &mut [Edit<'_, '_>],
) -> Result<(), sqlx::Error> {
    let columns: Vec<&str> = table.merged.to_vec();
    let ids: Vec<&str> = edits.iter().map(|e| e.id).collect();
    let stored = stored_texts(conn, table, user, &ids, &columns).await?;
    let gone: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| !stored.contains_key(*id))
        .collect();
    if !gone.is_empty() && table.name == "notes" {
        edits_of_deleted_notes(conn, user, &gone, edits).await?;
    }
    for edit in edits.iter_mut() {
        let Some(current) = stored.get(edit.id) else {
            continue;
        };
        let mut saved = false;
        for (column, now) in columns.iter().zip(current) {
            let Some(base) = edit.old.text_of(column) else {
                continue;
            };
            // Owned: a merge rewrites `edit.data`.
            let Some(ours) = edit.data.text_of(column).map(Cow::into_owned) else {
                continue;
            };
            let Some(now) = now else { continue };
            let outcome = merge3(&base, &ours, now);
            if outcome == Merged::Clean(ours.clone()) {
                continue; // nothing arrived in between, or the same text
            }
            if !saved {
                save_version(conn, note_id(edit.id), "merge").await?;
                saved = true;
            }
            match outcome {
                Merged::Clean(merged) => edit.data.set_text(column, &merged),
                Merged::Conflict => {
                    edit.data.remove(column);
                    record_conflict(conn, edit.id, column, &base, now, &ours, user).await?;
                }
            }
        }
    }
    Ok(())
}

/// Edits of notes that were deleted meanwhile. An edit whose base is the text that was
/// deleted is newer than what the deleting device saw: it wins, and the note comes back
/// from the trash (the edit then applies as usual). An edit of an older text loses to the
/// delete, but its text is kept with the trashed note as a version.
async fn edits_of_deleted_notes(
    conn: &mut PgConnection,
    user: Uuid,
    gone: &[&str],
    edits: &[Edit<'_, '_>],
) -> Result<(), sqlx::Error> {
    let trashed: Vec<(String, String, String)> = sqlx::query_as(
        "select t.id::text, t.title, t.body from note_trash t where t.id = any($1::text[]::uuid[]) \
         and ((t.notebook_id is null and t.owner_id = $2::uuid) or exists (select 1 from notebook_members m \
              where m.notebook_id = t.notebook_id and m.user_id = $2::uuid and m.role in ('owner', 'editor'))) \
         for update",
    )
    .bind(gone)
    .bind(user)
    .persistent(false)
    .fetch_all(&mut *conn)
    .await?;
    for (id, title, body) in trashed {
        let Some(edit) = edits.iter().find(|e| e.id == id) else {
            continue;
        };
        let same =
            |column: &str, text: &str| edit.old.text_of(column).is_none_or(|base| base == text);
        if same("title", &title) && same("body", &body) {
            tracing::info!(note = %id, "an edit newer than a delete brings the note back");
            sqlx::query(
                "with back as (delete from note_trash where id = $1::uuid returning *) \
                 insert into notes (id, owner_id, notebook_id, title, body, created_at, updated_at, updated_by) \
                 select b.id, b.owner_id, (select n.id from notebooks n where n.id = b.notebook_id), b.title, b.body, \
                        b.created_at, b.updated_at, b.updated_by from back b on conflict (id) do nothing",
            )
            .bind(&id)
            .persistent(false)
            .execute(&mut *conn)
            .await?;
        } else {
            let text = |column: &str, kept: &str| {
                edit.data
                    .text_of(column)
                    .map_or_else(|| kept.to_owned(), |text| text.into_owned())
            };
            sqlx::query(
                "insert into note_versions (note_id, title, body, created_at, created_by, reason) \
                 values ($1::uuid, $2, $3, now(), $4, 'edit')",
            )
            .bind(&id)
            .bind(text("title", &title))
            .bind(text("body", &body))
            .bind(user)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// The deletes whose base (`old`) is older than the stored text: someone edited the note
/// after the deleting device last saw it, so the edit wins and the delete is skipped.
pub async fn edited_since(
    conn: &mut PgConnection,
    table: &Table,
    user: Uuid,
    deletes: &mut [Edit<'_, '_>],
) -> Result<Vec<String>, sqlx::Error> {
    if deletes.is_empty() {
        return Ok(Vec::new());
    }
    let columns: Vec<&str> = table.merged.to_vec();
    let ids: Vec<&str> = deletes.iter().map(|e| e.id).collect();
    let stored = stored_texts(conn, table, user, &ids, &columns).await?;
    Ok(deletes
        .iter()
        .filter(|delete| {
            stored.get(delete.id).is_some_and(|now| {
                columns.iter().zip(now).any(|(column, now)| {
                    matches!((delete.old.text_of(column), now), (Some(base), Some(now)) if base != *now)
                })
            })
        })
        .map(|delete| delete.id.to_owned())
        .collect())
}

fn note_id(id: &str) -> Uuid {
    Uuid::parse_str(id).unwrap_or_default()
}

/// The stored text of each merged column, by id, for the rows the uploader may write.
async fn stored_texts(
    conn: &mut PgConnection,
    table: &Table,
    user: Uuid,
    ids: &[&str],
    columns: &[&str],
) -> Result<HashMap<String, Vec<Option<String>>>, sqlx::Error> {
    let selected: Vec<String> = columns
        .iter()
        .map(|c| format!("x.{}::text", quote(c)))
        .collect();
    let rows: Vec<(String, Vec<Option<String>>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select x.{id}::text, array[{selected}] from ({rows}) x for update",
        id = quote(&table.id.name),
        selected = selected.join(", "),
        rows = writable_rows(table),
    )))
    .bind(ids)
    .bind(user)
    .persistent(false)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

async fn record_conflict(
    conn: &mut PgConnection,
    note: &str,
    column: &str,
    base: &str,
    kept: &str,
    theirs: &str,
    user: Uuid,
) -> Result<(), sqlx::Error> {
    tracing::info!(%note, column, "edits in two places at once: kept a conflict copy");
    sqlx::query(
        "insert into note_conflicts (note_id, owner_id, notebook_id, column_name, base_text, kept_text, their_text, created_by) \
         select n.id, n.owner_id, n.notebook_id, $2, $3, $4, $5, $6 from notes n where n.id = $1::uuid",
    )
    .bind(note)
    .bind(column)
    .bind(base)
    .bind(kept)
    .bind(theirs)
    .bind(user)
    .persistent(false)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Merged, merge3};

    #[test]
    fn edits_of_different_lines_merge() {
        let base = "l1\nl2\nl3";
        assert_eq!(
            merge3(base, "l1\nl2\nB3", "A1\nl2\nl3"),
            Merged::Clean("A1\nl2\nB3".into())
        );
    }

    #[test]
    fn edits_of_the_same_line_conflict() {
        assert_eq!(
            merge3("l1\nl2\nl3", "l1\nX2\nl3", "l1\nY2\nl3"),
            Merged::Conflict
        );
    }

    #[test]
    fn nothing_in_between_or_the_same_text_is_clean() {
        assert_eq!(merge3("a", "b", "a"), Merged::Clean("b".into()));
        assert_eq!(merge3("a", "b", "b"), Merged::Clean("b".into()));
        assert_eq!(merge3("a", "a", "c"), Merged::Clean("c".into()));
    }
}
