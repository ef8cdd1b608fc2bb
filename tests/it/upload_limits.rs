//! Uploads that must never wedge a client's queue or grow the server: NUL characters,
//! oversized values and requests, server-side faults, floods of refusals.

use axum::http::StatusCode;
use notebox::config::{Config, UploadTable};
use notebox::upload::{KEPT_PER_USER, MAX_TEXT, UploadSchema};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{config_for, get, post_json};
use crate::upload::{fixture, new_id, put};

async fn stored_rejections(pool: &PgPool) -> Vec<(String, String, String, String, Option<Value>)> {
    sqlx::query_as(
        "select table_name, row_id, code, message, data from upload_rejections order by created_at",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn nul_characters_are_refused_and_recorded(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let (_, alice) = &f.alice;
    let id = new_id();
    let cases = [
        (put(&id, 1, json!({"title": "a\u{0}b"})), "NUL_CHARACTER"),
        (
            json!({"op": "PATCH", "type": "notes", "id": id, "tx_id": 2, "data": {"body": ["\u{0}"]}}),
            "NUL_CHARACTER",
        ),
        (put(&id, 3, json!({"col\u{0}": "x\u{0}"})), "UNKNOWN_COLUMN"),
        (
            json!({"op": "PUT", "type": "no\u{0}tes", "id": "x\u{0}", "data": {"t": "\u{0}"}}),
            "UNKNOWN_TABLE",
        ),
    ];
    for (entry, code) in cases {
        for format in ["batch", "transactions"] {
            let body = match format {
                "batch" => json!({ "batch": [entry.clone()] }),
                _ => json!({ "transactions": [{ "crud": [entry.clone()] }] }),
            };
            let response = f.upload(alice, body).await;
            assert_eq!(response.status, StatusCode::OK, "{:?}", response.json());
            assert_eq!(response.json()["results"][0]["code"], code, "{entry}");
        }
    }
    assert_eq!(f.note(&id).await, None);
    let stored = stored_rejections(&f.pool).await;
    assert_eq!(stored.len(), 8);
    let unknown_column = &stored[4];
    assert_eq!(
        unknown_column.4,
        Some(json!({"col\u{FFFD}": "x\u{FFFD}"})),
        "the refused data is kept, NUL replaced"
    );
    assert_eq!(stored[6].0, "no\u{FFFD}tes");
}

#[sqlx::test]
async fn values_over_max_value_are_refused_and_limits_are_published(pool: PgPool) {
    let mut config = config_for(&pool);
    config.upload.max_value = bytesize::ByteSize::kib(1);
    let f = fixture(pool.clone(), config).await;
    let (_, alice) = &f.alice;
    let limits = get(&f.app, "/api/data/limits").await;
    assert_eq!(limits.status, StatusCode::OK);
    assert_eq!(
        limits.json(),
        json!({"max_body": 8 * 1024 * 1024, "max_value": 1024})
    );

    let (fits, too_big) = (new_id(), new_id());
    let response = f
        .upload(
            alice,
            json!({"batch": [put(&fits, 1, json!({"body": "é".repeat(512)}))]}),
        )
        .await;
    assert_eq!(response.json()["results"][0]["status"], "success");
    let response = f
        .upload(
            alice,
            json!({"batch": [put(&too_big, 2, json!({"title": "t", "body": "x".repeat(1025)}))]}),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "refused, never retried");
    let result = &response.json()["results"][0];
    assert_eq!(result["code"], "VALUE_TOO_LARGE");
    assert!(
        result["message"].as_str().unwrap().contains("1025 bytes"),
        "{result}"
    );
    assert_eq!(f.note(&too_big).await, None);
}

/// The default request limit holds a transaction of several notes near the value limit.
#[sqlx::test]
async fn a_transaction_of_large_notes_fits_the_default_request_limit(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let (_, alice) = &f.alice;
    let body = "x".repeat(250 * 1024);
    let crud: Vec<Value> = (0..8)
        .map(|_| json!({"op": "PUT", "type": "notes", "id": new_id(), "data": {"body": body}}))
        .collect();
    let response = f
        .upload(alice, json!({"transactions": [{"crud": crud}]}))
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json()["results"][0]["status"], "success");
    assert_eq!(f.count("notes").await, 8);
}

#[sqlx::test]
async fn a_transaction_too_large_to_send_is_recorded_as_refused(pool: PgPool) {
    let mut config = config_for(&pool);
    config.upload.max_body = bytesize::ByteSize::kib(4);
    config.upload.max_value = bytesize::ByteSize::kib(1);
    let f = fixture(pool.clone(), config).await;
    let (alice_id, alice) = &f.alice;
    let crud: Vec<Value> = (0..8)
        .map(|_| json!({"op": "PUT", "type": "notes", "id": new_id(), "data": {"body": "x".repeat(1000)}}))
        .collect();
    let response = f
        .upload(alice, json!({"transactions": [{"crud": crud}]}))
        .await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.json()["error"]["code"], "payload_too_large");

    let id = new_id();
    let report = json!({"table": "notes", "id": id, "op": "PUT", "bytes": 8200});
    let response = post_json(&f.app, "/api/data/oversized", report, Some(alice)).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.json());
    let rejections = f.rejections().await;
    assert_eq!(
        rejections,
        [(
            alice_id.clone(),
            "notes".into(),
            id.clone(),
            "PUT".into(),
            "TRANSACTION_TOO_LARGE".into()
        )]
    );
    let anonymous = json!({"table": "notes", "id": id, "op": "PUT", "bytes": 8200});
    let response = post_json(&f.app, "/api/data/oversized", anonymous, None).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(f.count("upload_rejections").await, 1);
}

