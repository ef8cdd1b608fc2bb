//! Migrations and the PowerSync setup against a real Postgres.

use notebox::db::{self, PUBLICATION, SetupStep, Severity};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};

use crate::helpers::{config_for, drop_powersync_objects, unique, url_of};

async fn password_hash(pool: &PgPool, role: &str) -> Option<String> {
    sqlx::query_scalar("select rolpassword from pg_authid where rolname = $1")
        .bind(role)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = false)]
async fn migrate_twice_changes_nothing(pool: PgPool) {
    let config = config_for(&pool);
    let first = db::migrate(&pool, &config).await.unwrap();
    assert!(
        first.iter().all(|s| matches!(s, SetupStep::Changed(_))),
        "{first:#?}"
    );
    let hash = password_hash(&pool, &config.powersync.replication_role).await;
    let storage_hash = password_hash(&pool, &config.powersync.storage_user).await;

    let second = db::migrate(&pool, &config).await.unwrap();
    assert!(
        second
            .iter()
            .all(|s| matches!(s, SetupStep::AlreadyDone(_))),
        "{second:#?}"
    );
    assert_eq!(
        password_hash(&pool, &config.powersync.replication_role).await,
        hash
    );
    assert_eq!(
        password_hash(&pool, &config.powersync.storage_user).await,
        storage_hash
    );
    let applied: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(applied as usize, db::MIGRATOR.iter().count());
    drop_powersync_objects(&pool, &config).await;
}

#[sqlx::test(migrations = false)]
async fn publication_has_exactly_the_synced_tables_and_all_operations(pool: PgPool) {
    let config = config_for(&pool);
    db::migrate(&pool, &config).await.unwrap();
    let mut tables: Vec<String> =
        sqlx::query_scalar("select schemaname || '.' || tablename from pg_publication_tables where pubname = $1 order by 1")
            .bind(PUBLICATION)
            .fetch_all(&pool)
            .await
            .unwrap();
    tables.sort();
    assert_eq!(
        tables,
        [
            "public.note_conflicts",
            "public.notebook_members",
            "public.notebooks",
            "public.notes",
            "public.upload_rejections"
        ]
    );
    let ops: (bool, bool, bool, bool, bool, bool) = sqlx::query_as(
        "select pubinsert, pubupdate, pubdelete, pubtruncate, pubviaroot, puballtables from pg_publication where pubname = $1",
    )
    .bind(PUBLICATION)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(ops, (true, true, true, true, false, false));
    drop_powersync_objects(&pool, &config).await;
}

#[sqlx::test(migrations = false)]
async fn drifted_publication_is_repaired(pool: PgPool) {
    let config = config_for(&pool);
    db::migrate(&pool, &config).await.unwrap();
    sqlx::query("alter publication powersync set table public.notes, public.users")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("alter publication powersync set (publish = 'insert')")
        .execute(&pool)
        .await
        .unwrap();
    let checks = db::preflight(&pool, &config).await.unwrap();
    let publication = checks.iter().find(|c| c.name == "publication").unwrap();
    assert_eq!(publication.severity, Severity::Warn);
    assert!(
        publication.message.contains("upload_rejections") && publication.message.contains("users"),
        "{}",
        publication.message
    );

    let steps = db::migrate(&pool, &config).await.unwrap();
    assert!(
        matches!(&steps[0], SetupStep::Changed(m) if m.contains("publication")),
        "{steps:#?}"
    );
    let checks = db::preflight(&pool, &config).await.unwrap();
    assert!(
        checks.iter().all(|c| c.severity == Severity::Ok),
        "{checks:#?}"
    );
    drop_powersync_objects(&pool, &config).await;
}

