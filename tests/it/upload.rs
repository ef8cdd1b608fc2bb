//! POST /api/data against real Postgres: every rule with the row state asserted after.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use notebox::config::{Config, UploadTable};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{ORIGIN, TestResponse, app, config_for, get_as, post_json, send, signup};

pub struct Fixture {
    pub app: Router,
    pub pool: PgPool,
    pub alice: (String, String),
    pub bob: (String, String),
}

pub async fn fixture(pool: PgPool, config: Config) -> Fixture {
    let mut config = config;
    config.auth.signup = notebox::config::SignupPolicy::Open;
    let app = app(config, pool.clone());
    let alice = signup(&app, "alice@example.org").await;
    let bob = signup(&app, "bob@example.org").await;
    Fixture {
        app,
        pool,
        alice,
        bob,
    }
}

impl Fixture {
    pub async fn upload(&self, session: &str, body: Value) -> TestResponse {
        post_json(&self.app, "/api/data", body, Some(session)).await
    }

    pub async fn note(&self, id: &str) -> Option<(String, String, String)> {
        sqlx::query_as("select owner_id::text, title, body from notes where id = $1::uuid")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .unwrap()
    }

    pub async fn rejections(&self) -> Vec<(String, String, String, String, String)> {
        sqlx::query_as("select owner_id::text, table_name, row_id, op, code from upload_rejections order by created_at")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

pub fn put(id: &str, tx: i64, data: Value) -> Value {
    json!({"op_id": tx, "op": "PUT", "type": "notes", "id": id, "tx_id": tx, "data": data})
}

pub fn new_id() -> String {
    Uuid::new_v4().to_string()
}

#[sqlx::test]
async fn put_patch_delete_in_batch_format(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let (alice_id, alice) = &f.alice;
    let id = new_id();
    let response = f.upload(alice, json!({"batch": [put(&id, 1, json!({"title": "first", "body": "hello", "owner_id": alice_id}))]})).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.json());
    assert_eq!(response.json()["results"][0]["status"], "success");
    assert_eq!(
        f.note(&id).await,
        Some((alice_id.clone(), "first".into(), "hello".into()))
    );

    let patch = json!({"batch": [{"op_id": 2, "op": "PATCH", "type": "notes", "id": id, "tx_id": 2, "data": {"body": "edited"}}]});
    assert_eq!(f.upload(alice, patch).await.status, StatusCode::OK);
    assert_eq!(
        f.note(&id).await,
        Some((alice_id.clone(), "first".into(), "edited".into()))
    );

    let delete =
        json!({"batch": [{"op_id": 3, "op": "DELETE", "type": "notes", "id": id, "tx_id": 3}]});
    assert_eq!(f.upload(alice, delete).await.status, StatusCode::OK);
    assert_eq!(f.note(&id).await, None);
    assert!(f.rejections().await.is_empty());
}

#[sqlx::test]
async fn transactions_format_other_spelling_and_cookie_auth(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let login = post_json(
        &f.app,
        "/api/auth/login",
        json!({"email": "alice@example.org", "password": "correct horse battery"}),
        None,
    )
    .await;
    let cookie = login
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let (a, b) = (new_id(), new_id());
    let body = json!({"transactions": [
        {"crud": [
            {"clientId": 1, "op": "PUT", "table": "notes", "id": a, "transactionId": 9, "opData": {"title": "a"}},
            {"clientId": 2, "op": "PUT", "table": "notes", "id": b, "transactionId": 9, "op_data": {"title": "b"}},
        ]},
        {"crud": [{"clientId": 3, "op": "PATCH", "table": "notes", "id": a, "opData": {"title": "a2", "body": "x"}}]},
    ]});
    let request = Request::post("/api/data")
        .header("cookie", &cookie)
        .header("origin", ORIGIN)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = send(&f.app, request).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.json(),
        json!({"results": [{"status": "success"}, {"status": "success"}]})
    );
    assert_eq!(f.note(&a).await.unwrap().1, "a2");
    assert_eq!(f.note(&b).await.unwrap().1, "b");