#[sqlx::test]
async fn server_faults_answer_503_and_reread_the_schema(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let (_, alice) = &f.alice;
    let first = new_id();
    let response = f
        .upload(
            alice,
            json!({"batch": [put(&first, 1, json!({"title": "a"}))]}),
        )
        .await;
    assert_eq!(response.json()["results"][0]["status"], "success");
    // (cascade: the history trigger reads the column too)
    sqlx::query("alter table notes drop column body cascade")
        .execute(&pool)
        .await
        .unwrap();
    let id = new_id();
    let entry = put(&id, 2, json!({"title": "b"}));
    let response = f.upload(alice, json!({"batch": [entry.clone()]})).await;
    assert_eq!(
        response.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the server's stale schema is not the client's fault: {:?}",
        response.json()
    );
    assert_eq!(f.count("upload_rejections").await, 0);
    let response = f.upload(alice, json!({"batch": [entry]})).await;
    assert_eq!(
        response.json()["results"][0]["status"],
        "success",
        "the retry runs on the reread schema: {:?}",
        response.json()
    );
}

#[sqlx::test]
async fn an_empty_patch_on_a_foreign_row_is_refused(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let ((_, alice), (_, bob)) = (&f.alice, &f.bob);
    let (alices, bobs) = (new_id(), new_id());
    f.upload(
        alice,
        json!({"batch": [put(&alices, 1, json!({"title": "a"}))]}),
    )
    .await;
    f.upload(
        bob,
        json!({"batch": [put(&bobs, 1, json!({"title": "b"}))]}),
    )
    .await;
    let empty =
        |id: &str| json!({"batch": [{"op": "PATCH", "type": "notes", "id": id, "data": {}}]});
    let response = f.upload(bob, empty(&alices)).await;
    assert_eq!(response.json()["results"][0]["code"], "NOT_OWNER");
    for own_or_missing in [&bobs, &new_id()] {
        let response = f.upload(bob, empty(own_or_missing)).await;
        assert_eq!(response.json()["results"][0]["status"], "success");
    }
    assert_eq!(f.count("upload_rejections").await, 1);
}

#[sqlx::test]
async fn rejection_messages_carry_no_sql_paths_or_type_names(pool: PgPool) {
    sqlx::query(
        "create table gadgets (id uuid primary key, owner uuid not null, code varchar(3),
                               amount numeric(4,2), meta jsonb, seen_at timestamptz,
                               size int check (size > 0), tag text unique)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let mut config = config_for(&pool);
    config.upload.tables.insert(
        "gadgets".into(),
        UploadTable {
            owner_column: "owner".into(),
        },
    );
    let f = fixture(pool.clone(), config).await;
    let (_, alice) = &f.alice;
    let taken = new_id();
    let tagged = json!({"op": "PUT", "type": "gadgets", "id": taken, "data": {"tag": "t"}});
    f.upload(alice, json!({"batch": [tagged]})).await;
    let bad = [
        json!({"code": "toolong"}), // PATCH only: PUT's explicit cast truncates varchar(n)
        json!({"amount": "1e9"}),
        json!({"amount": "abc"}),
        json!({"meta": "{not json"}),
        json!({"seen_at": "yesterday-ish"}),
        json!({"size": -1}),
        json!({"size": 1.5}),
        json!({"size": {"a": [1]}}),
        json!({"tag": "t"}),
    ];
    let forbidden = [
        "insert",
        "update ",
        "select",
        "unnest",
        "$1",
        "::",
        "src/",
        ".rs",
        "sqlx",
        "Error",
        "\"gadgets\" x",
    ];
    let mut refused = 0;
    for data in bad {
        let id = new_id();
        for op in ["PUT", "PATCH"] {
            if op == "PUT" && data.get("code").is_some() {
                continue;
            }
            if op == "PATCH" {
                let row = json!({"op": "PUT", "type": "gadgets", "id": id, "data": {}});
                f.upload(alice, json!({"batch": [row]})).await;
            }
            let entry = json!({"op": op, "type": "gadgets", "id": id, "data": data});
            let response = f.upload(alice, json!({"batch": [entry]})).await;
            assert_eq!(response.status, StatusCode::OK);
            let result = &response.json()["results"][0];
            if result["status"] == "success" {
                continue; // e.g. PATCH stores a JSON string in a jsonb column as is
            }
            refused += 1;
            let message = result["message"].as_str().unwrap();
            assert!(!message.is_empty());
            for word in forbidden {
                assert!(
                    !message.contains(word),
                    "{op} {data}: {message:?} has {word:?}"
                );
            }
        }
    }
    assert!(refused >= 15, "{refused}");
    for (_, _, _, message, _) in stored_rejections(&f.pool).await {
        assert!(forbidden.iter().all(|w| !message.contains(w)), "{message}");
    }
}

