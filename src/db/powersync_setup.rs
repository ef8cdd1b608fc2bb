//! What PowerSync needs in Postgres besides our tables: the `powersync` publication, a
//! replication role that can read the synced tables (both derived from the sync schema),
//! and a storage database of its own.
//!
//! Every step looks before it acts, so running it again changes nothing. A step that needs
//! a privilege the connecting role lacks is skipped, with the SQL an admin must run.

use std::fmt;

use sqlx::postgres::PgConnection;
use sqlx::{ConnectOptions, Connection, PgPool};

use super::DbError;
use crate::config::{Config, PowerSyncConfig, Secret};
use crate::schema::SyncSchema;

/// PowerSync only ever reads a publication with exactly this name.
pub const PUBLICATION: &str = "powersync";

/// The tables PowerSync streams to clients (all in schema `public`): the sync schema's.
pub fn synced_tables(config: &Config) -> Vec<String> {
    SyncSchema::new(config)
        .expect("a validated config has a valid sync schema")
        .table_names()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

const INSUFFICIENT_PRIVILEGE: &str = "42501";

/// The outcome of one setup step, printed by `notebox migrate` and logged by `serve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupStep {
    Changed(String),
    AlreadyDone(String),
    Skipped { reason: String, sql: String },
}

impl fmt::Display for SetupStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupStep::Changed(what) => write!(f, "done: {what}"),
            SetupStep::AlreadyDone(what) => write!(f, "ok: {what}"),
            SetupStep::Skipped { reason, sql } => {
                write!(f, "skipped: {reason}; an admin can run:\n{sql}")
            }
        }
    }
}

struct Privileges {
    superuser: bool,
    create_role: bool,
    create_db: bool,
}

pub async fn setup_powersync(pool: &PgPool, config: &Config) -> Result<Vec<SetupStep>, DbError> {
    let tables = synced_tables(config);
    let config = &config.powersync;
    let fail = |e: sqlx::Error| DbError(format!("PowerSync setup failed: {e}"));
    let (superuser, create_role, create_db): (bool, bool, bool) = sqlx::query_as(
        "select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user",
    )
    .fetch_one(pool)
    .await
    .map_err(fail)?;
    let privileges = Privileges {
        superuser,
        create_role,
        create_db,
    };

    let mut steps = vec![publication(pool, &tables).await.map_err(fail)?];
    steps.extend(
        replication_role(pool, config, &tables, &privileges)
            .await
            .map_err(fail)?,
    );
    steps.extend(storage(pool, config, &privileges).await.map_err(fail)?);
    Ok(steps)
}

fn table_list(tables: &[String]) -> String {
    tables
        .iter()
        .map(|t| format!("public.{t}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn publication(pool: &PgPool, synced: &[String]) -> Result<SetupStep, sqlx::Error> {
    let create = format!(
        "create publication {PUBLICATION} for table {}",
        table_list(synced)
    );
    let existing: Option<(bool, bool, bool, bool, bool, bool)> = sqlx::query_as(
        "select puballtables, pubinsert, pubupdate, pubdelete, pubtruncate, pubviaroot
         from pg_publication where pubname = $1",
    )
    .bind(PUBLICATION)
    .fetch_optional(pool)
    .await?;
    let Some((all_tables, insert, update, delete, truncate, via_root)) = existing else {
        return run_or_skip(
            pool,
            &create,
            format!(
                "created publication {PUBLICATION} for {}",
                table_list(synced)
            ),
        )
        .await;
    };
    if all_tables {
        return Ok(SetupStep::Skipped {
            reason: format!(
                "publication {PUBLICATION} is FOR ALL TABLES, so PowerSync reads every change in the database; notebox will not drop it while PowerSync may be using it"
            ),
            sql: format!("drop publication {PUBLICATION};\n{create};"),
        });
    }
    let mut tables: Vec<String> = sqlx::query_scalar(
        "select schemaname || '.' || tablename from pg_publication_tables where pubname = $1",
    )
    .bind(PUBLICATION)
    .fetch_all(pool)
    .await?;
    tables.sort();
    let mut wanted: Vec<String> = synced.iter().map(|t| format!("public.{t}")).collect();
    wanted.sort();
    let operations_right = insert && update && delete && truncate && !via_root;
    if tables == wanted && operations_right {
        return Ok(SetupStep::AlreadyDone(format!(
            "publication {PUBLICATION} publishes {}",
            table_list(synced)
        )));
    }
    let sql = format!(
        "alter publication {PUBLICATION} set table {};\nalter publication {PUBLICATION} set (publish = 'insert, update, delete, truncate', publish_via_partition_root = false)",
        table_list(synced)
    );
    run_or_skip(
        pool,
        &sql,
        format!(
            "updated publication {PUBLICATION} to publish {} with all four operations",
            table_list(synced)
        ),
    )
    .await
}

/// Runs admin SQL (one or more statements); a missing privilege becomes a skipped step.
pub(super) async fn run_or_skip(
    pool: &PgPool,
    sql: &str,
    done: String,
) -> Result<SetupStep, sqlx::Error> {
    let mut tx = crate::db::begin(pool).await?;
    for statement in sql.split(";\n") {
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut *tx)
            .await
        {
            if is_insufficient_privilege(&e) {
                return Ok(SetupStep::Skipped {
                    reason: format!("the database role lacks the privilege ({e})"),
                    sql: format!("{sql};"),
                });
            }
            return Err(e);
        }
    }
    tx.commit().await?;
    Ok(SetupStep::Changed(done))
}

fn is_insufficient_privilege(error: &sqlx::Error) -> bool {
    error.as_database_error().and_then(|e| e.code()).as_deref() == Some(INSUFFICIENT_PRIVILEGE)
}

/// Builds a utility statement with Postgres' own quoting (`%I` identifiers, `%L` literals):
/// role names and passwords cannot be bound as parameters in CREATE/ALTER ROLE.
pub(super) async fn format_sql(
    pool: &PgPool,
    template: &str,
    args: &[&str],
) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("select format($1, variadic $2::text[])")
        .bind(template)
        .bind(args)
        .fetch_one(pool)
        .await
}

