//! The upload statements' plans do not depend on what a table held when a connection first
//! ran them. On a fresh install `notes` is empty; a generic plan made then (a sequential
//! scan) was kept long after the table filled, and 1-op uploads fell to a few hundred per
//! second with Postgres saturated. Statements that find rows by id go unprepared (planned
//! every time); a lone PUT keeps its plan, which reads `notes` only through its conflict
//! arbiter.

use notebox::schema::SyncSchema;
use notebox::upload::{Form, Table, UploadSchema};
use sqlx::{Connection, PgConnection, PgPool};

use crate::helpers::config_for;

/// `EXECUTE put_…(…)` arguments: one id, the owner, one array per writable column (of
/// whichever type the statement takes it as).
fn arguments(id: &str, owner: &str, writable: usize) -> String {
    let mut arguments = vec![format!("'{{{id}}}'"), format!("'{owner}'")];
    arguments.extend((0..writable).map(|_| "'{NULL}'".to_owned()));
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

/// The plans Postgres keeps for the PUT, made while `notes` was empty, after it filled up:
/// the lone PUT's reads no part of it; the PUT run among others in a transaction (which
/// probes every row first) scans it all, which is why notebox sends that one unprepared.
/// (The lone PUT's probes of `notebook_members` may keep a scan made while that table was
/// tiny, until autovacuum analyzes it again: memberships grow a few at a time, notes by the
/// thousand in a first sync or an import.)
#[sqlx::test]
async fn a_kept_lone_put_plan_never_reads_notes_after_an_empty_start(pool: PgPool) {
    let config = config_for(&pool);
    let schema = UploadSchema::load(&pool, &SyncSchema::new(&config).unwrap())
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

    // Postgres' default plan cache mode, as the app's pool has.
    let mut conn = PgConnection::connect(&crate::helpers::url_of(&pool))
        .await
        .unwrap();
    for form in [Form::InTransaction, Form::Alone] {
        for typed in [false, true] {
            prepare_on_empty_table(&mut conn, notes, form, typed, &owner).await;
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
    for statement in ["put_alone_text", "put_alone_typed"] {
        let plan = explain(&mut conn, statement, &arguments).await;
        let reads: Vec<&str> = plan
            .lines()
            .filter(|l| l.contains("Scan") && l.contains(" on notes "))
            .collect();
        assert!(reads.is_empty(), "a lone PUT reads the table:\n{plan}");
        assert!(
            plan.contains("Conflict Arbiter Indexes: notes_pkey"),
            "{plan}"
        );
    }
    let control = explain(&mut conn, "put_intransaction_typed", &arguments).await;
    assert!(
        control.contains("Seq Scan on notes"),
        "control: Postgres no longer keeps a generic plan made on the empty table, so this \
         test no longer shows the cliff:\n{control}"
    );
}

/// Prepares the PUT of `notes` in `form`, sending text or typed values (as
/// `put_intransaction_text`, `put_alone_typed`…), and runs it more often than the 5 custom
/// plans after which Postgres may switch to a generic one, while the table is empty.
async fn prepare_on_empty_table(
    conn: &mut PgConnection,
    notes: &Table,
    form: Form,
    typed: bool,
    owner: &str,
) {
    let name = format!("put_{form:?}_{}", if typed { "typed" } else { "text" }).to_lowercase();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "prepare {name} as {}",
        notes.statements.put(form, typed)
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

/// Of the statements an upload runs, only the lone PUT stays prepared on the app's
/// connection: every other one (PATCH, DELETE, a PUT among others in a transaction, the
/// question which row was refused) is planned for the table as it is, each time.
#[sqlx::test]
async fn only_a_lone_put_keeps_its_plan(pool: PgPool) {
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
    let foreign: uuid::Uuid = sqlx::query_scalar(
        "insert into users (email, password_hash) values ('other@example.org', 'x') returning id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let theirs = uuid::Uuid::new_v4();
    sqlx::query("insert into notes (id, owner_id) values ($1, $2)")
        .bind(theirs)
        .bind(foreign)
        .execute(&pool)
        .await
        .unwrap();
    let mine = uuid::Uuid::new_v4();
    let entry = |op: &str, id: uuid::Uuid, data: serde_json::Value| serde_json::json!({"op": op, "type": "notes", "id": id, "tx_id": 1, "data": data});
    let title = serde_json::json!({"title": "t"});
    let bodies = [
        serde_json::json!({"batch": [entry("PUT", mine, title.clone())]}),
        serde_json::json!({"batch": [entry("PUT", uuid::Uuid::new_v4(), title.clone())], "client_id": "device-1"}),
        serde_json::json!({"batch": [entry("PATCH", mine, title.clone())]}),
        // Two statements (a PUT group, a DELETE group): BEGIN … COMMIT.
        serde_json::json!({"batch": [entry("PUT", uuid::Uuid::new_v4(), title.clone()), entry("DELETE", mine, serde_json::json!(null))]}),
        // Refused: which row is asked afterwards.
        serde_json::json!({"batch": [entry("PATCH", theirs, title.clone())]}),
        serde_json::json!({"batch": [entry("PUT", theirs, title.clone())]}),
    ];
    let limits = notebox::upload::Limits {
        max_value: 1024,
        commit_by: std::time::Instant::now() + std::time::Duration::from_secs(60),
    };
    let mut conn = app_pool.acquire().await.unwrap();
    for body in bodies {
        let body = body.to_string();
        let (_, transactions) = notebox::upload::parse(body.as_bytes()).unwrap();
        notebox::upload::apply(&mut conn, &schema, owner, &transactions[0], &limits)
            .await
            .unwrap();
    }
    let prepared: Vec<String> = sqlx::query_scalar(
        "select statement from pg_prepared_statements where statement ~* '\\m(notes|upload_ledger)\\M' \
         and statement !~ 'pg_prepared_statements'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let lone_puts = [Form::Alone, Form::Claiming]
        .map(|form| [false, true].map(|typed| schema.tables["notes"].statements.put(form, typed)));
    assert!(
        prepared
            .iter()
            .any(|statement| **statement == *lone_puts[0][1]),
        "a lone PUT of uuids and times in their common form goes typed: {prepared:?}"
    );
    for statement in &prepared {
        assert!(
            lone_puts.iter().flatten().any(|put| **put == **statement),
            "kept prepared: {statement}"
        );
    }
    // It takes the ids and the uploader as uuids: Postgres parses none of them per row (in
    // a kept, generic plan a cast of a parameter runs on every row).
    let types: Vec<String> = sqlx::query_scalar(
        "select unnest(parameter_types::text[]) from pg_prepared_statements where statement = $1",
    )
    .bind(&*lone_puts[0][1])
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert_eq!(types[..2], ["uuid[]", "uuid"], "{types:?}");
}
