//! The upload statements' plans do not depend on what a table held when a connection first
//! ran them. On a fresh install `notes` is empty; a generic plan made then (a sequential
//! scan) was kept long after the table filled, and 1-op uploads fell to a few hundred per
//! second with Postgres saturated. The serving pool rules out plans that scan a table
//! where an index can probe it (`db::connect`), so Postgres may keep its generic plans.

use notebox::schema::SyncSchema;
use notebox::upload::{Form, Table, UploadSchema};
use sqlx::{Connection, PgConnection, PgPool};

use crate::helpers::config_for;

/// `EXECUTE put_notes(…)` arguments: one id, the owner, one text[] per writable column.
fn arguments(id: &str, owner: &str, writable: usize) -> String {
    let mut arguments = vec![format!("'{{{id}}}'"), format!("'{owner}'")];
    arguments.extend((0..writable).map(|_| "array[null]::text[]".to_owned()));
    arguments.join(", ")
}

async fn explain(conn: &mut PgConnection, arguments: &str) -> String {
    let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "explain execute put_notes({arguments})"
    )))
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(line,)| line)
        .collect::<Vec<_>>()
        .join("\n")
}

#[sqlx::test]
async fn put_plan_probes_the_index_after_an_empty_start(pool: PgPool) {
    let config = config_for(&pool);
    let app_pool = notebox::db::connect(&config.database).await.unwrap();
    let schema = UploadSchema::load(&app_pool, &SyncSchema::new(&config).unwrap())
        .await
        .unwrap();
    let notes = &schema.tables["notes"];
    let owner: uuid::Uuid = sqlx::query_scalar(
        "insert into users (email, password_hash) values ('plan@example.org', 'x') returning id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let owner = owner.to_string();
    // Statistics that say "empty", and none gathered while it fills.
    sqlx::raw_sql("analyze notes; alter table notes set (autovacuum_enabled = false)")
        .execute(&pool)
        .await
        .unwrap();

    // A connection of the app's pool, and a plain one (Postgres' default plan cache mode)
    // as the control that shows the cliff this guards against.
    let mut conn = app_pool.acquire().await.unwrap();
    let mut plain = sqlx::PgConnection::connect(&crate::helpers::url_of(&pool))
        .await
        .unwrap();
    for conn in [&mut *conn, &mut plain] {
        prepare_on_empty_table(conn, notes, &owner).await;
    }
    sqlx::query(
        "insert into notes (id, owner_id, title) select gen_random_uuid(), $1::uuid, 'n' || i \
         from generate_series(1, 50000) i",
    )
    .bind(&owner)
    .execute(&pool)
    .await
    .unwrap();

    let id = uuid::Uuid::new_v4().to_string();
    let arguments = arguments(&id, &owner, notes.writable.len());
    let plan = explain(&mut conn, &arguments).await;
    assert!(
        !plan.contains("Seq Scan on notes"),
        "the upload scans the whole table:\n{plan}"
    );
    assert!(plan.contains("notes_pkey"), "{plan}");
    // And that plan is kept: the statement is not planned again on every execution.
    let generic: i64 = sqlx::query_scalar(
        "select generic_plans from pg_prepared_statements where name = 'put_notes'",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert!(generic > 0, "the upload is planned on every execution");
    let control = explain(&mut plain, &arguments).await;
    assert!(
        control.contains("Seq Scan on notes"),
        "control: Postgres no longer keeps a generic plan made on the empty table, so this \
         test no longer shows the cliff:\n{control}"
    );
}

/// Prepares the PUT of `notes` and runs it more often than the 5 custom plans after which
/// Postgres may switch to a generic one, while the table is empty.
async fn prepare_on_empty_table(conn: &mut PgConnection, notes: &Table, owner: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "prepare put_notes as {}",
        notes.statements.put(Form::Plain)
    )))
    .execute(&mut *conn)
    .await
    .unwrap();
    for _ in 0..10 {
        let id = uuid::Uuid::new_v4().to_string();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "execute put_notes({})",
            arguments(&id, owner, notes.writable.len())
        )))
        .execute(&mut *conn)
        .await
        .unwrap();
    }
    sqlx::raw_sql("delete from notes")
        .execute(&mut *conn)
        .await
        .unwrap();
}

/// Uploads of every form (alone, claiming the ledger key, in BEGIN … COMMIT) reuse the
/// plans of their statements and of the foreign key checks they run per row, request
/// after request, instead of planning them on every execution.
#[sqlx::test]
async fn uploads_reuse_their_plans(pool: PgPool) {
    let mut config = config_for(&pool);
    // One connection: every upload below runs on it, and so can be inspected after.
    config.database.max_connections = 1;
    let app_pool = notebox::db::connect(&config.database).await.unwrap();
    let schema = UploadSchema::load(&app_pool, &SyncSchema::new(&config).unwrap())
        .await
        .unwrap();
    let owner: uuid::Uuid = sqlx::query_scalar(
        "insert into users (email, password_hash) values ('plans@example.org', 'x') returning id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    // tx_id: the ledger key of the transaction that claims one.
    let put = |tx: i32| serde_json::json!({"op": "PUT", "type": "notes", "id": uuid::Uuid::new_v4(), "tx_id": tx, "data": {"title": "t"}});
    let delete = || serde_json::json!({"op": "DELETE", "type": "notes", "id": uuid::Uuid::new_v4(), "tx_id": 0});
    let limits = notebox::upload::Limits {
        max_value: 1024,
        commit_by: std::time::Instant::now() + std::time::Duration::from_secs(60),
    };
    let mut conn = app_pool.acquire().await.unwrap();
    for round in 0..12 {
        let bodies = [
            serde_json::json!({"batch": [put(0), put(0)]}),
            serde_json::json!({"batch": [put(round)], "client_id": "device-1"}),
            // Two statements (a PUT group, a DELETE group): BEGIN … COMMIT.
            serde_json::json!({"batch": [put(0), delete()]}),
        ];
        for body in bodies {
            let (_, transactions) = notebox::upload::parse(body.to_string().as_bytes()).unwrap();
            let outcome =
                notebox::upload::apply(&mut conn, &schema, owner, &transactions[0], &limits)
                    .await
                    .unwrap();
            assert!(
                matches!(outcome, notebox::upload::Outcome::Applied),
                "{outcome:?}"
            );
        }
    }
    // Every upload statement prepared on this connection ran 12 or 24 times, planned once.
    let plans: Vec<(String, i64, i64)> = sqlx::query_as(
        "select statement, generic_plans, custom_plans from pg_prepared_statements \
         where statement ~* '^\\s*(insert|delete|with)'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert!(plans.len() >= 3, "{plans:?}");
    for (statement, generic, custom) in &plans {
        assert!(
            *generic >= 12 && *custom == 0,
            "planned {custom} times, reused {generic}: {statement}"
        );
    }
    // Planning of the foreign key checks shows up as time, not as a counter: the settings
    // that keep those plans sound are the connection's own, for every statement it runs.
    let settings: Vec<String> = sqlx::query_scalar(
        "select setting from pg_settings where name in ('enable_seqscan', 'enable_hashjoin', 'enable_mergejoin', 'jit', 'plan_cache_mode') order by name",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert_eq!(settings, ["off", "off", "off", "off", "force_generic_plan"]);
}