/// Runs a statement that carries a password on a connection of its own whose statement
/// logging is off: sqlx logs every statement's text (at DEBUG, slow ones at WARN).
pub(super) async fn execute_unlogged(pool: &PgPool, sql: &str) -> Result<(), sqlx::Error> {
    let options = (*pool.connect_options())
        .clone()
        .log_statements(log::LevelFilter::Off)
        .log_slow_statements(log::LevelFilter::Off, std::time::Duration::MAX);
    let mut conn = PgConnection::connect_with(&options).await?;
    let result = sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    result.map(drop)
}

/// The statement to show an admin: the password never appears in output.
/// The last argument (the password) is never formatted in, whatever quotes it holds.
pub(super) async fn display_sql(
    pool: &PgPool,
    template: &str,
    args: &[&str],
) -> Result<String, sqlx::Error> {
    let mut shown = args.to_vec();
    if let Some(password) = shown.last_mut() {
        *password = "…";
    }
    format_sql(pool, template, &shown).await
}

async fn replication_role(
    pool: &PgPool,
    config: &PowerSyncConfig,
    synced: &[String],
    privileges: &Privileges,
) -> Result<Vec<SetupStep>, sqlx::Error> {
    let role = config.replication_role.as_str();
    let mut steps = Vec::new();
    let existing: Option<(bool, bool)> =
        sqlx::query_as("select rolcanlogin, rolreplication from pg_roles where rolname = $1")
            .bind(role)
            .fetch_optional(pool)
            .await?;
    let create = "create role %I with login replication password %L";
    match (existing, &config.replication_password) {
        (None, None) => {
            steps.push(SetupStep::Skipped {
                reason: format!(
                    "replication role {role:?} does not exist and powersync.replication_password is not set"
                ),
                sql: format!("{};", display_sql(pool, create, &[role, "…"]).await?),
            });
            return Ok(steps);
        }
        (None, Some(password)) => {
            let args = [role, password.expose()];
            if privileges.superuser {
                execute_unlogged(pool, &format_sql(pool, create, &args).await?).await?;
                steps.push(SetupStep::Changed(format!(
                    "created replication role {role:?}"
                )));
            } else {
                steps.push(SetupStep::Skipped {
                    reason: format!(
                        "creating replication role {role:?} needs a superuser (only superusers grant REPLICATION)"
                    ),
                    sql: format!("{};", display_sql(pool, create, &args).await?),
                });
                return Ok(steps);
            }
        }
        (Some((can_login, replication)), password) => {
            if !(can_login && replication) {
                let alter =
                    format_sql(pool, "alter role %I with login replication", &[role]).await?;
                steps.push(if privileges.superuser {
                    sqlx::query(sqlx::AssertSqlSafe(alter)).execute(pool).await?;
                    SetupStep::Changed(format!("gave role {role:?} LOGIN REPLICATION"))
                } else {
                    SetupStep::Skipped {
                        reason: format!("role {role:?} lacks LOGIN or REPLICATION, which only a superuser can grant"),
                        sql: format!("{alter};"),
                    }
                });
            }
            if let Some(password) = password {
                steps.push(
                    ensure_password(
                        pool,
                        role,
                        password,
                        None,
                        privileges.superuser || privileges.create_role,
                    )
                    .await?,
                );
            }
        }
    }
    steps.push(grant_select(pool, role, synced).await?);
    Ok(steps)
}

