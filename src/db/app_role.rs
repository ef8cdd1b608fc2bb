//! Least privilege: when `database.admin_url` does the setup, the role of `database.url`
//! (the one notebox serves as) is created if missing — LOGIN with the URL's password, no
//! CREATEROLE, CREATEDB or superuser — and may read and write the app tables, nothing more.

use sqlx::PgPool;

use super::powersync_setup::{display_sql, execute_unlogged, format_sql, run_or_skip};
use super::{Check, SetupStep, Severity};
use crate::config::DatabaseConfig;

/// The app role's name and password from `database.url` (percent-decoded).
fn role_of(url: &str) -> Option<(String, Option<String>)> {
    let url = url::Url::parse(url).ok()?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let user = decode(url.username());
    (!user.is_empty()).then(|| (user, url.password().map(decode)))
}

pub async fn app_role(
    admin: &PgPool,
    config: &DatabaseConfig,
) -> Result<Vec<SetupStep>, sqlx::Error> {
    if config.admin_url.is_none() {
        return Ok(Vec::new());
    }
    let Some((role, password)) = role_of(config.url.expose()) else {
        return Ok(Vec::new());
    };
    let current: String = sqlx::query_scalar("select current_user::text")
        .fetch_one(admin)
        .await?;
    if role == current {
        return Ok(Vec::new());
    }
    let role = role.as_str();
    let mut steps = Vec::new();
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_roles where rolname = $1)")
            .bind(role)
            .fetch_one(admin)
            .await?;
    if !exists {
        let create = "create role %I with login password %L";
        let args = [role, password.as_deref().unwrap_or("")];
        match execute_unlogged(admin, &format_sql(admin, create, &args).await?).await {
            Ok(()) => steps.push(SetupStep::Changed(format!("created app role {role:?}"))),
            Err(e) if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("42501") => {
                steps.push(SetupStep::Skipped {
                    reason: format!("creating app role {role:?} needs CREATEROLE ({e})"),
                    sql: format!("{};", display_sql(admin, create, &args).await?),
                });
                return Ok(steps);
            }
            Err(e) => return Err(e),
        }
    }
    steps.push(grants(admin, role).await?);
    Ok(steps)
}

/// Read and write on every app table and sequence; only read on the migrations table.
async fn grants(admin: &PgPool, role: &str) -> Result<SetupStep, sqlx::Error> {
    let missing: bool = sqlx::query_scalar(
        "select exists (
            select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'public' and (
                (c.relkind in ('r', 'p') and c.relname <> '_sqlx_migrations' and not (
                    has_table_privilege($1::name, c.oid, 'select')
                    and has_table_privilege($1::name, c.oid, 'insert')
                    and has_table_privilege($1::name, c.oid, 'update')
                    and has_table_privilege($1::name, c.oid, 'delete')))
                or (c.relname = '_sqlx_migrations' and not has_table_privilege($1::name, c.oid, 'select'))
                or (c.relkind = 'S' and not has_sequence_privilege($1::name, c.oid, 'usage'))))",
    )
    .bind(role)
    .fetch_one(admin)
    .await?;
    if !missing {
        return Ok(SetupStep::AlreadyDone(format!(
            "app role {role:?} may read and write the app tables"
        )));
    }
    let sql = format_sql(
        admin,
        "grant usage on schema public to %1$I;\n\
         grant select, insert, update, delete on all tables in schema public to %1$I;\n\
         grant usage, select on all sequences in schema public to %1$I;\n\
         revoke insert, update, delete, truncate on _sqlx_migrations from %1$I",
        &[role],
    )
    .await?;
    run_or_skip(
        admin,
        &sql,
        format!("allowed app role {role:?} to read and write the app tables"),
    )
    .await
}

/// `notebox check`: serving as a superuser works, but a bug or a leaked URL could then change
/// anything in the cluster.
pub async fn serving_role(pool: &PgPool) -> Result<Check, sqlx::Error> {
    let (role, superuser): (String, bool) =
        sqlx::query_as("select rolname::text, rolsuper from pg_roles where rolname = current_user")
            .fetch_one(pool)
            .await?;
    Ok(if superuser {
        Check::new(
            "serving role",
            Severity::Warn,
            format!(
                "notebox serves as {role:?}, a superuser: set database.admin_url to this URL and database.url to an app role (notebox creates it and grants it the app tables; see README, Least privilege)"
            ),
        )
    } else {
        Check::new(
            "serving role",
            Severity::Ok,
            format!("{role:?} (not a superuser)"),
        )
    })
}