    // Same cookie without Origin: refused as cross-site, nothing written.
    let request = Request::post("/api/data")
        .header("cookie", &cookie)
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"batch": [put(&new_id(), 1, json!({"title": "csrf"}))]}).to_string(),
        ))
        .unwrap();
    assert_eq!(send(&f.app, request).await.status, StatusCode::FORBIDDEN);
    assert_eq!(f.count("notes").await, 2);
}

#[sqlx::test]
async fn put_replaces_the_row_and_absent_columns_take_defaults(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let (_, alice) = &f.alice;
    let id = new_id();
    f.upload(
        alice,
        json!({"batch": [put(&id, 1, json!({"title": "t", "body": "long text"}))]}),
    )
    .await;
    let response = f
        .upload(
            alice,
            json!({"batch": [put(&id, 2, json!({"title": "only title"}))]}),
        )
        .await;
    assert_eq!(response.json()["results"][0]["status"], "success");
    let (_, title, body) = f.note(&id).await.unwrap();
    assert_eq!(
        (title.as_str(), body.as_str()),
        ("only title", ""),
        "a PUT cannot say null: absent means default"
    );
}

#[sqlx::test]
async fn replayed_batch_gives_the_same_state(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let (_, alice) = &f.alice;
    let (a, b) = (new_id(), new_id());
    let batch = json!({"batch": [
        put(&a, 1, json!({"title": "a", "created_at": "2026-01-02T03:04:05.123Z"})),
        put(&b, 1, json!({"title": "b"})),
        {"op_id": 3, "op": "PATCH", "type": "notes", "id": a, "tx_id": 2, "data": {"body": "patched"}},
        {"op_id": 4, "op": "DELETE", "type": "notes", "id": b, "tx_id": 3},
    ]});
    let snapshot = || async {
        sqlx::query_as::<_, (String, String, String, String)>(
            "select id::text, title, body, created_at::text from notes order by id",
        )
        .fetch_all(&f.pool)
        .await
        .unwrap()
    };
    assert_eq!(f.upload(alice, batch.clone()).await.status, StatusCode::OK);
    let first = snapshot().await;
    let again = f.upload(alice, batch).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(
        again.json()["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "success")
    );
    assert_eq!(snapshot().await, first);
    assert_eq!(first.len(), 1);
    assert_eq!(
        first[0].3, "2026-01-02 03:04:05.123+00",
        "timestamptz coerced from ISO text"
    );
}

#[sqlx::test]
async fn other_users_rows_are_never_touched(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let ((_, alice), (bob_id, bob)) = (&f.alice, &f.bob);
    let id = new_id();
    f.upload(
        alice,
        json!({"batch": [put(&id, 1, json!({"title": "alice's", "body": "secret"}))]}),
    )
    .await;
    let original = f.note(&id).await;

    let attacks = [
        put(&id, 1, json!({"title": "bob was here"})),
        json!({"op": "PATCH", "type": "notes", "id": id, "tx_id": 2, "data": {"title": "bob was here"}}),
        json!({"op": "DELETE", "type": "notes", "id": id, "tx_id": 3}),
    ];
    for attack in attacks {
        let response = f.upload(bob, json!({"batch": [attack]})).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "a data error must not block the queue"
        );
        assert_eq!(response.json()["results"][0]["code"], "NOT_OWNER");
        assert_eq!(f.note(&id).await, original);
    }
    let rejections = f.rejections().await;
    assert_eq!(rejections.len(), 3);
    assert!(
        rejections
            .iter()
            .all(|r| &r.0 == bob_id && r.2 == id && r.4 == "NOT_OWNER"),
        "{rejections:?}"
    );
    let ops: Vec<&str> = rejections.iter().map(|r| r.3.as_str()).collect();
    assert_eq!(ops, ["PUT", "PATCH", "DELETE"]);
}