async fn grant_select(
    pool: &PgPool,
    role: &str,
    synced: &[String],
) -> Result<SetupStep, sqlx::Error> {
    let mut missing = Vec::new();
    for table in synced {
        let has: bool = sqlx::query_scalar("select has_table_privilege($1, $2, 'SELECT')")
            .bind(role)
            .bind(format!("public.{table}"))
            .fetch_one(pool)
            .await?;
        if !has {
            missing.push(format!("public.{table}"));
        }
    }
    if missing.is_empty() {
        return Ok(SetupStep::AlreadyDone(format!(
            "role {role:?} can read {}",
            table_list(synced)
        )));
    }
    let grant = format_sql(
        pool,
        &format!("grant select on {} to %I", missing.join(", ")),
        &[role],
    )
    .await?;
    run_or_skip(
        pool,
        &grant,
        format!("granted SELECT on {} to {role:?}", missing.join(", ")),
    )
    .await
}

/// Sets the role's password only when the configured one does not already log in, so a
/// second run changes nothing (re-setting a SCRAM password would store a new salt).
async fn ensure_password(
    pool: &PgPool,
    role: &str,
    password: &Secret,
    database: Option<&str>,
    may_alter: bool,
) -> Result<SetupStep, sqlx::Error> {
    let mut options = (*pool.connect_options())
        .clone()
        .username(role)
        .password(password.expose());
    if let Some(database) = database {
        options = options.database(database);
    }
    match PgConnection::connect_with(&options).await {
        Ok(conn) => {
            let _ = conn.close().await;
            return Ok(SetupStep::AlreadyDone(format!(
                "role {role:?} logs in with the configured password"
            )));
        }
        Err(e) if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("28P01") => {}
        Err(e) => {
            return Ok(SetupStep::AlreadyDone(format!(
                "role {role:?} exists (its password could not be verified: {e})"
            )));
        }
    }
    let args = [role, password.expose()];
    let template = "alter role %I with password %L";
    if may_alter {
        execute_unlogged(pool, &format_sql(pool, template, &args).await?).await?;
        Ok(SetupStep::Changed(format!(
            "set the configured password for role {role:?}"
        )))
    } else {
        Ok(SetupStep::Skipped {
            reason: format!(
                "role {role:?} does not accept the configured password and the database role may not change it"
            ),
            sql: format!("{};", display_sql(pool, template, &args).await?),
        })
    }
}

async fn storage(
    pool: &PgPool,
    config: &PowerSyncConfig,
    privileges: &Privileges,
) -> Result<Vec<SetupStep>, sqlx::Error> {
    let database = config.storage_database.as_str();
    let user = config.storage_user.as_str();
    if database.is_empty() {
        return Ok(vec![]);
    }
    let Some(password) = &config.storage_password else {
        return Ok(vec![SetupStep::Skipped {
            reason: format!(
                "powersync.storage_password is not set, so the storage database {database:?} is left alone (set it, or storage_database = \"\" to manage storage yourself)"
            ),
            sql: format!(
                "{};\n{};",
                display_sql(pool, "create role %I with login password %L", &[user, "…"]).await?,
                format_sql(pool, "create database %I owner %I", &[database, user]).await?
            ),
        }]);
    };
    let mut steps = Vec::new();
    let user_exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_roles where rolname = $1)")
            .bind(user)
            .fetch_one(pool)
            .await?;
    let create_user = "create role %I with login password %L";
    if !user_exists {
        if privileges.superuser || privileges.create_role {
            let sql = format_sql(pool, create_user, &[user, password.expose()]).await?;
            execute_unlogged(pool, &sql).await?;
            steps.push(SetupStep::Changed(format!("created storage role {user:?}")));
        } else {
            steps.push(SetupStep::Skipped {
                reason: format!("creating storage role {user:?} needs CREATEROLE"),
                sql: format!(
                    "{};",
                    display_sql(pool, create_user, &[user, password.expose()]).await?
                ),
            });
        }
    }
    let db_exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(database)
            .fetch_one(pool)
            .await?;
    if !db_exists {
        // CREATE DATABASE cannot run inside a transaction block: plain execute.
        let create_db = format_sql(pool, "create database %I owner %I", &[database, user]).await?;
        if privileges.superuser || privileges.create_db {
            match sqlx::query(sqlx::AssertSqlSafe(create_db.as_str()))
                .execute(pool)
                .await
            {
                Ok(_) => steps.push(SetupStep::Changed(format!(
                    "created storage database {database:?} owned by {user:?}"
                ))),
                Err(e) if is_insufficient_privilege(&e) => steps.push(SetupStep::Skipped {
                    reason: format!(
                        "creating database {database:?} owned by {user:?} was refused ({e})"
                    ),
                    sql: format!("{create_db};"),
                }),
                Err(e) => return Err(e),
            }
        } else {
            steps.push(SetupStep::Skipped {
                reason: format!("creating storage database {database:?} needs CREATEDB"),
                sql: format!("{create_db};"),
            });
        }
    } else if user_exists {
        steps.push(
            ensure_password(
                pool,
                user,
                password,
                Some(database),
                privileges.superuser || privileges.create_role,
            )
            .await?,
        );
    }
    if steps.is_empty() {
        steps.push(SetupStep::AlreadyDone(format!(
            "storage database {database:?} exists"
        )));
    }
    Ok(steps)
}
