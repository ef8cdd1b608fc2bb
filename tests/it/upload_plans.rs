//! The upload statements' plans do not depend on what a table held when a connection first
//! ran them. On a fresh install `notes` is empty; a generic plan made then (a sequential
//! scan) was kept long after the table filled, and 1-op uploads fell to a few hundred per
//! second with Postgres saturated. The pool plans every execution for its parameters, and
//! a lone PUT does not read the table at all but through its conflict arbiter.

use notebox::schema::SyncSchema;
use notebox::upload::{Form, Table, UploadSchema};
use sqlx::{Connection, PgConnection, PgPool};

use crate::helpers::config_for;

/// `EXECUTE put_…(…)` arguments: one id, the owner, one text[] per writable column.
fn arguments(id: &str, owner: &str, writable: usize) -> String {
    let mut arguments = vec![format!("'{{{id}}}'"), format!("'{owner}'")];
    arguments.extend((0..writable).map(|_| "array[null]::text[]".to_owned()));
    arguments.join(", ")
}

async fn explain(conn: &mut PgConnection, statement: &str, arguments: &str) -> String {
    let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "explain execute {statement}({arguments})"
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
        for form in [Form::InTransaction, Form::Alone] {
            prepare_on_empty_table(conn, notes, form, &owner).await;
        }
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
    let plan = explain(&mut conn, "put_intransaction", &arguments).await;
    assert!(
        !plan.contains("Seq Scan on notes"),
        "the upload scans the whole table:\n{plan}"
    );
    assert!(plan.contains("notes_pkey"), "{plan}");
    let control = explain(&mut plain, "put_intransaction", &arguments).await;
    assert!(
        control.contains("Seq Scan on notes"),
        "control: Postgres no longer keeps a generic plan made on the empty table, so this \
         test no longer shows the cliff:\n{control}"
    );
    // Even the plan made on the empty table and kept: a lone PUT scans no part of `notes`.
    for conn in [&mut *conn, &mut plain] {
        let plan = explain(conn, "put_alone", &arguments).await;
        let scans: Vec<&str> = plan.lines().filter(|l| l.contains("Scan")).collect();
        assert!(
            scans.iter().all(|scan| !scan.contains(" on notes")),
            "a lone PUT reads the table:\n{plan}"
        );
        assert!(
            plan.contains("Conflict Arbiter Indexes: notes_pkey"),
            "{plan}"
        );
    }
}

/// Prepares the PUT of `notes` in `form` (as `put_intransaction` or `put_alone`) and runs
/// it more often than the 5 custom plans after which Postgres may switch to a generic one,
/// while the table is empty.
async fn prepare_on_empty_table(conn: &mut PgConnection, notes: &Table, form: Form, owner: &str) {
    let name = format!("put_{form:?}").to_lowercase();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "prepare {name} as {}",
        notes.statements.put(form)
    )))
    .execute(&mut *conn)
    .await
    .unwrap();
    for _ in 0..10 {
        let id = uuid::Uuid::new_v4().to_string();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "execute {name}({})",
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

/// A statement that runs alone lets the queries Postgres runs per row on its behalf
/// (foreign key checks, triggers) reuse their cached plans; a statement among others in
/// BEGIN … COMMIT does not (the statements after it would be planned that way too); and
/// neither leaves the pooled connection out of its plan cache mode.
#[sqlx::test]
async fn only_a_lone_statement_relaxes_plans_and_only_for_itself(pool: PgPool) {
    let config = config_for(&pool);
    let app_pool = notebox::db::connect(&config.database).await.unwrap();
    let schema = UploadSchema::load(&app_pool, &SyncSchema::new(&config).unwrap())
        .await
        .unwrap();
    let owner: uuid::Uuid = sqlx::query_scalar(
        "insert into users (email, password_hash) values ('modes@example.org', 'x') returning id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    // What a per-row trigger sees, in the order the notes were written.
    sqlx::raw_sql(
        "create table seen_modes (n bigint generated always as identity, title text, mode text);
         create function record_mode() returns trigger language plpgsql as $$
         begin
             insert into seen_modes (title, mode) values (new.title, current_setting('plan_cache_mode'));
             return null;
         end $$;
         create trigger record_mode after insert on notes for each row execute function record_mode();",
    )
    .execute(&pool)
    .await
    .unwrap();
    let put = |title: &str| serde_json::json!({"op": "PUT", "type": "notes", "id": uuid::Uuid::new_v4(), "tx_id": 1, "data": {"title": title}});
    let delete = serde_json::json!({"op": "DELETE", "type": "notes", "id": uuid::Uuid::new_v4(), "tx_id": 1});
    let bodies = [
        serde_json::json!({"batch": [put("alone")]}),
        serde_json::json!({"batch": [put("claiming")], "client_id": "device-1"}),
        // Two statements (a PUT group, a DELETE group): BEGIN … COMMIT.
        serde_json::json!({"batch": [put("in a transaction"), delete]}),
    ];
    let limits = notebox::upload::Limits {
        max_value: 1024,
        commit_by: std::time::Instant::now() + std::time::Duration::from_secs(60),
    };
    let mut conn = app_pool.acquire().await.unwrap();
    for body in bodies {
        let (_, transactions) = notebox::upload::parse(body.to_string().as_bytes()).unwrap();
        let outcome = notebox::upload::apply(&mut conn, &schema, owner, &transactions[0], &limits)
            .await
            .unwrap();
        assert!(
            matches!(outcome, notebox::upload::Outcome::Applied),
            "{outcome:?}"
        );
    }
    let seen: Vec<(String, String)> =
        sqlx::query_as("select title, mode from seen_modes order by n")
            .fetch_all(&pool)
            .await
            .unwrap();
    let seen: Vec<(&str, &str)> = seen.iter().map(|(t, m)| (t.as_str(), m.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("alone", "auto"),
            ("claiming", "auto"),
            ("in a transaction", "force_custom_plan")
        ]
    );
    let mode: String = sqlx::query_scalar("show plan_cache_mode")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(mode, "force_custom_plan");
}