/// One multi-row statement with one foreign row: none of it applies (it runs without an
/// explicit transaction, so the statement itself must be all-or-nothing).
#[sqlx::test]
async fn one_foreign_row_in_a_group_applies_nothing(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let ((_, alice), (_, bob)) = (&f.alice, &f.bob);
    let (alices, bobs_new, bobs_other) = (new_id(), new_id(), new_id());
    f.upload(
        alice,
        json!({"batch": [put(&alices, 1, json!({"title": "mine"}))]}),
    )
    .await;
    f.upload(
        bob,
        json!({"batch": [put(&bobs_other, 1, json!({"title": "bob's"}))]}),
    )
    .await;
    for (op, data) in [
        ("PUT", json!({"title": "x"})),
        ("PATCH", json!({"title": "x"})),
        ("DELETE", json!(null)),
    ] {
        let entries: Vec<Value> = [&bobs_new, &alices, &bobs_other]
            .iter()
            .map(|id| json!({"op": op, "type": "notes", "id": id, "tx_id": 7, "data": data}))
            .collect();
        let response = f.upload(bob, json!({"batch": entries})).await;
        assert_eq!(response.json()["results"][0]["code"], "NOT_OWNER", "{op}");
        assert_eq!(response.json()["results"][0]["id"], alices.as_str(), "{op}");
        assert_eq!(
            f.note(&bobs_new).await,
            None,
            "{op}: nothing of the transaction applied"
        );
        assert_eq!(f.note(&bobs_other).await.unwrap().1, "bob's", "{op}");
        assert_eq!(f.note(&alices).await.unwrap().1, "mine", "{op}");
    }
}

#[sqlx::test]
async fn owner_spoofing_is_refused(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let ((alice_id, _), (_, bob)) = (&f.alice, &f.bob);
    let id = new_id();
    let response = f
        .upload(
            bob,
            json!({"batch": [put(&id, 1, json!({"title": "framed", "owner_id": alice_id}))]}),
        )
        .await;
    assert_eq!(response.json()["results"][0]["code"], "OWNER_MISMATCH");
    assert_eq!(f.note(&id).await, None);
    let patch = json!({"batch": [{"op": "PATCH", "type": "notes", "id": id, "data": {"owner_id": alice_id}}]});
    assert_eq!(
        f.upload(bob, patch).await.json()["results"][0]["code"],
        "OWNER_MISMATCH"
    );
    assert_eq!(f.count("notes").await, 0);
    assert_eq!(f.count("upload_rejections").await, 2);
}

#[sqlx::test]
async fn unknown_tables_columns_and_injection_shapes_are_refused(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let (_, alice) = &f.alice;
    let cases = [
        (
            json!({"op": "PUT", "type": "users", "id": new_id(), "data": {"email": "x"}}),
            "UNKNOWN_TABLE",
        ),
        (
            json!({"op": "PUT", "type": "notes\"; drop table users; --", "id": new_id(), "data": {}}),
            "UNKNOWN_TABLE",
        ),
        (
            json!({"op": "PUT", "type": "notes", "id": new_id(), "data": {"color": "red"}}),
            "UNKNOWN_COLUMN",
        ),
        (
            json!({"op": "PUT", "type": "notes", "id": new_id(), "data": {"title\" = 'x'; --": "y"}}),
            "UNKNOWN_COLUMN",
        ),
        (
            json!({"op": "PATCH", "type": "notes", "id": new_id(), "data": {"id": new_id()}}),
            "ID_MISMATCH",
        ),
        (
            json!({"op": "PUT", "type": "notes", "id": "not-a-uuid'; drop table notes; --", "data": {}}),
            "INVALID_ID",
        ),
    ];
    for (entry, code) in cases {
        let response = f.upload(alice, json!({"batch": [entry]})).await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(
            response.json()["results"][0]["code"],
            code,
            "{:?}",
            response.json()
        );
    }
    assert_eq!(f.count("upload_rejections").await, 6);
    assert_eq!(f.count("users").await, 2, "users table intact");

    // Injection-shaped values are just text.
    let id = new_id();
    let evil = "'); drop table notes; --";
    f.upload(
        alice,
        json!({"batch": [put(&id, 1, json!({"title": evil}))]}),
    )
    .await;
    assert_eq!(f.note(&id).await.unwrap().1, evil);
}

