//! Checks that Postgres is set up the way PowerSync needs it. Each problem says what is
//! wrong, why PowerSync cares, and how to fix it.

use std::fmt;

use sqlx::PgPool;

use super::{PUBLICATION, migration_status, synced_tables};
use crate::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Ok,
    /// PowerSync will misbehave, but notebox itself can run.
    Warn,
    /// Nothing would sync: `serve` refuses to start.
    Fail,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub severity: Severity,
    pub message: String,
}

impl Check {
    pub fn new(name: &'static str, severity: Severity, message: impl Into<String>) -> Self {
        Self {
            name,
            severity,
            message: message.into(),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.severity {
            Severity::Ok => "ok  ",
            Severity::Warn => "WARN",
            Severity::Fail => "FAIL",
        };
        write!(f, "{tag} {:<22} {}", self.name, self.message)
    }
}

pub async fn preflight(pool: &PgPool, config: &Config) -> Result<Vec<Check>, sqlx::Error> {
    let synced = synced_tables(config);
    let mut checks = vec![wal_level(pool).await?];
    for (setting, why) in [
        (
            "max_replication_slots",
            "PowerSync holds one replication slot, and a second while it reprocesses sync rules",
        ),
        (
            "max_wal_senders",
            "each PowerSync replication connection uses one WAL sender",
        ),
    ] {
        checks.push(at_least_two(pool, setting, why).await?);
    }
    checks.push(migrations(pool).await?);
    checks.push(publication(pool, &synced).await?);
    checks.push(replication_role(pool, &config.powersync.replication_role, &synced).await?);
    Ok(checks)
}

async fn wal_level(pool: &PgPool) -> Result<Check, sqlx::Error> {
    let level: String = sqlx::query_scalar("select current_setting('wal_level')")
        .fetch_one(pool)
        .await?;
    Ok(if level == "logical" {
        Check::new("wal_level", Severity::Ok, "logical")
    } else {
        Check::new(
            "wal_level",
            Severity::Fail,
            format!(
                "wal_level is '{level}'; PowerSync needs 'logical' to stream changes out of Postgres: set wal_level=logical (postgresql.conf, or `-c wal_level=logical` for the postgres container) and restart Postgres"
            ),
        )
    })
}

async fn at_least_two(
    pool: &PgPool,
    setting: &'static str,
    why: &str,
) -> Result<Check, sqlx::Error> {
    let value: String = sqlx::query_scalar("select current_setting($1)")
        .bind(setting)
        .fetch_one(pool)
        .await?;
    let number: i64 = value.parse().unwrap_or(0);
    Ok(if number >= 2 {
        Check::new(setting, Severity::Ok, value)
    } else {
        Check::new(
            setting,
            Severity::Warn,
            format!(
                "{setting} is {value}; PowerSync needs at least 2 ({why}): set {setting}=4 and restart Postgres"
            ),
        )
    })
}

async fn migrations(pool: &PgPool) -> Result<Check, sqlx::Error> {
    let pending = migration_status(pool)
        .await?
        .iter()
        .filter(|m| m.applied_on.is_none())
        .count();
    Ok(if pending == 0 {
        Check::new("migrations", Severity::Ok, "all applied")
    } else {
        Check::new(
            "migrations",
            Severity::Warn,
            format!(
                "{pending} migration(s) not applied, so the tables PowerSync syncs may be missing: run `notebox migrate`"
            ),
        )
    })
}

async fn publication(pool: &PgPool, synced: &[String]) -> Result<Check, sqlx::Error> {
    let row: Option<(bool, bool, bool, bool, bool)> = sqlx::query_as(
        "select puballtables, pubinsert and pubupdate and pubdelete, pubtruncate, pubviaroot, true
         from pg_publication where pubname = $1",
    )
    .bind(PUBLICATION)
    .fetch_optional(pool)
    .await?;
    let fix = "run `notebox migrate` (or see its output for the SQL an admin must run)";
    let Some((all_tables, dml, truncate, via_root, _)) = row else {
        return Ok(Check::new(
            "publication",
            Severity::Warn,
            format!(
                "publication '{PUBLICATION}' does not exist; PowerSync replicates only what it publishes, so nothing would sync: {fix}"
            ),
        ));
    };
    let mut tables: Vec<String> =
        sqlx::query_scalar("select tablename::text from pg_publication_tables where pubname = $1 and schemaname = 'public'")
            .bind(PUBLICATION)
            .fetch_all(pool)
            .await?;
    tables.sort();
    let mut problems = Vec::new();
    if all_tables {
        problems.push(
            "it is FOR ALL TABLES, so PowerSync reads every change in the database".to_owned(),
        );
    } else {
        let missing: Vec<_> = synced.iter().filter(|t| !tables.contains(t)).collect();
        let extra: Vec<_> = tables.iter().filter(|t| !synced.contains(t)).collect();
        if !missing.is_empty() {
            problems.push(format!(
                "it lacks {missing:?}, whose changes would never reach clients"
            ));
        }
        if !extra.is_empty() {
            problems.push(format!(
                "it also publishes {extra:?}, which PowerSync would read for nothing"
            ));
        }
    }
    if !(dml && truncate) {
        problems.push("it does not publish all of insert, update, delete and truncate".into());
    }
    if via_root {
        problems.push("publish_via_partition_root is on, which PowerSync does not support".into());
    }
    Ok(if problems.is_empty() {
        Check::new(
            "publication",
            Severity::Ok,
            format!(
                "'{PUBLICATION}' publishes {} (all operations)",
                synced.join(", ")
            ),
        )
    } else {
        Check::new(
            "publication",
            Severity::Warn,
            format!(
                "publication '{PUBLICATION}': {}: {fix}",
                problems.join("; ")
            ),
        )
    })
}

async fn replication_role(
    pool: &PgPool,
    role: &str,
    synced: &[String],
) -> Result<Check, sqlx::Error> {
    let row: Option<(bool, bool, bool)> = sqlx::query_as(
        "select rolcanlogin, rolreplication, rolbypassrls from pg_roles where rolname = $1",
    )
    .bind(role)
    .fetch_optional(pool)
    .await?;
    let Some((login, replication, bypass_rls)) = row else {
        return Ok(Check::new(
            "replication role",
            Severity::Warn,
            format!(
                "role {role:?} does not exist; PowerSync connects as it to replicate: set powersync.replication_password and run `notebox migrate` as a superuser"
            ),
        ));
    };
    let mut problems = Vec::new();
    if !login || !replication {
        problems.push(format!("it needs LOGIN and REPLICATION to open a replication stream (alter role \"{role}\" with login replication)"));
    }
    for table in synced {
        let (can_select, rls): (bool, bool) = sqlx::query_as(
            "select has_table_privilege($1, c.oid, 'SELECT'), c.relrowsecurity
             from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = 'public' and c.relname = $2",
        )
        .bind(role)
        .bind(table)
        .fetch_optional(pool)
        .await?
        .unwrap_or((false, false));
        if !can_select {
            problems.push(format!("it cannot SELECT public.{table}, so the initial snapshot fails (grant select on public.{table} to \"{role}\")"));
        }
        if rls && !bypass_rls {
            problems.push(format!("public.{table} has row-level security and the role lacks BYPASSRLS, so replication would silently see no rows"));
        }
    }
    Ok(if problems.is_empty() {
        Check::new(
            "replication role",
            Severity::Ok,
            format!("{role:?} can log in, replicate and read the synced tables"),
        )
    } else {
        Check::new(
            "replication role",
            Severity::Warn,
            format!("role {role:?}: {}", problems.join("; ")),
        )
    })
}