#[sqlx::test]
async fn a_flood_of_refusals_leaves_metrics_and_rejections_small(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let (_, alice) = &f.alice;
    let huge = |n: usize| format!("{n}{}", "t".repeat(900 * 1024));
    let refused = |n: usize| json!({"batch": [{"op": "PUT", "type": huge(n), "id": huge(n), "data": {huge(n): huge(n)}}]});
    let response = f.upload(alice, refused(0)).await;
    assert_eq!(response.json()["results"][0]["code"], "UNKNOWN_TABLE");
    assert!(
        response.body.len() < 4096,
        "the answer does not echo the names"
    );
    get(&f.app, "/metrics").await; // its own route's series appear from the next render
    let metrics_before = get(&f.app, "/metrics").await.body.len();
    let uploads = usize::try_from(KEPT_PER_USER).unwrap() + 20;
    for n in 1..uploads {
        let response = f.upload(alice, refused(n)).await;
        assert_eq!(response.status, StatusCode::OK);
    }
    let metrics_after = get(&f.app, "/metrics").await.body.len();
    assert!(
        metrics_after < metrics_before + 200,
        "/metrics grew from {metrics_before} to {metrics_after} bytes"
    );
    let (rows, longest, bytes): (i64, i32, i64) = sqlx::query_as(
        "select count(*), max(greatest(length(table_name), length(row_id), length(message)))::int,
                sum(pg_column_size(upload_rejections.*))::bigint from upload_rejections",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(rows, KEPT_PER_USER, "older refusals are pruned");
    assert!(longest <= 2 * MAX_TEXT as i32 + 1, "{longest}");
    assert!(bytes < 200 * 1024, "{bytes} bytes stored");
    let newest: String =
        sqlx::query_scalar("select row_id from upload_rejections order by created_at desc limit 1")
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert!(
        newest.starts_with(&(uploads - 1).to_string()),
        "the newest are kept"
    );
}

#[sqlx::test]
async fn internal_tables_and_key_owner_columns_are_refused_at_start(pool: PgPool) {
    sqlx::query("create table profiles (id uuid primary key, owner uuid)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("create table pairs (id uuid, owner uuid, primary key (id, owner))")
        .execute(&pool)
        .await
        .unwrap();
    let cases = [
        ("users", "id", "own tables"),
        ("sessions", "user_id", "own tables"),
        ("signing_keys", "id", "own tables"),
        ("upload_rejections", "owner_id", "own tables"),
        ("profiles", "id", "primary key"),
        ("pairs", "owner", "primary key"),
    ];
    for (table, owner, expected) in cases {
        let mut config = Config::default();
        config.upload.tables = [(
            table.to_owned(),
            UploadTable {
                owner_column: owner.into(),
            },
        )]
        .into();
        // Internal tables fail the config itself; key owners fail when the catalog is read.
        let error = match notebox::schema::SyncSchema::new(&config) {
            Err(error) => error,
            Ok(schema) => UploadSchema::load(&pool, &schema)
                .await
                .expect_err(table)
                .to_string(),
        };
        assert!(error.contains(expected), "{table}: {error}");
        assert!(error.contains(&format!("upload.tables.{table}")), "{error}");
        assert_eq!(error.lines().count(), 1);
    }
}

#[test]
fn limits_and_timeouts_are_checked_when_the_config_loads() {
    let mut config = Config::default();
    assert!(config.problems().is_empty(), "{:?}", config.problems());
    config.database.statement_timeout = std::time::Duration::from_secs(30);
    config.upload.max_value = bytesize::ByteSize::mib(9);
    let problems = config.problems().join("\n");
    assert!(
        problems.contains("database.statement_timeout"),
        "{problems}"
    );
    assert!(problems.contains("upload.max_value"), "{problems}");
}
