//! `export` and `import`: a user's notes out to SQLite or Markdown, and in from
//! Markdown/text folders or a notebox SQLite export.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;
use clap::ValueEnum;
use sqlx::PgPool;

use crate::auth::users::{self, User};
use crate::client::PROBE_EMAIL;
use crate::config::Config;
use crate::db;
use crate::export;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One SQLite file with the tables and columns the clients sync.
    Sqlite,
    /// A folder with one Markdown file per note (front matter: id, title, created, updated, notebook).
    Markdown,
}

async fn user_by_email(pool: &PgPool, email: &str) -> anyhow::Result<User> {
    match users::find_by_email(pool, email).await? {
        Some((user, _)) => Ok(user),
        None => bail!("there is no user with email {email}: see `notebox user list`"),
    }
}

pub(super) async fn export(
    config: Config,
    user: Option<String>,
    all: bool,
    format: ExportFormat,
    out: PathBuf,
) -> anyhow::Result<ExitCode> {
    let pool = db::connect(&config.database).await?;
    let users = match (user, all) {
        (Some(email), false) => vec![user_by_email(&pool, &email).await?],
        (None, true) => users::list(&pool)
            .await?
            .into_iter()
            .filter(|u| u.email != PROBE_EMAIL)
            .collect(),
        _ => bail!("name one user with --user EMAIL, or export everyone with --all"),
    };
    if all {
        std::fs::create_dir_all(&out)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out.display()))?;
    }
    for user in &users {
        let target = if all {
            let stem = export::safe_file_name(&user.email);
            match format {
                ExportFormat::Sqlite => out.join(format!("{stem}.sqlite")),
                ExportFormat::Markdown => out.join(stem),
            }
        } else {
            out.clone()
        };
        export_one(&pool, user, format, &target).await?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn export_one(
    pool: &PgPool,
    user: &User,
    format: ExportFormat,
    out: &Path,
) -> anyhow::Result<()> {
    match format {
        ExportFormat::Sqlite => {
            let counts = export::write_sqlite(pool, user.id, &user.email, out).await?;
            let counts: Vec<String> = counts
                .iter()
                .map(|(table, rows)| format!("{table}: {rows}"))
                .collect();
            println!(
                "{}: wrote {} (rows: {})",
                user.email,
                out.display(),
                counts.join(", ")
            );
        }
        ExportFormat::Markdown => {
            let written = export::write_markdown(pool, user.id, out).await?;
            println!(
                "{}: wrote {written} Markdown file(s) into {}",
                user.email,
                out.display()
            );
        }
    }
    Ok(())
}

pub(super) async fn import(config: Config, email: &str, source: &Path) -> anyhow::Result<ExitCode> {
    let pool = db::connect(&config.database).await?;
    let user = user_by_email(&pool, email).await?;
    let report = export::import(&pool, user.id, source).await?;
    for (name, why) in &report.skipped {
        eprintln!("skipped {name}: {why}");
    }
    println!(
        "imported {} note(s) for {email}: {} kept their id, {} got a new one{}{}{}",
        report.imported,
        report.kept_ids,
        report.new_ids,
        if report.made_personal > 0 {
            format!(
                "; {} named a notebook {email} cannot write to and became personal notes",
                report.made_personal
            )
        } else {
            String::new()
        },
        if report.skipped.is_empty() {
            String::new()
        } else {
            format!("; skipped {} (listed above)", report.skipped.len())
        },
        if report.ignored > 0 {
            format!("; ignored {} file(s) that are not notes", report.ignored)
        } else {
            String::new()
        },
    );
    Ok(ExitCode::SUCCESS)
}