#[sqlx::test]
async fn constraint_violation_rejects_and_records_the_data(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let (alice_id, alice) = &f.alice;
    let id = new_id();
    let long = "x".repeat(1001);
    let response = f
        .upload(
            alice,
            json!({"batch": [put(&id, 1, json!({"title": long}))]}),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let result = &response.json()["results"][0];
    assert_eq!(result["status"], "fatal_error");
    assert_eq!(result["code"], "23514");
    assert_eq!(result["op_id"], 1);
    let (owner, table, row_id, op, code, message, data): (
        String,
        String,
        String,
        String,
        String,
        String,
        Value,
    ) = sqlx::query_as(
        "select owner_id::text, table_name, row_id, op, code, message, data from upload_rejections",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(
        (
            owner.as_str(),
            table.as_str(),
            row_id.as_str(),
            op.as_str(),
            code.as_str()
        ),
        (alice_id.as_str(), "notes", id.as_str(), "PUT", "23514")
    );
    assert!(message.contains("check constraint"), "{message}");
    assert_eq!(data["title"], long);
    assert_eq!(f.note(&id).await, None);
}

#[sqlx::test]
async fn a_failing_op_rolls_back_its_whole_transaction_only(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let (_, alice) = &f.alice;
    let ids: Vec<String> = (0..6).map(|_| new_id()).collect();
    let mut first: Vec<Value> = (0..5)
        .map(|i| put(&ids[i], 1, json!({"title": format!("n{i}")})))
        .collect();
    first[2] = put(&ids[2], 1, json!({"title": "y".repeat(2000)})); // op 3 of 5 fails
    let mut batch = first;
    batch.push(put(&ids[5], 2, json!({"title": "next transaction"})));
    let response = f.upload(alice, json!({"batch": batch})).await;
    assert_eq!(response.status, StatusCode::OK);
    let results = response.json()["results"].clone();
    assert_eq!(results[0]["status"], "fatal_error");
    assert_eq!(
        results[0]["id"],
        ids[2].as_str(),
        "the entry at fault is named"
    );
    assert_eq!(results[1]["status"], "success");
    for id in &ids[..5] {
        assert_eq!(
            f.note(id).await,
            None,
            "nothing of the failed transaction is applied"
        );
    }
    assert!(f.note(&ids[5]).await.is_some());
    assert_eq!(f.count("upload_rejections").await, 1);
}

#[sqlx::test]
async fn values_are_coerced_by_postgres_for_configured_tables(pool: PgPool) {
    sqlx::query(
        "create table gadgets (id uuid primary key, owner uuid not null, flag boolean, amount numeric(10,2),
                               meta jsonb, seen_at timestamptz, label text default 'unnamed')",
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
    let (alice_id, alice) = &f.alice;
    let id = new_id().to_uppercase(); // ids compare as uuids, whatever their case
    let entry = json!({"op": "PUT", "type": "gadgets", "id": id, "data": {
        "flag": 1, "amount": "12.5", "meta": {"a": [1, 2]}, "seen_at": "2026-11-24T10:00:00+01:00", "owner": alice_id.to_uppercase()}});
    let response = f.upload(alice, json!({"batch": [entry]})).await;
    assert_eq!(
        response.json()["results"][0]["status"],
        "success",
        "{:?}",
        response.json()
    );
    let row: (bool, String, Value, String, String) = sqlx::query_as(
        "select flag, amount::text, meta, seen_at at time zone 'UTC' || '', label from gadgets where id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            true,
            "12.50".into(),
            json!({"a": [1, 2]}),
            "2026-11-24 09:00:00".into(),
            "unnamed".into()
        )
    );
    let patch = json!({"batch": [{"op": "PATCH", "type": "gadgets", "id": id, "data": {"flag": 0, "amount": "abc"}}]});
    let response = f.upload(alice, patch).await;
    assert_eq!(
        response.json()["results"][0]["code"],
        "22P02",
        "bad numeric is a data error"
    );
    let flag: bool = sqlx::query_scalar("select flag from gadgets")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert!(flag);
}

/// Times in the form notebox sends typed (see `upload::typed`) and in forms it leaves to
/// Postgres end up the same instant Postgres itself reads from the text, whether each
/// travels alone or among values of the other kind (then the whole statement sends text).
#[sqlx::test]
async fn times_are_stored_as_postgres_reads_them_whatever_their_form(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let (_, alice) = &f.alice;
    let times = [
        "2026-11-24T10:00:00Z",
        "2026-11-24T10:00:00.1Z",
        "2026-11-24T10:00:00.123456Z",
        "2026-11-24T10:00:00.999999-03:30",
        "2026-11-24T23:59:59.5+14:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999Z",
        "2026-11-24T10:00:00.1234567Z",
        "2026-11-24 10:00:00+02",
        "2026-11-24T23:59:60Z",
        "2026-11-24T24:00:00Z",
        "2026-11-24t10:00:00z",
        "2026-11-24T10:00:00",
    ];
    let alone: Vec<String> = times.iter().map(|_| new_id()).collect();
    for (tx, (id, time)) in alone.iter().zip(times).enumerate() {
        let response = f
            .upload(alice, json!({"batch": [put(id, tx as i64, json!({"created_at": time, "updated_at": time}))]}))
            .await;
        assert_eq!(
            response.json()["results"][0]["status"],
            "success",
            "{time}: {:?}",
            response.json()
        );
    }
    let together: Vec<String> = times.iter().map(|_| new_id()).collect();
    let batch: Vec<Value> = together
        .iter()
        .zip(times)
        .map(|(id, time)| put(id, 100, json!({"created_at": time, "updated_at": time})))
        .collect();
    let response = f.upload(alice, json!({"batch": batch})).await;
    assert_eq!(
        response.json()["results"][0]["status"],
        "success",
        "{:?}",
        response.json()
    );
    for (ids, how) in [(&alone, "alone"), (&together, "together")] {
        for (id, time) in ids.iter().zip(times) {
            let same: (bool, bool) = sqlx::query_as(
                "select created_at = $2::timestamptz, updated_at = $2::timestamptz from notes where id = $1::uuid",
            )
            .bind(id)
            .bind(time)
            .fetch_one(&f.pool)
            .await
            .unwrap();
            assert_eq!(same, (true, true), "{time} ({how})");
        }
    }
    let response = f
        .upload(
            alice,
            json!({"batch": [put(&new_id(), 200, json!({"created_at": "2026-02-30T10:00:00Z"}))]}),
        )
        .await;
    assert_eq!(
        response.json()["results"][0]["code"],
        "22008",
        "{:?}",
        response.json()
    );
}

#[sqlx::test]
async fn patch_or_delete_of_a_missing_row_succeeds(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let (_, alice) = &f.alice;
    let batch = json!({"batch": [
        {"op": "PATCH", "type": "notes", "id": new_id(), "tx_id": 1, "data": {"title": "gone"}},
        {"op": "DELETE", "type": "notes", "id": new_id(), "tx_id": 2},
        {"op": "PATCH", "type": "notes", "id": new_id(), "tx_id": 3, "data": {}},
    ]});
    let response = f.upload(alice, batch).await;
    assert!(
        response.json()["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "success")
    );
    assert_eq!(f.count("notes").await, 0);
    assert_eq!(f.count("upload_rejections").await, 0);
}

#[sqlx::test]
async fn protocol_errors_write_nothing(pool: PgPool) {
    let mut config = config_for(&pool);
    config.upload.max_body = bytesize::ByteSize::kib(4);
    let f = fixture(pool.clone(), config).await;
    let (_, alice) = &f.alice;
    let raw = |body: &str, session: Option<&str>| {
        let mut builder = Request::post("/api/data").header("content-type", "application/json");
        if let Some(s) = session {
            builder = builder.header("authorization", format!("Bearer {s}"));
        }
        builder.body(Body::from(body.to_owned())).unwrap()
    };
    let id = new_id();
    let valid = json!({"batch": [put(&id, 1, json!({"title": "t"}))]}).to_string();
    let cases = [
        (
            raw("{\"batch\": [", Some(alice)),
            StatusCode::BAD_REQUEST,
            "not valid JSON",
        ),
        (
            raw("{\"rows\": []}", Some(alice)),
            StatusCode::BAD_REQUEST,
            "batch",
        ),
        (
            raw(
                &json!({"batch": [{"op": "MERGE", "type": "notes", "id": id}]}).to_string(),
                Some(alice),
            ),
            StatusCode::BAD_REQUEST,
            "unknown op",
        ),
        (raw(&valid, None), StatusCode::UNAUTHORIZED, "log in"),
        (
            raw(&valid, Some("not-a-session")),
            StatusCode::UNAUTHORIZED,
            "log in again",
        ),
        (
            raw(&valid, Some("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")),
            StatusCode::UNAUTHORIZED,
            "token",
        ),
        (
            raw(
                &json!({"batch": [put(&id, 1, json!({"title": "x".repeat(5000)}))]}).to_string(),
                Some(alice),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger",
        ),
    ];
    for (request, status, message) in cases {
        let response = send(&f.app, request).await;
        assert_eq!(response.status, status, "{:?}", response.json());
        assert!(
            response.error_message().contains(message),
            "{:?}",
            response.json()
        );
    }
    // A body that streams past the limit without a Content-Length is cut off too.
    let chunks = futures_chunks(
        json!({"batch": [put(&id, 1, json!({"title": "x".repeat(5000)}))]}).to_string(),
    );
    let request = Request::post("/api/data")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {alice}"))
        .body(chunks)
        .unwrap();
    assert_eq!(
        send(&f.app, request).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(f.count("notes").await, 0);
    assert_eq!(f.count("upload_rejections").await, 0);
}

/// The body in 1000-byte chunks, with no Content-Length.
fn futures_chunks(text: String) -> Body {
    let parts: Vec<Result<Vec<u8>, std::io::Error>> = text
        .as_bytes()
        .chunks(1000)
        .map(|c| Ok(c.to_vec()))
        .collect();
    Body::from_stream(futures_util::stream::iter(parts))
}

#[sqlx::test]
async fn powersync_token_authenticates_uploads(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let (alice_id, alice) = &f.alice;
    let token = get_as(&f.app, "/api/auth/token", alice).await.json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = new_id();
    let response = f
        .upload(
            &token,
            json!({"batch": [put(&id, 1, json!({"title": "via jwt"}))]}),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.json());
    assert_eq!(f.note(&id).await.unwrap().0, *alice_id);
    let tampered = format!("{}x", &token[..token.len() - 1]);
    assert_eq!(
        f.upload(&tampered, json!({"batch": []})).await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// Postgres kills the upload's connection mid-transaction: the client is told to retry
/// and nothing of the transaction is applied.
#[sqlx::test]
async fn terminated_connection_is_retryable_and_nothing_is_half_applied(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    for format in ["batch", "transactions"] {
        sqlx::query("delete from notes")
            .execute(&pool)
            .await
            .unwrap();
        let (_, alice) = &f.alice;
        let ids: Vec<String> = (0..3).map(|_| new_id()).collect();
        let body = if format == "batch" {
            json!({"batch": [put(&ids[0], 1, json!({"title": "a"})), put(&ids[1], 1, json!({"title": "b"})), put(&ids[2], 2, json!({"title": "c"}))]})
        } else {
            json!({"transactions": [{"crud": [put(&ids[0], 1, json!({"title": "a"})), put(&ids[1], 1, json!({"title": "b"}))]}, {"crud": [put(&ids[2], 2, json!({"title": "c"}))]}]})
        };
        // Hold a lock so the upload waits inside its transaction, then kill its backend.
        let mut locker = notebox::db::begin(&pool).await.unwrap();
        sqlx::query("lock table notes in access exclusive mode")
            .execute(&mut *locker)
            .await
            .unwrap();
        let app = f.app.clone();
        let session = alice.clone();
        let request =
            tokio::spawn(async move { post_json(&app, "/api/data", body, Some(&session)).await });
        let deadline = Instant::now() + Duration::from_secs(10);
        let pid: i32 = loop {
            let waiting: Option<i32> = sqlx::query_scalar(
                "select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' limit 1",
            )
            .fetch_optional(&pool)
            .await
            .unwrap();
            if let Some(pid) = waiting {
                break pid;
            }
            assert!(
                Instant::now() < deadline,
                "the upload never reached Postgres"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        sqlx::query("select pg_terminate_backend($1)")
            .bind(pid)
            .execute(&pool)
            .await
            .unwrap();
        locker.rollback().await.unwrap();
        let response = request.await.unwrap();
        if format == "batch" {
            assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(response.headers.get("retry-after").is_some());
        } else {
            assert_eq!(response.status, StatusCode::OK);
            let statuses: Vec<Value> = response.json()["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["status"].clone())
                .collect();
            assert_eq!(statuses, [json!("retryable_error"), json!("not_attempted")]);
        }
        assert_eq!(f.count("notes").await, 0, "{format}: nothing half-applied");
        assert_eq!(
            f.count("upload_rejections").await,
            0,
            "{format}: a transient failure is not a rejection"
        );
        // The retry goes through.
        let retry = if format == "batch" {
            json!({"batch": [put(&ids[0], 1, json!({"title": "a"})), put(&ids[1], 1, json!({"title": "b"})), put(&ids[2], 2, json!({"title": "c"}))]})
        } else {
            json!({"transactions": [{"crud": [put(&ids[0], 1, json!({"title": "a"})), put(&ids[1], 1, json!({"title": "b"}))]}, {"crud": [put(&ids[2], 2, json!({"title": "c"}))]}]})
        };
        assert_eq!(f.upload(alice, retry).await.status, StatusCode::OK);
        assert_eq!(f.count("notes").await, 3);
    }
}

/// What PowerSync will stream: the upload and the rejection row both appear on a logical
/// replication slot reading the `powersync` publication.
#[sqlx::test]
async fn uploads_and_rejections_reach_the_replication_slot(pool: PgPool) {
    let config = crate::helpers::config_with_publication(&pool).await;
    let slot = crate::helpers::Slot::create(&pool).await;
    let f = fixture(pool.clone(), config).await;
    let ((_, alice), (_, bob)) = (&f.alice, &f.bob);
    let id = new_id();
    f.upload(
        alice,
        json!({"batch": [put(&id, 1, json!({"title": "streamed note"}))]}),
    )
    .await;
    f.upload(
        bob,
        json!({"batch": [put(&id, 1, json!({"title": "bob's attempt"}))]}),
    )
    .await;
    let changes = slot.read_until_and_drop(|c| c.inserts >= 2).await;
    assert!(
        changes.relations.contains(&"notes".to_owned()),
        "{changes:?}"
    );
    assert!(
        changes.relations.contains(&"upload_rejections".to_owned()),
        "{changes:?}"
    );
    assert!(changes.raw.windows(13).any(|w| w == b"streamed note"));
    assert_eq!(
        changes.inserts, 2,
        "alice's note and bob's rejection row: {changes:?}"
    );
    assert_eq!(changes.updates, 0, "bob's PUT never touched alice's row");
}