#[sqlx::test(migrations = false)]
async fn replication_role_logs_in_and_reads_synced_tables_only(pool: PgPool) {
    let config = config_for(&pool);
    db::migrate(&pool, &config).await.unwrap();
    let options: PgConnectOptions = url_of(&pool).parse().unwrap();
    let mut conn = PgConnection::connect_with(
        &options
            .username(&config.powersync.replication_role)
            .password("repl-password-1"),
    )
    .await
    .expect("the replication role logs in with the configured password");
    for table in db::synced_tables(&config) {
        sqlx::query(sqlx::AssertSqlSafe(format!("select * from public.{table}")))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let denied = sqlx::query("select * from public.users")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(
        denied.as_database_error().unwrap().code().as_deref(),
        Some("42501")
    );
    let (login, replication): (bool, bool) =
        sqlx::query_as("select rolcanlogin, rolreplication from pg_roles where rolname = $1")
            .bind(&config.powersync.replication_role)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(login && replication);
    conn.close().await.unwrap();
    drop_powersync_objects(&pool, &config).await;
}

#[sqlx::test(migrations = false)]
async fn storage_database_is_created_and_owned_by_the_storage_user(pool: PgPool) {
    let config = config_for(&pool);
    db::migrate(&pool, &config).await.unwrap();
    let owner: String = sqlx::query_scalar(
        "select pg_get_userbyid(datdba)::text from pg_database where datname = $1",
    )
    .bind(&config.powersync.storage_database)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(owner, config.powersync.storage_user);
    let options: PgConnectOptions = url_of(&pool).parse().unwrap();
    let mut conn = PgConnection::connect_with(
        &options
            .username(&config.powersync.storage_user)
            .password("storage-password-1")
            .database(&config.powersync.storage_database),
    )
    .await
    .expect("the storage user logs in to its database");
    sqlx::query("create table probe (id int)")
        .execute(&mut conn)
        .await
        .expect("it can create its tables");
    conn.close().await.unwrap();
    drop_powersync_objects(&pool, &config).await;
}

#[sqlx::test(migrations = false)]
async fn changed_password_is_applied_on_the_next_migrate(pool: PgPool) {
    let mut config = config_for(&pool);
    db::migrate(&pool, &config).await.unwrap();
    config.powersync.replication_password = Some(notebox::config::Secret::new("a-new-password"));
    let steps = db::migrate(&pool, &config).await.unwrap();
    assert!(
        steps
            .iter()
            .any(|s| matches!(s, SetupStep::Changed(m) if m.contains("password"))),
        "{steps:#?}"
    );
    let options: PgConnectOptions = url_of(&pool).parse().unwrap();
    let conn = PgConnection::connect_with(
        &options
            .username(&config.powersync.replication_role)
            .password("a-new-password"),
    )
    .await;
    assert!(conn.is_ok());
    drop_powersync_objects(&pool, &config).await;
}

/// Without superuser rights the privileged steps are skipped, each with the SQL to run,
/// and no password is ever printed.
#[sqlx::test(migrations = false)]
async fn unprivileged_role_gets_the_sql_an_admin_must_run(pool: PgPool) {
    let app_role = unique("app");
    let database = pool.connect_options().get_database().unwrap().to_owned();
    for sql in [
        format!("create role {app_role} login password 'app-password'"),
        format!("grant create on database \"{database}\" to {app_role}"),
        format!("grant create on schema public to {app_role}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .unwrap();
    }
    let mut config = config_for(&pool);
    // A quote in the password once defeated the masking of the printed SQL.
    config.powersync.replication_password = Some(notebox::config::Secret::new("it's-a-secret"));
    let options: PgConnectOptions = url_of(&pool).parse().unwrap();
    let app_pool = PgPool::connect_with(options.username(&app_role).password("app-password"))
        .await
        .unwrap();
    let steps = db::migrate(&app_pool, &config).await.unwrap();
    let printed: String = steps.iter().map(|s| format!("{s}\n")).collect();
    assert!(
        matches!(&steps[0], SetupStep::Changed(m) if m.contains("publication")),
        "{printed}"
    );
    assert!(
        printed.contains(&format!(
            "create role {} with login replication password '…'",
            config.powersync.replication_role
        )),
        "{printed}"
    );
    assert!(printed.contains("create database"), "{printed}");
    assert!(
        !printed.contains("it's-a-secret")
            && !printed.contains("it''s-a-secret")
            && !printed.contains("storage-password-1"),
        "{printed}"
    );
    let role_exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_roles where rolname = $1)")
            .bind(&config.powersync.replication_role)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(!role_exists);

    // Migrating again as the unprivileged role is still fine: same skips, nothing breaks.
    config.powersync.storage_database = String::new();
    let again = db::migrate(&app_pool, &config).await.unwrap();
    assert!(matches!(&again[0], SetupStep::AlreadyDone(_)), "{again:#?}");
    app_pool.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!("drop owned by {app_role}")))
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("drop role {app_role}")))
        .execute(&pool)
        .await
        .unwrap();
}

/// The proof PowerSync will see our writes: a logical slot on the `powersync`
/// publication (pgoutput, as PowerSync uses) decodes an insert into notes, and nothing of
/// tables outside the publication.
#[sqlx::test(migrations = false)]
async fn note_insert_appears_on_a_logical_replication_slot(pool: PgPool) {
    let config = config_for(&pool);
    db::migrate(&pool, &config).await.unwrap();
    let slot = crate::helpers::Slot::create(&pool).await;

    let user_id: uuid::Uuid = sqlx::query_scalar(
        "insert into users (email, password_hash) values ('a@example.org', 'x') returning id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    sqlx::query("insert into notes (id, owner_id, title, body) values (gen_random_uuid(), $1, 'replicated title', 'b')")
        .bind(user_id)
        .execute(&pool)
        .await
        .unwrap();

    let changes = slot.read_until_and_drop(|c| c.inserts > 0).await;
    assert!(
        changes.relations.contains(&"notes".to_owned()),
        "{changes:?}"
    );
    assert!(
        !changes.relations.contains(&"users".to_owned()),
        "users is not published: {changes:?}"
    );
    assert_eq!(changes.inserts, 1, "{changes:?}");
    assert!(changes.raw.windows(16).any(|w| w == b"replicated title"));
    drop_powersync_objects(&pool, &config).await;
}

#[tokio::test]
async fn preflight_reports_wal_level_replica_clearly() {
    let url = std::env::var("TEST_REPLICA_DATABASE_URL")
        .expect("TEST_REPLICA_DATABASE_URL is set by scripts/test");
    let pool = PgPool::connect(&url).await.unwrap();
    let checks = db::preflight(&pool, &notebox::config::Config::default())
        .await
        .unwrap();
    let wal = checks.iter().find(|c| c.name == "wal_level").unwrap();
    assert_eq!(wal.severity, Severity::Fail);
    assert!(
        wal.message.contains("wal_level is 'replica'"),
        "{}",
        wal.message
    );
    assert!(
        wal.message.contains("set wal_level=logical") && wal.message.contains("restart"),
        "{}",
        wal.message
    );
}

#[sqlx::test(migrations = false)]
async fn preflight_passes_after_migrate(pool: PgPool) {
    let config = config_for(&pool);
    let before = db::preflight(&pool, &config).await.unwrap();
    assert!(
        before
            .iter()
            .any(|c| c.name == "migrations" && c.severity == Severity::Warn)
    );
    db::migrate(&pool, &config).await.unwrap();
    let after = db::preflight(&pool, &config).await.unwrap();
    assert!(
        after.iter().all(|c| c.severity == Severity::Ok),
        "{after:#?}"
    );
    drop_powersync_objects(&pool, &config).await;
}
