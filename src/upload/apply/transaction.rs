//! The transactional path: BEGIN, the ledger claim, merges of concurrent edits, the
//! statements, COMMIT (or a rollback naming the entry refused).

use std::time::Instant;

use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    Checked, Group, LedgerKey, Limits, Outcome, Ran, Rejection, Retryable, Scope, group, ledger,
    permanent, run_group,
};
use crate::upload::merge::{Edit, edited_since, merge_edits};
use crate::upload::request::Op;
use crate::upload::schema::Table;

pub(super) async fn replayed(
    conn: &mut PgConnection,
    owner: Uuid,
    ledger: Option<LedgerKey<'_>>,
) -> Result<Outcome, Retryable> {
    let recorded = match ledger {
        Some(key) => ledger::recorded(conn, owner, key).await?.flatten(),
        None => None,
    };
    Ok(Outcome::Replayed(recorded))
}

/// Runs the transaction in BEGIN … COMMIT: claims the ledger key first, merges concurrent
/// edits, runs the groups (with `one_by_one`, one statement per entry, to name the entry a
/// failing multi-row statement stumbled on), and commits — or rolls back and says which
/// entry was refused.
pub(super) async fn transactional(
    conn: &mut PgConnection,
    owner: Uuid,
    checked: &[Checked<'_>],
    ledger: Option<LedgerKey<'_>>,
    limits: &Limits,
    one_by_one: bool,
) -> Result<Outcome, Retryable> {
    #[expect(
        clippy::disallowed_methods,
        reason = "it runs in the upload task, which nothing cancels (see `upload`)"
    )]
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    if let Some(key) = ledger
        && !ledger::claim(&mut tx, owner, key).await?
    {
        drop(tx); // rolls back
        return replayed(conn, owner, ledger).await;
    }
    let mut work = checked.to_vec();
    if work.iter().any(Checked::merges) {
        merge_all(&mut tx, owner, &mut work).await?;
    }
    let groups = if one_by_one {
        (0..work.len())
            .map(|i| Group {
                table: work[i].table,
                op: work[i].op,
                entries: vec![i],
            })
            .collect()
    } else {
        group(&work)
    };
    for group in &groups {
        match run_group(&mut tx, owner, &work, group, Scope::Transaction).await {
            Ok(Ran::Done(None) | Ran::Replay) => {}
            Ok(Ran::Done(Some(rejection))) => return Ok(Outcome::Rejected(rejection)),
            Ok(Ran::Raced) => return Err(Retryable::Raced), // dropping tx rolls back
            Err(error) => {
                return match permanent(&error) {
                    Some(_) if group.entries.len() > 1 => {
                        drop(tx);
                        Box::pin(transactional(conn, owner, checked, ledger, limits, true)).await
                    }
                    Some((code, message)) => Ok(Outcome::Rejected(Rejection {
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
        Ok(()) => Ok(Outcome::Applied),
        Err(error) => match permanent(&error) {
            // A deferred constraint fails at COMMIT: blame the last entry.
            Some((code, message)) => Ok(Outcome::Rejected(Rejection {
                entry: checked.len() - 1,
                code,
                message,
            })),
            None => Err(error.into()),
        },
    }
}

/// Merges every edit that carries a base (see `merge`), table by table. A DELETE whose
/// base is older than the stored text loses to the edit made since: it is skipped.
async fn merge_all(
    conn: &mut PgConnection,
    owner: Uuid,
    work: &mut Vec<Checked<'_>>,
) -> Result<(), sqlx::Error> {
    let tables: Vec<&Table> = {
        let mut tables: Vec<&Table> = work
            .iter()
            .filter(|c| c.merges())
            .map(|c| c.table)
            .collect();
        tables.dedup_by(|a, b| a.name == b.name);
        tables
    };
    let mut stale_deletes = Vec::new();
    for table in tables {
        let mut edits: Vec<Edit> = Vec::new();
        let mut deletes: Vec<(usize, Edit)> = Vec::new();
        for (index, entry) in work.iter_mut().enumerate() {
            if entry.table.name != table.name || !entry.merges() {
                continue;
            }
            let edit = Edit {
                id: &entry.id,
                data: entry.data.to_mut(),
                old: entry.old.expect("merges() checked it"),
            };
            if entry.op == Op::Delete {
                deletes.push((index, edit));
            } else {
                edits.push(edit);
            }
        }
        merge_edits(conn, table, owner, &mut edits).await?;
        let mut delete_edits: Vec<Edit> = deletes
            .iter_mut()
            .map(|(_, e)| Edit {
                id: e.id,
                data: e.data,
                old: e.old,
            })
            .collect();
        let stale = edited_since(conn, table, owner, &mut delete_edits).await?;
        stale_deletes.extend(
            deletes
                .iter()
                .filter(|(_, e)| stale.iter().any(|id| id == e.id))
                .map(|(i, _)| *i),
        );
    }
    // The edit wins: those deletes become no-ops (the deleting device gets the note back).
    stale_deletes.sort_unstable();
    for index in stale_deletes.into_iter().rev() {
        tracing::info!(note = %work[index].id, "a delete lost to an edit made since its base");
        work.remove(index);
    }
    Ok(())
}
